//! The OpenRouter catalog and client against recorded fixtures and a fake OpenRouter on 127.0.0.1:0,
//! and the foundation CLI commands (`models list`, `catalog refresh`, `db status`, `--version`,
//! `completions`) run as a user would.

mod common;

use common::{FakeServer, Homes, Reply, fixture};
use nxr::domain::base::clock::{self, FixedClock};
use nxr::domain::catalog::openrouter::{
    OpenRouterClient, OpenRouterError, RetryPolicy, Sleeper, Timeouts,
};
use nxr::domain::catalog::{self, CatalogParseError, CatalogSource};
use nxr::domain::store::Store;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------- catalog parsing ----------

fn data_len(body: &str) -> usize {
    let v: Value = serde_json::from_str(body).expect("fixture is JSON");
    v["data"].as_array().expect("data array").len()
}

#[test]
fn embedded_snapshot_is_the_full_2026_05_01_catalog() {
    let parsed = catalog::embedded();
    assert_eq!(parsed.models.len(), 371);
    assert_eq!(parsed.skipped, 0);
    let history = catalog::parse_catalog(&fixture(
        "openrouter/catalog-history/models-2026-05-01.json",
    ))
    .expect("parse");
    assert_eq!(parsed.models, history.models);
    let c = catalog::Catalog::embedded();
    assert_eq!(
        c.source.describe(),
        "catalog: embedded snapshot of 2026-05-01"
    );
    assert!(c.get("qwen/qwen3-coder:free").is_some());
    assert!(c.get("no/such-model").is_none());
}

#[test]
fn every_catalog_history_file_parses_completely() {
    for date in [
        "2026-03-02",
        "2026-03-13",
        "2026-03-23",
        "2026-04-02",
        "2026-04-12",
        "2026-04-22",
        "2026-05-01",
    ] {
        let body = fixture(&format!("openrouter/catalog-history/models-{date}.json"));
        let parsed = catalog::parse_catalog(&body).unwrap_or_else(|e| panic!("{date}: {e}"));
        assert_eq!(parsed.models.len(), data_len(&body), "{date}");
        assert_eq!(parsed.skipped, 0, "{date}");
        assert_eq!(parsed.raw.len(), parsed.models.len());
        assert!(
            parsed.models.windows(2).all(|w| w[0].id < w[1].id),
            "{date}: sorted by id"
        );
    }
}

#[test]
fn legacy_2025_entries_parse() {
    let body = fixture("openrouter/models_legacy_2025-05.json");
    let parsed = catalog::parse_catalog(&body).expect("parse legacy");
    assert_eq!(parsed.models.len(), 16);
    assert_eq!(parsed.skipped, 0);
    let get = |id: &str| {
        parsed
            .models
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    };
    // No canonical_slug / expiration_date in 2025; zero-valued keys present.
    let free = get("meta-llama/llama-3.3-70b-instruct:free");
    assert!(free.is_free());
    assert_eq!(free.canonical_slug, None);
    assert_eq!(free.expiration_date, None);
    let paid = get("openai/gpt-4o");
    assert!(!paid.is_free());
    assert!(paid.supports_vision());
    assert!(paid.supports_tools());
    assert!(paid.prompt_per_million().expect("price") > 0.0);
    let auto = get("openrouter/auto");
    assert!(auto.is_router() && !auto.is_free());
}

