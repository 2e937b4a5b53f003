//! The store and its migrations, run twice: once on a local file and once on a real libSQL server
//! (sqld, started per test on a free loopback port). Same test bodies for both.

mod common;

use libsql::Value;
use nxr::domain::base::env::Env;
use nxr::domain::catalog;
use nxr::domain::store::{MIGRATIONS, Store, StoreError};
use std::path::PathBuf;

/// Where a test's database lives.
enum Backend {
    Local { _dir: tempfile::TempDir, env: Env },
    Sqld { _server: common::Sqld, env: Env },
}

impl Backend {
    fn local() -> Backend {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = Env::for_dirs(dir.path().join("nxr"), dir.path().join("hermes"));
        Backend::Local { _dir: dir, env }
    }

    fn sqld() -> Backend {
        let server = common::Sqld::start();
        let env = server.env();
        Backend::Sqld {
            _server: server,
            env,
        }
    }

    fn env(&self) -> &Env {
        match self {
            Backend::Local { env, .. } | Backend::Sqld { env, .. } => env,
        }
    }

    async fn open(&self) -> Store {
        Store::open(self.env()).await.expect("open + migrate")
    }

    async fn open_unmigrated(&self) -> Store {
        Store::open_unmigrated(self.env()).await.expect("open")
    }
}

/// Runs one async test body on a local file and on sqld.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn local_file() {
                super::$name(super::Backend::local()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqld_server() {
                super::$name(super::Backend::sqld()).await;
            }
        }
    };
}

// ---------- helpers ----------

async fn rows(store: &Store, sql: &str) -> Vec<Vec<Value>> {
    let mut rs = store.conn().query(sql, ()).await.expect(sql);
    let n = rs.column_count();
    let mut out = Vec::new();
    while let Some(r) = rs.next().await.expect("row") {
        out.push((0..n).map(|i| r.get_value(i).expect("value")).collect());
    }
    out
}

async fn count(store: &Store, sql: &str) -> i64 {
    match rows(store, sql).await[0][0] {
        Value::Integer(n) => n,
        ref v => panic!("{sql}: not a count: {v:?}"),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(format!("{other:?}")),
    }
}

/// (name, type, notnull, default) of every column of `table`.
async fn columns(store: &Store, table: &str) -> Vec<(String, String, bool, Option<String>)> {
    rows(
        store,
        &format!(
            "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('{table}') ORDER BY cid"
        ),
    )
    .await
    .iter()
    .map(|r| {
        (
            text(&r[0]).unwrap_or_default(),
            text(&r[1]).unwrap_or_default(),
            matches!(r[2], Value::Integer(1)),
            text(&r[3]),
        )
    })
    .collect()
}

fn col<'a>(
    cols: &'a [(String, String, bool, Option<String>)],
    name: &str,
) -> &'a (String, String, bool, Option<String>) {
    cols.iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("column {name} missing; have {cols:?}"))
}

async fn names(store: &Store, kind: &str) -> Vec<String> {
    rows(
        store,
        &format!("SELECT name FROM sqlite_master WHERE type = '{kind}' ORDER BY name"),
    )
    .await
    .iter()
    .filter_map(|r| text(&r[0]))
    .collect()
}

async fn insert_agent(store: &Store, name: &str) {
    store
        .conn()
        .execute(
            "INSERT INTO agents (name, model, provider, status, created_at, updated_at)
             VALUES (?1, 'qwen/qwen3-coder:free', 'openrouter', 'active', '2025-05-01T00:00:00Z', '2025-05-01T00:00:00Z')",
            libsql::params![name],
        )
        .await
        .expect("insert agent");
}

// ---------- test bodies ----------

