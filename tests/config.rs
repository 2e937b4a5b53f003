//! `nxr config get|set|unset` for the plain settings: every one can be set, read and unset (back to
//! its default), a negative chat id needs no `--`, out-of-range values are refused naming the range, and
//! every error names the fix and changes nothing.

mod common;

use common::Homes;
use nxr::domain::setup::settings::SETTINGS;
use std::process::Output;

fn nxr(homes: &Homes, args: &[&str]) -> Output {
    homes.nxr().args(args).output().expect("nxr runs")
}

fn ok(homes: &Homes, args: &[&str]) -> String {
    let out = nxr(homes, args);
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail; returns its stderr.
fn refused(homes: &Homes, args: &[&str]) -> String {
    let out = nxr(homes, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "nxr {args:?}: {err}");
    assert!(err.starts_with("error: "), "nxr {args:?}: {err}");
    assert!(
        !err.contains("Some(") && !err.contains("{ "),
        "Rust debug output: {err}"
    );
    err
}

#[test]
fn a_negative_chat_id_is_a_value_and_unset_goes_back_to_the_default() {
    let homes = Homes::new();
    assert_eq!(
        ok(
            &homes,
            &["config", "set", "telegram-chat-id", "-1001234567890"]
        ),
        "telegram-chat-id: -1001234567890\n"
    );
    assert_eq!(
        ok(&homes, &["config", "get", "telegram-chat-id"]),
        "telegram-chat-id: -1001234567890\n"
    );
    let out = ok(&homes, &["config", "unset", "telegram-chat-id"]);
    assert!(
        out.starts_with("telegram-chat-id: back to the default"),
        "{out}"
    );
    let got = homes.json(&["config", "get", "telegram-chat-id"]);
    assert!(got["value"].is_null(), "{got}");
    let out = ok(&homes, &["config", "unset", "telegram-chat-id"]);
    assert!(out.contains("was not set"), "{out}");
    // `--json` after a negative value is still the flag.
    let set = homes.json(&["config", "set", "telegram-chat-id", "-42"]);
    assert_eq!(set["value"], "-42");
}

#[test]
fn every_plain_setting_can_be_set_read_and_unset() {
    let homes = Homes::new();
    for s in SETTINGS {
        let before = homes.json(&["config", "get", s.name]);
        assert!(before["value"].is_null(), "{}: {before}", s.name);
        assert_eq!(before["default"], s.default);
        let set = homes.json(&["config", "set", s.name, s.example]);
        let stored = set["value"].as_str().expect("stored value").to_string();
        assert_eq!(
            homes.json(&["config", "get", s.name])["value"],
            stored.as_str()
        );
        let text = ok(&homes, &["config", "get", s.name]);
        assert_eq!(text, format!("{}: {stored}\n", s.name));
        let unset = homes.json(&["config", "unset", s.name]);
        assert_eq!(unset["removed"], true, "{}", s.name);
        assert!(homes.json(&["config", "get", s.name])["value"].is_null());
        let text = ok(&homes, &["config", "get", s.name]);
        assert_eq!(text, format!("{}: {} (default)\n", s.name, s.default));
    }
}

#[test]
fn out_of_range_and_unknown_values_name_the_fix_and_change_nothing() {
    let homes = Homes::new();
    ok(&homes, &["config", "set", "scan-interval-hours", "12"]);
    for bad in ["8761", "0", "-5", "NaN", "inf", "six"] {
        let err = refused(&homes, &["config", "set", "scan-interval-hours", bad]);
        assert!(
            err.contains("at most 8760")
                && err.contains("nothing was changed")
                && err.contains("`nxr config set scan-interval-hours 6`"),
            "{bad}: {err}"
        );
    }
    ok(&homes, &["config", "set", "scan-interval-hours", "8760"]);
    assert_eq!(
        ok(&homes, &["config", "get", "scan-interval-hours"]),
        "scan-interval-hours: 8760\n"
    );
    for s in SETTINGS {
        let err = refused(&homes, &["config", "set", s.name, "\u{1b}[31mnot-a-value"]);
        assert!(
            err.contains(s.expected)
                && err.contains(&format!("`nxr config set {} {}`", s.name, s.example)),
            "{}: {err}",
            s.name
        );
        assert!(!err.contains('\u{1b}'), "{err}");
    }
    for verb in [
        &["set", "no-such-setting", "1"][..],
        &["get", "nosuch"],
        &["unset", "nosuch"],
    ] {
        let mut args = vec!["config"];
        args.extend_from_slice(verb);
        let err = refused(&homes, &args);
        assert!(
            err.contains("unknown setting")
                && err.contains("telegram-chat-id")
                && err.contains("`nxr config get scan-interval-hours`"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        ok(&homes, &["config", "get", "scan-interval-hours"]),
        "scan-interval-hours: 8760\n"
    );
}
