//! Scoring that knows what a model is good at, as a user checks it: a model without figures is an
//! estimate never above the measured median of its price class, the figures show with their
//! setting and source in `explain` and `nxr evals list`, an import is validated and merged
//! atomically, and the defaults are spread. (The rankings' agreement with outside leaderboards is
//! tests/ranking_agreement.rs.)

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::Homes;
use nxr::domain::base::roles::Role;
use nxr::domain::catalog::{self, Model};
use nxr::domain::scoring::{self, Health, Pool, ScoringConfig};

fn history(date: &str) -> Vec<Model> {
    let json = common::fixture(&format!("openrouter/catalog-history/models-{date}.json"));
    catalog::parse_catalog(&json).unwrap().models
}

fn end_of(date: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc()
}

#[test]
fn a_model_without_figures_is_an_estimate_never_above_the_median_of_the_measured() {
    let models = history("2026-05-01");
    let cfg = ScoringConfig::for_catalog(&models, end_of("2026-05-01"));
    let table = cfg.capability.clone().unwrap();
    for role in Role::ALL {
        for s in scoring::rank(&models, role, Pool::All, &Health::default(), &cfg) {
            let free = models
                .iter()
                .find(|m| m.id == s.model_id)
                .is_some_and(|m| m.is_free());
            let Some(median) = table.median(role, free) else {
                continue;
            };
            let estimate = s.reasons.iter().any(|r| r.contains(": estimate ("));
            let measured = s.reasons.iter().any(|r| r.contains("published figures"));
            assert!(
                estimate != measured,
                "{} {role}: {:?}",
                s.model_id,
                s.reasons
            );
            if estimate {
                assert!(
                    s.sub.capability <= median,
                    "{} {role}: estimate {} above the median {median}",
                    s.model_id,
                    s.sub.capability
                );
            }
        }
    }
}

#[test]
fn explain_shows_each_figure_with_its_source_and_date() {
    let homes = Homes::new();
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "qwen/qwen3-coder:free",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The independent leaderboard's figure is the one ranked, with its harness and source.
    assert!(
        text.contains("SWE-bench Verified 62.4%")
            && text.contains("harness OpenHands (OpenHands Index); independent leaderboard")
            && text.contains("OpenHands Index (All Hands AI)")
            && text.contains("2026-01-26"),
        "{text}"
    );
    assert!(!text.contains("SWE-bench Verified 67.0%"), "{text}");
    // A model with no figure says its capability is an estimate.
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "openrouter/owl-alpha",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("estimate"), "{text}");
}