async fn fresh_db_has_every_table_column_index_and_constraint(b: Backend) {
    let store = b.open().await;
    let tables = names(&store, "table").await;
    for t in [
        "agents",
        "settings",
        "notifications",
        "usage_events",
        "agent_model_history",
        "model_scores",
        "onboarding",
        "catalog_models",
        "catalog_meta",
        "schema_migrations",
    ] {
        assert!(
            tables.contains(&t.to_string()),
            "table {t} missing: {tables:?}"
        );
    }

    let agents = columns(&store, "agents").await;
    for c in [
        "id",
        "name",
        "model",
        "provider",
        "status",
        "created_at",
        "updated_at",
    ] {
        col(&agents, c);
    }
    // v1.4 columns: types and defaults.
    let expect = [
        ("role", "TEXT", true, Some("'custom'")),
        ("skillset", "TEXT", true, Some("'[]'")),
        ("model_score", "INTEGER", false, None),
        ("model_auto_assigned", "INTEGER", true, Some("0")),
        ("workspace_id", "TEXT", true, Some("'default'")),
        ("is_default", "INTEGER", true, Some("0")),
    ];
    for (name, ty, notnull, default) in expect {
        let c = col(&agents, name);
        assert_eq!(c.1, ty, "type of agents.{name}");
        assert_eq!(c.2, notnull, "NOT NULL of agents.{name}");
        assert_eq!(c.3.as_deref(), default, "default of agents.{name}");
    }
    // name is unique.
    insert_agent(&store, "pm").await;
    assert!(
        store
            .conn()
            .execute(
                "INSERT INTO agents (name, model, created_at, updated_at) VALUES ('pm', 'x', 'a', 'b')",
                (),
            )
            .await
            .is_err(),
        "agents.name must be UNIQUE"
    );

    let history = columns(&store, "agent_model_history").await;
    for c in ["agent_id", "from_model", "to_model", "reason", "changed_at"] {
        col(&history, c);
    }
    let settings = columns(&store, "settings").await;
    for c in ["key", "value"] {
        col(&settings, c);
    }
    col(&columns(&store, "notifications").await, "read_at");
    col(&columns(&store, "usage_events").await, "occurred_at");

    // model_scores: every sub-score, UNIQUE(model_id, role, scored_at), indexes on role and is_free.
    let scores = columns(&store, "model_scores").await;
    for c in [
        "model_id",
        "role",
        "total_score",
        "context_score",
        "capability_score",
        "tools_score",
        "recency_score",
        "reliability_score",
        "price_score",
        "is_free",
        "reasons",
        "scored_at",
    ] {
        col(&scores, c);
    }
    assert_eq!(col(&scores, "total_score").1, "INTEGER");
    assert_eq!(col(&scores, "is_free").3.as_deref(), Some("0"));
    let unique = rows(
        &store,
        "SELECT ii.name FROM pragma_index_list('model_scores') il, pragma_index_info(il.name) ii
         WHERE il.\"unique\" = 1 AND il.origin = 'u' ORDER BY ii.seqno",
    )
    .await;
    let unique: Vec<_> = unique.iter().filter_map(|r| text(&r[0])).collect();
    assert_eq!(unique, ["model_id", "role", "scored_at"]);
    let index_cols = |name: &'static str| {
        let store = &store;
        async move {
            rows(
                store,
                &format!("SELECT name FROM pragma_index_info('{name}') ORDER BY seqno"),
            )
            .await
            .iter()
            .filter_map(|r| text(&r[0]))
            .collect::<Vec<_>>()
        }
    };
    let indexes = names(&store, "index").await;
    assert!(
        indexes.contains(&"idx_model_scores_role".into()),
        "{indexes:?}"
    );
    assert!(
        indexes.contains(&"idx_model_scores_is_free".into()),
        "{indexes:?}"
    );
    assert_eq!(index_cols("idx_model_scores_role").await, ["role"]);
    assert_eq!(index_cols("idx_model_scores_is_free").await, ["is_free"]);
    let score_row =
        "INSERT INTO model_scores (model_id, role, total_score, context_score, capability_score,
        tools_score, recency_score, reliability_score, price_score, is_free, reasons, scored_at)
        VALUES ('a/b:free', 'pm', 1, 1, 1, 1, 1, 1, 1, 1, '[]', '2026-05-01T00:00:00Z')";
    store
        .conn()
        .execute(score_row, ())
        .await
        .expect("first score");
    assert!(
        store.conn().execute(score_row, ()).await.is_err(),
        "UNIQUE(model_id, role, scored_at) must refuse a duplicate"
    );

    // onboarding: every column, mode restricted to free|key.
    let onboarding = columns(&store, "onboarding").await;
    for c in [
        "id",
        "mode",
        "started_at",
        "completed_at",
        "agents_created",
        "initial_free_models",
        "ollama_detected",
        "faster_whisper_detected",
        "steps_completed",
    ] {
        col(&onboarding, c);
    }
    assert!(
        !col(&onboarding, "completed_at").2,
        "completed_at is nullable"
    );
    assert_eq!(col(&onboarding, "ollama_detected").3.as_deref(), Some("0"));
    assert!(
        store
            .conn()
            .execute(
                "INSERT INTO onboarding (mode, started_at) VALUES ('bogus', '2026-05-01T00:00:00Z')",
                (),
            )
            .await
            .is_err(),
        "onboarding.mode must be free or key"
    );

    let status = store.status().await.expect("status");
    assert!(status.pending.is_empty(), "{:?}", status.pending);
    assert_eq!(status.applied.len(), MIGRATIONS.len());
}
on_both!(fresh_db_has_every_table_column_index_and_constraint);

