//! The /setup wizard driven end to end in real headless Chromium through chromedriver (W3C WebDriver
//! spoken over HTTP), then compared with the state `nxr init --free` leaves in another fresh home.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::Homes;
use nxr::domain::agents;
use nxr::domain::onboarding;
use nxr::domain::store::Store;
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use webdriver::Driver;

type AgentRow = (String, String, String, Vec<String>, bool, bool);

fn default_state(homes: &Homes, rt: &tokio::runtime::Runtime) -> (Vec<AgentRow>, usize) {
    let env = homes.env();
    let store = rt.block_on(Store::open(&env)).unwrap();
    let mut rows: Vec<AgentRow> = rt
        .block_on(agents::list(&store, &env))
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.name,
                a.role.to_string(),
                a.model,
                a.skillset,
                a.is_default,
                a.model_auto_assigned,
            )
        })
        .collect();
    rows.sort();
    let recs = rt.block_on(onboarding::all_records(&store)).unwrap();
    assert!(recs.iter().all(|r| r.completed_at.is_some()));
    (rows, recs.len())
}

#[test]
fn setup_wizard_in_headless_chromium_matches_the_cli() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let web_homes = Homes::new();
    let mut env = web_homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let server =
        nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();

    let browser = Driver::start(rt.handle().clone());
    // Without the token the browser gets the sign-in explanation.
    browser.goto(&format!("{}/setup", server.base_url()));
    assert!(browser.page_source().contains("nxr serve"));
    // The printed URL, followed from another site's page (a chat, a web terminal), signs in: the
    // browser keeps the SameSite=Strict cookie and lands on the dashboard, not on "Sign-in needed".
    browser.goto(&format!(
        "data:text/html,<a id=\"signin\" href=\"{}\">nxr</a>",
        server.login_url()
    ));
    browser.click("#signin");
    let mut landed = String::new();
    common::wait_until(
        "a page after the cross-site sign-in",
        Duration::from_secs(20),
        || {
            landed = browser.page_source();
            landed.contains("<h1>Dashboard</h1>") || landed.contains("<h1>Sign-in needed</h1>")
        },
    );
    assert!(landed.contains("<h1>Dashboard</h1>"), "{landed}");
    assert!(!browser.current_url().contains("token="));
    // Opened directly, it signs in and lands without the token in the address bar.
    browser.goto(&server.login_url());
    let landed = browser.current_url();
    assert!(!landed.contains("token="), "{landed}");
    browser.goto(&format!("{}/setup", server.base_url()));

    browser.wait_for("#mode-free:checked");
    browser.click("#submit-key");
    // Each step's POST is confirmed once on the page it redirects to.
    assert_eq!(browser.text("#notice"), "Step 1 saved.");
    browser.click("#submit-detect");
    assert!(browser.text("#detected").contains("Ollama: not found"));
    assert!(browser.text("#notice").starts_with("Step 2 done"));
    browser.goto(&format!("{}/setup", server.base_url()));
    browser.wait_for("#step-catalog");
    assert!(
        browser.find("#notice").is_none(),
        "the confirmation shows once"
    );
    browser.click("#submit-catalog");
    assert!(
        browser
            .text("#catalog")
            .contains("embedded snapshot of 2026-05-01")
    );
    browser.click("#submit-agents");
    browser.click("#submit-finish");
    let done = browser.text("#done");
    assert_eq!(browser.text("#notice"), "Setup complete.");
    assert!(done.contains("nxr is set up"), "{done}");
    let table = browser.text("#agents");
    for name in ["PM", "Engineer", "Hermes"] {
        assert!(table.contains(name), "{table}");
    }

    // On a phone-sized window no page is wider than the screen: wide tables scroll inside their box.
    browser.call(
        "POST",
        &browser.s("/window/rect"),
        Some(json!({"width": 400, "height": 900})),
    );
    for path in ["/", "/agents", "/models", "/setup"] {
        browser.goto(&format!("{}{path}", server.base_url()));
        browser.wait_for("main h1");
        let v = browser.call(
            "POST",
            &browser.s("/execute/sync"),
            Some(json!({
                "script": "return [document.documentElement.scrollWidth, window.innerWidth];",
                "args": []
            })),
        );
        let (page, screen) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
        assert!(screen <= 420, "window not narrowed: {v}");
        assert!(
            page <= screen,
            "{path} is {page}px wide on a {screen}px screen"
        );
    }
    drop(browser);
    drop(server);

    // The same state as the CLI's in another fresh home.
    let cli_homes = Homes::new();
    let out = cli_homes
        .nxr()
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .args(["init", "--free"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (web_agents, web_records) = default_state(&web_homes, &rt);
    let (cli_agents, cli_records) = default_state(&cli_homes, &rt);
    assert_eq!(web_agents.len(), 3);
    assert_eq!(web_agents, cli_agents);
    assert_eq!((web_records, cli_records), (1, 1));
    for (name, _, model, ..) in &web_agents {
        assert!(table.contains(name.as_str()) && table.contains(model.as_str()));
    }
}

/// What the real Hermes CLI says a profile's model is.
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

#[test]
fn bulk_upgrade_in_headless_chromium_moves_every_agent_to_its_paid_pick_then_one_reverts() {
    const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let homes = Homes::new();
    let out = homes
        .nxr()
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .args(["init", "--free"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let openrouter = common::FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        common::Reply::json(
            200,
            r#"{"data":{"label":"sk-or-v1-012...def","usage":12,"limit":null,"is_free_tier":false}}"#,
        ),
    );
    openrouter.always(
        "/api/v1/credits",
        common::Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#,
        ),
    );
    let mut env = homes.env();
    env.openrouter_url = format!("{}/api/v1", openrouter.base);
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let free: Vec<(String, String, String)> = rt
        .block_on(agents::list(&store, &env))
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.model, a.hermes_profile))
        .collect();
    let plan = rt
        .block_on(nxr::domain::upgrade::plan_upgrade(
            &store,
            &env,
            None,
            None,
            false,
            false,
            chrono::Utc::now(),
        ))
        .unwrap();
    let server = nxr::web::server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();

    let browser = Driver::start(rt.handle().clone());
    browser.goto(&server.login_url());
    browser.goto(&format!("{}/agents", server.base_url()));
    browser.click("#bulk-upgrade");
    let shown = browser.text("#upgrade-plan");
    for r in &plan.rows {
        let to = &r
            .switch
            .as_ref()
            .expect("every agent has a paid pick")
            .to
            .id;
        assert!(
            shown.contains(&r.agent) && shown.contains(to.as_str()),
            "{shown}"
        );
    }
    assert!(
        browser
            .text("#upgrade-total")
            .contains("Total estimated: $")
    );
    // Showing the plan changed nothing.
    for (name, model, _) in &free {
        let a = rt
            .block_on(agents::get_by_name(&store, &env, name))
            .unwrap();
        assert_eq!(&a.model, model);
    }
    // No key is stored yet: the confirm step asks for one, which OpenRouter (the fake) accepts.
    let field = browser.wait_for("#key");
    browser.call(
        "POST",
        &browser.s(&format!("/element/{field}/value")),
        Some(json!({ "text": KEY })),
    );
    browser.click("#confirm-upgrade");
    let result = browser.text("#upgrade-result");
    for r in &plan.rows {
        let to = &r.switch.as_ref().unwrap().to.id;
        let a = rt
            .block_on(agents::get_by_name(&store, &env, &r.agent))
            .unwrap();
        assert_eq!(&a.model, to, "{result}");
        assert_eq!(hermes_model(&homes, &a.hermes_profile), *to);
        assert!(result.contains(&r.agent), "{result}");
    }
    assert!(
        std::fs::read_to_string(homes.hermes_home().join(".env"))
            .unwrap()
            .contains(KEY)
    );

    // The first agent's "Revert to free" button: back to the exact free model it had.
    browser.goto(&format!("{}/agents", server.base_url()));
    browser.click("#agent-controls button.revert");
    browser.wait_for("#upgrade-result");
    let (name, model, profile) = &free[0];
    let a = rt
        .block_on(agents::get_by_name(&store, &env, name))
        .unwrap();
    assert_eq!(&a.model, model);
    assert_eq!(&hermes_model(&homes, profile), model);
}