#[test]
fn evals_list_and_import_validate_and_merge() {
    let homes = Homes::new();
    let before = homes.json(&["evals", "list"]);
    let families = before["families"].as_array().unwrap();
    assert!(families.len() >= 10);
    let coder = families
        .iter()
        .find(|f| f["id"] == "qwen/qwen3-coder")
        .unwrap();
    assert_eq!(coder["origin"], "embedded");
    // Each figure names its setting and the kind of its source.
    let figures = coder["figures"].as_array().unwrap();
    let maker = figures
        .iter()
        .find(|f| f["source_kind"] == "maker")
        .unwrap();
    assert!(
        maker["source"].as_str().unwrap().contains("Qwen"),
        "{maker}"
    );
    let board = figures
        .iter()
        .find(|f| f["source_kind"] == "leaderboard")
        .unwrap();
    assert_eq!(board["harness"], "OpenHands (OpenHands Index)", "{board}");
    let text = homes.nxr().args(["evals", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("[harness mini-SWE-agent (bash only); independent leaderboard]")
            && text.contains("maker's card or paper"),
        "{text}"
    );

    // A bad file: refused with the problem named, nothing stored.
    let bad = homes.dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "updated: \"2026-12-01\"\nfamilies:\n  - id: \"poolside/laguna-m.1\"\n    name: Laguna\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 250, source: x, date: \"2026-11\"}\n",
    )
    .unwrap();
    let out = homes
        .nxr()
        .args(["evals", "import"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("percentage") && err.contains("bad.yaml"),
        "{err}"
    );
    assert_eq!(homes.json(&["evals", "list"]), before);
    let missing = homes.dir.path().join("nope.yaml");
    let out = homes
        .nxr()
        .args(["evals", "import"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yaml"));

    // A good file: a new family and a replaced one.
    let good = homes.dir.path().join("newer.yaml");
    std::fs::write(
        &good,
        "updated: \"2026-12-01\"\nfamilies:\n  - id: \"poolside/laguna-m.1\"\n    name: Laguna M.1\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 61.5, source: \"test source\", date: \"2026-11\"}\n  - id: \"z-ai/glm-4.5-air\"\n    name: GLM-4.5-Air\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 57.6, source: \"GLM-4.5 paper\", date: \"2025-08-08\"}\n",
    )
    .unwrap();
    let report = homes.json(&["evals", "import", good.to_str().unwrap()]);
    assert_eq!(report["added"], serde_json::json!(["poolside/laguna-m.1"]));
    assert_eq!(report["replaced"], serde_json::json!(["z-ai/glm-4.5-air"]));
    let after = homes.json(&["evals", "list"]);
    let find = |id: &str| {
        after["families"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("poolside/laguna-m.1")["origin"], "imported");
    assert_eq!(find("z-ai/glm-4.5-air")["figures"][0]["value"], 57.6);
    assert_eq!(find("qwen/qwen3-coder")["origin"], "embedded");
    // The scorer reads the imported figure.
    let explain = homes.json(&[
        "models",
        "explain",
        "z-ai/glm-4.5-air:free",
        "--role",
        "engineer",
    ]);
    let reasons = explain["score"]["reasons"].to_string();
    assert!(
        reasons.contains("57.6%") && reasons.contains("GLM-4.5 paper"),
        "{reasons}"
    );
}

/// The default agents' (role, model) after `nxr init --free` in `homes`, on the 2026-03-02 catalog
/// (served on loopback and stored first), where two roles' best free models are within the spread
/// margin of each other.
fn init_defaults(homes: &Homes) -> (Vec<(String, String)>, String) {
    let server = common::FakeServer::start();
    server.always(
        "/api/v1/models",
        common::Reply::json(
            200,
            common::fixture("openrouter/catalog-history/models-2026-03-02.json"),
        ),
    );
    let url = format!("{}/api/v1", server.base);
    let refresh = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", &url)
        .args(["catalog", "refresh"])
        .output()
        .unwrap();
    assert!(
        refresh.status.success(),
        "{}",
        String::from_utf8_lossy(&refresh.stderr)
    );
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", &url)
        .args(["init", "--free"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agents = homes.json(&["agents", "list"]);
    let list = agents
        .as_array()
        .or_else(|| agents["agents"].as_array())
        .unwrap()
        .clone();
    let mut v: Vec<(String, String)> = list
        .iter()
        .filter(|a| a["is_default"] == true)
        .map(|a| {
            (
                a["role"].as_str().unwrap().to_string(),
                a["model"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    (v, stdout)
}

#[test]
fn init_free_spreads_the_defaults_unless_the_setting_is_off() {
    let homes = Homes::new();
    let (spread, stdout) = init_defaults(&homes);
    assert_eq!(spread.len(), 3, "{spread:?}");
    let distinct: std::collections::BTreeSet<&String> = spread.iter().map(|(_, m)| m).collect();
    assert!(distinct.len() >= 2, "{spread:?}");
    // A default that is not its role's best was spread: the summary and explain say so.
    for (role, model) in &spread {
        let e = homes.json(&["models", "explain", model, "--role", role]);
        let best = homes.json(&["models", "best-free", "--role", role]);
        if best["pick"]["model_id"] != model.as_str() {
            assert!(
                stdout.contains("spread:") && stdout.contains(model.as_str()),
                "{stdout}"
            );
            assert!(
                e["spread"].as_str().is_some_and(|n| n.contains("spread")),
                "{role} {model}: {e}"
            );
        } else {
            assert!(e["spread"].is_null(), "{role} {model}: {e}");
        }
    }

    // Off: every default is the role's best free model, as `models best-free` picks it.
    let plain = Homes::new();
    let out = plain
        .nxr()
        .args(["config", "set", "spread_default_agents", "false"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (defaults, stdout) = init_defaults(&plain);
    assert!(!stdout.contains("spread:"), "{stdout}");
    for (role, model) in &defaults {
        let best = plain.json(&["models", "best-free", "--role", role]);
        assert_eq!(best["pick"]["model_id"], model.as_str(), "{role}");
    }
    let bad = plain
        .nxr()
        .args(["config", "set", "spread_default_agents", "maybe"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("true or false"));
}

#[test]
fn an_import_refuses_an_empty_date_and_a_link_that_is_not_a_web_address() {
    let homes = Homes::new();
    let before = homes.json(&["evals", "list"]);
    let figure = |url: &str, date: &str| {
        format!(
            "updated: \"2026-12-01\"\nfamilies:\n  - id: \"z-ai/glm-4.5-air\"\n    name: GLM-4.5-Air\n    figures:\n      - {{kind: coding, benchmark: SWE-bench Verified, value: 57.6, source: \"GLM-4.5 paper\", url: {url:?}, date: {date:?}}}\n"
        )
    };
    let cases = [
        (figure("https://example.org/glm", ""), "date \"\" is not"),
        (
            figure("javascript:alert(1)", "2025-08-08"),
            "url \"javascript:alert(1)\" is not a web address",
        ),
        (
            figure("data:text/html,<script>x</script>", "2025-08-08"),
            "is not a web address",
        ),
        (figure("https://", "2025-08-08"), "is not a web address"),
        (
            figure("//example.org/glm", "2025-08-08"),
            "is not a web address",
        ),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let file = homes.dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = homes
            .nxr()
            .args(["evals", "import"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(
            err.starts_with("error: ")
                && err.contains(&format!("bad{i}.yaml"))
                && err.contains("z-ai/glm-4.5-air SWE-bench Verified")
                && err.contains(says),
            "{text}: {err}"
        );
    }
    assert_eq!(homes.json(&["evals", "list"]), before);
    // An http(s) address in any case is a link.
    let file = homes.dir.path().join("good.yaml");
    std::fs::write(&file, figure("HTTPS://example.org/glm?x=1", "2025-08")).unwrap();
    let report = homes.json(&["evals", "import", file.to_str().unwrap()]);
    assert_eq!(report["replaced"], serde_json::json!(["z-ai/glm-4.5-air"]));
}