async fn migrating_again_is_a_no_op(b: Backend) {
    let store = b.open().await;
    let before_schema = rows(
        &store,
        "SELECT type, name, sql FROM sqlite_master ORDER BY name",
    )
    .await;
    let before_applied = store.applied_migrations().await.expect("applied");
    assert_eq!(
        store.migrate().await.expect("migrate again"),
        Vec::<&str>::new()
    );
    drop(store);
    // A second process opening the same database applies nothing either.
    let again = b.open().await;
    assert_eq!(again.migrate().await.expect("migrate"), Vec::<&str>::new());
    assert_eq!(
        rows(
            &again,
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        )
        .await,
        before_schema
    );
    assert_eq!(
        again.applied_migrations().await.expect("applied"),
        before_applied
    );
}
on_both!(migrating_again_is_a_no_op);

async fn baseline_shape_from_an_older_nxr_upgrades_and_keeps_rows(b: Backend) {
    // An older nxr: only the baseline tables, recorded as version 1, with agents in it.
    let store = b.open_unmigrated().await;
    store
        .conn()
        .execute_batch(MIGRATIONS[0].sql)
        .await
        .expect("baseline by hand");
    store
        .conn()
        .execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
             INSERT INTO schema_migrations VALUES (1, '0001_baseline', '2025-05-01T00:00:00Z');",
        )
        .await
        .expect("record baseline");
    insert_agent(&store, "pm").await;
    insert_agent(&store, "engineer").await;
    store
        .conn()
        .execute(
            "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at)
             VALUES (1, NULL, 'qwen/qwen3-coder:free', 'created', '2025-05-01T00:00:00Z')",
            (),
        )
        .await
        .expect("history row");
    assert!(
        col(&columns(&store, "agents").await, "name").0 == "name"
            && !columns(&store, "agents")
                .await
                .iter()
                .any(|c| c.0 == "role"),
        "the old shape has no v1.4 columns"
    );
    drop(store);

    let store = b.open().await;
    let applied: Vec<i64> = store
        .applied_migrations()
        .await
        .expect("applied")
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        applied,
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    let agents = rows(
        &store,
        "SELECT name, model, role, skillset, model_score, model_auto_assigned, workspace_id, is_default
         FROM agents ORDER BY id",
    )
    .await;
    assert_eq!(agents.len(), 2, "rows kept");
    assert_eq!(text(&agents[0][0]).as_deref(), Some("pm"));
    assert_eq!(text(&agents[1][0]).as_deref(), Some("engineer"));
    for a in &agents {
        assert_eq!(text(&a[1]).as_deref(), Some("qwen/qwen3-coder:free"));
        assert_eq!(text(&a[2]).as_deref(), Some("custom"));
        assert_eq!(text(&a[3]).as_deref(), Some("[]"));
        assert_eq!(a[4], Value::Null);
        assert_eq!(a[5], Value::Integer(0));
        assert_eq!(text(&a[6]).as_deref(), Some("default"));
        assert_eq!(a[7], Value::Integer(0));
    }
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM agent_model_history").await,
        1
    );
}
on_both!(baseline_shape_from_an_older_nxr_upgrades_and_keeps_rows);

