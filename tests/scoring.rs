//! The scoring engine as a user checks it: pinned picks for real catalogs, determinism, the fallback
//! chain, stored rescores, the CLI and the HTTP API agreeing, and docs/scoring.md matching `explain`.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{FakeServer, Homes, Reply};
use nxr::domain::base::roles::Role;
use nxr::domain::catalog::{self, Model};
use nxr::domain::scoring::rescore::{self, ScoringError};
use nxr::domain::scoring::{self, Health, PickSource, Pool, ScoringConfig};
use nxr::domain::store::Store;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const HISTORY: [&str; 7] = [
    "2026-03-02",
    "2026-03-13",
    "2026-03-23",
    "2026-04-02",
    "2026-04-12",
    "2026-04-22",
    "2026-05-01",
];

fn history_json(date: &str) -> String {
    common::fixture(&format!("openrouter/catalog-history/models-{date}.json"))
}

/// The catalog file was taken during that UTC day: score it as of the day's end.
fn end_of(date: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc()
}

fn parse(json: &str) -> Vec<Model> {
    catalog::parse_catalog(json).unwrap().models
}

/// A small seeded shuffle (xorshift64*), no rand crate needed.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let r = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        items.swap(i, (r % (i as u64 + 1)) as usize);
    }
}

/// Everything the scorer says about a catalog, as JSON text: the best free pick per role and the
/// full ranking (every model, every role, with reasons).
fn scoring_output(models: &[Model], cfg: &ScoringConfig) -> String {
    let health = Health::default();
    let picks = scoring::best_free_all(models, &health, cfg, &[]);
    let rankings: Vec<_> = Role::ALL
        .iter()
        .map(|r| scoring::rank(models, *r, Pool::All, &health, cfg))
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "picks": picks, "rankings": rankings }))
        .unwrap()
}

fn pick_lines(models: &[Model], cfg: &ScoringConfig) -> String {
    let picks = scoring::best_free_all(models, &Health::default(), cfg, &[]);
    picks
        .iter()
        .map(|(role, p)| {
            format!(
                "{:<9} {} ({}, total {})\n",
                role.as_str(),
                p.model_id,
                p.source.label(),
                p.score
                    .as_ref()
                    .map_or("-".to_string(), |s| s.total.to_string())
            )
        })
        .collect()
}

#[test]
fn best_free_per_role_is_pinned_for_each_history_catalog() {
    for date in HISTORY {
        let models = parse(&history_json(date));
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        let text = pick_lines(&models, &cfg);
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("scoring_best_free_{date}"), text);
        });
    }
}

#[test]
fn same_catalog_twice_and_shuffled_gives_byte_identical_output() {
    for (i, date) in HISTORY.iter().enumerate() {
        let json = history_json(date);
        let models = parse(&json);
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        let first = scoring_output(&models, &cfg);
        let second = scoring_output(&models, &cfg);
        assert_eq!(first, second, "{date}: two runs differ");

        // The parsed models in a shuffled order (the scorer must not depend on input order).
        let mut shuffled = models.clone();
        shuffle(&mut shuffled, 0x9E37_79B9_7F4A_7C15 ^ i as u64);
        assert_ne!(
            shuffled.iter().map(|m| &m.id).collect::<Vec<_>>(),
            models.iter().map(|m| &m.id).collect::<Vec<_>>(),
            "the shuffle must actually reorder"
        );
        let cfg2 = ScoringConfig::for_catalog(&shuffled, end_of(date));
        assert_eq!(
            first,
            scoring_output(&shuffled, &cfg2),
            "{date}: shuffled models change the output"
        );

        // The raw response with its entries shuffled, parsed again.
        let mut doc: Value = serde_json::from_str(&json).unwrap();
        let data = doc["data"].as_array_mut().unwrap();
        shuffle(data, 42 + i as u64);
        let reparsed = parse(&doc.to_string());
        let cfg3 = ScoringConfig::for_catalog(&reparsed, end_of(date));
        assert_eq!(
            first,
            scoring_output(&reparsed, &cfg3),
            "{date}: shuffled response changes the output"
        );
    }
}

fn raw_entry<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the catalog"))
}

