//! The web control plane's details over real HTTP on 127.0.0.1:0 (and one real headless Chromium
//! run): every URL it renders encodes agent names and every per-agent form names the agent by id
//! (agents "R&D" and "R", "Q#1" and "Q", "a+b", "Zoë x"); JSON bodies with unknown or contradictory
//! fields are refused with 400 and change nothing; the switch page prices a paid candidate at the
//! stated usage assumption; /agents/manage, /budget and `nxr budget` show cost per agent for today,
//! 7 and 30 days; /hermes counts tmux viewers and shows a running Ollama.

mod common;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::{self, NewAgent};
use nxr::domain::base::clock::SystemClock;
use nxr::domain::base::roles::Role;
use nxr::domain::notifications::{self, NewNotification};
use nxr::domain::store::Store;
use nxr::web::server::{self, ServerHandle};
use reqwest::StatusCode;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const FREE: &str = "meta-llama/llama-3.3-70b-instruct:free";
const PAID: &str = "anthropic/claude-sonnet-4";
const CONFIG: &str = "model:\n  default: meta-llama/llama-3.3-70b-instruct:free\n  provider: openrouter\nauxiliary:\n  vision:\n    provider: openrouter\n    model: google/gemma-3-27b-it:free\n";
/// Names that a URL or a form would mangle if put in unencoded, each next to the name it would
/// turn into.
const NAMES: [&str; 6] = ["R", "R&D", "Q", "Q#1", "a+b", "Zoë x"];

struct Running {
    rt: tokio::runtime::Runtime,
    store: Arc<Store>,
    env: nxr::domain::base::env::Env,
    server: ServerHandle,
    client: reqwest::Client,
    homes: Homes,
}

fn start_with(ollama_url: &str, names: &[&str]) -> Running {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(homes.hermes_home().join("config.yaml"), CONFIG).unwrap();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = ollama_url.into();
    env.tmux_socket = Some(format!("nxr-details-{}-{}", std::process::id(), rand_tag()));
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let parsed =
        nxr::domain::catalog::parse_catalog(&common::fixture("openrouter/models.json")).unwrap();
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .unwrap();
    for name in names {
        rt.block_on(agents::create(
            &store,
            &env,
            NewAgent {
                name: name.to_string(),
                role: Role::Engineer,
                category: None,
                model: Some(FREE.into()),
                skills: None,
                is_default: false,
                host: None,
            },
        ))
        .unwrap();
    }
    let server = server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Running {
        rt,
        store,
        env,
        server,
        client,
        homes,
    }
}

fn start() -> Running {
    start_with("http://127.0.0.1:9", &NAMES)
}

/// A per-test tag so tmux sockets of parallel tests never meet.
fn rand_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }
    fn cookie(&self) -> String {
        format!("{}={}", self.server.cookie_name(), self.server.token)
    }
    fn send(&self, rb: reqwest::RequestBuilder) -> (StatusCode, String) {
        self.rt.block_on(async {
            let resp = rb.send().await.unwrap();
            let status = resp.status();
            (status, resp.text().await.unwrap())
        })
    }
    fn get(&self, path: &str) -> (StatusCode, String) {
        self.send(
            self.client
                .get(self.url(path))
                .header("Cookie", self.cookie()),
        )
    }
    fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
        let csrf = self.server.csrf_token();
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("csrf", &csrf));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(all)
            .finish();
        self.send(
            self.client
                .post(self.url(path))
                .header("Cookie", self.cookie())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body),
        )
    }
    fn post_json(&self, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
        let (status, text) = self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(&self.server.token)
                .header("Content-Type", "application/json")
                .body(body.to_string()),
        );
        let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, v)
    }
    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .rt
            .block_on(agents::list(&self.store, &self.env))
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        v.sort();
        v
    }
    fn agent(&self, name: &str) -> agents::Agent {
        self.rt
            .block_on(agents::get_by_name(&self.store, &self.env, name))
            .unwrap()
    }
    fn usage(&self, agent: &str, days_ago: i64, cost: f64, status: &str) {
        let id = self.agent(agent).id;
        let at =
            nxr::domain::base::clock::to_db(chrono::Utc::now() - chrono::Duration::days(days_ago));
        self.rt
            .block_on(self.store.conn().execute(
                "INSERT INTO usage_events (agent_id, model, is_free, requests, prompt_tokens, completion_tokens, cost_usd, status, occurred_at)
                 VALUES (?1, ?2, 0, 1, 1000, 100, ?3, ?4, ?5)",
                libsql::params![id, PAID, cost, status, at],
            ))
            .unwrap();
    }
}

