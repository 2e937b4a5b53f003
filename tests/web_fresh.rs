//! The roster and the budget are kept between requests (`domain::store::memo`): a write, from this process
//! or another one, shows in the very next answer, also within the same second.

mod common;

use common::{FakeServer, Homes, Reply, fixture};
use nxr::domain::base::clock::FixedClock;
use nxr::domain::base::roles::Role;
use nxr::domain::store::Store;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const NEW_MODEL: &str = "fresh/just-published:free";

/// The recorded catalog, and the same with its first free model replaced by [`NEW_MODEL`].
fn catalogs() -> (String, String, String) {
    let a = fixture("openrouter/models.json");
    let mut v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let data = v["data"].as_array_mut().unwrap();
    let i = data
        .iter()
        .position(|m| m["id"].as_str().unwrap().ends_with(":free"))
        .unwrap();
    let removed = data[i]["id"].as_str().unwrap().to_string();
    data[i]["id"] = NEW_MODEL.into();
    data[i]["canonical_slug"] = NEW_MODEL.into();
    data[i]["name"] = "Just published (free)".into();
    (a, v.to_string(), removed)
}

fn roster_ids(body: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_catalog_refresh_shows_in_the_next_roster_answer() {
    let homes = Homes::new();
    let (a, b, removed) = catalogs();
    let fake = FakeServer::start();
    fake.always("/api/v1/models", Reply::json(200, a.clone()));
    let url = format!("{}/api/v1", fake.base);
    let refresh = || {
        let out = homes
            .nxr()
            .args(["catalog", "refresh"])
            .env("NXR_OPENROUTER_URL", &url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    refresh();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let server = nxr::web::server::start(
        env,
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let roster = || {
        rt.block_on(async {
            let resp = client
                .get(format!("{}/api/models/roster", server.base_url()))
                .bearer_auth(&server.token)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            roster_ids(&resp.text().await.unwrap())
        })
    };
    let first = roster();
    assert!(first.contains(&removed), "{first:?}");
    assert!(!first.contains(NEW_MODEL));
    // Asked twice with no write between: the same answer.
    assert_eq!(roster(), first);

    // Another process refreshes the catalog: the next answer shows it.
    fake.always("/api/v1/models", Reply::json(200, b));
    refresh();
    let second = roster();
    assert!(second.contains(NEW_MODEL), "{second:?}");
    assert!(!second.contains(&removed), "{second:?}");

    // This process writes the old catalog back through the server's own store: shown at once.
    let parsed = nxr::domain::catalog::parse_catalog(&a).unwrap();
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-02T00:00:00Z",
        "test",
    ))
    .unwrap();
    assert_eq!(roster(), first);
}

#[test]
fn kept_results_follow_every_write_within_the_same_second() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = rt.block_on(Store::open(&env)).unwrap();
    let parsed = nxr::domain::catalog::parse_catalog(&fixture("openrouter/models.json")).unwrap();
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .unwrap();
    // One instant for every call: only the writes can make the answers differ.
    let now = chrono::Utc::now();
    let roster = || {
        rt.block_on(nxr::domain::scoring::rescore::roster(&store, None, now))
            .unwrap()
    };
    let before = roster();
    assert!(before.best.contains_key(&Role::Custom), "{:?}", before.best);

    // A setting written on the store's main connection.
    rt.block_on(store.set_setting(
        nxr::domain::scoring::rescore::SETTING_CUSTOM_MIN_CONTEXT,
        "900000000",
    ))
    .unwrap();
    let after = roster();
    assert!(
        !after.best.contains_key(&Role::Custom),
        "no model has a context of 900M tokens: {:?}",
        after.best
    );

    // Usage recorded by another connection (another nxr process) and by this one.
    let clock = FixedClock(now);
    let used = || {
        rt.block_on(nxr::domain::view::budget_view(&store, &clock))
            .unwrap()
            .budget
            .used_today
    };
    let at = nxr::domain::base::clock::to_db(now);
    let insert = "INSERT INTO usage_events (model, is_free, requests, occurred_at) VALUES ('m:free', 1, ?1, ?2)";
    let start = used();
    let other = rt.block_on(Store::open(&env)).unwrap();
    rt.block_on(other.conn().execute(insert, libsql::params![3, at.clone()]))
        .unwrap();
    assert_eq!(used(), start + 3);
    rt.block_on(store.conn().execute(insert, libsql::params![2, at]))
        .unwrap();
    assert_eq!(used(), start + 5);
}