/// The role's requirements, checked on the raw OpenRouter entry (not the scorer's own flags).
fn assert_entry_qualifies(entry: &Value, role: Role, now: DateTime<Utc>, what: &str) {
    let id = entry["id"].as_str().unwrap();
    let req = role.default_requirements();
    let context = entry["context_length"]
        .as_u64()
        .or_else(|| entry["top_provider"]["context_length"].as_u64())
        .unwrap();
    assert!(
        context >= req.min_context,
        "{what}: {id} has context {context} < {}",
        req.min_context
    );
    let params: Vec<&str> = entry["supported_parameters"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default();
    if req.needs_tools {
        assert!(params.contains(&"tools"), "{what}: {id} has no tools");
    }
    let prompt = entry["pricing"]["prompt"].as_str().unwrap_or("0");
    let completion = entry["pricing"]["completion"].as_str().unwrap_or("0");
    assert!(
        id.ends_with(":free")
            || (prompt.parse::<f64>().unwrap() == 0.0 && completion.parse::<f64>().unwrap() == 0.0),
        "{what}: {id} is not free ({prompt}/{completion})"
    );
    assert!(
        id != "openrouter/free" && id != "openrouter/auto",
        "{what}: a router won"
    );
    let outputs = entry["architecture"]["output_modalities"]
        .as_array()
        .map(|a| a.iter().any(|m| m == "text"))
        .unwrap_or_else(|| {
            entry["architecture"]["modality"]
                .as_str()
                .is_some_and(|m| m.ends_with("->text") || m.contains("->text+"))
        });
    assert!(outputs, "{what}: {id} has no text output");
    if let Some(outs) = entry["architecture"]["output_modalities"].as_array() {
        assert!(
            outs.iter().all(|m| m == "text"),
            "{what}: {id} is a media generator ({outs:?})"
        );
    }
    if let Some(exp) = entry["expiration_date"].as_str() {
        let day = NaiveDate::parse_from_str(exp, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        assert!(
            day - now >= chrono::Duration::days(1),
            "{what}: {id} expires {exp}, within a day of {now}"
        );
    }
}

#[test]
fn every_pick_meets_its_roles_requirements_in_the_raw_catalog() {
    let mut checked = 0;
    for date in HISTORY {
        let json = history_json(date);
        let doc: Value = serde_json::from_str(&json).unwrap();
        let models = parse(&json);
        let now = end_of(date);
        let cfg = ScoringConfig::for_catalog(&models, now);
        for (role, pick) in scoring::best_free_all(&models, &Health::default(), &cfg, &[]) {
            assert_eq!(pick.source, PickSource::Ranked, "{date} {role}");
            let entry = raw_entry(&doc, &pick.model_id);
            assert_entry_qualifies(entry, role, now, &format!("{date} {role}"));
            checked += 1;
        }
    }
    assert_eq!(checked, 7 * 6);
}

#[test]
fn a_model_expiring_within_a_day_never_wins() {
    // In the 2026-05-01 catalog, inclusionai/ling-2.6-1t:free (a 1T model with tools and 262k
    // context) expires 2026-05-07. A day before, it must be out even where preview models are
    // allowed; a week before, it competes only where they are (an announced removal keeps it from
    // automatic picks by default).
    let models = parse(&history_json("2026-05-01"));
    let ling = models
        .iter()
        .find(|m| m.id == "inclusionai/ling-2.6-1t:free")
        .unwrap();
    let day_before = NaiveDate::from_ymd_opt(2026, 5, 6)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    let allowed = |at| ScoringConfig {
        allow_stealth: true,
        ..ScoringConfig::for_catalog(&models, at)
    };
    let s = scoring::score(
        ling,
        Role::Engineer,
        &Health::default(),
        &allowed(day_before),
    );
    assert!(!s.passes);
    assert!(
        s.reasons.iter().any(|r| r.contains("expires 2026-05-07")),
        "{:?}",
        s.reasons
    );
    let week_before = NaiveDate::from_ymd_opt(2026, 4, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let s = scoring::score(
        ling,
        Role::Engineer,
        &Health::default(),
        &allowed(week_before),
    );
    assert!(s.passes, "{:?}", s.reasons);
    let s = scoring::score(
        ling,
        Role::Engineer,
        &Health::default(),
        &ScoringConfig::for_catalog(&models, week_before),
    );
    assert!(!s.passes);
    assert!(
        s.reasons
            .iter()
            .any(|r| r.contains("expires in 7 days: never picked automatically")),
        "{:?}",
        s.reasons
    );
}

/// The 57-model fixture without any free model that has tool calling: pm/engineer/hermes have
/// no qualifying free model.
fn catalog_without_free_tool_models(keep_router: bool) -> String {
    let mut doc: Value = serde_json::from_str(&common::fixture("openrouter/models.json")).unwrap();
    let data = doc["data"].as_array_mut().unwrap();
    data.retain(|e| {
        let id = e["id"].as_str().unwrap();
        let tools = e["supported_parameters"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == "tools"));
        let free = id.ends_with(":free");
        if id == "openrouter/free" {
            return keep_router;
        }
        !(free && tools)
    });
    doc.to_string()
}

#[test]
fn no_qualifying_free_model_falls_back_to_openrouter_free() {
    let models = parse(&catalog_without_free_tool_models(true));
    let cfg = ScoringConfig::for_catalog(&models, end_of("2026-05-01"));
    for role in [Role::Pm, Role::Engineer, Role::Hermes] {
        let pick = scoring::best_free(&models, role, &Health::default(), &cfg, &[]);
        assert_eq!(pick.model_id, "openrouter/free", "{role}");
        assert_eq!(pick.source, PickSource::OpenRouterFree);
        assert_eq!(pick.provider, "openrouter");
        assert!(pick.score.is_none());
        assert!(pick.warnings[0].contains(role.as_str()));
    }
    // Roles without the tools requirement still get a ranked model.
    let creative = scoring::best_free(&models, Role::Creative, &Health::default(), &cfg, &[]);
    assert_eq!(creative.source, PickSource::Ranked);
}

/// A store whose catalog is `json`, plus a runtime.
fn store_with_catalog(homes: &Homes, json: &str) -> (tokio::runtime::Runtime, Arc<Store>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::open(&homes.env())).unwrap();
    let parsed = catalog::parse_catalog(json).unwrap();
    rt.block_on(catalog::save(
        &store,
        &parsed,
        "2026-05-01T23:59:59Z",
        "test",
    ))
    .unwrap();
    (rt, Arc::new(store))
}

#[test]
fn without_the_router_the_local_qwen_from_ollama_is_picked() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &catalog_without_free_tool_models(false));
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(
            200,
            r#"{"models":[{"name":"llama3.2:3b","model":"llama3.2:3b"},{"name":"qwen2.5-coder:7b","model":"qwen2.5-coder:7b"},{"name":"qwen3:14b","model":"qwen3:14b"}]}"#,
        ),
    );
    let mut env = homes.env();
    env.ollama_url = ollama.base.clone();
    let now = end_of("2026-05-01");
    let best = rt
        .block_on(rescore::best_free(&store, &env, Role::Engineer, now))
        .unwrap();
    assert_eq!(
        best.pick.model_id, "qwen3:14b",
        "the largest Qwen is chosen"
    );
    assert_eq!(best.pick.provider, "ollama");
    assert_eq!(best.pick.source, PickSource::LocalOllama { pulled: true });
    assert_eq!(ollama.hits("/api/tags"), 1);

    // When a free model qualifies, Ollama is not asked at all.
    let creative = rt
        .block_on(rescore::best_free(&store, &env, Role::Creative, now))
        .unwrap();
    assert_eq!(creative.pick.source, PickSource::Ranked);
    assert_eq!(ollama.hits("/api/tags"), 1);
}

