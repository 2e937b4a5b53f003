//! Health without spending quota: `nxr catalog refresh` reads OpenRouter's endpoints data for the top
//! candidates from a fake server on loopback; uptime moves the reliability score, and a 429, a 500 or
//! a timeout changes nothing and is reported as a skipped check.

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::catalog::openrouter::OpenRouterClient;
use nxr::domain::scoring::health;
use nxr::domain::store::Store;
use serde_json::Value;
use std::time::Duration;

/// A catalog of two identical models (`twin/a:free` and `twin/b:free`, both qualifying for every
/// role) and one paid model.
fn twins_catalog() -> String {
    let doc: Value = serde_json::from_str(&common::fixture("openrouter/models.json")).unwrap();
    let base = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "openai/gpt-oss-120b:free")
        .unwrap()
        .clone();
    let paid = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "openai/gpt-oss-120b")
        .unwrap()
        .clone();
    let mut a = base.clone();
    a["id"] = "twin/a:free".into();
    a["canonical_slug"] = "twin/a".into();
    let mut b = base;
    b["id"] = "twin/b:free".into();
    b["canonical_slug"] = "twin/b".into();
    serde_json::json!({ "data": [a, b, paid] }).to_string()
}

fn endpoints(id: &str, uptime: f64) -> String {
    let mut v: Value =
        serde_json::from_str(&common::fixture("openrouter/endpoints_example.json")).unwrap();
    v["data"]["id"] = id.into();
    v["data"]["endpoints"][0]["uptime_last_1d"] = uptime.into();
    v["data"]["endpoints"][0]["uptime_last_30m"] = uptime.into();
    v.to_string()
}

fn run(cmd: &mut std::process::Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn json(mut cmd: std::process::Command) -> Value {
    let (ok, stdout, stderr) = run(cmd.arg("--json"));
    assert!(ok, "{cmd:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn nxr(homes: &Homes, args: &[&str]) -> std::process::Command {
    let mut c = homes.nxr();
    c.args(args);
    c
}

/// The engineer ranking of the free models (passing first).
fn engineer_order(homes: &Homes) -> Vec<String> {
    let roster = json(nxr(homes, &["models", "roster", "--role", "engineer"]));
    roster["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model_id"].as_str().unwrap().to_string())
        .collect()
}

fn reliability(homes: &Homes, id: &str) -> u64 {
    let e = json(nxr(homes, &["models", "explain", id, "--role", "engineer"]));
    e["score"]["sub"]["reliability"].as_u64().unwrap()
}

const A: &str = "/api/v1/models/twin/a:free/endpoints";
const B: &str = "/api/v1/models/twin/b:free/endpoints";

#[test]
fn endpoint_uptime_ranks_the_flaky_twin_below_and_failed_checks_change_nothing() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always("/api/v1/models", Reply::json(200, twins_catalog()));
    server.always(A, Reply::json(200, endpoints("twin/a:free", 40.0)));
    server.always(B, Reply::json(200, endpoints("twin/b:free", 99.0)));
    let url = format!("{}/api/v1", server.base);
    let refresh = || {
        let mut c = nxr(&homes, &["catalog", "refresh"]);
        c.env("NXR_OPENROUTER_URL", &url);
        c
    };

    let report = json(refresh());
    let checked = report["health"]["checked"].as_array().unwrap();
    assert_eq!(checked.len(), 2, "{report}");
    assert_eq!(server.hits(A), 1);
    assert_eq!(server.hits(B), 1);
    assert!(
        server.seen().iter().all(|s| !s.path.contains("chat")),
        "no chat request is spent"
    );
    assert_eq!(reliability(&homes, "twin/a:free"), 0, "40% uptime");
    assert_eq!(reliability(&homes, "twin/b:free"), 980, "99% uptime");
    let order = engineer_order(&homes);
    let pos = |id: &str| order.iter().position(|m| m == id).unwrap();
    assert!(pos("twin/b:free") < pos("twin/a:free"), "{order:?}");
    let explain = json(nxr(
        &homes,
        &["models", "explain", "twin/a:free", "--role", "engineer"],
    ));
    assert!(
        explain["score"]["reasons"]
            .to_string()
            .contains("endpoint uptime 40.0%"),
        "{explain}"
    );

    // A 429 and a 500: both reported as skipped, the stored uptimes and the ranking unchanged.
    server.always(
        A,
        Reply::json(
            429,
            r#"{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-min"}}"#,
        ),
    );
    server.always(
        B,
        Reply::json(
            500,
            r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
        ),
    );
    let (ok, stdout, stderr) = run(&mut refresh());
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("2 skipped (nothing changed for them)")
            && stdout.contains("twin/a:free")
            && stdout.contains("twin/b:free"),
        "{stdout}"
    );
    assert_eq!(server.hits(A), 2, "a 429 is not retried");
    assert_eq!(reliability(&homes, "twin/a:free"), 0);
    assert_eq!(reliability(&homes, "twin/b:free"), 980);
    assert_eq!(engineer_order(&homes), order);
}

#[test]
fn a_check_that_times_out_is_skipped_and_changes_nothing() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always(
        A,
        Reply::json(200, endpoints("twin/a:free", 10.0)).delayed(Duration::from_millis(1500)),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::open(&homes.env())).unwrap();
    let client = health::check_client(
        OpenRouterClient::new(format!("{}/api/v1", server.base), None),
        Duration::from_millis(300),
    );
    let ids = vec!["twin/a:free".to_string()];
    let report = rt
        .block_on(health::check(&store, &client, &ids, "2026-05-01T00:00:00Z"))
        .unwrap();
    assert!(report.checked.is_empty(), "{report:?}");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].model_id, "twin/a:free");
    assert!(rt.block_on(health::load_uptime(&store)).unwrap().is_empty());

    // Answered in time (a second server: the first is still holding the slow answer): stored.
    let fast = FakeServer::start();
    fast.always(A, Reply::json(200, endpoints("twin/a:free", 99.0)));
    let client = health::check_client(
        OpenRouterClient::new(format!("{}/api/v1", fast.base), None),
        Duration::from_millis(300),
    );
    let report = rt
        .block_on(health::check(&store, &client, &ids, "2026-05-01T00:01:00Z"))
        .unwrap();
    assert_eq!(report.checked.len(), 1, "{report:?}");
    assert_eq!(
        rt.block_on(health::load_uptime(&store)).unwrap()["twin/a:free"],
        990
    );
}
