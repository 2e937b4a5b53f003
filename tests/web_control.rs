//! The web control plane driven in real headless Chromium: the Hermes gateway started and stopped
//! from /hermes (the real `hermes gateway run` in tmux on a private tmux server), notifications marked
//! read (the nav badge counts down), the budget CSV downloaded and parsed.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::Homes;
use nxr::domain::agents::gateway_control;
use nxr::domain::base::clock::SystemClock;
use nxr::domain::notifications::{self, NewNotification};
use nxr::domain::store::Store;
use nxr::web::server::{self, ServerHandle};
use std::sync::Arc;
use std::time::Duration;
use webdriver::Driver;

/// A private tmux server (`tmux -L`), killed on drop so no session outlives the test.
struct TmuxServer(String);

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

struct Running {
    homes: Homes,
    rt: tokio::runtime::Runtime,
    store: Arc<Store>,
    server: ServerHandle,
    env: nxr::domain::base::env::Env,
    _tmux: TmuxServer,
}

fn start() -> Running {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.hermes_bin = common::path_str(&common::hermes_bin());
    let sock = format!("nxr-test-{}-{}", std::process::id(), rand_suffix());
    env.tmux_socket = Some(sock.clone());
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
        env,
        _tmux: TmuxServer(sock),
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0)
}

#[test]
fn hermes_page_starts_and_stops_the_real_gateway() {
    let r = start();
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/hermes", r.server.base_url()));
    assert_eq!(browser.text("#gw-state"), "never started");

    browser.click("#gw-start");
    browser.wait_for("#result");
    let pid: u32 = browser
        .text("#gw-pid")
        .parse()
        .expect("the page shows the gateway's pid after Start");
    assert!(gateway_control::process_running(pid));
    assert!(gateway_control::not_a_gateway(pid).is_none());
    assert_eq!(browser.text("#gw-state"), "running");
    assert!(browser.text("#result").contains(&pid.to_string()));

    // A second start is refused and leaves the first gateway running.
    let again = gateway_control::start(&r.env, Duration::from_secs(5)).unwrap_err();
    assert!(again.to_string().contains("already running"), "{again}");

    browser.click("#gw-stop");
    common::wait_until("the stop result", Duration::from_secs(40), || {
        browser.find("#gw-state").is_some() && browser.text("#gw-state") == "stopped"
    });
    assert!(
        !gateway_control::process_running(pid),
        "pid {pid} still runs"
    );
    assert!(browser.text("#result").contains("SIGTERM"));
    assert!(!gateway_control::session_exists(&r.env));
    drop(r.homes);
}

#[test]
fn marking_a_notification_read_decrements_the_badge() {
    let r = start();
    for i in 0..3 {
        r.rt.block_on(notifications::add(
            &r.store,
            NewNotification {
                kind: "scan".into(),
                title: format!("scan {i} finished <script>alert(1)</script>"),
                body: "body".into(),
                agent_id: None,
                payload: None,
            },
            &SystemClock,
        ))
        .unwrap();
    }
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/notifications", r.server.base_url()));
    assert_eq!(browser.text("#unread-badge"), "3");
    assert!(browser.text("main").contains("<script>alert(1)</script>"));
    browser.click("form.mark-read button");
    common::wait_until("the badge to count 2", Duration::from_secs(20), || {
        browser.find("#unread-badge").is_some() && browser.text("#unread-badge") == "2"
    });
    assert_eq!(
        r.rt.block_on(notifications::unread_count(&r.store))
            .unwrap(),
        2
    );
    browser.click("#mark-all-read");
    common::wait_until("the badge to disappear", Duration::from_secs(20), || {
        browser.find("#unread-badge").is_none() && browser.find("#notifications").is_some()
    });
    assert_eq!(
        r.rt.block_on(notifications::unread_count(&r.store))
            .unwrap(),
        0
    );
}