#[test]
fn without_a_pulled_qwen_the_default_is_named_with_a_warning() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &catalog_without_free_tool_models(false));
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(200, r#"{"models":[{"name":"llama3.2:3b"}]}"#),
    );
    let mut env = homes.env();
    env.ollama_url = ollama.base.clone();
    let now = end_of("2026-05-01");
    let best = rt
        .block_on(rescore::best_free(&store, &env, Role::Hermes, now))
        .unwrap();
    assert_eq!(best.pick.model_id, scoring::DEFAULT_LOCAL_QWEN);
    assert_eq!(best.pick.source, PickSource::LocalOllama { pulled: false });
    assert!(
        best.pick.warnings[0].contains("ollama pull qwen3:8b"),
        "{:?}",
        best.pick.warnings
    );

    // Ollama not running at all: the same default, and the warning says Ollama is unreachable.
    env.ollama_url = "http://127.0.0.1:9".into();
    let best = rt
        .block_on(rescore::best_free(&store, &env, Role::Hermes, now))
        .unwrap();
    assert_eq!(best.pick.model_id, scoring::DEFAULT_LOCAL_QWEN);
    assert!(
        best.pick
            .warnings
            .iter()
            .any(|w| w.contains("cannot reach Ollama") && w.contains("NXR_OLLAMA_URL")),
        "{:?}",
        best.pick.warnings
    );
}

