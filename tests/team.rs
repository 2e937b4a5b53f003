//! Team mode that carries agents: a real libSQL server (sqld) and three "hosts" on this machine,
//! each with its own NXR_HOME, HERMES_HOME and host name, each running `nxr serve` against the
//! server. An agent created on one host for another becomes a Hermes profile there that the real
//! Hermes reads and answers through (a loopback OpenRouter); a model switch made on another host's
//! web page reaches it; moving it carries the profile across; deleting it anywhere removes
//! it everywhere (to the backup folder); a profile nxr did not make is never touched.

mod common;
#[path = "common/team_host.rs"]
mod team_host;

use common::{FakeServer, Homes, Reply, Sqld};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use team_host::{Host, Serve};

const KEY: &str = "sk-or-v1-team000000000000000000000000000000000000000000000000000cccc";
const CHAT: &str = "/api/v1/chat/completions";
const M1: &str = "openai/gpt-oss-120b:free";
const M2: &str = "meta-llama/llama-3.3-70b-instruct:free";

fn configured_model(profile_dir: &Path) -> Option<String> {
    nxr::domain::agents::hermes::get_config(&profile_dir.join("config.yaml"), "model.default")
        .ok()
        .flatten()
}

fn fake_openrouter() -> FakeServer {
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.always(CHAT, common::chat_sse("pong"));
    fake
}

/// The real Hermes on `host` answers through `profile` on `model`, with the stored key.
fn answers(host: &Host, fake: &FakeServer, profile: &str, model: &str) {
    let before = fake.seen().len();
    let (ok, out, err) = host.hermes(fake, profile, &["-z", "ping"]);
    assert!(
        ok && out.contains("pong"),
        "host {}: {profile} did not answer\nstdout: {out}\nstderr: {err}",
        host.name
    );
    let sent: Vec<common::Seen> = fake
        .seen()
        .into_iter()
        .skip(before)
        .filter(|s| s.method == "POST" && s.path == CHAT)
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body: Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["model"], model);
    assert!(
        sent[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {KEY}")),
        "the host's stored key"
    );
}

fn web_switch(host: &Host, serve: &Serve, agent: &str, model: &str) -> (u16, Value) {
    web_switch_slot(host, serve, agent, "main", model)
}