#[test]
fn models_fixture_counts_and_quirks() {
    let body = fixture("openrouter/models.json");
    let parsed = catalog::parse_catalog(&body).expect("parse");
    assert_eq!(parsed.models.len(), 57);
    let free: Vec<_> = parsed.models.iter().filter(|m| m.is_free()).collect();
    // SOURCES.md: 29 `:free` models, 18 with tools, 8 with image input; routers are never free.
    assert_eq!(free.len(), 29);
    assert!(free.iter().all(|m| m.id.ends_with(":free")));
    assert_eq!(free.iter().filter(|m| m.supports_tools()).count(), 18);
    assert_eq!(free.iter().filter(|m| m.supports_vision()).count(), 8);
    assert_eq!(
        parsed.models.iter().filter(|m| m.supports_vision()).count(),
        23
    );

    let by_id = |id: &str| parsed.models.iter().find(|m| m.id == id).expect(id);
    // "-1" router pricing.
    let auto = by_id("openrouter/auto");
    assert_eq!(auto.prompt_price, "-1");
    assert!(auto.is_router() && !auto.is_free());
    assert_eq!(auto.prompt_per_million(), None);
    // Priced "0" but a router: not a free model.
    let free_router = by_id("openrouter/free");
    assert!(free_router.is_router() && !free_router.is_free());
    // Expiration dates survive.
    assert_eq!(
        by_id("anthropic/claude-3.7-sonnet")
            .expiration_date
            .as_deref(),
        Some("2026-05-05")
    );
    // A free twin keeps its own context length.
    assert_eq!(
        by_id("meta-llama/llama-3.2-3b-instruct:free").context_length,
        131072
    );
    assert_eq!(
        by_id("meta-llama/llama-3.2-3b-instruct").context_length,
        80000
    );

    // Entries whose hugging_face_id is "" or null parse to None; null top_provider fields to None.
    let raw: Value = serde_json::from_str(&body).expect("json");
    let entries = raw["data"].as_array().expect("data");
    let mut empty_hf = 0;
    let mut null_top = 0;
    for e in entries {
        let id = e["id"].as_str().expect("id");
        let m = by_id(id);
        match &e["hugging_face_id"] {
            Value::Null => {
                assert_eq!(m.hugging_face_id, None, "{id}");
                empty_hf += 1;
            }
            Value::String(s) if s.is_empty() => {
                assert_eq!(m.hugging_face_id, None, "{id}");
                empty_hf += 1;
            }
            Value::String(s) => assert_eq!(m.hugging_face_id.as_deref(), Some(s.as_str())),
            other => panic!("{id}: unexpected hugging_face_id {other}"),
        }
        if e["top_provider"]["max_completion_tokens"].is_null() {
            assert_eq!(m.max_completion_tokens, None, "{id}");
            null_top += 1;
        }
        // Missing zero-priced keys (request, image, …) never make a paid model free.
        let prompt = e["pricing"]["prompt"].as_str().unwrap_or("");
        assert_eq!(m.prompt_price, prompt, "{id}");
    }
    assert!(
        empty_hf > 0,
        "the fixture has empty/null hugging_face_id entries"
    );
    assert!(null_top > 0, "the fixture has null top_provider fields");
}

#[test]
fn missing_prices_are_unknown_not_free_and_bad_entries_are_skipped_and_counted() {
    let body = r#"{"data": [
        {"id": "a/zero-keys-left-out", "context_length": 8192, "pricing": {}},
        {"id": "b/paid", "context_length": 8192, "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
        {"id": 5, "context_length": 8192},
        {"name": "no id at all", "context_length": 8192},
        "not an object",
        {"id": "c/no-context"},
        {"id": "d/bad-context", "context_length": "lots"},
        {"id": "e/ctl\u001b[31m", "context_length": 8192},
        {"id": "b/paid", "context_length": 1},
        {"id": "f/ctx-from-top", "context_length": null, "top_provider": {"context_length": 4096, "max_completion_tokens": null}}
    ]}"#;
    let parsed = catalog::parse_catalog(body).expect("parse");
    let ids: Vec<_> = parsed.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a/zero-keys-left-out", "b/paid", "f/ctx-from-top"]);
    assert_eq!(parsed.skipped, 7);
    // Free means exactly `:free` or both prices zero: missing prices are unknown, never free.
    assert!(!parsed.models[0].is_free());
    assert_eq!(parsed.models[0].price_label(), "price unknown");
    assert!(!parsed.models[1].is_free());
    assert_eq!(
        parsed.models[1].context_length, 8192,
        "first duplicate wins"
    );
    assert_eq!(parsed.models[2].context_length, 4096);
}