async fn count(store: &Store, sql: &str) -> i64 {
    let mut rows = store.conn().query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
}

#[test]
fn rescore_stores_every_role_with_all_sub_scores_and_updates_agents() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &history_json("2026-03-02"));
    let env = homes.env();
    rt.block_on(store.conn().execute(
        "INSERT INTO agents (name, model, role, created_at, updated_at) VALUES
           ('eng', 'openai/gpt-oss-120b:free', 'engineer', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z'),
           ('ghost', 'no/such-model', 'pm', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z')",
        (),
    ))
    .unwrap();

    let t1 = end_of("2026-03-02");
    let first = rt.block_on(rescore::rescore(&store, &env, t1)).unwrap();
    let n_models = catalog::parse_catalog(&history_json("2026-03-02"))
        .unwrap()
        .models
        .len();
    assert_eq!(first.models_scored, n_models);
    assert_eq!(first.rows_written, n_models * 6);
    assert_eq!(first.scored_at, "2026-03-02T23:59:59Z");
    assert!(first.previous_scored_at.is_none());
    assert_eq!(
        first.changes.len(),
        6,
        "the first run reports every role as new"
    );
    assert_eq!(first.agents_updated, 1);

    let rows = rt.block_on(rescore::stored_run(&store, None)).unwrap();
    assert_eq!(rows.len(), n_models * 6);
    assert!(rows.iter().all(|r| r.scored_at == first.scored_at));
    for role in Role::ALL {
        let n = rows.iter().filter(|r| r.role == role.as_str()).count();
        assert_eq!(n, n_models, "{role}");
    }
    // Each stored row is the scorer's answer, sub-score by sub-score.
    let inputs = rt.block_on(rescore::inputs(&store, t1)).unwrap();
    for r in rows.iter().step_by(97) {
        let m = inputs.models.iter().find(|m| m.id == r.model_id).unwrap();
        let s = scoring::score(m, r.role.parse().unwrap(), &inputs.health, &inputs.cfg);
        assert_eq!(
            (
                r.total,
                r.context,
                r.capability,
                r.tools,
                r.recency,
                r.reliability,
                r.price
            ),
            (
                s.total as i64,
                s.sub.context as i64,
                s.sub.capability as i64,
                s.sub.tools as i64,
                s.sub.recency as i64,
                s.sub.reliability as i64,
                s.sub.price as i64
            )
        );
        assert_eq!((r.passes, r.is_free), (s.passes, s.is_free));
        assert_eq!(r.reasons, s.reasons);
    }
    // The agent's score is its model's total for its role.
    let eng_total = rows
        .iter()
        .find(|r| r.model_id == "openai/gpt-oss-120b:free" && r.role == "engineer")
        .unwrap()
        .total;
    let stored = rt.block_on(count(
        &store,
        "SELECT model_score FROM agents WHERE name = 'eng'",
    ));
    assert_eq!(stored, eng_total);
    let ghost = rt.block_on(count(
        &store,
        "SELECT model_score IS NULL FROM agents WHERE name = 'ghost'",
    ));
    assert_eq!(
        ghost, 1,
        "an agent whose model was not scored keeps no score"
    );

    // A newer catalog: the second run is compared with the first.
    let parsed = catalog::parse_catalog(&history_json("2026-05-01")).unwrap();
    rt.block_on(catalog::save(
        &store,
        &parsed,
        "2026-05-01T23:59:59Z",
        "test",
    ))
    .unwrap();
    let t2 = end_of("2026-05-01");
    let second = rt.block_on(rescore::rescore(&store, &env, t2)).unwrap();
    assert_eq!(
        second.previous_scored_at.as_deref(),
        Some("2026-03-02T23:59:59Z")
    );
    for c in &second.changes {
        let before = first.best.iter().find(|b| b.role == c.role).unwrap();
        assert_eq!(c.before.as_deref(), Some(before.model_id.as_str()));
        assert_ne!(c.before.as_deref(), Some(c.after.as_str()));
    }
    let unchanged = second
        .best
        .iter()
        .filter(|b| !second.changes.iter().any(|c| c.role == b.role));
    for b in unchanged {
        let before = first.best.iter().find(|x| x.role == b.role).unwrap();
        assert_eq!(before.model_id, b.model_id);
    }
    // Both runs are kept, each with one scored_at.
    let runs = rt.block_on(count(
        &store,
        "SELECT COUNT(DISTINCT scored_at) FROM model_scores",
    ));
    assert_eq!(runs, 2);
    // A third run on the same catalog: nothing changed.
    let third = rt
        .block_on(rescore::rescore(
            &store,
            &env,
            t2 + chrono::Duration::hours(1),
        ))
        .unwrap();
    assert!(third.changes.is_empty(), "{:?}", third.changes);
}

#[test]
fn weight_and_custom_overrides_come_from_settings_and_bad_ones_are_named() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &history_json("2026-05-01"));
    let now = end_of("2026-05-01");
    rt.block_on(store.set_setting(
        "scoring.weights.engineer",
        r#"{"context": 0, "capability": 0, "tools": 0, "recency": 100, "reliability": 0, "price": 0}"#,
    ))
    .unwrap();
    rt.block_on(store.set_setting("scoring.custom.min_context", "200000"))
        .unwrap();
    rt.block_on(store.set_setting("scoring.custom.needs_tools", "true"))
        .unwrap();
    let inputs = rt.block_on(rescore::inputs(&store, now)).unwrap();
    let e = rescore::explain_in(&inputs, "openai/gpt-oss-120b:free", Role::Engineer).unwrap();
    assert_eq!(e.weights.recency, 100);
    assert_eq!(
        e.score.total, e.score.sub.recency,
        "only recency counts now"
    );
    let custom = scoring::best_free(
        &inputs.models,
        Role::Custom,
        &inputs.health,
        &inputs.cfg,
        &[],
    );
    let doc: Value = serde_json::from_str(&history_json("2026-05-01")).unwrap();
    let entry = raw_entry(&doc, &custom.model_id);
    assert!(entry["context_length"].as_u64().unwrap() >= 200_000);
    assert!(
        entry["supported_parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "tools")
    );

    rt.block_on(store.set_setting("scoring.weights.pm", "{not json"))
        .unwrap();
    let err = rt.block_on(rescore::inputs(&store, now)).unwrap_err();
    assert!(matches!(err, ScoringError::BadSetting { .. }));
    let msg = err.to_string();
    assert!(msg.contains("scoring.weights.pm"), "{msg}");
    assert!(
        msg.contains("\"capability\""),
        "the fix shows an example: {msg}"
    );
}