/// `POST /api/models/switch` on `host`'s server for `agent`'s `slot`.
fn web_switch_slot(
    host: &Host,
    serve: &Serve,
    agent: &str,
    slot: &str,
    model: &str,
) -> (u16, Value) {
    let token = std::fs::read_to_string(host.homes.nxr_home().join("web_token")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/models/switch", serve.base))
            .bearer_auth(token.trim())
            .json(&serde_json::json!({ "agent": agent, "slot": slot, "model": model }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    })
}

/// The session cookie a browser holds for `host`'s web server (its token, per port).
fn session_cookie(host: &Host, serve: &Serve) -> String {
    let token = std::fs::read_to_string(host.homes.nxr_home().join("web_token")).unwrap();
    let port = serve.base.rsplit(':').next().unwrap();
    format!("nxr_session_{port}={}", token.trim())
}

/// Switches `agent`'s main model through `host`'s HTML slot editor as a browser does: the page for
/// the agent with the candidate picked, then its confirm form (with the page's CSRF field) posted
/// with the session cookie. The page after the post.
fn web_page_switch(host: &Host, serve: &Serve, agent: &str, model: &str) -> (u16, String) {
    let cookie = session_cookie(host, serve);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let page = client
            .get(format!("{}/models/switch", serve.base))
            .query(&[("agent", agent), ("slot", "main"), ("candidate", model)])
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("runs on host b"),
            "the page says where the agent runs: {page}"
        );
        let form = page
            .split("<form method=\"post\"")
            .nth(1)
            .unwrap_or_else(|| panic!("a confirm form: {page}"));
        let attr = |name: &str| -> String {
            let at = form
                .find(&format!("name=\"{name}\" value=\""))
                .unwrap_or_else(|| panic!("{name} in {form}"));
            let rest = &form[at + name.len() + 15..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        };
        let action = {
            let rest = &form[form.find("action=\"").unwrap() + 8..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        };
        let fields = [
            ("csrf", attr("csrf")),
            ("agent", attr("agent")),
            ("slot", attr("slot")),
            ("model", attr("model")),
        ];
        assert_eq!(fields[1].1, agent);
        assert_eq!(fields[3].1, model);
        let resp = client
            .post(format!("{}{action}", serve.base))
            .header("Cookie", &cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    })
}

#[test]
fn an_agent_lives_on_its_host_and_follows_the_database() {
    let sqld = Sqld::start();
    let fake = fake_openrouter();
    let (a, b, c) = (Host::new("a"), Host::new("b"), Host::new("c"));
    for h in [&a, &b, &c] {
        h.ok(&sqld, &fake, &["config", "set", "openrouter-key", KEY]);
    }
    // A profile of the user's own on B, which nxr must never touch.
    let mine = b.profile("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("config.yaml"), "model:\n  default: my/own\n").unwrap();

    let serves: Vec<Serve> = [&a, &b, &c].iter().map(|h| h.serve(&sqld, &fake)).collect();
    common::wait_until(
        "the three hosts to register",
        Duration::from_secs(60),
        || {
            let hosts: Value = serde_json::from_str(&a.ok(&sqld, &fake, &["hosts", "--json"]))
                .unwrap_or(Value::Null);
            hosts.as_array().is_some_and(|l| {
                ["a", "b", "c"].iter().all(|n| {
                    l.iter()
                        .any(|h| h["name"] == *n && h["up"] == true && h["serving"] == true)
                })
            })
        },
    );

    // Created on A for B: the row says B, and only B gets the profile, within 10 s.
    let created: Value = serde_json::from_str(&a.ok(
        &sqld,
        &fake,
        &[
            "agents", "create", "--role", "engineer", "--name", "Builder", "--model", M1, "--host",
            "b", "--json",
        ],
    ))
    .unwrap();
    let start = Instant::now();
    assert_eq!(created["host"], "b");
    let profile = created["hermes_profile"].as_str().unwrap().to_string();
    let skills: Vec<String> = serde_json::from_value(created["skillset"].clone()).unwrap();
    common::wait_until("B to make the profile", Duration::from_secs(10), || {
        configured_model(&b.profile(&profile)).as_deref() == Some(M1)
    });
    let took = start.elapsed();
    assert!(!a.profile(&profile).exists() && !c.profile(&profile).exists());
    let (ok, out, err) = b.hermes(&fake, &profile, &["config", "get", "model.default"]);
    assert!(ok && out.contains(M1), "{out}{err}");
    let (_, out, _) = b.hermes(&fake, &profile, &["skills", "list"]);
    let mut want = skills.clone();
    want.sort();
    assert_eq!(common::listed_skills(&out), want, "{out}");
    let chain =
        nxr::domain::agents::hermes::fallback_models(&b.profile(&profile).join("config.yaml"))
            .unwrap();
    assert!(
        !chain.is_empty(),
        "the engineer's fallback chain is written"
    );
    let (_, listed, _) = b.hermes(&fake, &profile, &["fallback", "list"]);
    for m in &chain {
        assert!(listed.contains(m.as_str()), "{m} in {listed}");
    }
    answers(&b, &fake, &profile, M1);

    // A scan on A with a catalog where the chain's first model is gone: B rewrites the chain.
    let gone = chain[0].clone();
    assert!(gone != M1 && gone != M2, "{chain:?}");
    let mut catalog: Value =
        serde_json::from_str(nxr::domain::catalog::EMBEDDED_CATALOG_JSON).unwrap();
    catalog["data"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["id"] != gone.as_str());
    fake.always("/api/v1/models", Reply::json(200, catalog.to_string()));
    a.ok(&sqld, &fake, &["scan"]);
    let config = b.profile(&profile).join("config.yaml");
    common::wait_until(
        "B to rewrite the chain after A's scan",
        Duration::from_secs(10),
        || {
            nxr::domain::agents::hermes::fallback_models(&config)
                .is_ok_and(|c| !c.is_empty() && !c.contains(&gone))
        },
    );
    let (_, listed, _) = b.hermes(&fake, &profile, &["fallback", "list"]);
    assert!(!listed.contains(gone.as_str()), "{listed}");
    common::figures(
        "team",
        &format!(
            "team: agent created on host a for host b became b's Hermes profile in {} ms",
            took.as_millis()
        ),
    );

    // A dry run on A for B's agent: the database changes, and no diff of a file A does not have.
    let dry: Value = serde_json::from_str(&a.ok(
        &sqld,
        &fake,
        &["upgrade", "--agent", "Builder", "--dry-run", "--json"],
    ))
    .unwrap();
    let diff = &dry["diff"][0];
    assert!(
        diff["db"][0]
            .as_str()
            .unwrap()
            .starts_with("agents.model: "),
        "{dry}"
    );
    assert_eq!(diff["config"], serde_json::json!([]), "{dry}");
    assert!(
        diff["config_path"]
            .as_str()
            .unwrap()
            .contains("on the agent's host"),
        "{dry}"
    );

    // A switch made on C's web page reaches B's config.yaml.
    let (status, page) = web_page_switch(&c, &serves[2], "Builder", M2);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("now uses {M2}")), "{page}");
    assert!(
        !c.profile(&profile).exists(),
        "C wrote no file for B's agent"
    );
    common::wait_until("B to apply the switch", Duration::from_secs(10), || {
        configured_model(&b.profile(&profile)).as_deref() == Some(M2)
    });
    answers(&b, &fake, &profile, M2);

    // An auxiliary slot changed from C: B writes it, publishes it, and C shows it.
    let vision = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["architecture"]["input_modalities"]
                .as_array()
                .is_some_and(|i| i.iter().any(|x| x == "image"))
        })
        .map(|m| m["id"].as_str().unwrap().to_string())
        .find(|id| id.ends_with(":free"))
        .expect("a free vision model in the catalog");
    let (status, body) = web_switch_slot(&c, &serves[2], "Builder", "vision", &vision);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["applied"]["host"], "b", "{body}");
    let vision_of = |dir: &Path| {
        nxr::domain::agents::hermes::get_config(&dir.join("config.yaml"), "auxiliary.vision.model")
            .ok()
            .flatten()
    };
    common::wait_until(
        "B to write the vision slot",
        Duration::from_secs(10),
        || vision_of(&b.profile(&profile)).as_deref() == Some(vision.as_str()),
    );
    let (_, out, _) = b.hermes(
        &fake,
        &profile,
        &["config", "get", "auxiliary.vision.model"],
    );
    assert!(out.contains(&vision), "{out}");
    common::wait_until("C to show what B wrote", Duration::from_secs(10), || {
        let (_, page, _) = web_get(&c, &serves[2], "/api/models/switch?agent=Builder");
        let v: Value = serde_json::from_str(&page).unwrap_or(Value::Null);
        v["slots"].as_array().is_some_and(|l| {
            l.iter()
                .any(|s| s["name"] == "vision" && s["model"] == vision.as_str())
        }) && v["requests"][0]["done_at"].is_string()
            && v["requests"][0]["error"].is_null()
    });
    let (status, body) = web_switch_slot(&c, &serves[2], "Builder", "nosuch", &vision);
    assert_eq!(status, 400, "a slot B's file does not have: {body}");

    // Moved to A (from C): B's profile goes to its backup folder, A makes it.
    c.ok(&sqld, &fake, &["agents", "move", "Builder", "--host", "a"]);
    common::wait_until("the move", Duration::from_secs(10), || {
        !b.profile(&profile).exists()
            && configured_model(&a.profile(&profile)).as_deref() == Some(M2)
    });
    assert_eq!(
        b.backups(&profile).len(),
        1,
        "B kept the profile it removed"
    );
    common::wait_until(
        "the vision slot to move with the agent",
        Duration::from_secs(10),
        || vision_of(&a.profile(&profile)).as_deref() == Some(vision.as_str()),
    );
    // The usage B's Hermes recorded went into the database before the profile left B.
    let today = |h: &Host| -> Vec<(String, u64)> { counted_today(h, &sqld, &fake) };
    assert_eq!(today(&a), vec![("Builder".to_string(), 2)]);
    answers(&a, &fake, &profile, M2);
    assert_eq!(today(&a), vec![("Builder".to_string(), 3)]);

    // Deleted on B: A's profile goes to its backup folder; no host lists the agent.
    b.ok(&sqld, &fake, &["agents", "delete", "Builder", "--yes"]);
    common::wait_until("the delete", Duration::from_secs(10), || {
        !a.profile(&profile).exists()
    });
    assert_eq!(a.backups(&profile).len(), 1);
    common::wait_until(
        "the deleted agent's published slots to go",
        Duration::from_secs(10),
        || published_slot_rows(&sqld) == 0,
    );
    for h in [&a, &b, &c] {
        let list: Value =
            serde_json::from_str(&h.ok(&sqld, &fake, &["agents", "list", "--json"])).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 0, "host {}: {list}", h.name);
        assert!(!h.profile(&profile).exists());
    }
    assert_eq!(
        std::fs::read_to_string(mine.join("config.yaml")).unwrap(),
        "model:\n  default: my/own\n",
        "the user's own profile is untouched"
    );
    for s in &serves {
        let said = s.lines.lock().unwrap().join("\n");
        assert!(!said.contains("panicked"), "{said}");
    }
}