async fn unrecorded_baseline_tables_also_upgrade(b: Backend) {
    // An nxr that created the tables but never recorded a migration.
    let store = b.open_unmigrated().await;
    store
        .conn()
        .execute_batch(MIGRATIONS[0].sql)
        .await
        .expect("baseline by hand");
    insert_agent(&store, "hermes").await;
    drop(store);
    let store = b.open().await;
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM agents WHERE name = 'hermes' AND workspace_id = 'default'"
        )
        .await,
        1
    );
}
on_both!(unrecorded_baseline_tables_also_upgrade);

async fn new_tables_answer_queries(b: Backend) {
    let store = b.open().await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM model_scores").await, 0);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM model_scores WHERE role = 'pm' AND is_free = 1"
        )
        .await,
        0
    );
    store
        .conn()
        .execute_batch(
            "INSERT INTO onboarding (mode, started_at) VALUES ('free', '2026-05-01T00:00:00Z');
             INSERT INTO onboarding (mode, started_at, completed_at, agents_created)
                 VALUES ('key', '2026-05-02T00:00:00Z', '2026-05-02T00:00:09Z', '[\"pm\",\"engineer\",\"hermes\"]');",
        )
        .await
        .expect("onboarding rows");
    let done = rows(
        &store,
        "SELECT mode, agents_created, steps_completed FROM onboarding WHERE completed_at IS NOT NULL",
    )
    .await;
    assert_eq!(done.len(), 1);
    assert_eq!(text(&done[0][0]).as_deref(), Some("key"));
    assert_eq!(
        text(&done[0][1]).as_deref(),
        Some("[\"pm\",\"engineer\",\"hermes\"]")
    );
    assert_eq!(text(&done[0][2]).as_deref(), Some("[]"));
}
on_both!(new_tables_answer_queries);

async fn database_from_a_newer_nxr_is_refused(b: Backend) {
    let store = b.open().await;
    let newer = MIGRATIONS.last().expect("migrations").version + 1;
    store
        .conn()
        .execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, '9999_future', '2030-01-01T00:00:00Z')",
            libsql::params![newer],
        )
        .await
        .expect("future migration");
    drop(store);
    let err = Store::open(b.env())
        .await
        .expect_err("a newer database must be refused");
    match &err {
        StoreError::TooNew { found, known, .. } => {
            assert_eq!(*found, newer);
            assert_eq!(*known, newer - 1);
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("newer nxr") && msg.contains("upgrade nxr"),
        "{msg}"
    );
    // The status view still works and says so.
    let status = b.open_unmigrated().await.status().await.expect("status");
    assert!(status.newer_than_known);
}
on_both!(database_from_a_newer_nxr_is_refused);

async fn catalog_is_stored_and_replaced_whole(b: Backend) {
    let store = b.open().await;
    // Nothing stored yet: the embedded snapshot.
    let first = catalog::load(&store).await.expect("load");
    assert_eq!(
        first.source.describe(),
        "catalog: embedded snapshot of 2026-05-01"
    );
    assert_eq!(first.models.len(), 371);

    let full = catalog::parse_catalog(&common::fixture("openrouter/models.json")).expect("parse");
    catalog::save(
        &store,
        &full,
        "2026-05-01T01:49:44Z",
        "http://127.0.0.1:1/api/v1",
    )
    .await
    .expect("save");
    let loaded = catalog::load(&store).await.expect("load");
    assert_eq!(loaded.models, full.models);
    assert_eq!(
        loaded.source,
        catalog::CatalogSource::Stored {
            fetched_at: "2026-05-01T01:49:44Z".into(),
            origin: "http://127.0.0.1:1/api/v1".into(),
            unreadable: 0,
        }
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM catalog_models WHERE is_free = 1"
        )
        .await,
        full.models.iter().filter(|m| m.is_free()).count() as i64
    );

    // A later, smaller catalog replaces every row.
    let legacy = catalog::parse_catalog(&common::fixture("openrouter/models_legacy_2025-05.json"))
        .expect("parse legacy");
    catalog::save(
        &store,
        &legacy,
        "2026-05-02T00:00:00Z",
        "http://127.0.0.1:1/api/v1",
    )
    .await
    .expect("save again");
    let loaded = catalog::load(&store).await.expect("load");
    assert_eq!(loaded.models.len(), 16);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM catalog_models").await,
        16
    );
    assert_eq!(
        count(&store, "SELECT model_count FROM catalog_meta WHERE id = 1").await,
        16
    );
}
on_both!(catalog_is_stored_and_replaced_whole);