#[test]
fn explain_refuses_an_unknown_model_with_suggestions() {
    let homes = Homes::new();
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "openai/gpt-oss-120b",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "the paid twin exists in the snapshot");
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "nope/gpt-oss-120b-x\u{7}",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no model") && err.contains("nxr models list"),
        "{err}"
    );
    assert!(!err.contains('\u{7}'), "control characters are not echoed");
    let out = homes
        .nxr()
        .args(["models", "best-free", "--role", "janitor"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("janitor") && err.contains(&Role::valid_names()),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// CLI and HTTP API answer the same
// ---------------------------------------------------------------------------------------------

struct Web {
    rt: tokio::runtime::Runtime,
    server: nxr::web::server::ServerHandle,
    client: reqwest::Client,
}

impl Web {
    fn start(homes: &Homes) -> Web {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut env = homes.env();
        env.ollama_url = "http://127.0.0.1:9".into();
        let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
        let server =
            nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false)
                .unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Web { rt, server, client }
    }

    fn call(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.server.base_url());
        self.rt.block_on(async {
            let resp = self
                .client
                .request(method, url)
                .bearer_auth(&self.server.token)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }
}

#[test]
fn api_over_http_answers_the_same_as_the_cli() {
    let homes = Homes::new();
    let web = Web::start(&homes);
    for role in Role::ALL {
        let (status, api) = web.call(
            reqwest::Method::GET,
            &format!("/api/models/best-free?role={role}"),
        );
        assert_eq!(status, 200, "{api}");
        let cli = homes.json(&["models", "best-free", "--role", role.as_str()]);
        assert_eq!(api, cli, "{role}");
        assert_eq!(api["pick"]["source"], "ranked");
    }

    let (status, api) = web.call(reqwest::Method::GET, "/api/models/roster");
    assert_eq!(status, 200);
    let cli = homes.json(&["models", "roster"]);
    assert_eq!(api, cli);
    let models = api["models"].as_array().unwrap();
    assert!(models.len() > 20);
    assert!(
        models
            .iter()
            .all(|m| m["scores"].as_object().unwrap().len() == 6),
        "every model has a score for all six roles"
    );

    let (status, api) = web.call(reqwest::Method::POST, "/api/models/rescore");
    assert_eq!(status, 200, "{api}");
    let cli = homes.json(&["models", "rescore"]);
    assert_eq!(api["best"], cli["best"]);
    assert_eq!(api["rows_written"], cli["rows_written"]);
    assert_eq!(
        cli["previous_scored_at"], api["scored_at"],
        "the CLI's rescore is compared with the API's"
    );
    assert!(cli["scored_at"].as_str() > api["scored_at"].as_str());
    // The API's picks are the best-free answers.
    for b in api["best"].as_array().unwrap() {
        let role = b["role"].as_str().unwrap();
        let cli = homes.json(&["models", "best-free", "--role", role]);
        assert_eq!(b["model_id"], cli["pick"]["model_id"]);
    }

    let (status, api) = web.call(
        reqwest::Method::GET,
        "/api/models/explain?model=openai/gpt-oss-120b:free&role=hermes",
    );
    assert_eq!(status, 200);
    let cli = homes.json(&[
        "models",
        "explain",
        "openai/gpt-oss-120b:free",
        "--role",
        "hermes",
    ]);
    assert_eq!(api, cli);
}

#[test]
fn api_errors_are_json_bad_role_400_wrong_method_405_unknown_404() {
    let homes = Homes::new();
    let web = Web::start(&homes);
    let (status, body) = web.call(reqwest::Method::GET, "/api/models/best-free?role=janitor");
    assert_eq!(status, 400);
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.contains("janitor") && msg.contains(&Role::valid_names()),
        "{msg}"
    );

    let (status, body) = web.call(reqwest::Method::GET, "/api/models/best-free");
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("engineer"));

    let (status, body) = web.call(reqwest::Method::GET, "/api/models/roster?role=x");
    assert_eq!(status, 400, "{body}");

    let (status, body) = web.call(reqwest::Method::GET, "/api/models/rescore");
    assert_eq!(status, 405);
    assert!(body["error"].as_str().unwrap().contains("POST"));
    let (status, _) = web.call(reqwest::Method::DELETE, "/api/models/roster");
    assert_eq!(status, 405);
    let (status, _) = web.call(reqwest::Method::POST, "/api/models/best-free?role=pm");
    assert_eq!(status, 405);

    let (status, body) = web.call(reqwest::Method::GET, "/api/models/nope");
    assert_eq!(status, 404);
    assert!(body["error"].is_string());

    let (status, body) = web.call(
        reqwest::Method::GET,
        "/api/models/explain?model=%3Cscript%3E&role=pm",
    );
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("no model"));

    // Nothing was written by the refused requests.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(Store::open(&homes.env())).unwrap();
    assert_eq!(
        rt.block_on(count(&store, "SELECT COUNT(*) FROM model_scores")),
        0
    );
}