#[test]
fn another_host_needs_a_shared_database() {
    let homes = Homes::new();
    let out = homes
        .nxr()
        .args([
            "agents", "create", "--role", "pm", "--name", "P", "--host", "other",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("NXR_DB_URL"), "{err}");
    let list = homes.json(&["agents", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was created");
    assert!(!homes.hermes_home().join("profiles/p").exists());
}

#[test]
fn the_ninety_percent_threshold_fires_once_for_the_account_with_three_hosts() {
    let sqld = Sqld::start();
    let fake = fake_openrouter();
    // 46 of the 50 free requests a day used (92 %), by agents of every host.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open(&sqld.env()).await.unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO usage_events (agent_id, model, is_free, requests, occurred_at) VALUES (NULL, 'm:free', 1, 46, ?1)",
                libsql::params![nxr::domain::base::clock::to_db(chrono::Utc::now())],
            )
            .await
            .unwrap();
    });
    let hosts = [Host::new("a"), Host::new("b"), Host::new("c")];
    // All three start at once and each runs its first round of background work at once.
    let serves: Vec<Serve> = hosts.iter().map(|h| h.serve(&sqld, &fake)).collect();
    let scanned = |s: &Serve| {
        s.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("nxr serve: scan"))
    };
    common::wait_until(
        "every host's first background round",
        Duration::from_secs(120),
        || serves.iter().all(scanned),
    );
    let told: usize = serves
        .iter()
        .map(|s| {
            s.lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains("free budget at 90 %"))
                .count()
        })
        .sum();
    assert_eq!(told, 1, "one host tells the 90 % threshold");
    let notes: Value =
        serde_json::from_str(&hosts[2].ok(&sqld, &fake, &["notifications", "--json"])).unwrap();
    let ninety = notes
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["payload"]
                .as_str()
                .is_some_and(|p| p.contains("\"threshold\":90"))
        })
        .count();
    assert_eq!(ninety, 1, "{notes}");
}

