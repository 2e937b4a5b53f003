//! The scanner replayed over real catalog history: the seven dated OpenRouter catalogs in
//! tests/fixtures/openrouter/catalog-history/ (2026-03-02 … 2026-05-01, see SOURCES.md) are served in
//! turn by a fake OpenRouter on 127.0.0.1:0, one per scan, and each scan runs at noon UTC of its
//! catalog's date (an injected clock). What the agents are told must follow from the catalogs'
//! differences, once each.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::{self, NewAgent};
use nxr::domain::base::clock::{self, FixedClock};
use nxr::domain::base::env::Env;
use nxr::domain::base::roles::Role;
use nxr::domain::catalog::openrouter::OpenRouterClient;
use nxr::domain::notifications;
use nxr::domain::store::Store;
use nxr::domain::watch::scanner::{self, ScanReport};

const DATES: [&str; 7] = [
    "2026-03-02",
    "2026-03-13",
    "2026-03-23",
    "2026-04-02",
    "2026-04-12",
    "2026-04-22",
    "2026-05-01",
];

// The models the story turns on (facts read from the catalog files; "best" is the ranked pick of
// the scoring, capability from the published figures in data/model_evals.yaml, the same picks as
// snapshots/scoring_best_free_*.snap):
/// Free (`:free`, tools, 262k) in every catalog, with published MMLU-Pro and RULER figures; the best
/// free pm model on 03-02.
const QWEN_NEXT: &str = "qwen/qwen3-next-80b-a3b-instruct:free";
/// Free (`:free`, tools, 262k) in every catalog; its published SWE-bench Verified and τ-bench Retail
/// figures make it the best free engineer model on every catalog.
const QWEN_CODER: &str = "qwen/qwen3-coder:free";
/// Free on 03-02 (priced "0", no `:free` suffix), tools + 131k. From 03-13 on it is priced
/// $0.00000026/token: still listed, not free.
const QWEN_VL: &str = "qwen/qwen3-vl-235b-a22b-thinking";
/// A free "stealth" model (1M context, tools) listed on 03-13 only; the best free pm model that day.
const HUNTER: &str = "openrouter/hunter-alpha";
/// Free from 03-13 on (tools, 262k, published coding/general/long-context figures); the best free pm
/// model on 03-23, once HUNTER left.
const NEMOTRON: &str = "nvidia/nemotron-3-super-120b-a12b:free";
/// Free on 04-02 only (1M context, tools); the best free pm model that day. From 04-12 on only the
/// paid `qwen/qwen3.6-plus` is listed.
const QWEN_PLUS: &str = "qwen/qwen3.6-plus-preview:free";
/// Free from 04-12 on (tools, 262k, published figures); it scores above NEMOTRON for the pm role and
/// is the best free pm model from 04-12 on.
const GEMMA4: &str = "google/gemma-4-31b-it:free";
/// Tools on 03-02 and 03-13; `tools` is gone from its supported parameters from 03-23 on.
const GEMMA: &str = "google/gemma-3-27b-it:free";
/// No expiration date until 04-02 (then "2026-04-10", then "2026-04-22"); absent from 05-01.
const TRINITY: &str = "arcee-ai/trinity-large-preview:free";

fn noon(date: &str) -> DateTime<Utc> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
}

struct Replay {
    _homes: Homes,
    _server: FakeServer,
    env: Env,
    store: Store,
    client: OpenRouterClient,
}

async fn replay_setup() -> Replay {
    let homes = Homes::new();
    let server = FakeServer::start();
    let catalogs = DATES
        .iter()
        .map(|d| {
            Reply::json(
                200,
                common::fixture(&format!("openrouter/catalog-history/models-{d}.json")),
            )
        })
        .collect();
    server.route("/api/v1/models", catalogs);
    let mut env = homes.env();
    env.openrouter_url = format!("{}/api/v1", server.base);
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Store::open(&env).await.unwrap();
    let client = OpenRouterClient::from_env(&env, None);
    Replay {
        _homes: homes,
        _server: server,
        env,
        store,
        client,
    }
}

