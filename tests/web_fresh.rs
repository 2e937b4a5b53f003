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

/// One GET with `Accept-Encoding: gzip`: (status, the body unpacked, whether it came compressed).
fn get_gzip(base: &str, token: &str, path: &str) -> (u16, String, bool) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..split]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let body = &all[split + 4..];
    let gz = head.contains("content-encoding: gzip");
    let text = if gz {
        let mut out = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut out)
            .unwrap();
        out
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    (status, text, gz)
}

#[test]
fn every_read_page_follows_a_change_made_by_another_process_in_the_next_answer() {
    let homes = Homes::new();
    let run = |args: &[&str]| {
        let out = homes.nxr().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init", "--free"]);

    // The server's clock stands still: every answer below is within one second of it, so only
    // the database and the files can tell a kept answer from a fresh one.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let clock: nxr::domain::base::clock::SharedClock = Arc::new(FixedClock(chrono::Utc::now()));
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap().with_clock(clock));
    let server =
        nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();
    let base = server.base_url();
    let get = |path: &str| {
        let (status, body, gz) = get_gzip(&base, &server.token, path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            gz,
            "{path} is sent compressed to a client that accepts gzip"
        );
        body
    };
    let pages = ["/", "/agents", "/agents/manage", "/api/agents"];
    for p in pages {
        let first = get(p);
        assert!(first.contains("Engineer"), "{p}");
        assert!(!first.contains("Scout"), "{p}");
        assert!(
            get(p) == first,
            "{p}: asked twice with nothing changed, answered differently"
        );
    }

    // Another process creates an agent: every page shows it in its next answer.
    run(&["agents", "create", "--role", "research", "--name", "Scout"]);
    for p in pages {
        assert!(get(p).contains("Scout"), "{p} does not show the new agent");
    }

    // The Engineer's fallback chain is edited by hand in its profile: the manage page reads the
    // profile, and its next answer shows the edit.
    let manage = get("/agents/manage");
    let mine = "meta-llama/llama-3.3-70b-instruct:free";
    let config = homes
        .hermes_home()
        .join("profiles")
        .join("engineer")
        .join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    let start = text.find("fallback_providers:").expect("a chain");
    let end = text[start..]
        .find("\nauxiliary:")
        .map_or(text.len(), |e| start + e + 1);
    std::fs::write(
        &config,
        format!(
            "{}fallback_providers:\n- provider: openrouter\n  model: {mine}\n{}",
            &text[..start],
            &text[end..]
        ),
    )
    .unwrap();
    let after = get("/agents/manage");
    assert!(
        after != manage && after.contains(&format!("then {mine}")),
        "the manage page does not show the chain edited in the profile"
    );

    // The skills are listed once for the page, not once per agent.
    assert_eq!(after.matches("<datalist").count(), 1);
    let skills = nxr::domain::agents::skills::all_names().len();
    assert_eq!(
        after.matches("<option").count(),
        skills
            + nxr::domain::base::roles::Role::ALL.len()
            + nxr::domain::agents::skills::CATEGORIES.len()
            + 1,
        "options beyond the one skill list, the roles and the categories"
    );

    // A client that does not ask for gzip gets the page as is.
    let (status, plain, gz) = {
        use std::io::{Read, Write};
        let addr = base.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /agents/manage HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            server.token
        )
        .unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let text = String::from_utf8_lossy(&all).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        (
            head[9..12].parse::<u16>().unwrap(),
            body.to_string(),
            head.to_ascii_lowercase().contains("content-encoding"),
        )
    };
    assert_eq!((status, gz), (200, false));
    assert!(
        plain == after,
        "the plain page differs from the compressed one"
    );
}

#[test]
fn with_100_agents_no_read_page_is_over_150_kb() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let parsed = nxr::domain::catalog::parse_catalog(&fixture("openrouter/models.json")).unwrap();
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .unwrap();
    for i in 0..100 {
        rt.block_on(nxr::domain::agents::create(
            &store,
            &env,
            nxr::domain::agents::NewAgent {
                name: format!("agent-{i:03}"),
                // One agent may hold the hermes role (it owns the root profile).
                role: match Role::ALL[i % Role::ALL.len()] {
                    Role::Hermes if i > 0 => Role::Custom,
                    r => r,
                },
                category: None,
                model: None,
                skills: None,
                is_default: false,
                host: None,
            },
        ))
        .unwrap();
    }
    let server =
        nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();
    let mut sizes = Vec::new();
    for path in nxr::web::cache::CACHED
        .iter()
        .chain(nxr::web::cache::API_READS.iter())
    {
        let resp = rt
            .block_on(
                reqwest::Client::new()
                    .get(format!("{}{path}", server.base_url()))
                    .bearer_auth(&server.token)
                    .send(),
            )
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let body = rt.block_on(resp.bytes()).unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("agent-099") || !path.contains("agents"),
            "{path} lists every agent"
        );
        sizes.push((path, body.len()));
    }
    let over: Vec<_> = sizes.iter().filter(|(_, n)| *n > 150 * 1024).collect();
    assert!(
        over.is_empty(),
        "pages over 150 KB: {over:?} (all: {sizes:?})"
    );
}