#[test]
fn unreadable_bodies_are_errors_not_panics() {
    let truncated = &fixture("openrouter/models.json")[..5000];
    assert!(matches!(
        catalog::parse_catalog(truncated),
        Err(CatalogParseError::NotJson(_))
    ));
    assert!(matches!(
        catalog::parse_catalog(r#"{"data": {"id": "x"}}"#),
        Err(CatalogParseError::NoData)
    ));
    assert!(matches!(
        catalog::parse_catalog("[]"),
        Err(CatalogParseError::NoData)
    ));
    assert!(matches!(
        catalog::parse_catalog(r#"{"data": [{"id": 1}, {"id": "x"}]}"#),
        Err(CatalogParseError::Empty { skipped: 2 })
    ));
}

// ---------- client against a fake OpenRouter ----------

/// Records requested waits instead of sleeping.
fn recording_sleeper() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let sleeper: Sleeper = Arc::new(move |d| {
        l.lock().expect("lock").push(d);
        Box::pin(async {})
    });
    (sleeper, log)
}

const BASE_BACKOFF: Duration = Duration::from_millis(7);

fn client(server: &FakeServer, key: Option<&str>) -> (OpenRouterClient, Arc<Mutex<Vec<Duration>>>) {
    let (sleeper, log) = recording_sleeper();
    let c = OpenRouterClient::new(format!("{}/api/v1", server.base), key.map(str::to_string))
        .with_retry(RetryPolicy {
            max_attempts: 3,
            base_backoff: BASE_BACKOFF,
            max_backoff: Duration::from_millis(50),
            max_retry_wait: Duration::from_secs(60),
        })
        .with_timeouts(Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(5),
        })
        .with_sleeper(sleeper);
    (c, log)
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    clock::from_db(s).expect("time")
}

fn error_case(name: &str) -> (u16, String) {
    let all: Value = serde_json::from_str(&fixture("openrouter/errors.json")).expect("errors.json");
    let case = &all[name];
    (
        case["status"].as_u64().expect("status") as u16,
        case["body"].to_string(),
    )
}

#[tokio::test]
async fn models_key_credits_and_endpoints_read_the_recorded_responses() {
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, fixture("openrouter/models.json")),
    );
    server.always(
        "/api/v1/key",
        Reply::json(200, fixture("openrouter/key.json")),
    );
    server.always(
        "/api/v1/credits",
        Reply::json(200, fixture("openrouter/credits.json")),
    );
    server.always(
        "/api/v1/models/openai/gpt-4/endpoints",
        Reply::json(200, fixture("openrouter/endpoints_example.json")),
    );
    let (c, _) = client(&server, Some("sk-or-v1-secret-test-key-0000"));

    let models = c.models().await.expect("models");
    assert_eq!(models.models.len(), 57);

    let key = c.key().await.expect("key");
    assert_eq!(key.label, "sk-or-v1-au7...890");
    assert_eq!(key.limit, Some(100.0));
    assert_eq!(key.usage, 25.5);
    assert_eq!(key.usage_daily, Some(25.5));
    assert!(!key.is_free_tier);
    assert_eq!(key.free_model_daily_requests, None);

    let credits = c.credits().await.expect("credits");
    assert_eq!(credits.total_credits, 100.5);
    assert_eq!(credits.total_usage, 25.75);

    let ep = c.endpoints("openai/gpt-4").await.expect("endpoints");
    assert_eq!(ep.id, "openai/gpt-4");
    assert_eq!(ep.endpoints.len(), 1);
    let e = &ep.endpoints[0];
    assert_eq!(e.provider_name, "OpenAI");
    assert_eq!(e.uptime_last_30m, Some(99.5));
    assert_eq!(e.uptime_last_1d, Some(99.8));
    assert_eq!(e.latency_last_30m.and_then(|l| l.p50), Some(0.25));

    // The key goes only into the Authorization header.
    let seen = server.seen();
    let key_req = seen
        .iter()
        .find(|s| s.path == "/api/v1/key")
        .expect("key request");
    assert!(
        key_req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer sk-or-v1-secret-test-key-0000")
    );
    assert!(!format!("{c:?}").contains("secret-test-key"));
}

#[tokio::test]
async fn free_tier_key_reports_its_daily_free_requests() {
    let server = FakeServer::start();
    server.always(
        "/api/v1/key",
        Reply::json(200, fixture("openrouter/key_free_tier.json")),
    );
    let (c, _) = client(&server, Some("sk-or-v1-free"));
    let key = c.key().await.expect("key");
    assert!(key.is_free_tier);
    assert_eq!(key.limit, None);
    let daily = key
        .free_model_daily_requests
        .expect("free_model_daily_requests");
    assert_eq!((daily.used, daily.limit, daily.remaining), (12, 50, 38));
}