async fn settings_round_trip(b: Backend) {
    let store = b.open().await;
    assert_eq!(store.setting("theme").await.expect("get"), None);
    store.set_setting("theme", "dark").await.expect("set");
    store
        .set_setting("theme", "light")
        .await
        .expect("set again");
    assert_eq!(
        store.setting("theme").await.expect("get").as_deref(),
        Some("light")
    );
}
on_both!(settings_round_trip);

/// Rows the domain stamps take their time from the clock injected into the store.
async fn timestamps_come_from_the_injected_clock(b: Backend) {
    let at = nxr::domain::base::clock::from_db("2026-05-01T00:00:00Z").expect("timestamp");
    let store =
        b.open()
            .await
            .with_clock(std::sync::Arc::new(nxr::domain::base::clock::FixedClock(
                at,
            )));
    assert_eq!(store.now(), at);
    store.set_setting("theme", "dark").await.expect("set");
    let mut rs = store
        .conn()
        .query("SELECT updated_at FROM settings WHERE key = 'theme'", ())
        .await
        .expect("select");
    let row = rs.next().await.expect("row").expect("one row");
    assert_eq!(row.get::<String>(0).expect("text"), "2026-05-01T00:00:00Z");
}
on_both!(timestamps_come_from_the_injected_clock);

/// Several processes opening a fresh local database at once all migrate it without error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_of_a_local_file_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path: PathBuf = dir.path().join("hermes_tracking.db");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let p = path.clone();
        tasks.push(tokio::spawn(async move {
            let s = Store::open_local(&p).await?;
            s.migrate().await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("open + migrate");
    }
    let store = Store::open_local(&path).await.expect("open");
    assert_eq!(
        store.applied_migrations().await.expect("applied").len(),
        MIGRATIONS.len()
    );
}

#[tokio::test]
async fn remote_location_never_shows_a_token() {
    let server = common::Sqld::start();
    let mut env = Env::for_dirs(server.dir.path().join("n"), server.dir.path().join("h"));
    env.db_url = Some(server.url.clone());
    env.db_token = Some("secret-token-123".into());
    // sqld without auth ignores the token; the point is what nxr shows.
    let store = Store::open(&env).await.expect("open remote");
    let status = store.status().await.expect("status");
    assert_eq!(status.kind, "remote");
    assert_eq!(status.location, server.url);
    assert!(!format!("{store:?}").contains("secret-token-123"));
}

#[tokio::test]
async fn unreachable_database_server_says_what_to_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = Env::for_dirs(dir.path().join("n"), dir.path().join("h"));
    // Port 9 on loopback refuses at once.
    env.db_url = Some("http://127.0.0.1:9".into());
    let err = Store::open(&env).await.expect_err("no server there");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("http://127.0.0.1:9") && msg.contains("NXR_DB_URL"),
        "{msg}"
    );
    assert!(
        !dir.path().join("n/hermes_tracking.db").exists(),
        "no local file instead"
    );
}

#[tokio::test]
async fn unreadable_stored_catalog_rows_are_left_out_and_reported() {
    let backend = Backend::local();
    let store = Store::open(backend.env()).await.expect("open");
    let full = catalog::parse_catalog(&common::fixture("openrouter/models.json")).expect("parse");
    catalog::save(
        &store,
        &full,
        "2026-05-01T01:49:44Z",
        "http://127.0.0.1:1/api/v1",
    )
    .await
    .expect("save");
    store
        .conn()
        .execute(
            "UPDATE catalog_models SET raw = '{garbage' WHERE id IN ('openai/gpt-4o', 'openai/gpt-4o-mini')",
            (),
        )
        .await
        .expect("damage two rows");
    let loaded = catalog::load(&store).await.expect("load");
    assert_eq!(loaded.models.len(), full.models.len() - 2);
    assert!(loaded.get("openai/gpt-4o").is_none());
    let line = loaded.source.describe();
    assert!(
        line.contains("2 stored rows unreadable") && line.contains("nxr catalog refresh"),
        "{line}"
    );
}
