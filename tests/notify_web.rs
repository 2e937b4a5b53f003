//! /notifications driven in real headless Chromium: the Telegram forwarding toggles persist (read
//! back with `nxr notifications telegram --json`), and the button on an upgrade notification moves the
//! agent (the real `hermes config get model.default` and `nxr agents list --json` show the new model);
//! a proposal whose model is gone is refused and changes nothing; every page's badge counts the same.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::Homes;
use nxr::domain::base::clock::SystemClock;
use nxr::domain::notifications::{self, KIND_UPGRADE, NewNotification, UpgradePayload};
use nxr::domain::store::Store;
use nxr::web::server::{self, ServerHandle};
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use webdriver::Driver;

struct Running {
    homes: Homes,
    rt: tokio::runtime::Runtime,
    store: Arc<Store>,
    server: ServerHandle,
}

fn nxr(homes: &Homes) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_HERMES_BIN", common::hermes_bin())
        .env("NXR_FASTER_WHISPER_CMD", "false");
    c
}

fn json(homes: &Homes, args: &[&str]) -> Value {
    let out = nxr(homes).args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A server over `homes` (after `nxr init --free` when `init`).
fn start(init: bool) -> Running {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    if init {
        let out = nxr(&homes).args(["init", "--free"]).output().unwrap();
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.telegram_api_url = "http://127.0.0.1:9".into();
    env.hermes_bin = common::path_str(&common::hermes_bin());
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let server = server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    Running {
        homes,
        rt,
        store,
        server,
    }
}

/// `nxr notifications telegram --json` as kind → on.
fn toggles(homes: &Homes) -> Vec<(String, bool)> {
    json(homes, &["notifications", "telegram"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["kind"].as_str().unwrap().to_string(),
                t["on"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn telegram_toggles_set_in_the_browser_persist_and_the_cli_reads_them() {
    let r = start(false);
    let before = toggles(&r.homes);
    assert!(before.len() >= 6, "{before:?}");
    assert!(before.iter().all(|(_, on)| *on), "all on by default");
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/notifications", r.server.base_url()));
    browser.wait_for("#telegram-form");
    // Untick two kinds and save.
    browser.click("#tg-budget");
    browser.click("#tg-upgrade");
    browser.click("#save-telegram");
    browser.wait_for("#result");
    assert!(
        browser.text("#result").starts_with("saved"),
        "{}",
        browser.text("#result")
    );
    let after = toggles(&r.homes);
    for (kind, on) in &after {
        assert_eq!(*on, kind != "budget" && kind != "upgrade", "{kind}");
    }
    // The reloaded form shows the stored state; ticking one again turns it back on.
    browser.goto(&format!("{}/notifications", r.server.base_url()));
    browser.wait_for("#telegram-form");
    browser.click("#tg-budget");
    browser.click("#save-telegram");
    browser.wait_for("#result");
    let again = toggles(&r.homes);
    for (kind, on) in &again {
        assert_eq!(*on, kind != "upgrade", "{kind}");
    }
}

/// The first free model other than `current` that the role accepts.
fn another_free_model(r: &Running, role: &str, current: &str) -> String {
    let role: nxr::domain::base::roles::Role = role.parse().unwrap();
    r.rt.block_on(async {
        let catalog = nxr::domain::catalog::load(&r.store).await.unwrap();
        for m in catalog
            .models
            .iter()
            .filter(|m| m.is_free() && m.id != current)
        {
            if nxr::domain::agents::checked_choice(&r.store, &catalog, role, &m.id, false)
                .await
                .is_ok()
            {
                return m.id.clone();
            }
        }
        panic!("no other free model passes the {role} role");
    })
}

fn propose(r: &Running, agent: &Value, to: &str) -> i64 {
    let payload = UpgradePayload {
        agent: agent["name"].as_str().unwrap().into(),
        from_model: agent["model"].as_str().map(String::from),
        to_model: to.into(),
        role: agent["role"].as_str().map(String::from),
        score_delta: Some(3),
        action: None,
    };
    r.rt.block_on(notifications::add(
        &r.store,
        NewNotification {
            kind: KIND_UPGRADE.into(),
            title: format!("{} can move to a better free model", payload.agent),
            body: format!("{to} is now the best free model."),
            agent_id: agent["id"].as_i64(),
            payload: Some(serde_json::to_string(&payload).unwrap()),
        },
        &SystemClock,
    ))
    .unwrap()
}

fn agent_named(homes: &Homes, name: &str) -> Value {
    json(homes, &["agents", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} in nxr agents list --json"))
}

/// What the real Hermes CLI says the profile's main model is.
fn hermes_model(homes: &Homes, profile: &str) -> String {
    let mut c = Command::new(common::hermes_bin());
    c.env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1");
    if profile != "default" {
        c.args(["-p", profile]);
    }
    let out = c.args(["config", "get", "model.default"]).output().unwrap();
    assert!(
        out.status.success(),
        "hermes config get: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_upgrade_button_moves_the_agent_and_a_gone_model_changes_nothing() {
    let r = start(true);
    let pm = agent_named(&r.homes, "PM");
    let old = pm["model"].as_str().unwrap().to_string();
    let profile = pm["hermes_profile"].as_str().unwrap().to_string();
    assert!(hermes_model(&r.homes, &profile).contains(&old));
    let to = another_free_model(&r, "pm", &old);
    let good = propose(&r, &pm, &to);
    let gone = propose(&r, &pm, "vanished/model-that-left:free");

    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    // With the proposals' long model ids and the Telegram card, the page fits a phone and a desktop.
    for width in [390, 1280] {
        browser.call(
            "POST",
            &browser.s("/window/rect"),
            Some(serde_json::json!({"width": width, "height": 900})),
        );
        browser.goto(&format!("{}/notifications", r.server.base_url()));
        browser.wait_for(&format!("#apply-{good}"));
        let v = browser.call(
            "POST",
            &browser.s("/execute/sync"),
            Some(serde_json::json!({
                "script": "return [document.documentElement.scrollWidth, window.innerWidth];",
                "args": []
            })),
        );
        let (page, screen) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
        assert!(
            page <= screen,
            "/notifications is {page}px wide on a {screen}px screen"
        );
    }
    assert_eq!(browser.text("#unread-badge"), "2");

    // The model is gone: a clear error, nothing changed, the notification stays unread.
    browser.click(&format!("#apply-{gone}"));
    browser.wait_for("#result");
    let err = browser.text("#result");
    assert!(
        err.contains("vanished/model-that-left:free"),
        "the error names the model: {err}"
    );
    assert!(browser.find("p.bad#result").is_some(), "shown as an error");
    assert_eq!(browser.text("#unread-badge"), "2");
    assert_eq!(agent_named(&r.homes, "PM")["model"], old.as_str());
    assert!(hermes_model(&r.homes, &profile).contains(&old));

    browser.click(&format!("#apply-{good}"));
    common::wait_until("the switch result", Duration::from_secs(60), || {
        browser.find("p.notice#result").is_some()
    });
    let done = browser.text("#result");
    assert!(done.contains(&format!("PM now runs {to}")), "{done}");
    assert_eq!(browser.text("#unread-badge"), "1", "applied = read");
    assert!(browser.find(&format!("#apply-{good}")).is_none());

    // Every page's navigation counts the same unread notification.
    for path in [
        "/",
        "/models",
        "/agents",
        "/agents/manage",
        "/budget",
        "/hermes",
        "/nowhere",
    ] {
        browser.goto(&format!("{}{path}", r.server.base_url()));
        browser.wait_for("main h1");
        assert_eq!(browser.text("#unread-badge"), "1", "{path}");
    }

    assert_eq!(agent_named(&r.homes, "PM")["model"], to.as_str());
    let seen = hermes_model(&r.homes, &profile);
    assert!(seen.contains(&to), "hermes says {seen:?}, expected {to}");
}
