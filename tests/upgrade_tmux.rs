//! `nxr upgrade` on a real terminal (a detached tmux session): the plan table, then the Y / n / c
//! prompt answered with `send-keys`. Afterwards the database and the real
//! `hermes -p <agent> config get model.default` show the expected models.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef";

struct Session {
    name: String,
}

impl Session {
    /// Runs `nxr <args>` in tmux; the pane stays after it exits and prints `EXIT=<code>`.
    fn start(homes: &Homes, server: &FakeServer, args: &str) -> Session {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("nxr-upgrade-{}-{n}", std::process::id());
        let mut env_args: Vec<String> = Vec::new();
        for (k, v) in homes.nxr().get_envs() {
            if let Some(v) = v {
                env_args.push(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
            }
        }
        env_args.push(format!("NXR_OPENROUTER_URL={}/api/v1", server.base));
        let script = format!(
            "{} {args}; echo EXIT=$?; sleep 600",
            env!("CARGO_BIN_EXE_nxr")
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                "env",
                "-u",
                "NXR_DB_URL",
                "-u",
                "NXR_DB_TOKEN",
            ])
            .args(&env_args)
            .args(["TERM=xterm-256color", "sh", "-c", &script])
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        Session { name }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `text` and presses Enter.
    fn line(&self, text: &str) {
        if !text.is_empty() {
            let ok = Command::new("tmux")
                .args(["send-keys", "-t", &self.name, "-l", text])
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "Enter"])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits until the screen shows `what` `count` times.
    fn wait_for_n(&self, what: &str, count: usize) -> String {
        let mut last = String::new();
        common::wait_until(
            &format!("{count}× {what:?} on the screen"),
            Duration::from_secs(60),
            || {
                last = self.screen();
                last.matches(what).count() >= count
            },
        );
        last
    }

    fn wait_for(&self, what: &str) -> String {
        self.wait_for_n(what, 1)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn openrouter() -> FakeServer {
    let s = FakeServer::start();
    s.always(
        "/api/v1/key",
        Reply::json(
            200,
            r#"{"data":{"label":"sk-or-v1-012...def","usage":0,"limit":null,"is_free_tier":true}}"#,
        ),
    );
    s.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#,
        ),
    );
    s
}

fn nxr_ok(homes: &Homes, server: &FakeServer, args: &[&str]) -> Vec<u8> {
    let out = homes
        .nxr()
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Agents in id order: (name, model, auto-assigned, profile).
fn agents(homes: &Homes, server: &FakeServer) -> Vec<(String, String, bool, String)> {
    let v: Value =
        serde_json::from_slice(&nxr_ok(homes, server, &["agents", "list", "--json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["model"].as_str().unwrap().to_string(),
                a["model_auto_assigned"].as_bool().unwrap(),
                a["hermes_profile"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn hermes_model(homes: &Homes, profile: &str) -> String {
    let mut c = Command::new(common::hermes_bin());
    c.env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1");
    if profile != "default" {
        c.args(["-p", profile]);
    }
    let out = c.args(["config", "get", "model.default"]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// name → model, after checking the database and Hermes agree.
fn models(homes: &Homes, server: &FakeServer) -> BTreeMap<String, String> {
    agents(homes, server)
        .into_iter()
        .map(|(name, model, _, profile)| {
            assert_eq!(hermes_model(homes, &profile), model, "{name}");
            (name, model)
        })
        .collect()
}

/// The paid pick per agent, from `nxr upgrade --json` (no terminal: nothing applied).
fn paid_picks(homes: &Homes, server: &FakeServer) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_slice(&nxr_ok(homes, server, &["upgrade", "--json"])).unwrap();
    assert_eq!(v["applied"], false);
    v["plan"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_string(),
                r["recommended"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn setup() -> (Homes, FakeServer) {
    let homes = Homes::new();
    let server = openrouter();
    nxr_ok(&homes, &server, &["init", "--free"]);
    nxr_ok(&homes, &server, &["config", "set", "openrouter-key", KEY]);
    (homes, server)
}

#[test]
fn y_upgrades_every_agent_shown() {
    let (homes, server) = setup();
    let paid = paid_picks(&homes, &server);
    let s = Session::start(&homes, &server, "upgrade");
    let screen = s.wait_for("Apply? [Y]es");
    assert!(screen.contains("RECOMMENDED (PAID)"), "{screen}");
    assert!(screen.contains("free models: 50/day"), "{screen}");
    s.line("Y");
    let screen = s.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(models(&homes, &server), paid);
}

#[test]
fn n_changes_nothing() {
    let (homes, server) = setup();
    let before = models(&homes, &server);
    let s = Session::start(&homes, &server, "upgrade");
    s.wait_for("Apply? [Y]es");
    s.line("n");
    let screen = s.wait_for("EXIT=");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_eq!(models(&homes, &server), before);
}

#[test]
fn c_keeps_one_takes_the_recommendation_for_one_and_picks_a_model_for_one() {
    let (homes, server) = setup();
    let before = agents(&homes, &server);
    let paid = paid_picks(&homes, &server);
    let (keep, take, pick) = (&before[0].0, &before[1].0, &before[2].0);
    let s = Session::start(&homes, &server, "upgrade");
    s.wait_for("Apply? [Y]es");
    s.line("c");
    s.wait_for_n("[k]eep / [r]ecommended / [p]ick", 1);
    s.line("k");
    s.wait_for_n("[k]eep / [r]ecommended / [p]ick", 2);
    s.line("r");
    s.wait_for_n("[k]eep / [r]ecommended / [p]ick", 3);
    s.line("p");
    s.wait_for("search models");
    // A model that fails the hermes role first: refused with the reason, then asked again.
    s.line("llama-3.2-3b-instruct");
    let screen = s.wait_for("number 1-");
    let n = number_of(&screen, "meta-llama/llama-3.2-3b-instruct ");
    s.line(&n);
    let screen = s.wait_for_n("[k]eep / [r]ecommended / [p]ick", 4);
    assert!(screen.contains("no tool support"), "{screen}");
    s.line("p");
    s.wait_for_n("search models", 2);
    s.line("gpt-4o-mini");
    let screen = s.wait_for_n("number 1-", 2);
    let n = number_of(&screen, "openai/gpt-4o-mini ");
    s.line(&n);
    let screen = s.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");

    let after = models(&homes, &server);
    assert_eq!(&after[keep], &before[0].1, "kept");
    assert_eq!(&after[take], &paid[take], "took the recommendation");
    assert_eq!(after[pick], "openai/gpt-4o-mini", "picked");
    let auto: BTreeMap<String, bool> = agents(&homes, &server)
        .into_iter()
        .map(|(n, _, a, _)| (n, a))
        .collect();
    assert!(auto[take] && !auto[pick], "{auto:?}");
}

/// The number the picker printed for the line with `id` (the last list on the screen).
fn number_of(screen: &str, id: &str) -> String {
    screen
        .lines()
        .rev()
        .find_map(|l| {
            let (num, rest) = l.trim().split_once(") ")?;
            rest.starts_with(id).then(|| num.trim().to_string())
        })
        .unwrap_or_else(|| panic!("{id} is not in the list:\n{screen}"))
}

#[test]
fn tui_tab3_capital_u_shows_the_plan_and_enter_applies_it() {
    let (homes, server) = setup();
    let paid = paid_picks(&homes, &server);
    let s = Session::start(&homes, &server, "");
    s.wait_for("1 Dashboard");
    s.line("3");
    s.wait_for("bulk upgrade");
    let ok = Command::new("tmux")
        .args(["send-keys", "-t", &s.name, "U"])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let screen = s.wait_for("Total estimated:");
    assert!(screen.contains("Upgrade to paid models"), "{screen}");
    s.line("");
    let mut now = BTreeMap::new();
    common::wait_until(
        "every agent on its paid pick",
        Duration::from_secs(60),
        || {
            now = agents(&homes, &server)
                .into_iter()
                .map(|(n, m, _, _)| (n, m))
                .collect();
            now == paid
        },
    );
    assert_eq!(models(&homes, &server), paid);
    s.wait_for("now runs");
}