// ---------------------------------------------------------------------------------------------
// docs/scoring.md agrees with `nxr models explain`
// ---------------------------------------------------------------------------------------------

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let a = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} missing"))
        + start.len();
    let b = a + text[a..]
        .find(end)
        .unwrap_or_else(|| panic!("{end} missing"));
    &text[a..b]
}

#[test]
fn the_worked_example_in_the_docs_matches_explain() {
    let doc = std::fs::read_to_string(common::root().join("docs/scoring.md")).unwrap();
    let homes = Homes::new();
    // The example's command line, as the doc writes it.
    let cmd_line = between(&doc, "<!-- example-command -->\n```sh\n", "\n```");
    let args: Vec<&str> = cmd_line
        .trim()
        .strip_prefix("nxr ")
        .unwrap()
        .split_whitespace()
        .collect();
    let out = homes.nxr().args(&args).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let in_doc = between(&doc, "<!-- example-output -->\n```text\n", "```");
    assert_eq!(
        in_doc, text,
        "the doc's example output is what explain prints"
    );

    // The arithmetic table in the doc: | sub-score | points | weight | points × weight |
    let json = homes.json(&args);
    let table = between(&doc, "<!-- example-table -->\n", "\n\n");
    let mut sum = 0u64;
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("---"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('*');
        if name == "sub-score" {
            continue;
        }
        let num = |c: &str| -> u64 { c.trim_matches('*').parse().unwrap() };
        if name == "total" {
            let total = num(cells[1]);
            assert_eq!(total, json["score"]["total"].as_u64().unwrap(), "total");
            assert_eq!(total, sum / 100, "total = sum / 100");
            assert_eq!(cells[3], format!("{sum} / 100"), "the sum in the doc");
            continue;
        }
        let nums: Vec<u64> = cells[1..].iter().map(|c| num(c)).collect();
        assert_eq!(
            nums[0],
            json["score"]["sub"][name].as_u64().unwrap(),
            "{name} points"
        );
        assert_eq!(
            nums[1],
            json["weights"][name].as_u64().unwrap(),
            "{name} weight"
        );
        assert_eq!(nums[2], nums[0] * nums[1], "{name} product");
        sum += nums[2];
        rows += 1;
    }
    assert_eq!(rows, 6, "all six sub-scores are in the table");
}