#[test]
fn budget_csv_downloads_and_parses_as_rfc4180_with_a_header() {
    let r = start();
    let env = &r.env;
    let store = &r.store;
    r.rt.block_on(async {
        let agents = nxr::domain::agents::list(store, env).await.unwrap();
        assert!(agents.is_empty());
        let now = nxr::domain::base::clock::to_db(chrono::Utc::now());
        for (model, free, status, cost) in [
            ("a/one:free", 1, "ok", 0.0),
            ("a/one:free", 1, "429", 0.0),
            ("b/two, \"quoted\"", 0, "ok", 0.25),
        ] {
            store
                .conn()
                .execute(
                    "INSERT INTO usage_events (model, is_free, requests, cost_usd, status, occurred_at) VALUES (?1, ?2, 1, ?3, ?4, ?5)",
                    libsql::params![model, free, cost, status, now.clone()],
                )
                .await
                .unwrap();
        }
    });
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/budget", r.server.base_url()));
    assert!(browser.text("#gauge-text").starts_with("2 of 50"));
    browser.wait_for("#projection");
    let csv = browser.execute_async(
        "var done = arguments[0]; fetch(document.getElementById('csv').href, {credentials: 'same-origin'})
           .then(function (r) { return r.text().then(function (t) { done([r.status, r.headers.get('content-type'), t]); }); });",
    );
    assert_eq!(csv[0], 200);
    assert!(csv[1].as_str().unwrap().starts_with("text/csv"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv[2].as_str().unwrap().as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[..3], ["day", "agent", "requests"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1, "one agent-less row for today");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(&rows[0][0], today.as_str());
    assert_eq!(&rows[0][1], "(no agent)");
    assert_eq!(&rows[0][2], "3");
    assert_eq!(&rows[0][3], "2");
    assert_eq!(&rows[0][4], "1");
    assert_eq!(rows[0][7].parse::<f64>().unwrap(), 0.25);
}

/// The recorded OpenRouter catalog plus one model whose name is markup.
fn seed_catalog(r: &Running) {
    let mut body: serde_json::Value =
        serde_json::from_str(&common::fixture("openrouter/models.json")).unwrap();
    body["data"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "evil/xss:free", "name": "<script>alert(1)</script>", "created": 1767225600,
            "context_length": 32768,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0", "completion": "0"}, "supported_parameters": ["tools"]
        }));
    let parsed = nxr::domain::catalog::parse_catalog(&body.to_string()).unwrap();
    r.rt.block_on(nxr::domain::catalog::save(
        &r.store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .unwrap();
}

const CONFIG: &str = "# my Hermes setup\nmodel:\n  default: google/gemma-3-27b-it:free # the main one\n  provider: openrouter\nauxiliary:\n  vision:\n    provider: auto\n    model: ''\n  custom_slot:\n    provider: openrouter\n    model: google/gemma-3-4b-it:free\nterminal:\n  backend: local # keep me\n";

#[test]
fn picking_a_model_for_a_slot_writes_config_yaml_that_hermes_reads() {
    let r = start();
    seed_catalog(&r);
    let config = r.homes.hermes_home().join("config.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/models/switch", r.server.base_url()));
    // main, the 7 routing slots, then the file's own extra slot.
    for slot in [
        "main",
        "vision",
        "web_extract",
        "compression",
        "session_search",
        "skills_hub",
        "approval",
        "mcp",
        "custom_slot",
    ] {
        browser.wait_for(&format!("#slot-{slot}"));
    }
    assert!(
        browser
            .text("#slot-main")
            .contains("google/gemma-3-27b-it:free")
    );
    browser.click("#slot-vision a");
    browser.wait_for("#picker-form");
    // The script refreshes the results while typing (no submit).
    browser.type_into("#q", "nemotron vl");
    let pick = "a.pick[data-model='nvidia/nemotron-nano-12b-v2-vl:free']";
    browser.wait_for(pick);
    browser.click(pick);
    browser.wait_for("#price");
    assert!(browser.text("#price").contains("free"));
    browser.click("#confirm");
    browser.wait_for("#result");
    assert!(
        browser
            .text("#result")
            .contains("nvidia/nemotron-nano-12b-v2-vl:free")
    );
    assert!(
        browser
            .text("#slot-vision")
            .contains("nvidia/nemotron-nano-12b-v2-vl:free")
    );

    let out = std::process::Command::new(common::hermes_bin())
        .args(["config", "get", "auxiliary.vision.model"])
        .env("HERMES_HOME", r.homes.hermes_home())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "nvidia/nemotron-nano-12b-v2-vl:free"
    );
    let text = std::fs::read_to_string(&config).unwrap();
    for kept in [
        "# my Hermes setup",
        "# the main one",
        "backend: local # keep me",
        "custom_slot:",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
}

#[test]
fn the_create_wizard_makes_an_agent_the_cli_and_hermes_list() {
    let r = start();
    seed_catalog(&r);
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&format!("{}/agents/manage", r.server.base_url()));
    browser.wait_for("#no-agents");
    // Role pm (the first), no category: the role's own skills.
    browser.click("#wizard-next");
    let recommended = browser.text("#rec-model");
    assert!(recommended.ends_with(":free"), "{recommended}");
    browser.type_into("#agent-name", "Scout");
    browser.click("#create");
    browser.wait_for("#result");
    assert!(
        browser.text("#result").starts_with("created Scout"),
        "{}",
        browser.text("#result")
    );
    browser.wait_for("#agent-Scout");

    let out = r
        .homes
        .nxr()
        .args(["agents", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scout = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Scout")
        .expect("Scout in nxr agents list --json");
    assert_eq!(scout["model"], recommended.as_str());
    assert_eq!(scout["role"], "pm");

    let home = r.homes.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = std::process::Command::new(common::hermes_bin())
        .args(["profile", "list"])
        .env("HERMES_HOME", r.homes.hermes_home())
        .env("HOME", &home)
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().next() == Some("scout")),
        "scout missing from hermes profile list:\n{text}"
    );

    // Delete needs the confirm step: a wrong name deletes nothing.
    browser.click("#agent-Scout a.delete");
    browser.type_into("#confirm-name", "nope");
    browser.click("#confirm-delete");
    browser.wait_for("#result");
    browser.wait_for("#agent-Scout");
    browser.click("#agent-Scout a.delete");
    browser.type_into("#confirm-name", "Scout");
    browser.click("#confirm-delete");
    browser.wait_for("#no-agents");
}

#[test]
fn every_new_page_fits_a_phone_and_a_desktop_window() {
    let r = start();
    seed_catalog(&r);
    std::fs::write(r.homes.hermes_home().join("config.yaml"), CONFIG).unwrap();
    let browser = Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    for width in [1280, 390] {
        browser.call(
            "POST",
            &browser.s("/window/rect"),
            Some(serde_json::json!({"width": width, "height": 900})),
        );
        for path in [
            "/hermes",
            "/models/switch",
            "/models/switch?slot=vision&q=gemma&candidate=google/gemma-3-27b-it:free",
            "/agents/manage",
            "/agents/manage/new?role=engineer",
            "/budget",
            "/notifications",
        ] {
            browser.goto(&format!("{}{path}", r.server.base_url()));
            browser.wait_for("main h1");
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
                "{path} is {page}px wide on a {screen}px screen"
            );
        }
    }
}