/// How many slot rows the hosts have published (`agent_slots`).
fn published_slot_rows(sqld: &Sqld) -> i64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open_remote(&sqld.url, "")
            .await
            .unwrap();
        let mut rows = store
            .conn()
            .query("SELECT COUNT(*) FROM agent_slots", ())
            .await
            .unwrap();
        rows.next().await.unwrap().unwrap().get::<i64>(0).unwrap()
    })
}

/// Every agent as the database has it: (name, host, profile, model), by name.
fn rows(sqld: &Sqld) -> Vec<(String, String, String, String)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open_remote(&sqld.url, "")
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let env = nxr::domain::base::env::Env::for_dirs(dir.path(), dir.path());
        let mut out: Vec<_> = nxr::domain::agents::list(&store, &env)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.host, a.hermes_profile, a.model))
            .collect();
        out.sort();
        out
    })
}

/// True when every profile on every host is exactly the agents the database assigns there, each on
/// its model.
fn converged(hosts: &[&Host], sqld: &Sqld) -> bool {
    let rows = rows(sqld);
    hosts.iter().all(|h| {
        let mine: Vec<&(String, String, String, String)> =
            rows.iter().filter(|r| r.1 == h.name).collect();
        let mut on_disk: Vec<String> = std::fs::read_dir(h.homes.hermes_home().join("profiles"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        on_disk.sort();
        let mut want: Vec<String> = mine.iter().map(|r| r.2.clone()).collect();
        want.sort();
        on_disk == want
            && mine
                .iter()
                .all(|r| configured_model(&h.profile(&r.2)).as_deref() == Some(r.3.as_str()))
    })
}

fn alive(s: &mut Serve) -> bool {
    s.child.try_wait().map(|st| st.is_none()).unwrap_or(false)
}

/// A GET of `path` on `serve` with `host`'s session cookie: status, body and the
/// `X-Nxr-Database-Down` header.
fn web_get(host: &Host, serve: &Serve, path: &str) -> (u16, String, Option<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{}{path}", serve.base))
            .header("Cookie", session_cookie(host, serve))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let down = resp
            .headers()
            .get("x-nxr-database-down")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, resp.text().await.unwrap(), down)
    })
}