#[test]
fn a_rescore_that_fails_midway_writes_nothing() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &history_json("2026-04-02"));
    let env = homes.env();
    rt.block_on(store.conn().execute(
        "INSERT INTO agents (name, model, role, created_at, updated_at) VALUES
           ('eng', 'openai/gpt-oss-120b:free', 'engineer', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z')",
        (),
    ))
    .unwrap();
    // The agents update comes after all score rows are inserted: make it fail.
    rt.block_on(store.conn().execute(
        "CREATE TRIGGER refuse_score BEFORE UPDATE OF model_score ON agents
         BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
        (),
    ))
    .unwrap();
    let err = rt
        .block_on(rescore::rescore(&store, &env, end_of("2026-04-02")))
        .unwrap_err();
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(
        rt.block_on(count(&store, "SELECT COUNT(*) FROM model_scores")),
        0,
        "no row of the failed run is kept"
    );
    assert!(
        rt.block_on(store.setting(rescore::SETTING_LAST_BEST))
            .unwrap()
            .is_none()
    );
    // Without the fault the same rescore goes through.
    rt.block_on(store.conn().execute("DROP TRIGGER refuse_score", ()))
        .unwrap();
    let ok = rt
        .block_on(rescore::rescore(&store, &env, end_of("2026-04-02")))
        .unwrap();
    assert_eq!(ok.agents_updated, 1);
}

