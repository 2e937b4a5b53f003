//! Fallback chains through the real Hermes: every agent's profile holds the chain nxr reports, and
//! when OpenRouter answers 429 (the recorded high-demand shape) for an agent's own model, Hermes
//! moves to the chain's first model and the prompt is answered.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-or-v1-e2e0000000000000000000000000000000000000000000000000000aaaa";
const CHAT: &str = "/api/v1/chat/completions";

fn pong() -> Reply {
    common::chat_sse("pong")
}

/// The recorded 429 for one free model's high demand.
fn high_demand() -> Reply {
    let recorded: Value =
        serde_json::from_str(&common::fixture("openrouter/errors.json")).expect("errors.json");
    Reply::json(
        429,
        recorded["per_model_high_demand_rpm"]["body"].to_string(),
    )
}

/// OpenRouter's billing refusal (a negative balance), as recorded.
fn payment_required() -> Reply {
    let recorded: Value =
        serde_json::from_str(&common::fixture("openrouter/errors.json")).expect("errors.json");
    Reply::json(
        402,
        recorded["insufficient_credits_402"]["body"].to_string(),
    )
}

/// A loopback OpenRouter whose chat endpoint refuses every model in `refused` with a 429.
fn openrouter(refused: Arc<Mutex<BTreeSet<String>>>) -> FakeServer {
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.respond_with(CHAT, move |body| {
        let model = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["model"].as_str().map(String::from))
            .unwrap_or_default();
        if refused.lock().expect("lock").contains(&model) {
            if model.ends_with(":free") {
                high_demand()
            } else {
                payment_required()
            }
        } else {
            pong()
        }
    });
    fake
}