/// Requests counted today per agent name, as `nxr budget --json` on `host` shows them (it first
/// adds the usage of that host's agents).
fn counted_today(host: &Host, sqld: &Sqld, fake: &FakeServer) -> Vec<(String, u64)> {
    let v: Value = serde_json::from_str(&host.ok(sqld, fake, &["budget", "--json"])).unwrap();
    let mut out: Vec<(String, u64)> = v["per_agent"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["today"].as_u64().unwrap_or(0) > 0)
        .map(|u| {
            (
                u["agent"].as_str().unwrap().to_string(),
                u["today"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

const TEAM: usize = 60;

#[test]
fn the_server_going_away_during_a_bulk_upgrade_and_a_host_killed_mid_reconcile_lose_nothing() {
    let mut sqld = Sqld::start();
    let fake = fake_openrouter();
    let (a, b, c) = (Host::new("a"), Host::new("b"), Host::new("c"));
    let hosts = [&a, &b, &c];
    for h in hosts {
        h.ok(&sqld, &fake, &["config", "set", "openrouter-key", KEY]);
    }
    let roles = ["engineer", "pm", "research"];
    for i in 0..TEAM {
        a.ok(
            &sqld,
            &fake,
            &[
                "agents",
                "create",
                "--role",
                roles[i % roles.len()],
                "--name",
                &format!("agent-{i:02}"),
                "--host",
                hosts[i % 3].name,
            ],
        );
    }
    let every = ["--reconcile-every", "1"];
    let mut serves: Vec<Serve> = hosts
        .iter()
        .map(|h| h.serve_with(&sqld, &fake, &every))
        .collect();
    common::wait_until("the hosts to converge", Duration::from_secs(60), || {
        converged(&hosts, &sqld)
    });

    // Usage before the outage: one prompt through an agent of b and one of c.
    let first_of = |host: &str| {
        rows(&sqld)
            .into_iter()
            .find(|r| r.1 == host)
            .expect("an agent on the host")
    };
    let (on_b, on_c) = (first_of("b"), first_of("c"));
    answers(&b, &fake, &on_b.2, &on_b.3);
    answers(&c, &fake, &on_c.2, &on_c.3);
    // What the web shows on a, read while the server answers.
    let (status, page, _) = web_get(&a, &serves[0], "/agents");
    assert!(
        status == 200 && page.contains("agent-59"),
        "{status} {page}"
    );
    assert_eq!(web_get(&a, &serves[0], "/api/agents").0, 200);

    // A bulk upgrade on a, then the server dies for 20 s while the hosts apply it.
    let before = rows(&sqld);
    a.ok(&sqld, &fake, &["upgrade", "--all", "--yes"]);
    let upgraded = rows(&sqld);
    sqld.stop();
    let down_at = Instant::now();
    let moved = before
        .iter()
        .zip(&upgraded)
        .filter(|(x, y)| x.3 != y.3)
        .count();
    assert!(moved > TEAM / 2, "the upgrade moved {moved} agents");
    let in_step = hosts
        .iter()
        .map(|h| {
            upgraded
                .iter()
                .filter(|r| r.1 == h.name)
                .filter(|r| configured_model(&h.profile(&r.2)).as_deref() == Some(r.3.as_str()))
                .count()
        })
        .sum::<usize>();
    common::figures(
        "team",
        &format!(
            "team: the server stopped with {in_step} of {TEAM} profiles on their upgraded model ({moved} moved)"
        ),
    );
    // Commands fail within their timeout, naming the server; nothing hangs.
    for h in hosts {
        let t = Instant::now();
        let out = h.run(&sqld, &fake, &["agents", "list"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(&sqld.url), "{err}");
        assert!(
            t.elapsed() < nxr::domain::store::REMOTE_CALL_TIMEOUT + Duration::from_secs(5),
            "host {} waited {:?}",
            h.name,
            t.elapsed()
        );
    }
    // The web keeps showing the last state read, saying since when the server is away.
    let (status, page, _) = web_get(&a, &serves[0], "/agents");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("database unreachable since") && page.contains("this page was read at"),
        "{page}"
    );
    assert!(page.contains("agent-59"), "the last state: {page}");
    let (status, body, down) = web_get(&a, &serves[0], "/api/agents");
    assert_eq!(status, 200, "{body}");
    assert!(down.is_some_and(|d| d.contains("database unreachable since")));
    assert!(body.contains("agent-59"), "{body}");
    // The agents keep answering on their files.
    let model_now = configured_model(&b.profile(&on_b.2)).unwrap();
    answers(&b, &fake, &on_b.2, &model_now);
    while down_at.elapsed() < Duration::from_secs(20) {
        for s in serves.iter_mut() {
            assert!(alive(s), "an nxr serve ended while the server was down");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    sqld.restart();
    let back = Instant::now();
    let deadline = back + Duration::from_secs(60);
    while !converged(&hosts, &sqld) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if !converged(&hosts, &sqld) {
        for s in &serves {
            let l = s.lines.lock().unwrap();
            eprintln!("--- serve:\n{}", l[l.len().saturating_sub(8)..].join("\n"));
        }
    }
    common::wait_until(
        "the hosts to converge after the server came back",
        Duration::from_secs(60),
        || converged(&hosts, &sqld),
    );
    common::figures(
        "team",
        &format!(
            "team: {TEAM} profiles on 3 hosts agreed {:.1} s after the server came back",
            back.elapsed().as_secs_f64()
        ),
    );
    let after = rows(&sqld);
    assert_eq!(after, upgraded, "no agent lost, duplicated or changed");
    let mut profiles: Vec<&String> = after.iter().map(|r| &r.2).collect();
    profiles.sort();
    profiles.dedup();
    assert_eq!(profiles.len(), TEAM, "one profile per agent");
    // Usage: the prompts before and during the outage are each counted once, however often the
    // hosts add their agents' usage.
    for _ in 0..2 {
        for h in [&b, &c] {
            counted_today(h, &sqld, &fake);
        }
    }
    let mut want = vec![(on_b.0.clone(), 2), (on_c.0.clone(), 1)];
    want.sort();
    assert_eq!(counted_today(&a, &sqld, &fake), want);

    // kill -9 of host b in the middle of its reconciles: its profiles are before or after each
    // change, never torn, and the next run finishes the rest.
    let mut rng = common::Rng(27);
    for round in 0..12 {
        let model = if round % 2 == 0 { M1 } else { M2 };
        let on_b: Vec<_> = rows(&sqld).into_iter().filter(|r| r.1 == "b").collect();
        for r in &on_b {
            let (status, body) = web_switch(&a, &serves[0], &r.0, model);
            assert_eq!(status, 200, "{body}");
        }
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        let _ = serves[1].child.kill();
        let _ = serves[1].child.wait();
        for r in &on_b {
            let m = configured_model(&b.profile(&r.2));
            assert!(
                m.as_deref() == Some(r.3.as_str()) || m.as_deref() == Some(model),
                "round {round}: {} holds {m:?}",
                r.0
            );
        }
        serves[1] = b.serve_with(&sqld, &fake, &every);
        common::wait_until("b to converge again", Duration::from_secs(30), || {
            converged(&hosts, &sqld)
        });
    }
    for s in &serves {
        let said = s.lines.lock().unwrap().join("\n");
        assert!(!said.contains("panicked"), "{said}");
    }
}