async fn scan_at(r: &Replay, at: DateTime<Utc>) -> ScanReport {
    scanner::scan(
        &r.store,
        &r.env,
        &r.client,
        &FixedClock(at),
        "test",
        &|_| {},
    )
    .await
    .unwrap()
}

fn new_agent(name: &str, role: Role, model: Option<&str>) -> NewAgent {
    NewAgent {
        name: name.into(),
        role,
        category: None,
        model: model.map(String::from),
        skills: None,
        is_default: false,
        host: None,
    }
}

/// The first scan (03-02), then the team: two agents whose model nxr picks (`plan` pm gets QWEN_NEXT,
/// `build` engineer gets QWEN_CODER: the best free model of each role that day) and three whose model
/// the user chose (`scribe` pm on GEMMA, `trainee` pm on TRINITY, `vision` engineer on QWEN_VL, free
/// that day but not the best engineer model).
async fn first_scan_and_team(r: &Replay) {
    let first = scan_at(r, noon(DATES[0])).await;
    assert!(first.notifications.is_empty(), "no agents yet");
    for (name, role, model) in [
        ("plan", Role::Pm, None),
        ("build", Role::Engineer, None),
        ("scribe", Role::Pm, Some(GEMMA)),
        ("trainee", Role::Pm, Some(TRINITY)),
        ("vision", Role::Engineer, Some(QWEN_VL)),
    ] {
        let a = agents::create(&r.store, &r.env, new_agent(name, role, model))
            .await
            .unwrap();
        assert_eq!(a.model_auto_assigned, model.is_none(), "{name}");
        if model.is_none() {
            let best = if role == Role::Engineer {
                QWEN_CODER
            } else {
                QWEN_NEXT
            };
            assert_eq!(
                a.model, best,
                "{name}: the best free model of its role on 03-02"
            );
        }
    }
}