fn nxr(homes: &Homes, fake: &FakeServer, args: &[&str]) -> String {
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .env("OPENROUTER_BASE_URL", format!("{}/api/v1", fake.base))
        .env("HOME", homes.user_home())
        .env_remove("OPENROUTER_API_KEY")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hermes(homes: &Homes, fake: &FakeServer, profile: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(common::hermes_bin());
    if profile != "default" {
        cmd.args(["-p", profile]);
    }
    cmd.args(args)
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", homes.user_home())
        .env("OPENROUTER_BASE_URL", format!("{}/api/v1", fake.base))
        .env("NO_COLOR", "1")
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap()
}

/// (name, hermes profile, model) of every agent.
fn agents(homes: &Homes, fake: &FakeServer) -> Vec<(String, String, String)> {
    let v: Value = serde_json::from_str(&nxr(homes, fake, &["agents", "list", "--json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["hermes_profile"].as_str().unwrap().to_string(),
                a["model"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn chain(homes: &Homes, fake: &FakeServer, name: &str) -> Value {
    serde_json::from_str(&nxr(homes, fake, &["agents", "fallbacks", name, "--json"])).unwrap()
}

fn chat_models(fake: &FakeServer) -> Vec<String> {
    fake.seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == CHAT)
        .filter_map(|s| {
            serde_json::from_str::<Value>(&s.body)
                .ok()
                .and_then(|v| v["model"].as_str().map(String::from))
        })
        .collect()
}

#[test]
fn every_agent_answers_from_its_chain_when_its_own_model_answers_429() {
    let homes = Homes::new();
    let refused = Arc::new(Mutex::new(BTreeSet::new()));
    let fake = openrouter(refused.clone());
    nxr(&homes, &fake, &["init", "--free"]);
    nxr(
        &homes,
        &fake,
        &["agents", "create", "--role", "research", "--name", "Scout"],
    );
    nxr(&homes, &fake, &["config", "set", "openrouter-key", KEY]);

    let list = agents(&homes, &fake);
    assert_eq!(list.len(), 4, "{list:?}");
    for (name, _, model) in &list {
        refused.lock().unwrap().insert(model.clone());
        let c = chain(&homes, &fake, name);
        assert_eq!(c["in_step"], true, "{name}: {c}");
    }
    for (name, profile, model) in &list {
        let c = chain(&homes, &fake, name);
        let members: Vec<String> = c["chosen"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["model_id"].as_str().unwrap().to_string())
            .collect();
        assert!(!members.is_empty(), "{name} has no chain");
        assert!(
            !members.contains(model),
            "{name}'s chain holds its own model"
        );
        assert!(
            c["chosen"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["is_free"] == true),
            "{name} (free) has a paid model in its chain: {c}"
        );
        // Hermes reads back the chain nxr reports.
        let listed = hermes(&homes, &fake, profile, &["fallback", "list"]);
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        let mut at = 0;
        for m in &members {
            let found = listed[at..].find(m.as_str()).unwrap_or_else(|| {
                panic!("{name}: {m} not in order in `hermes fallback list`:\n{listed}")
            });
            at += found + m.len();
        }

        // The primary answers 429; the prompt is answered from the chain.
        let before = chat_models(&fake).len();
        let out = hermes(&homes, &fake, profile, &["-z", "ping"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("pong"),
            "{name} did not answer through its chain\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sent: Vec<String> = chat_models(&fake).into_iter().skip(before).collect();
        assert_eq!(
            sent.first(),
            Some(model),
            "{name}: the primary is tried first: {sent:?}"
        );
        assert_eq!(
            sent.last(),
            Some(&members[0]),
            "{name}: answered by the chain's first model: {sent:?}"
        );
    }

    // Hermes' usage names the model that answered: the budget shows each agent ran on its chain.
    let budget = nxr(&homes, &fake, &["budget"]);
    for (name, _, _) in &list {
        assert!(
            budget.contains(&format!("{name} ran on another model than its own")),
            "{name}:\n{budget}"
        );
    }
    let v: Value = serde_json::from_str(&nxr(&homes, &fake, &["budget", "--json"])).unwrap();
    for u in v["per_agent"].as_array().unwrap() {
        assert!(u["other_model_today"].as_u64().unwrap_or(0) >= 1, "{u}");
    }
    // The primaries' 429s are not used free requests: one answered prompt per agent is counted.
    assert_eq!(v["agents_today"], list.len(), "{v}");
    for u in v["per_agent"].as_array().unwrap() {
        assert_eq!(u["today"], 1, "{u}");
    }

    // A day mostly on the chain is told once by the scan, with the swap to make.
    let (_, eng_profile, _) = list.iter().find(|(n, _, _)| n == "Engineer").unwrap();
    for _ in 0..3 {
        let out = hermes(&homes, &fake, eng_profile, &["-z", "ping"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("pong"));
    }
    fake.always(
        "/api/v1/models",
        Reply::json(
            200,
            common::fixture("openrouter/catalog-history/models-2026-05-01.json"),
        ),
    );
    nxr(&homes, &fake, &["scan"]);
    nxr(&homes, &fake, &["scan"]);
    let told: Value =
        serde_json::from_str(&nxr(&homes, &fake, &["notifications", "--json"])).unwrap();
    let on_chain: Vec<&Value> = told
        .as_array()
        .or_else(|| told["notifications"].as_array())
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "on_fallback")
        .collect();
    assert_eq!(
        on_chain.len(),
        1,
        "told once, for the Engineer only: {told}"
    );
    let body = on_chain[0]["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("4 of 4 requests today")
            && body.contains("nxr upgrade --agent Engineer --to"),
        "{body}"
    );
}

#[test]
fn fallback_count_zero_removes_every_chain_and_reset_writes_it_back() {
    let homes = Homes::new();
    let fake = openrouter(Arc::new(Mutex::new(BTreeSet::new())));
    nxr(&homes, &fake, &["config", "set", "fallback-count", "0"]);
    nxr(&homes, &fake, &["init", "--free"]);
    for (name, profile, _) in agents(&homes, &fake) {
        let c = chain(&homes, &fake, &name);
        assert_eq!(c["configured"], serde_json::json!([]), "{name}: {c}");
        assert_eq!(c["in_step"], true);
        let listed = hermes(&homes, &fake, &profile, &["fallback", "list"]);
        assert!(
            !String::from_utf8_lossy(&listed.stdout).contains("Fallback chain ("),
            "{name}"
        );
    }
    nxr(&homes, &fake, &["config", "set", "fallback-count", "2"]);
    let c = chain(&homes, &fake, "Engineer");
    assert_eq!(c["in_step"], false, "{c}");
    let shown = nxr(&homes, &fake, &["agents", "fallbacks", "Engineer"]);
    assert!(shown.contains("--reset"), "{shown}");
    nxr(
        &homes,
        &fake,
        &["agents", "fallbacks", "Engineer", "--reset"],
    );
    let c = chain(&homes, &fake, "Engineer");
    assert_eq!(c["in_step"], true, "{c}");
    assert_eq!(c["configured"].as_array().unwrap().len(), 2, "{c}");
}

/// The chain's models as the profile's config.yaml holds them.
fn configured(c: &Value) -> Vec<String> {
    c["configured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_scan_replaces_a_member_that_left_the_catalog_and_keeps_a_hand_edited_chain() {
    let homes = Homes::new();
    let fake = openrouter(Arc::new(Mutex::new(BTreeSet::new())));
    fake.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can fetch credits"}}"#,
        ),
    );
    let full = common::fixture("openrouter/catalog-history/models-2026-03-13.json");
    let catalog = Arc::new(Mutex::new(full.clone()));
    let served = catalog.clone();
    fake.respond_with("/api/v1/models", move |_| {
        Reply::json(200, served.lock().expect("lock").clone())
    });
    nxr(&homes, &fake, &["init", "--free"]);
    let engineer = chain(&homes, &fake, "Engineer");
    let before = configured(&engineer);
    assert_eq!(engineer["in_step"], true, "{engineer}");
    let leaving = before[0].clone();

    // The user edits PM's chain by hand (one model of their own choosing).
    let (_, pm_profile, _) = agents(&homes, &fake)
        .into_iter()
        .find(|(n, _, _)| n == "PM")
        .unwrap();
    let pm_config = homes
        .hermes_home()
        .join("profiles")
        .join(&pm_profile)
        .join("config.yaml");
    let text = std::fs::read_to_string(&pm_config).unwrap();
    let start = text.find("fallback_providers:").expect("PM has a chain");
    let end = text[start..]
        .find("\nauxiliary:")
        .map_or(text.len(), |e| start + e + 1);
    let mine = "fallback_providers:\n- provider: openrouter\n  model: meta-llama/llama-3.3-70b-instruct:free\n";
    std::fs::write(
        &pm_config,
        format!("{}{mine}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    assert_eq!(chain(&homes, &fake, "PM")["state"]["state"], "hand_edited");

    // The next catalog no longer lists the Engineer's first fallback.
    let mut v: Value = serde_json::from_str(&full).unwrap();
    v["data"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["id"] != leaving.as_str());
    *catalog.lock().unwrap() = v.to_string();
    let scanned = nxr(&homes, &fake, &["scan"]);
    assert!(
        scanned.contains("fallback chains rewritten for") && scanned.contains("Engineer"),
        "{scanned}"
    );

    let after = chain(&homes, &fake, "Engineer");
    let now = configured(&after);
    assert!(!now.contains(&leaving), "{leaving} still in {now:?}");
    assert_eq!(after["in_step"], true, "{after}");
    let (_, eng_profile, _) = agents(&homes, &fake)
        .into_iter()
        .find(|(n, _, _)| n == "Engineer")
        .unwrap();
    let listed = hermes(&homes, &fake, &eng_profile, &["fallback", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(!listed.contains(&leaving), "{listed}");
    for m in &now {
        assert!(listed.contains(m.as_str()), "{m} missing from:\n{listed}");
    }

    // The hand-edited chain survived the scan, and survives an upgrade; --reset replaces it.
    let pm = chain(&homes, &fake, "PM");
    assert_eq!(
        configured(&pm),
        ["meta-llama/llama-3.3-70b-instruct:free"],
        "{pm}"
    );
    nxr(&homes, &fake, &["config", "set", "openrouter-key", KEY]);
    nxr(&homes, &fake, &["upgrade", "--agent", "PM", "--yes"]);
    let pm = chain(&homes, &fake, "PM");
    assert!(!pm["primary"].as_str().unwrap().ends_with(":free"), "{pm}");
    assert_eq!(
        configured(&pm),
        ["meta-llama/llama-3.3-70b-instruct:free"],
        "the user's chain is kept across the upgrade: {pm}"
    );
    hermes_lists(
        &homes,
        &fake,
        &pm_profile,
        &["meta-llama/llama-3.3-70b-instruct:free".to_string()],
    );
    let checked = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .args(["agents", "check", "PM"])
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.contains("fallback chain edited by hand, kept"),
        "{checked}"
    );
    let shown = nxr(&homes, &fake, &["agents", "fallbacks", "PM"]);
    assert!(shown.contains("--reset"), "{shown}");
    nxr(
        &homes,
        &fake,
        &["agents", "fallbacks", "PM", "--reset-fallbacks"],
    );
    let pm = chain(&homes, &fake, "PM");
    assert_eq!(pm["in_step"], true, "{pm}");
    hermes_lists(&homes, &fake, &pm_profile, &configured(&pm));
}

#[test]
fn a_paid_agent_refused_with_402_answers_from_its_chain_and_a_revert_gives_a_free_chain() {
    let homes = Homes::new();
    let refused = Arc::new(Mutex::new(BTreeSet::new()));
    let fake = openrouter(refused.clone());
    fake.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can fetch credits"}}"#,
        ),
    );
    nxr(&homes, &fake, &["init", "--free"]);
    nxr(&homes, &fake, &["config", "set", "openrouter-key", KEY]);
    nxr(&homes, &fake, &["upgrade", "--agent", "Engineer", "--yes"]);
    let (_, profile, model) = agents(&homes, &fake)
        .into_iter()
        .find(|(n, _, _)| n == "Engineer")
        .unwrap();
    assert!(!model.ends_with(":free"), "{model}");
    let c = chain(&homes, &fake, "Engineer");
    assert_eq!(c["in_step"], true, "{c}");
    let chosen = c["chosen"].as_array().unwrap();
    assert_eq!(
        chosen[0]["is_free"], false,
        "a paid agent's chain starts paid: {c}"
    );
    assert!(
        chosen.iter().skip(1).any(|m| m["is_free"] == true),
        "then free models: {c}"
    );
    let first = chosen[0]["model_id"].as_str().unwrap().to_string();
    hermes_lists(&homes, &fake, &profile, &configured(&c));

    refused.lock().unwrap().insert(model.clone());
    let before = chat_models(&fake).len();
    let out = hermes(&homes, &fake, &profile, &["-z", "ping"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pong"),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Vec<String> = chat_models(&fake).into_iter().skip(before).collect();
    assert_eq!(sent.first(), Some(&model), "{sent:?}");
    assert_eq!(sent.last(), Some(&first), "{sent:?}");

    nxr(
        &homes,
        &fake,
        &["upgrade", "--agent", "Engineer", "--revert", "--yes"],
    );
    let c = chain(&homes, &fake, "Engineer");
    assert_eq!(c["in_step"], true, "{c}");
    assert!(
        c["chosen"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["is_free"] == true),
        "a free agent's chain is free: {c}"
    );
    hermes_lists(&homes, &fake, &profile, &configured(&c));
}

/// Asserts `hermes -p PROFILE fallback list` names `members` in this order.
fn hermes_lists(homes: &Homes, fake: &FakeServer, profile: &str, members: &[String]) {
    let listed = hermes(homes, fake, profile, &["fallback", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let mut at = 0;
    for m in members {
        let found = listed[at..]
            .find(m.as_str())
            .unwrap_or_else(|| panic!("{m} not in order in `hermes fallback list`:\n{listed}"));
        at += found + m.len();
    }
}

#[test]
fn a_tui_switch_rewrites_the_chain_that_hermes_lists() {
    let homes = Homes::new();
    let fake = openrouter(Arc::new(Mutex::new(BTreeSet::new())));
    nxr(&homes, &fake, &["init", "--free"]);
    let (_, profile, _) = agents(&homes, &fake)
        .into_iter()
        .find(|(n, _, _)| n == "Engineer")
        .unwrap();
    let before = configured(&chain(&homes, &fake, "Engineer"));
    let to = before[0].clone();

    // Tab 3's switch, carried out as the TUI's effect worker does.
    let mut env = homes.env();
    env.openrouter_url = format!("{}/api/v1", fake.base);
    env.hermes_bin = common::hermes_bin().display().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async {
        let store = nxr::domain::store::Store::open(&env).await.unwrap();
        let clock = nxr::domain::base::clock::FixedClock(chrono::Utc::now());
        nxr::app::run_effect(
            &store,
            &env,
            &clock,
            nxr::app::Queued {
                id: nxr::app::EffectId(1),
                effect: nxr::app::state::Effect::SetAgentModel {
                    agent: "Engineer".into(),
                    model: to.clone(),
                    reason: "switched in the TUI".into(),
                },
            },
        )
        .await
    });
    assert!(
        matches!(&outcome, nxr::app::Action::Finished { outcome: nxr::app::Outcome::Done(t), .. } if t.contains(&to)),
        "{outcome:?}"
    );

    let after = chain(&homes, &fake, "Engineer");
    assert_eq!(after["in_step"], true, "{after}");
    let now = configured(&after);
    assert!(!now.is_empty() && !now.contains(&to), "{now:?}");
    assert_ne!(now, before, "the chain follows the new primary");
    hermes_lists(&homes, &fake, &profile, &now);
}