/// `attr="…"` values in `html` (HTML-unescaped), in order.
fn attrs(html: &str, attr: &str) -> Vec<String> {
    let key = format!("{attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            let end = rest.find('"').unwrap();
            rest[..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The query pairs of a rendered URL, decoded as a browser's form parser would.
fn query_of(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let q = q.split_once('#').map(|(q, _)| q).unwrap_or(q);
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// The `<h1>` of a page, HTML-unescaped.
fn h1(html: &str) -> String {
    let start = html.find("<h1").unwrap();
    let open_end = start + html[start..].find('>').unwrap() + 1;
    let end = open_end + html[open_end..].find("</h1>").unwrap();
    html[open_end..end]
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
}

#[test]
fn every_delete_link_opens_the_confirm_page_of_its_own_agent() {
    let r = start();
    let (status, page) = r.get("/agents/manage");
    assert_eq!(status, StatusCode::OK);
    let links: Vec<String> = attrs(&page, "href")
        .into_iter()
        .filter(|h| h.starts_with("/agents/manage/delete"))
        .collect();
    assert_eq!(links.len(), NAMES.len(), "{links:?}");
    let mut confirmed = Vec::new();
    for link in &links {
        // The link's query survives a URL parser: no `&`, `#` or `+` of a name leaks into it.
        let q = query_of(link);
        assert_eq!(q.len(), 1, "{link}: {q:?}");
        let (status, confirm) = r.get(link);
        assert_eq!(status, StatusCode::OK, "{link}");
        let title = h1(&confirm);
        let name = title
            .strip_prefix("Delete ")
            .and_then(|t| t.strip_suffix('?'))
            .unwrap_or_else(|| panic!("{link}: {title}"))
            .to_string();
        // The form carries the id of the agent the page names.
        let ids: Vec<String> = attrs(&confirm, "value")
            .into_iter()
            .filter(|v| v.parse::<i64>().is_ok())
            .collect();
        assert_eq!(ids, vec![r.agent(&name).id.to_string()], "{link}");
        confirmed.push(name);
    }
    confirmed.sort();
    let mut want: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(confirmed, want, "each agent's link confirms that agent");
}

#[test]
fn deleting_r_and_d_through_its_link_deletes_r_and_d_only() {
    let r = start();
    let rd = r.agent("R&D");
    let (_, page) = r.get("/agents/manage");
    let link = attrs(&page, "href")
        .into_iter()
        .find(|h| h.starts_with("/agents/manage/delete") && query_of(h)[0].1 == rd.id.to_string())
        .unwrap_or_else(|| panic!("no delete link carries R&D's id {}: {page}", rd.id));
    let (_, confirm) = r.get(&link);
    assert_eq!(h1(&confirm), "Delete R&D?");
    // Typing the name of another agent (the old page asked "Delete R?") deletes nothing.
    let id = rd.id.to_string();
    let (status, body) = r.post_form("/agents/manage/delete", &[("id", &id), ("confirm", "R")]);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(r.names().len(), NAMES.len());
    let (status, body) = r.post_form("/agents/manage/delete", &[("id", &id), ("confirm", "R&D")]);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("deleted R&amp;D"), "{body}");
    let names = r.names();
    assert!(!names.contains(&"R&D".to_string()), "{names:?}");
    for other in NAMES.iter().filter(|n| **n != "R&D") {
        assert!(
            names.contains(&other.to_string()),
            "{other} is gone: {names:?}"
        );
    }
    // A name typed into the URL by hand is read whole, encoded or not found.
    let (status, confirm) = r.get("/agents/manage/delete?agent=Q%231");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h1(&confirm), "Delete Q#1?");
    let (status, confirm) = r.get("/agents/manage/delete?agent=R%26D");
    assert_eq!(status, StatusCode::NOT_FOUND, "{confirm}");
}

#[test]
fn skill_and_upgrade_forms_name_their_agent_by_id() {
    let r = start();
    // Remove a skill from "a+b" through its own form: only a+b changes.
    let ab = r.agent("a+b");
    let before: Vec<(String, Vec<String>)> = NAMES
        .iter()
        .map(|n| (n.to_string(), r.agent(n).skillset))
        .collect();
    let before_all = before.clone();
    let skill = ab.skillset[0].clone();
    let (_, page) = r.get("/agents/manage");
    assert!(
        !page.contains("name=\"agent\""),
        "no per-agent form carries a name"
    );
    let id = ab.id.to_string();
    let (status, body) = r.post_form("/agents/manage/skills", &[("id", &id), ("remove", &skill)]);
    assert_eq!(status, StatusCode::OK, "{body}");
    for (name, skills) in before {
        let now = r.agent(&name).skillset;
        if name == "a+b" {
            assert!(!now.contains(&skill), "{now:?}");
            assert_eq!(now.len(), skills.len() - 1);
        } else {
            assert_eq!(now, skills, "{name} changed");
        }
    }
    // The page's own controls: a skill's × sends `remove=ID:SKILL`, Add sends `add-to=ID` with the
    // row's field; each names its agent by id.
    let (_, page) = r.get("/agents/manage");
    let again = ab.skillset[1].clone();
    let value = format!("{id}:{again}");
    assert!(
        page.contains(&format!("name=\"remove\" value=\"{}\"", value)),
        "the page offers the × of {again} for a+b"
    );
    let (status, body) = r.post_form(
        "/agents/manage/skills",
        &[("remove", &value), (&format!("add-{id}"), "")],
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!r.agent("a+b").skillset.contains(&again));
    let (status, body) = r.post_form(
        "/agents/manage/skills",
        &[("add-to", &id), (&format!("add-{id}"), &again)],
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(r.agent("a+b").skillset.contains(&again));
    for n in NAMES.iter().filter(|n| **n != "a+b") {
        assert_eq!(
            r.agent(n).skillset,
            before_all
                .iter()
                .find(|(b, _)| b == n)
                .map(|(_, s)| s.clone())
                .unwrap(),
            "{n} changed"
        );
    }

    // The agents page posts upgrade / revert to the agent's id.
    let (_, page) = r.get("/agents");
    let actions: Vec<String> = attrs(&page, "action")
        .into_iter()
        .filter(|a| a.ends_with("/revert") || a.ends_with("/upgrade"))
        .filter(|a| a != "/agents/upgrade")
        .collect();
    let mut want: Vec<String> = NAMES
        .iter()
        .flat_map(|n| {
            let id = r.agent(n).id;
            [
                format!("/agents/id/{id}/upgrade"),
                format!("/agents/id/{id}/revert"),
            ]
        })
        .collect();
    let mut got = actions.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    // Reverting "R&D" (on a free model already) names R&D, not R.
    let rd = r.agent("R&D").id;
    let (status, body) = r.post_form(&format!("/agents/id/{rd}/revert"), &[]);
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("R&amp;D"), "{body}");
    let (status, _) = r.post_form("/agents/id/999999/revert", &[]);
    assert_eq!(status, StatusCode::NOT_FOUND);
    // By name, percent-encoded in the path, it is R&D as well.
    let (status, body) = r.post_form("/agents/R%26D/revert", &[]);
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("R&amp;D"), "{body}");
}

#[test]
fn switch_page_links_keep_a_search_with_reserved_characters_whole() {
    let r = start();
    let (status, page) = r.get("/models/switch?slot=main&q=R%26D%23x+y");
    assert_eq!(status, StatusCode::OK);
    let picks: Vec<String> = attrs(&page, "href")
        .into_iter()
        .filter(|h| h.contains("candidate="))
        .collect();
    for p in &picks {
        let q = query_of(p);
        assert!(q.contains(&("q".into(), "R&D#x y".into())), "{p}: {q:?}");
    }
}

#[test]
fn json_bodies_with_unknown_or_contradictory_fields_are_refused_and_change_nothing() {
    let r = start();
    let config = r.homes.hermes_home().join("config.yaml");
    let models = |r: &Running| -> Vec<(String, String)> {
        r.rt.block_on(agents::list(&r.store, &r.env))
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.model))
            .collect()
    };
    let agents_before = models(&r);
    // An agent that does not exist: 404 naming it, config.yaml and every agent untouched.
    let (status, v) = r.post_json(
        "/api/models/switch",
        r#"{"slot":"main","model":"openai/gpt-4o","agent":"nosuch"}"#,
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert!(v["error"].as_str().unwrap().contains("nosuch"), "{v}");
    // A field the endpoint does not know: 400 naming it.
    let (status, v) = r.post_json(
        "/api/models/switch",
        r#"{"slot":"main","model":"openai/gpt-4o","agnet":"PM"}"#,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["error"].as_str().unwrap().contains("agnet"), "{v}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    assert_eq!(models(&r), agents_before);
    // The same body for a real agent moves that agent only.
    let (status, v) = r.post_json(
        "/api/models/switch",
        r#"{"slot":"main","model":"openai/gpt-4o","agent":"R&D"}"#,
    );
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(r.agent("R&D").model, "openai/gpt-4o");
    assert_eq!(r.agent("R").model, FREE);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);

    // Notifications: an id with all, as the CLI refuses an ID with --all.
    for _ in 0..2 {
        r.rt.block_on(notifications::add(
            &r.store,
            NewNotification {
                kind: "better_model".into(),
                title: "a better model".into(),
                body: "x".into(),
                agent_id: None,
                payload: None,
            },
            &SystemClock,
        ))
        .unwrap();
    }
    let unread = |r: &Running| {
        r.rt.block_on(notifications::unread_count(&r.store))
            .unwrap()
    };
    for (path, body, names) in [
        (
            "/api/notifications/read",
            r#"{"id":1,"all":true}"#,
            "not both",
        ),
        (
            "/api/notifications/read",
            r#"{"id":1,"every":true}"#,
            "every",
        ),
        (
            "/api/notifications/apply",
            r#"{"id":1,"force":true}"#,
            "force",
        ),
        (
            "/api/notifications/telegram",
            r#"{"kind":"budget","on":false,"toggles":{"upgrade":false}}"#,
            "not both",
        ),
        (
            "/api/notifications/telegram",
            r#"{"kind":"budget","on":false,"of":true}"#,
            "of",
        ),
        (
            "/api/gateway",
            r#"{"action":"start","force":true}"#,
            "force",
        ),
    ] {
        let (status, v) = r.post_json(path, body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {v}");
        let msg = v["error"].as_str().unwrap_or_default();
        assert!(msg.contains(names), "{path} {body}: {msg}");
        assert!(msg.contains("nothing was"), "{path} {body}: {msg}");
    }
    assert_eq!(unread(&r), 2);
    let toggles =
        r.rt.block_on(nxr::domain::notifications::telegram_forward::toggles(
            &r.store,
        ))
        .unwrap();
    assert!(toggles.iter().all(|t| t.on), "{toggles:?}");
    assert!(!r.homes.hermes_home().join("gateway.pid").exists());
    // The form does the same.
    let (status, _) = r.post_form("/notifications/read", &[("id", "1"), ("all", "1")]);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(unread(&r), 2);
    // Well-formed bodies still work.
    let (status, v) = r.post_json("/api/notifications/read", r#"{"id":1}"#);
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(unread(&r), 1);
}

#[test]
fn the_price_panel_prices_a_paid_candidate_at_the_stated_assumption_without_usage() {
    let r = start_with("http://127.0.0.1:9", &[]);
    let path = format!("/models/switch?slot=main&candidate={PAID}");
    let (status, page) = r.get(&path);
    assert_eq!(status, StatusCode::OK);
    // claude-sonnet-4: $3 / $15 per million; 100 requests a day of 2k prompt + 500 completion
    // tokens for 30 days = 6M prompt ($18) + 1.5M completion ($22.50).
    let price = &page[page.find("id=\"price\"").unwrap()..];
    let candidate = &price[price.find("Candidate").unwrap()..];
    let row = &candidate[..candidate.find("</tr>").unwrap()];
    assert!(row.contains("$40.50"), "{row}");
    assert!(!row.contains("free"), "{row}");
    assert!(
        price.contains("100 requests/day of 2k prompt + 500 completion tokens"),
        "{price}"
    );
    let (_, json) = r.send(
        r.client
            .get(r.url(&format!("/api/models/switch?slot=main&candidate={PAID}")))
            .bearer_auth(&r.server.token),
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["price"]["basis"], "assumed");
    let monthly = v["price"]["candidate"]["monthly_usd"].as_f64().unwrap();
    assert!((monthly - 40.5).abs() < 1e-6, "{monthly}");
    // The current (free) model stays free at the same usage.
    assert_eq!(v["price"]["current"]["monthly_usd"].as_f64(), Some(0.0));
}

#[test]
fn manage_budget_and_the_cli_show_cost_per_agent_for_today_7_and_30_days() {
    let r = start();
    // R&D: $1 today, $2 four days ago, $4 twenty days ago; one rate-limited request today.
    r.usage("R&D", 0, 1.0, "ok");
    r.usage("R&D", 4, 2.0, "ok");
    r.usage("R&D", 20, 4.0, "ok");
    r.usage("R&D", 0, 0.0, "rate_limited");
    let (status, page) = r.get("/agents/manage");
    assert_eq!(status, StatusCode::OK);
    let row_of = |page: &str, name: &str| -> String {
        let cell = format!("<strong>{name}</strong>");
        let at = page.find(&cell).unwrap_or_else(|| panic!("{name}: {page}"));
        let row = &page[at..];
        row[..row.find("</tr>").unwrap()].to_string()
    };
    let rd = row_of(&page, "R&amp;D");
    for want in [
        "cost-today\">$1.00",
        "cost-7d\">$3.00",
        "cost-30d\">$7.00",
        "25 % (1)",
    ] {
        assert!(rd.contains(want), "{want}: {rd}");
    }
    let plain = row_of(&page, "R");
    assert!(plain.contains("cost-30d\">$0.00"), "{plain}");
    // The role-aware recommendation: the best free model for an engineer.
    let (_, json) = r.get("/api/agents/manage");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rd_json = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"]["name"] == "R&D")
        .unwrap();
    let rec = rd_json["recommendation"]["recommended_model"]
        .as_str()
        .unwrap();
    assert!(
        rec.ends_with(":free") || rec.starts_with("openrouter/"),
        "{rec}"
    );
    assert!(rd.contains(&format!("<code>{rec}</code>")), "{rd}");
    assert_eq!(rd_json["cost_7d"].as_f64(), Some(3.0));
    assert_eq!(rd_json["error_rate"].as_f64(), Some(0.25));

    // The budget page's per-agent table.
    let (status, page) = r.get("/budget");
    assert_eq!(status, StatusCode::OK);
    let at = page.find("<td>R&amp;D</td>").unwrap();
    let row = &page[at..];
    let row = &row[..row.find("</tr>").unwrap()];
    for want in ["cost-today\">$1.00", "cost-7d\">$3.00", "cost-30d\">$7.00"] {
        assert!(row.contains(want), "{want}: {row}");
    }

    // `nxr budget` and its --json, over the same database.
    drop(r.server);
    let out = r.homes.nxr().arg("budget").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cost today"), "{text}");
    let line = text.lines().find(|l| l.starts_with("R&D ")).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert!(
        cells
            .windows(3)
            .any(|w| w == ["$1.0000", "$3.0000", "$7.0000"]),
        "{line}"
    );
    let v = r.homes.json(&["budget"]);
    let rd = v["per_agent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "R&D")
        .unwrap();
    assert_eq!(rd["cost_today"].as_f64(), Some(1.0));
    assert_eq!(rd["cost_7d"].as_f64(), Some(3.0));
    assert_eq!(rd["cost_30d"].as_f64(), Some(7.0));
}

/// `tmux -L socket ARGS`, succeeding.
fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .env_remove("TMUX")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills the tmux servers the test started, by socket name.
struct TmuxServers(Vec<String>);

impl Drop for TmuxServers {
    fn drop(&mut self) {
        for s in &self.0 {
            let _ = Command::new("tmux").args(["-L", s, "kill-server"]).output();
        }
    }
}

#[test]
fn hermes_page_counts_the_terminals_watching_the_gateway_session() {
    let r = start_with("http://127.0.0.1:9", &[]);
    let socket = r.env.tmux_socket.clone().unwrap();
    let viewers_socket = format!("{socket}-viewers");
    let _servers = TmuxServers(vec![socket.clone(), viewers_socket.clone()]);
    let session = r.env.gateway_session.clone();
    let state = |r: &Running| {
        let (status, page) = r.get("/hermes");
        assert_eq!(status, StatusCode::OK);
        let at = page.find("tmux session").unwrap();
        let cell = &page[at..];
        cell[..cell.find("</tr>").unwrap()].to_string()
    };
    assert!(state(&r).contains("not open"), "{}", state(&r));
    tmux(&socket, &["new-session", "-d", "-s", &session, "sleep 600"]);
    assert!(state(&r).contains("open, 0 viewers"), "{}", state(&r));
    let attach = format!("env -u TMUX tmux -L {socket} attach -t ={session}");
    let clients = || {
        tmux(&socket, &["list-clients", "-t", &format!("={session}")])
            .lines()
            .count()
    };
    for (n, want) in [(1, "open, 1 viewer<"), (2, "open, 2 viewers")] {
        tmux(
            &viewers_socket,
            &["new-session", "-d", "-s", &format!("v{n}"), &attach],
        );
        common::wait_until("a viewer attached", Duration::from_secs(20), || {
            clients() == n
        });
        let cell = state(&r);
        assert!(cell.contains(want), "{want}: {cell}");
    }
}

#[test]
fn a_running_ollama_shows_on_the_hermes_card_the_api_and_the_setup_detect_step() {
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(200, common::fixture("ollama/tags.json")),
    );
    ollama.always(
        "/api/version",
        Reply::json(200, common::fixture("ollama/version.json")),
    );
    let r = start_with(&ollama.base, &[]);
    let (status, page) = r.get("/hermes");
    assert_eq!(status, StatusCode::OK);
    let card = &page[page.find("id=\"ollama\"").unwrap()..];
    let card = &card[..card.find("</section>").unwrap()];
    assert!(card.contains("Answering at"), "{card}");
    assert!(card.contains(&ollama.base), "{card}");
    assert!(card.contains("0.6.8"), "{card}");
    for m in ["deepseek-r1:latest", "llama3.2:latest"] {
        assert!(card.contains(&format!("<code>{m}</code>")), "{m}: {card}");
    }
    let (_, json) = r.get("/api/ollama");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["version"], "0.6.8");
    assert_eq!(
        v["models"],
        serde_json::json!(["deepseek-r1:latest", "llama3.2:latest"])
    );
    // The setup wizard's detect step finds it.
    let (status, _) = r.post_form("/setup/key", &[("mode", "free")]);
    assert!(status.is_redirection() || status.is_success(), "{status}");
    let (status, _) = r.post_form("/setup/detect", &[]);
    assert!(status.is_redirection() || status.is_success(), "{status}");
    let (_, setup) = r.get("/setup");
    assert!(setup.contains("Ollama: found"), "{setup}");
    assert!(ollama.hits("/api/tags") >= 3);
}

#[test]
fn deleting_r_and_d_in_chromium_deletes_r_and_d_only() {
    let r = start_with("http://127.0.0.1:9", &["R", "R&D"]);
    let browser = webdriver::Driver::start(r.rt.handle().clone());
    browser.goto(&r.server.login_url());
    browser.goto(&r.url("/agents/manage"));
    browser.wait_for("#manage");
    // Click the Delete link in the row whose name reads "R&D".
    let clicked = browser.execute_async(
        "var done = arguments[arguments.length - 1];
         var rows = document.querySelectorAll('#manage tr');
         for (var i = 0; i < rows.length; i++) {
           var s = rows[i].querySelector('strong');
           if (s && s.textContent === 'R&D') { rows[i].querySelector('a.delete').click(); done(true); return; }
         }
         done(false);",
    );
    assert_eq!(clicked, serde_json::json!(true));
    browser.wait_for("#confirm-name");
    assert_eq!(browser.text("main h1"), "Delete R&D?");
    browser.type_into("#confirm-name", "R&D");
    browser.click("#confirm-delete");
    browser.wait_for("#result");
    let result = browser.text("#result");
    assert!(result.starts_with("deleted R&D"), "{result}");
    assert_eq!(r.names(), vec!["R".to_string()]);
}

#[test]
fn manage_shows_each_agents_fallback_chain_as_its_profile_holds_it() {
    let r = start();
    let (_, json) = r.get("/api/agents/manage");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let (status, page) = r.get("/agents/manage");
    assert_eq!(status, StatusCode::OK);
    for a in v["agents"].as_array().unwrap() {
        let chain: Vec<&str> = a["fallbacks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m.as_str())
            .collect();
        assert!(!chain.is_empty(), "{a}");
        let profile = std::path::PathBuf::from(a["agent"]["hermes_profile_path"].as_str().unwrap());
        let held =
            nxr::domain::agents::hermes::fallback_models(&profile.join("config.yaml")).unwrap();
        assert_eq!(chain, held, "{a}");
        assert!(
            page.contains(&format!("then {}", chain.join(" → "))),
            "{page}"
        );
    }
}
