//! Stealth and preview models (a provider that logs prompts, a cloaked `openrouter/` model, an
//! announced removal) are shown as such and never picked automatically unless allowed, checked
//! through the `nxr` binary on the seven dated catalogs served from a loopback OpenRouter.

mod common;

use common::{FakeServer, Homes, Reply};
use std::process::Output;

const DATES: [&str; 7] = common::HISTORY_DATES;

fn catalog_json(date: &str) -> String {
    common::fixture(&format!("openrouter/catalog-history/models-{date}.json"))
}

/// A loopback OpenRouter serving the catalog of `date`.
fn openrouter(date: &str) -> FakeServer {
    let server = FakeServer::start();
    server.always("/api/v1/models", Reply::json(200, catalog_json(date)));
    server
}

fn nxr(homes: &Homes, server: &FakeServer, args: &[&str]) -> Output {
    homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .env("NXR_FASTER_WHISPER_CMD", "true")
        .args(args)
        .output()
        .expect("run nxr")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The user's view of a catalog entry: does it say prompts are logged, is it a non-router under
/// `openrouter/`, does it carry an expiration date?
fn is_stealth_or_preview(entry: &serde_json::Value) -> bool {
    let id = entry["id"].as_str().unwrap_or_default();
    let description = entry["description"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let router = id == "openrouter/auto"
        || id == "openrouter/free"
        || entry["pricing"]["prompt"].as_str() == Some("-1");
    description.contains("logged by the provider")
        || (id.starts_with("openrouter/") && !router)
        || entry["expiration_date"].as_str().is_some()
}

fn entry(date: &str, id: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&catalog_json(date)).unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

fn default_models(homes: &Homes, server: &FakeServer) -> Vec<(String, String)> {
    let v: serde_json::Value =
        serde_json::from_slice(&nxr(homes, server, &["agents", "list", "--json"]).stdout)
            .expect("agents list --json");
    let list = v.as_array().or_else(|| v["agents"].as_array()).cloned();
    list.expect("a list of agents")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_string(),
                a["model"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn no_default_agent_lands_on_a_stealth_or_preview_model_on_any_dated_catalog() {
    for date in DATES {
        let homes = Homes::new();
        let server = openrouter(date);
        ok(nxr(&homes, &server, &["init", "--free"]), "init --free");
        let agents = default_models(&homes, &server);
        assert_eq!(agents.len(), 3, "{date}: {agents:?}");
        for (name, model) in agents {
            let e = entry(date, &model);
            assert!(
                !e.is_null(),
                "{date}: {name} on {model}, not in the catalog"
            );
            assert!(
                !is_stealth_or_preview(&e),
                "{date}: default agent {name} is on {model}, a stealth or preview model"
            );
        }
    }
}

#[test]
fn the_hermes_default_of_2026_03_13_passes_over_hunter_alpha_and_says_why() {
    let homes = Homes::new();
    let server = openrouter("2026-03-13");
    let said = ok(nxr(&homes, &server, &["init", "--free"]), "init --free");
    let models = default_models(&homes, &server);
    let hermes = &models.iter().find(|(n, _)| n == "Hermes").unwrap().1;
    assert_ne!(hermes, "openrouter/hunter-alpha");
    assert!(
        said.contains("openrouter/hunter-alpha") && said.contains("logs prompts"),
        "init does not say why hunter-alpha was passed over:\n{said}"
    );

    // The gate is the reason: with stealth models allowed, hunter-alpha is the Hermes default.
    let allowed = Homes::new();
    ok(
        nxr(
            &allowed,
            &server,
            &["config", "set", "allow-stealth", "true"],
        ),
        "config set allow-stealth",
    );
    ok(nxr(&allowed, &server, &["init", "--free"]), "init --free");
    let models = default_models(&allowed, &server);
    let hermes = &models.iter().find(|(n, _)| n == "Hermes").unwrap().1;
    assert_eq!(hermes, "openrouter/hunter-alpha");
}

#[test]
fn a_created_research_agent_skips_owl_alpha_unless_allowed() {
    let homes = Homes::new();
    let server = openrouter("2026-05-01");
    ok(
        nxr(&homes, &server, &["catalog", "refresh"]),
        "catalog refresh",
    );
    let said = ok(
        nxr(
            &homes,
            &server,
            &["agents", "create", "--role", "research", "--name", "Scout"],
        ),
        "agents create",
    );
    let models = default_models(&homes, &server);
    let scout = &models.iter().find(|(n, _)| n == "Scout").unwrap().1;
    assert_ne!(scout, "openrouter/owl-alpha", "{said}");
    assert!(
        !is_stealth_or_preview(&entry("2026-05-01", scout)),
        "{scout}"
    );
    assert!(
        said.contains("openrouter/owl-alpha") && said.contains("stealth"),
        "create does not name the model it passed over:\n{said}"
    );

    let said = ok(
        nxr(
            &homes,
            &server,
            &[
                "agents",
                "create",
                "--role",
                "research",
                "--name",
                "Owl",
                "--allow-stealth",
            ],
        ),
        "agents create --allow-stealth",
    );
    let models = default_models(&homes, &server);
    let owl = &models.iter().find(|(n, _)| n == "Owl").unwrap().1;
    assert_eq!(owl, "openrouter/owl-alpha", "{said}");
}

#[test]
fn models_list_and_explain_mark_a_stealth_model() {
    let homes = Homes::new();
    let server = openrouter("2026-03-13");
    ok(
        nxr(&homes, &server, &["catalog", "refresh"]),
        "catalog refresh",
    );
    let list = ok(
        nxr(
            &homes,
            &server,
            &["models", "list", "--query", "hunter-alpha"],
        ),
        "models list",
    );
    let row = list
        .lines()
        .find(|l| l.starts_with("openrouter/hunter-alpha"))
        .unwrap_or_else(|| panic!("no hunter-alpha row:\n{list}"));
    assert!(row.ends_with("logs prompts, stealth"), "{row}");
    let plain = list
        .lines()
        .find(|l| l.starts_with("qwen/qwen3-coder:free"));
    if let Some(plain) = plain {
        assert!(!plain.contains("stealth"), "{plain}");
    }

    let v: serde_json::Value =
        serde_json::from_slice(&nxr(&homes, &server, &["models", "list", "--json"]).stdout)
            .unwrap();
    let hunter = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "openrouter/hunter-alpha")
        .unwrap();
    let kinds: Vec<&str> = hunter["caveats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["logs_prompts", "cloaked"]);

    let explain = ok(
        nxr(
            &homes,
            &server,
            &[
                "models",
                "explain",
                "openrouter/hunter-alpha",
                "--role",
                "hermes",
            ],
        ),
        "models explain",
    );
    assert!(
        explain.contains("logs prompts, stealth: never picked automatically"),
        "{explain}"
    );
}