#[tokio::test]
async fn rate_limit_with_reset_in_the_body_reports_when_to_retry() {
    let server = FakeServer::start();
    let (status, body) = error_case("free_models_per_day_under_10_credits");
    server.always("/api/v1/key", Reply::json(status, body));
    // Twelve hours before the reset (2026-05-21T00:00Z): far beyond any wait worth sleeping through.
    let (c, slept) = client(&server, Some("sk-or-v1-x"));
    let c = c.with_clock(Arc::new(FixedClock(at("2026-05-20T12:00:00Z"))));
    let err = c.key().await.expect_err("429");
    match &err {
        OpenRouterError::RateLimited { until, message } => {
            assert_eq!(*until, Some(at("2026-05-21T00:00:00Z")));
            assert!(message.contains("free-models-per-day"), "{message}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(err.retry_at(), Some(at("2026-05-21T00:00:00Z")));
    assert!(
        err.to_string()
            .contains("retried after 2026-05-21T00:00:00Z"),
        "{err}"
    );
    assert_eq!(server.hits("/api/v1/key"), 1, "no retry before the reset");
    assert!(slept.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn rate_limit_reset_a_few_seconds_away_is_waited_for_then_retried() {
    let server = FakeServer::start();
    let (status, body) = error_case("per_model_high_demand_rpm");
    server.route(
        "/api/v1/models",
        vec![
            Reply::json(status, body),
            Reply::json(200, fixture("openrouter/models.json")),
        ],
    );
    let (c, slept) = client(&server, None);
    // Reset 1783519380000 ms = 2026-07-08T14:03:00Z; we are 3 s before it.
    let c = c.with_clock(Arc::new(FixedClock(at("2026-07-08T14:02:57Z"))));
    let parsed = c.models().await.expect("retried after the reset");
    assert_eq!(parsed.models.len(), 57);
    assert_eq!(server.hits("/api/v1/models"), 2);
    assert_eq!(*slept.lock().expect("lock"), vec![Duration::from_secs(3)]);
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let server = FakeServer::start();
    let (status, body) = error_case("free_models_per_min");
    server.route(
        "/api/v1/models",
        vec![
            Reply::json(status, body.clone()).header("Retry-After", "2"),
            Reply::json(200, fixture("openrouter/models.json")),
        ],
    );
    let (c, slept) = client(&server, None);
    c.models().await.expect("second attempt succeeds");
    assert_eq!(server.hits("/api/v1/models"), 2);
    assert_eq!(*slept.lock().expect("lock"), vec![Duration::from_secs(2)]);

    // A Retry-After beyond the policy's patience is reported, not slept through.
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(status, body).header("Retry-After", "3600"),
    );
    let (c, slept) = client(&server, None);
    let now = at("2026-05-01T00:00:00Z");
    let err = c
        .with_clock(Arc::new(FixedClock(now)))
        .models()
        .await
        .expect_err("429");
    assert_eq!(err.retry_at(), Some(at("2026-05-01T01:00:00Z")));
    assert_eq!(server.hits("/api/v1/models"), 1);
    assert!(slept.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_up_to_the_bound_then_reported_as_answered() {
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(
            500,
            r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
        ),
    );
    let (c, slept) = client(&server, None);
    let bound = c.retry_policy().max_attempts as usize;
    let err = c.models().await.expect_err("500");
    assert!(
        matches!(err, OpenRouterError::ServerError { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("answered HTTP 500"), "{err}");
    assert!(err.to_string().contains("3 attempts"), "{err}");
    assert_eq!(server.hits("/api/v1/models"), bound);
    // Exponential backoff between attempts.
    assert_eq!(
        *slept.lock().expect("lock"),
        vec![BASE_BACKOFF, BASE_BACKOFF * 2]
    );

    // A transient 503 recovers.
    let server = FakeServer::start();
    server.route(
        "/api/v1/models",
        vec![
            Reply::json(503, "upstream down"),
            Reply::json(200, fixture("openrouter/models.json")),
        ],
    );
    let (c, _) = client(&server, None);
    assert_eq!(c.models().await.expect("recovers").models.len(), 57);
    assert_eq!(server.hits("/api/v1/models"), 2);
}

#[tokio::test]
async fn slow_response_times_out() {
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, fixture("openrouter/models.json")).delayed(Duration::from_millis(1500)),
    );
    let (c, _) = client(&server, None);
    let policy = c.retry_policy();
    let c = c
        .with_timeouts(Timeouts {
            connect: Duration::from_secs(1),
            request: Duration::from_millis(150),
        })
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..policy
        });
    let err = c.models().await.expect_err("timeout");
    match &err {
        OpenRouterError::Unavailable { reason } => {
            assert!(reason.contains("no answer within"), "{reason}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn refused_connection_is_unavailable_with_a_fix() {
    // Port 9 on loopback refuses at once.
    let (sleeper, _) = recording_sleeper();
    let c = OpenRouterClient::new("http://127.0.0.1:9/api/v1", None).with_sleeper(sleeper);
    let err = c.models().await.expect_err("offline");
    assert!(matches!(err, OpenRouterError::Unavailable { .. }));
    assert!(err.to_string().contains("NXR_OPENROUTER_URL"), "{err}");
}

#[tokio::test]
async fn unauthorized_is_reported_with_the_servers_message_and_not_retried() {
    let server = FakeServer::start();
    let (status, body) = error_case("no_auth_401");
    server.always("/api/v1/key", Reply::json(status, body));
    let (status, body) = error_case("credits_requires_management_key_403");
    server.always("/api/v1/credits", Reply::json(status, body));
    let (c, _) = client(&server, Some("sk-or-v1-bad-key-9999"));

    let err = c.key().await.expect_err("401");
    match &err {
        OpenRouterError::Unauthorized { status, message } => {
            assert_eq!(*status, 401);
            assert_eq!(message, "No auth credentials found");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let said = nxr::cli::hints::explain(&err);
    assert!(said.contains("nxr config set openrouter-key"), "{said}");
    assert!(!err.to_string().contains("bad-key-9999"));
    assert_eq!(server.hits("/api/v1/key"), 1);

    let err = c.credits().await.expect_err("403");
    assert!(
        matches!(&err, OpenRouterError::Unauthorized { status: 403, message } if message.contains("management keys")),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_key_and_hostile_model_ids_fail_before_any_request() {
    let server = FakeServer::start();
    let (c, _) = client(&server, None);
    assert!(matches!(c.key().await, Err(OpenRouterError::NoKey)));
    for bad in ["../../key", "a/b/c", "nope", "a/b?x=1", "a/b\u{1b}[31m"] {
        assert!(
            matches!(
                c.endpoints(bad).await,
                Err(OpenRouterError::InvalidModelId(_))
            ),
            "{bad}"
        );
    }
    assert!(server.seen().is_empty());
}

// ---------- refresh keeps the last good catalog ----------

async fn stored_rows(store: &Store) -> Vec<(String, String)> {
    let mut rows = store
        .conn()
        .query("SELECT id, raw FROM catalog_models ORDER BY id", ())
        .await
        .expect("query");
    let mut out = Vec::new();
    while let Some(r) = rows.next().await.expect("row") {
        out.push((r.get(0).expect("id"), r.get(1).expect("raw")));
    }
    out
}

#[tokio::test]
async fn bad_responses_leave_the_stored_catalog_unchanged() {
    let homes = Homes::new();
    let store = Store::open(&homes.env()).await.expect("store");
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, fixture("openrouter/models.json")),
    );
    let (c, _) = client(&server, None);
    let fixed = FixedClock(at("2026-05-01T02:00:00Z"));
    let report = catalog::refresh_with_report(&store, &c, &fixed)
        .await
        .expect("first refresh");
    assert_eq!(report.skipped, 0);
    assert_eq!(
        report.catalog.source,
        CatalogSource::Stored {
            fetched_at: "2026-05-01T02:00:00Z".into(),
            origin: c.base_url().into(),
            unreadable: 0,
        }
    );
    let before = catalog::load(&store).await.expect("load");
    let before_rows = stored_rows(&store).await;
    assert_eq!(before.models.len(), 57);
    assert!(
        before
            .source
            .describe()
            .starts_with("catalog: OpenRouter, fetched 2026-05-01T02:00:00Z")
    );

    let models = fixture("openrouter/models.json");
    let bad_bodies: Vec<(&str, Reply)> = vec![
        (
            "truncated JSON",
            Reply::json(200, models[..models.len() / 2].to_string()),
        ),
        (
            "data of the wrong type",
            Reply::json(200, r#"{"data": {"id": "x/y"}}"#),
        ),
        (
            "entries of the wrong types",
            Reply::json(
                200,
                r#"{"data": [{"id": 7, "context_length": "many"}, "x", null]}"#,
            ),
        ),
        ("an HTML error page", Reply::json(200, "<html>oops</html>")),
        ("a server error", Reply::json(500, "boom")),
    ];
    for (what, reply) in bad_bodies {
        server.always("/api/v1/models", reply);
        let err = catalog::refresh(&store, &c).await.expect_err(what);
        assert!(
            err.to_string().contains("catalog refresh failed"),
            "{what}: {err}"
        );
        let after = catalog::load(&store).await.expect("load");
        assert_eq!(after.models, before.models, "{what}");
        assert_eq!(after.source, before.source, "{what}");
        assert_eq!(stored_rows(&store).await, before_rows, "{what}");
    }
}

// ---------- the CLI, as a user runs it ----------

fn run(cmd: &mut std::process::Command) -> (i32, String, String) {
    let out = cmd.output().expect("run nxr");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The free models of a raw catalog file, computed straight from the JSON (docs/design.md §4's rule).
fn free_ids_in(body: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(body).expect("json");
    let mut ids: Vec<String> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|e| {
            let id = e["id"].as_str().unwrap_or("");
            let zero = |k: &str| {
                e["pricing"][k]
                    .as_str()
                    .is_none_or(|p| p.parse::<f64>().ok() == Some(0.0))
            };
            let router = id == "openrouter/auto" || id == "openrouter/free";
            id.ends_with(":free") || (!router && zero("prompt") && zero("completion"))
        })
        .map(|e| e["id"].as_str().unwrap_or("").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn cli_models_list_free_offline_uses_the_embedded_snapshot() {
    let homes = Homes::new();
    let (code, stdout, stderr) = run(homes.nxr().args(["models", "list", "--free", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("catalog: embedded snapshot of 2026-05-01"),
        "{stderr}"
    );
    let v: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(v["source"]["kind"], "embedded");
    assert_eq!(v["source"]["date"], "2026-05-01");
    let models = v["models"].as_array().expect("models");
    assert!(models.iter().all(|m| m["is_free"] == true));
    let mut ids: Vec<String> = models
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        free_ids_in(&fixture(
            "openrouter/catalog-history/models-2026-05-01.json"
        ))
    );
    assert!(ids.len() >= 29);

    // Filters combine; the text table shows the same models.
    let (code, stdout, _) = run(homes.nxr().args([
        "models",
        "list",
        "--free",
        "--tools",
        "--min-context",
        "200000",
    ]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("ID"));
    assert!(lines.len() > 1);
    for line in &lines[1..] {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert!(cols[0].ends_with(":free") || cols[4] == "free", "{line}");
        assert!(cols[1].parse::<u64>().expect("context") >= 200000, "{line}");
        assert_eq!(cols[2], "yes", "{line}");
    }
}

#[test]
fn cli_catalog_refresh_stores_the_live_catalog_and_keeps_it_when_offline() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, fixture("openrouter/models.json")),
    );
    let url = format!("{}/api/v1", server.base);

    let (code, stdout, stderr) = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", &url)
        .args(["catalog", "refresh"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("stored 57 models"), "{stdout}");

    let (code, stdout, stderr) = run(homes.nxr().args(["models", "list", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("catalog: OpenRouter, fetched"), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["source"]["kind"], "stored");
    assert_eq!(v["source"]["origin"], url.as_str());
    assert_eq!(v["models"].as_array().expect("models").len(), 57);

    // Offline (the homes point OpenRouter at a closed port): one clear line, non-zero, catalog kept.
    let (code, stdout, stderr) = run(homes.nxr().args(["catalog", "refresh"]));
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("unreachable") && lines[0].contains("NXR_OPENROUTER_URL"),
        "{stderr}"
    );
    let (_, stdout, stderr) = run(homes.nxr().args(["models", "list", "--json"]));
    assert!(stderr.contains("catalog: OpenRouter, fetched"), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["models"].as_array().expect("models").len(), 57);

    // A malformed answer: also refused, also kept.
    server.always("/api/v1/models", Reply::json(200, r#"{"data": 42}"#));
    let (code, _, stderr) = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", &url)
        .args(["catalog", "refresh"]));
    assert_ne!(code, 0);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (_, stdout, _) = run(homes.nxr().args(["models", "list", "--json"]));
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["models"].as_array().expect("models").len(), 57);
}

#[test]
fn cli_db_status_and_migrate() {
    let homes = Homes::new();
    let (code, stdout, stderr) = run(homes.nxr().args(["db", "status", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["kind"], "local");
    let db = homes.nxr_home().join("hermes_tracking.db");
    assert_eq!(v["location"], format!("file:{}", db.display()));
    // status does not migrate: everything is pending on a fresh home.
    assert_eq!(v["applied"].as_array().expect("applied").len(), 0);
    let pending = v["pending"].as_array().expect("pending").len();
    assert!(pending >= 5);

    let (code, stdout, _) = run(homes.nxr().args(["db", "migrate"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("applied 0001_baseline"), "{stdout}");
    let (_, stdout, _) = run(homes.nxr().args(["db", "status", "--json"]));
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["applied"].as_array().expect("applied").len(), pending);
    assert_eq!(v["pending"].as_array().expect("pending").len(), 0);
    assert_eq!(v["applied"][0]["name"], "0001_baseline");
    let (code, stdout, _) = run(homes.nxr().args(["db", "migrate"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to apply"), "{stdout}");
    let (code, stdout, _) = run(homes.nxr().args(["db", "status"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("pending: none"), "{stdout}");
}

#[test]
fn cli_version_completions_and_bad_flags() {
    let homes = Homes::new();
    let (code, stdout, _) = run(homes.nxr().arg("--version"));
    assert_eq!(code, 0);
    assert!(
        stdout
            .trim()
            .starts_with(&format!("nxr {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );

    let (code, stdout, _) = run(homes.nxr().args(["completions", "bash"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("_nxr()") && stdout.contains("models") && stdout.contains("catalog"));

    let (code, _, stderr) = run(homes
        .nxr()
        .args(["models", "list", "--min-context", "lots"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("--min-context"), "{stderr}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::process::Stdio;
    let homes = Homes::new();
    let commands: &[&[&str]] = &[
        &["completions", "zsh"],
        &["init", "--free"],
        &["agents", "list"],
        &["agents", "list", "--json"],
        &["models", "list"],
        &["db", "status"],
    ];
    for args in commands {
        // Close the reading end at once: every write of the output hits a closed pipe.
        let mut child = homes
            .nxr()
            .args(*args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nxr");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "nxr {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "nxr {args:?}: {stderr}");
    }
}

#[test]
fn a_corrupt_database_file_is_named_with_the_fix_and_left_alone() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.nxr_home()).expect("mkdir");
    let db = homes.nxr_home().join("hermes_tracking.db");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, &garbage).expect("write garbage");
    let (code, _, stderr) = run(homes.nxr().args(["agents", "list"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(stderr.contains("move it aside"), "{stderr}");
    // Each cause is said once.
    assert_eq!(
        stderr.matches("file is not a database").count(),
        1,
        "{stderr}"
    );
    assert_eq!(std::fs::read(&db).expect("read back"), garbage);
}

#[test]
fn prices_read_the_same_on_every_surface() {
    let parsed = catalog::parse_catalog(&fixture("openrouter/models.json")).expect("parse");
    let label = |id: &str| {
        parsed
            .models
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.price_label())
            .unwrap_or_else(|| panic!("{id} in the fixture"))
    };
    assert_eq!(label("openai/gpt-4o-mini"), "$0.15 / $0.6");
    assert_eq!(label("anthropic/claude-3.7-sonnet"), "$3 / $15");
    assert_eq!(label("openai/gpt-oss-120b:free"), "free");
    assert_eq!(label("openrouter/free"), "variable (router)");
    assert_eq!(label("openrouter/auto"), "variable (router)");
}