type Golden = Vec<(&'static str, &'static str, &'static str)>;

fn told(r: &ScanReport) -> Vec<(String, String, String)> {
    r.notifications
        .iter()
        .map(|n| (n.kind.to_string(), n.agent.clone(), n.model.clone()))
        .collect()
}

fn golden(g: &Golden) -> Vec<(String, String, String)> {
    g.iter()
        .map(|(k, a, m)| (k.to_string(), a.to_string(), m.to_string()))
        .collect()
}

async fn scored_at_values(store: &Store) -> Vec<String> {
    let mut rows = store
        .conn()
        .query(
            "SELECT DISTINCT scored_at FROM model_scores ORDER BY scored_at",
            (),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push(row.get::<String>(0).unwrap());
    }
    out
}

/// Per scan from the second on, what the catalogs imply (agents in creation order; per agent: model
/// now paid, capability lost, expiring, gone, then the better model). `build` starts on QWEN_CODER,
/// the best free engineer model until 2026-04-02.
///
/// - 03-13: HUNTER is new and would rank first for pm, but it is a stealth model that logs prompts,
///   never proposed; NEMOTRON is the best pm model → `plan`, `scribe` and `trainee` are told they can
///   move to it. QWEN_VL is paid now → `vision` told so, and told of QWEN_CODER, the best free
///   engineer model.
/// - 03-23: HUNTER left the catalog; NEMOTRON is still the best pm model, already told. GEMMA lost
///   `tools`, which the pm role needs → `scribe` told. `vision` was already told of QWEN_CODER →
///   nothing.
/// - 04-02: QWEN_PLUS appeared (no published figure: its capability is the estimate, capped at the
///   measured median) and, with its 1M context and recency, is the best engineer model → `build`
///   and `vision` told about QWEN_PLUS; NEMOTRON stays the best pm model. TRINITY now expires
///   2026-04-10, 7.5 days after the scan: outside the 7-day window, nothing yet.
/// - 04-12: QWEN_PLUS's free variant left; GEMMA4 is new, free, and scores above NEMOTRON for pm
///   and above QWEN_CODER for the engineer (its LiveCodeBench v6 and τ²-bench figures) → the three
///   pm agents, `build` and `vision` told about GEMMA4. TRINITY's date moved to 04-22: 10 days,
///   nothing.
/// - 04-22: TRINITY expires 2026-04-22 (today) → `trainee` told. Its better model is still GEMMA4,
///   already told.
/// - 05-01: TRINITY's `:free` variant is gone from the catalog (only the paid one is listed) →
///   `trainee` told. `inclusionai/ling-2.6-1t:free` is new (and expires 2026-05-07) but scores below
///   GEMMA4 for pm: GEMMA4 stays the proposal and nothing new is told.
fn golden_without_auto_upgrade() -> Vec<Golden> {
    use notifications::*;
    vec![
        vec![
            (KIND_UPGRADE, "plan", NEMOTRON),
            (KIND_UPGRADE, "scribe", NEMOTRON),
            (KIND_UPGRADE, "trainee", NEMOTRON),
            (KIND_NOW_PAID, "vision", QWEN_VL),
            (KIND_UPGRADE, "vision", QWEN_CODER),
        ],
        vec![(KIND_CAPABILITY_LOST, "scribe", GEMMA)],
        vec![
            (KIND_UPGRADE, "build", QWEN_PLUS),
            (KIND_UPGRADE, "vision", QWEN_PLUS),
        ],
        vec![
            (KIND_UPGRADE, "plan", GEMMA4),
            (KIND_UPGRADE, "build", GEMMA4),
            (KIND_UPGRADE, "scribe", GEMMA4),
            (KIND_UPGRADE, "trainee", GEMMA4),
            (KIND_UPGRADE, "vision", GEMMA4),
        ],
        vec![(KIND_EXPIRING, "trainee", TRINITY)],
        vec![(KIND_MODEL_GONE, "trainee", TRINITY)],
    ]
}

/// With `auto_upgrade_free_models` on, `plan` and `build` (models nxr chose, free when chosen) move
/// instead of being told they could; `scribe`, `trainee` and `vision` (the user's choice) are only
/// told, as above:
///
/// - 03-13: NEMOTRON is better (HUNTER, a stealth model, is never picked) → `plan` moves to it.
/// - 03-23: `plan` stays on NEMOTRON, still the best.
/// - 04-02: QWEN_PLUS is the best engineer model → `build` moves to it; `plan` stays on NEMOTRON.
/// - 04-12: QWEN_PLUS's free variant gone, GEMMA4 the best for both roles → `plan` and `build` move
///   to GEMMA4.
/// - 04-22, 05-01: both stay on GEMMA4, still the best free pm and engineer model.
fn golden_with_auto_upgrade() -> Vec<Golden> {
    use notifications::*;
    vec![
        vec![
            (KIND_AUTO_UPGRADED, "plan", NEMOTRON),
            (KIND_UPGRADE, "scribe", NEMOTRON),
            (KIND_UPGRADE, "trainee", NEMOTRON),
            (KIND_NOW_PAID, "vision", QWEN_VL),
            (KIND_UPGRADE, "vision", QWEN_CODER),
        ],
        vec![(KIND_CAPABILITY_LOST, "scribe", GEMMA)],
        vec![
            (KIND_AUTO_UPGRADED, "build", QWEN_PLUS),
            (KIND_UPGRADE, "vision", QWEN_PLUS),
        ],
        vec![
            (KIND_AUTO_UPGRADED, "plan", GEMMA4),
            (KIND_AUTO_UPGRADED, "build", GEMMA4),
            (KIND_UPGRADE, "scribe", GEMMA4),
            (KIND_UPGRADE, "trainee", GEMMA4),
            (KIND_UPGRADE, "vision", GEMMA4),
        ],
        vec![(KIND_EXPIRING, "trainee", TRINITY)],
        vec![(KIND_MODEL_GONE, "trainee", TRINITY)],
    ]
}

async fn replay(auto_upgrade: bool) -> Replay {
    let r = replay_setup().await;
    if auto_upgrade {
        r.store
            .set_setting(scanner::SETTING_AUTO_UPGRADE, "true")
            .await
            .unwrap();
    }
    first_scan_and_team(&r).await;
    let want = if auto_upgrade {
        golden_with_auto_upgrade()
    } else {
        golden_without_auto_upgrade()
    };
    let mut wrong = Vec::new();
    for (date, want) in DATES[1..].iter().zip(want) {
        let report = scan_at(&r, noon(date)).await;
        assert_eq!(report.scanned_at, clock::to_db(noon(date)));
        if told(&report) != golden(&want) {
            wrong.push(format!(
                "scan of {date}:\n  told   {:?}\n  wanted {:?}",
                told(&report),
                golden(&want)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every scan's scores carry that scan's time.
    let want: Vec<String> = DATES.iter().map(|d| clock::to_db(noon(d))).collect();
    assert_eq!(scored_at_values(&r.store).await, want);
    // The same catalog scanned again later tells nothing new; nothing was ever told twice.
    let again = scan_at(&r, noon(DATES[6]) + chrono::Duration::hours(6)).await;
    assert_eq!(told(&again), vec![], "a repeat scan");
    let all = notifications::list(&r.store, 1000).await.unwrap();
    let mut keys: Vec<(String, Option<i64>, String)> = all
        .iter()
        .map(|n| (n.kind.clone(), n.agent_id, n.title.clone() + &n.body))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a notification repeats");
    assert!(
        all.iter()
            .all(|n| !(n.title.clone() + &n.body).contains(HUNTER)),
        "a stealth model was proposed"
    );
    r
}

#[tokio::test]
async fn replayed_catalogs_tell_each_agent_exactly_what_changed_once() {
    let r = replay(false).await;
    // Nobody moved without auto-upgrade.
    for (name, model) in [
        ("plan", QWEN_NEXT),
        ("build", QWEN_CODER),
        ("scribe", GEMMA),
        ("trainee", TRINITY),
        ("vision", QWEN_VL),
    ] {
        let a = agents::get_by_name(&r.store, &r.env, name).await.unwrap();
        assert_eq!(a.model, model, "{name}");
    }
    // An upgrade notification carries the role, the score delta and the one-step action.
    let all = notifications::list(&r.store, 1000).await.unwrap();
    let up = all
        .iter()
        .filter_map(|n| n.upgrade())
        .find(|u| u.agent == "scribe" && u.to_model == NEMOTRON)
        .expect("scribe's NEMOTRON upgrade");
    assert_eq!(up.from_model.as_deref(), Some(GEMMA));
    assert_eq!(up.role.as_deref(), Some("pm"));
    assert!(up.score_delta.is_some_and(|d| d > 0), "{up:?}");
    assert_eq!(
        up.action.as_deref(),
        Some(format!("nxr upgrade --agent scribe --to {NEMOTRON}").as_str())
    );
}

#[tokio::test]
async fn with_auto_upgrade_nxr_chosen_agents_follow_the_best_free_model_and_user_choices_stay() {
    let r = replay(true).await;
    for (name, model, auto) in [
        ("plan", GEMMA4, true),
        ("build", GEMMA4, true),
        ("scribe", GEMMA, false),
        ("trainee", TRINITY, false),
        ("vision", QWEN_VL, false),
    ] {
        let a = agents::get_by_name(&r.store, &r.env, name).await.unwrap();
        assert_eq!(a.model, model, "{name}");
        assert_eq!(a.model_auto_assigned, auto, "{name}");
        // The profile Hermes reads moved with it.
        let cfg = a.profile().config_path();
        assert_eq!(
            nxr::domain::agents::hermes::get_config(&cfg, "model.default").unwrap(),
            Some(model.to_string()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_catalog_and_records_a_failed_scan() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, common::fixture("openrouter/models.json")),
    );
    let mut env = homes.env();
    env.openrouter_url = format!("{}/api/v1", server.base);
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Store::open(&env).await.unwrap();
    let client = OpenRouterClient::from_env(&env, None);
    let at = noon("2026-05-01");
    let ok = scanner::scan(&store, &env, &client, &FixedClock(at), "t", &|_| {})
        .await
        .unwrap();
    assert_eq!(ok.models, 57);
    server.always("/api/v1/models", Reply::json(200, "{not json"));
    let later = at + chrono::Duration::hours(6);
    let err = scanner::scan(&store, &env, &client, &FixedClock(later), "t", &|_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("stored catalog is unchanged"), "{err}");
    assert_eq!(
        nxr::domain::catalog::load(&store)
            .await
            .unwrap()
            .models
            .len(),
        57
    );
    assert_eq!(scanner::last_scan_at(&store).await.unwrap(), Some(at));
    // Scans only ever GET the catalog: no chat request to probe anything.
    assert!(server.seen().iter().all(|s| s.method == "GET"));
}

fn run_ok(homes: &Homes, server: &FakeServer, args: &[&str]) -> String {
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn cli_scan_summary_notifications_and_the_auto_upgrade_setting() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(
            200,
            common::fixture("openrouter/catalog-history/models-2026-03-23.json"),
        ),
    );
    let v: serde_json::Value =
        serde_json::from_str(&run_ok(&homes, &server, &["scan", "--json"])).unwrap();
    assert_eq!(v["models"], 349);
    // 27 entries are priced "0" or end in `:free`; one of them is the `openrouter/free` router.
    assert_eq!(v["free_models"], 26);
    assert!(v["scanned_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    // A user-chosen pm on a model without tools that day, then a scan: it is told of a better one.
    run_ok(
        &homes,
        &server,
        &[
            "agents", "create", "--role", "pm", "--name", "scribe", "--model", GEMMA, "--force",
        ],
    );
    run_ok(&homes, &server, &["scan"]);
    let list: serde_json::Value =
        serde_json::from_str(&run_ok(&homes, &server, &["notifications", "--json"])).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["kind"], "upgrade");
    let text = run_ok(&homes, &server, &["notifications", "--unread"]);
    assert!(
        text.contains(&format!("nxr upgrade --agent scribe --to {NEMOTRON}")),
        "{text}"
    );
    let id = list[0]["id"].as_i64().unwrap().to_string();
    run_ok(&homes, &server, &["notifications", "read", &id]);
    let unread = run_ok(&homes, &server, &["notifications", "--unread", "--json"]);
    assert_eq!(unread.trim(), "[]");
    // Marking it again is an error that names the fix.
    let out = homes
        .nxr()
        .args(["notifications", "read", &id])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nxr notifications --unread"));

    run_ok(
        &homes,
        &server,
        &["config", "set", "auto-upgrade-free-models", "true"],
    );
    let got = run_ok(
        &homes,
        &server,
        &["config", "get", "auto-upgrade-free-models"],
    );
    assert_eq!(got.trim(), "auto-upgrade-free-models: true");
    let out = homes
        .nxr()
        .args(["config", "set", "auto-upgrade-free-models", "sometimes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("true or false"));
    let got = run_ok(
        &homes,
        &server,
        &["config", "get", "auto-upgrade-free-models"],
    );
    assert_eq!(got.trim(), "auto-upgrade-free-models: true", "unchanged");
}

#[test]
fn every_setting_takes_the_underscore_and_the_dash_spelling() {
    let homes = Homes::new();
    let run = |args: &[&str]| {
        let out = homes.nxr().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // The spec's spelling sets what the dashed name reads, and the other way round.
    assert_eq!(
        run(&["config", "set", "auto_upgrade_free_models", "true"]),
        "auto-upgrade-free-models: true"
    );
    assert_eq!(
        run(&["config", "get", "auto-upgrade-free-models"]),
        "auto-upgrade-free-models: true"
    );
    run(&["config", "set", "scan_interval_hours", "8"]);
    assert_eq!(
        run(&["config", "get", "scan-interval-hours"]),
        "scan-interval-hours: 8"
    );
    run(&["config", "set", "spread-default-agents", "false"]);
    assert_eq!(
        run(&["config", "get", "spread_default_agents"]),
        "spread_default_agents: false"
    );
    // The scanner reads the value stored under the spec's name.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let on = rt.block_on(async {
        let store = nxr::domain::store::Store::open(&homes.env()).await.unwrap();
        nxr::domain::watch::scanner::auto_upgrade_enabled(&store)
            .await
            .unwrap()
    });
    assert!(on);
    // Unknown names are still refused, with the known ones listed.
    let out = homes
        .nxr()
        .args(["config", "set", "auto_upgrade_paid_models", "true"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("known settings"));
}