#[test]
fn roster_for_one_role_is_in_ranking_order() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &history_json("2026-04-22"));
    let roster = rt
        .block_on(rescore::roster(
            &store,
            Some(Role::Hermes),
            end_of("2026-04-22"),
        ))
        .unwrap();
    assert_eq!(roster.roles, vec![Role::Hermes]);
    let scores: Vec<_> = roster
        .models
        .iter()
        .map(|m| {
            (
                m.scores[&Role::Hermes].clone(),
                m.context_length,
                &m.model_id,
            )
        })
        .collect();
    let passing: Vec<_> = scores.iter().filter(|s| s.0.passes).collect();
    assert!(!passing.is_empty());
    for (i, (s, _, _)) in passing.iter().enumerate() {
        assert_eq!(s.rank, Some(i + 1));
    }
    for w in passing.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(
            (a.0.total, a.1) > (b.0.total, b.1)
                || ((a.0.total, a.1) == (b.0.total, b.1) && a.2 < b.2),
            "{a:?} before {b:?}"
        );
    }
    assert_eq!(roster.best[&Role::Hermes], *passing[0].2);
    // Failing models come after the passing ones.
    let first_fail = scores
        .iter()
        .position(|s| !s.0.passes)
        .unwrap_or(scores.len());
    assert!(scores[first_fail..].iter().all(|s| !s.0.passes));
}

#[test]
fn observed_success_rate_sets_reliability_and_rate_limits_do_not_count() {
    let homes = Homes::new();
    let (rt, store) = store_with_catalog(&homes, &history_json("2026-05-01"));
    let model = "openai/gpt-oss-120b:free";
    // 10 requests, 8 ok, 2 errors; 50 rate-limited ones are about our budget, not the model.
    rt.block_on(store.conn().execute(
        "INSERT INTO usage_events (model, is_free, requests, status, occurred_at) VALUES
           (?1, 1, 8, 'ok', '2026-05-01T10:00:00Z'),
           (?1, 1, 2, 'error', '2026-05-01T10:01:00Z'),
           (?1, 1, 50, 'rate_limited', '2026-05-01T10:02:00Z'),
           ('z-ai/glm-4.5-air:free', 1, 3, 'error', '2026-05-01T10:03:00Z')",
        libsql::params![model],
    ))
    .unwrap();
    let inputs = rt
        .block_on(rescore::inputs(&store, end_of("2026-05-01")))
        .unwrap();
    assert_eq!(inputs.health.success_permille.get(model), Some(&800));
    assert_eq!(
        inputs.health.success_permille.get("z-ai/glm-4.5-air:free"),
        None,
        "3 requests are too few to judge"
    );
    let e = rescore::explain_in(&inputs, model, Role::Pm).unwrap();
    assert_eq!(e.score.sub.reliability, 600, "2 × 800 − 1000");
    assert!(
        e.score
            .reasons
            .iter()
            .any(|r| r.contains("80.0% of observed requests")),
        "{:?}",
        e.score.reasons
    );
    let other = rescore::explain_in(&inputs, "z-ai/glm-4.5-air:free", Role::Pm).unwrap();
    assert_eq!(other.score.sub.reliability, scoring::NEUTRAL_RELIABILITY);
}

#[test]
fn explain_json_names_the_failed_requirements_as_typed_exclusions() {
    let homes = Homes::new();
    // A small model without tool support: the engineer role refuses it.
    let weak = homes.json(&[
        "models",
        "explain",
        "meta-llama/llama-3.2-3b-instruct:free",
        "--role",
        "engineer",
    ]);
    let score = &weak["score"];
    assert_eq!(score["passes"], false, "{score}");
    let exclusions = score["exclusions"].as_array().unwrap();
    assert!(
        exclusions.contains(&serde_json::json!({"kind": "missing_tools", "role": "engineer"})),
        "{score}"
    );
    // The same requirements are in the human reasons, one `excluded:` line each.
    let excluded: Vec<&str> = score["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str().filter(|r| r.starts_with("excluded: ")))
        .collect();
    assert_eq!(excluded.len(), exclusions.len(), "{score}");
    assert!(
        excluded.contains(&"excluded: no tool support (engineer needs tools)"),
        "{excluded:?}"
    );

    let strong = homes.json(&[
        "models",
        "explain",
        "openai/gpt-oss-120b:free",
        "--role",
        "engineer",
    ]);
    assert_eq!(strong["score"]["passes"], true, "{strong}");
    assert_eq!(strong["score"]["exclusions"], serde_json::json!([]));
}
