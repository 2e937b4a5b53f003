//! The three surfaces over one view model: the same query gives the same models in the same order in
//! Tab 2 (TestBackend), on the web models page and from `nxr models list --query … --json`; and
//! `nxr status --json`, the web dashboard and Tab 1 show the one `view::Dashboard`; Tab 3, the web
//! `/agents` page and `/api/agents`, `nxr agents list --json` and `nxr agents check --json` show the one
//! `view::Agents`.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::Homes;
use nxr::app::state::{State, Tab};
use nxr::app::{Action, draw, loader, update};
use nxr::domain::agents::{self, NewAgent};
use nxr::domain::base::clock::{FixedClock, to_db};
use nxr::domain::base::roles::Role;
use nxr::domain::catalog;
use nxr::domain::notifications::{self, NewNotification};
use nxr::domain::store::Store;
use nxr::domain::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;
use std::sync::Arc;

/// A store with the recorded OpenRouter catalog stored (as `nxr catalog refresh` leaves it).
fn setup(rt: &tokio::runtime::Runtime, homes: &Homes) -> Arc<Store> {
    let store = rt.block_on(Store::open(&homes.env())).unwrap();
    let parsed = catalog::parse_catalog(&common::fixture("openrouter/models.json")).unwrap();
    rt.block_on(catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "https://openrouter.ai/api/v1",
    ))
    .unwrap();
    Arc::new(store)
}

fn screen(state: &State, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(state, f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `data-model` ids of the web models table, in page order.
fn listed_models(body: &str) -> Vec<String> {
    body.split("data-model=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

fn get(rt: &tokio::runtime::Runtime, url: &str, token: &str) -> String {
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.text().await.unwrap()
    })
}

#[test]
fn one_query_gives_the_same_models_in_the_same_order_on_every_surface() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = setup(&rt, &homes);
    let server = nxr::web::server::start(
        homes.env(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let part = rt.block_on(loader::load_catalog(&store, Utc::now()));
    assert!(part.source.contains("OpenRouter"), "{}", part.source);
    // (query, tools only): an empty query, plain and multi-word ones, smart case, and typos.
    let cases = [
        ("", false),
        ("qwen", false),
        ("gemma 27b", false),
        ("qwne", false),
        ("deepsek", false),
        ("GPT", false),
        ("coder", true),
        ("zzqxj", false),
    ];
    let mut non_empty = 0;
    for (query, tools) in cases {
        // Tab 2: type the query into the filter, toggle tools, read the list the tab shows.
        let mut state = State::new(nxr::app::state::AppData::with_catalog(
            Utc::now(),
            part.models.clone(),
            part.picks.clone(),
            part.health.clone(),
            part.cfg.clone(),
        ));
        update(&mut state, Action::GoTab(Tab::Models));
        update(&mut state, Action::FocusFilter);
        for c in query.chars() {
            update(&mut state, Action::InsertChar(c));
        }
        update(&mut state, Action::Confirm);
        if tools {
            update(&mut state, Action::ToggleTools);
        }
        let tui: Vec<String> = state
            .models
            .picker
            .matched()
            .iter()
            .map(|&i| state.data.models.get(i).unwrap().id().into_owned())
            .collect();
        // What is drawn is that list, top first.
        let text = screen(&state, 200, 60);
        let mut from = 0;
        for id in tui.iter().take(10) {
            let at = text[from..]
                .find(id.as_str())
                .unwrap_or_else(|| panic!("{id} not drawn in order for {query:?}:\n{text}"));
            from += at + id.len();
        }
        assert!(
            text.contains(&format!("{}/{}", tui.len(), part.models.len())),
            "{text}"
        );

        // The web models page (submitted form, every role).
        let url = format!(
            "{}/models?f=1&q={}{}",
            server.base_url(),
            query.replace(' ', "+"),
            if tools { "&tools=1" } else { "" }
        );
        let web = listed_models(&get(&rt, &url, &server.token));

        // `nxr models list --query … --json`.
        let mut args = vec!["models", "list", "--query", query];
        if tools {
            args.push("--tools");
        }
        let cli: Vec<String> = homes.json(&args)["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();

        assert_eq!(tui, web, "Tab 2 and the web page differ for {query:?}");
        assert_eq!(tui, cli, "Tab 2 and the CLI differ for {query:?}");
        if !tui.is_empty() {
            non_empty += 1;
        }
        if query.is_empty() {
            assert_eq!(tui.len(), part.models.len());
        }
        if query == "zzqxj" {
            assert!(tui.is_empty(), "{tui:?}");
        }
    }
    assert!(non_empty >= 6, "most queries match something");
}

#[test]
fn status_the_web_dashboard_and_tab1_show_one_dashboard() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = setup(&rt, &homes);
    let env = homes.env();
    let now = Utc::now();
    let made: Vec<_> = [("pm", Role::Pm), ("eng", Role::Engineer)]
        .into_iter()
        .map(|(name, role)| {
            rt.block_on(agents::create(
                &store,
                &env,
                NewAgent {
                    name: name.into(),
                    role,
                    category: None,
                    model: None,
                    skills: None,
                    is_default: false,
                    host: None,
                },
            ))
            .unwrap()
        })
        .collect();
    // Free requests today by the first agent; seven notifications, so only the newest five show.
    rt.block_on(store.conn().execute(
        "INSERT INTO usage_events (agent_id, model, is_free, requests, occurred_at) VALUES (?1, ?2, 1, 12, ?3)",
        libsql::params![made[0].id, made[0].model.clone(), to_db(now - Duration::seconds(5))],
    ))
    .unwrap();
    let start = Utc.timestamp_opt(now.timestamp() - 3600, 0).unwrap();
    for i in 0..7 {
        let clock = FixedClock(start + Duration::minutes(i));
        rt.block_on(notifications::add(
            &store,
            NewNotification {
                kind: "scan".into(),
                title: format!("scan {i} finished"),
                body: String::new(),
                agent_id: None,
                payload: None,
            },
            &clock,
        ))
        .unwrap();
    }

    // The view itself.
    let dash = rt.block_on(view::dashboard(
        &store,
        &env,
        store.clock(),
        view::NEWEST_NOTIFICATIONS,
    ));
    let titles: Vec<String> = dash.notifications.iter().map(|n| n.title.clone()).collect();
    assert_eq!(
        titles,
        (2..7)
            .rev()
            .map(|i| format!("scan {i} finished"))
            .collect::<Vec<_>>()
    );
    let budget = dash.budget.clone().unwrap();
    assert_eq!(budget.used_today, 12);
    assert_eq!(dash.catalog_models, 57);
    assert_eq!(dash.unread_notifications, 7);

    // `nxr status --json`: the same figures.
    let json = homes.json(&["status"]);
    let names = |v: &Value| -> Vec<(String, String)> {
        v["agents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_string(),
                    a["model"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let want: Vec<(String, String)> = dash
        .agents
        .iter()
        .map(|a| (a.agent.name.clone(), a.agent.model.clone()))
        .collect();
    assert_eq!(names(&json), want);
    assert_eq!(json["budget"]["used_today"], 12);
    assert_eq!(json["budget"]["daily_limit"], budget.daily_limit);
    assert_eq!(json["catalog_models"], 57);
    assert_eq!(json["unread_notifications"], 7);
    let json_titles: Vec<&str> = json["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(json_titles, titles);
    assert_eq!(json["gateway"]["state"], "never_started");
    // The human summary says the same.
    let out = homes.nxr().arg("status").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("gateway: not started"), "{text}");
    assert!(
        text.contains(&format!("budget: 12 / {}", budget.daily_limit)),
        "{text}"
    );
    for (name, model) in &want {
        assert!(
            text.lines().any(|l| l.contains(name) && l.contains(model)),
            "{text}"
        );
    }
    for t in &titles {
        assert!(text.contains(t), "{text}");
    }
    assert!(!text.contains("scan 1 finished"), "{text}");

    // The web dashboard.
    let server = nxr::web::server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let page = get(&rt, &format!("{}/", server.base_url()), &server.token);
    for (name, model) in &want {
        assert!(page.contains(&format!("<td>{name}")), "{page}");
        assert!(page.contains(model.as_str()), "{page}");
    }
    assert!(
        page.contains(&format!("12 / {}", budget.daily_limit)),
        "{page}"
    );
    assert!(page.contains("(57 models)"), "{page}");
    for t in &titles {
        assert!(page.contains(t.as_str()), "{page}");
    }
    assert!(!page.contains("scan 1 finished"), "{page}");
    assert!(page.contains("not started"), "{page}");

    // Tab 1, filled by the app loader.
    let part = rt.block_on(loader::load_catalog(&store, now));
    let data = rt.block_on(loader::load(&store, &env, store.clock(), &part));
    let mut state = State::new(data);
    update(&mut state, Action::GoTab(Tab::Dashboard));
    let text = screen(&state, 200, 40);
    for (name, model) in &want {
        assert!(
            text.lines()
                .any(|l| l.contains(name.as_str()) && l.contains(model.as_str())),
            "{text}"
        );
    }
    assert!(
        text.contains(&format!("12/{}", budget.daily_limit)),
        "{text}"
    );
    for t in &titles {
        assert!(text.contains(t.as_str()), "{text}");
    }
    assert!(!text.contains("scan 1 finished"), "{text}");
    assert!(text.contains("not started"), "{text}");
}

/// What one agent looks like on a surface: (name, model, check state, fallback chain, requests today,
/// requests in 30 days, failed in 30 days, cost in 30 days, Paperclip link).
type Seen = (
    String,
    String,
    String,
    Vec<String>,
    u64,
    u64,
    u64,
    f64,
    Option<String>,
);

/// The agents of a `nxr agents list --json` / `/api/agents` / `nxr agents check --json` answer, in
/// order (`name_key`: `name` in the list, `agent` in the check).
fn seen_in_json(v: &Value, name_key: &str, state: impl Fn(&Value) -> String) -> Vec<Seen> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|a| {
            let u = &a["usage"];
            (
                a[name_key].as_str().unwrap().to_string(),
                a["model"].as_str().unwrap().to_string(),
                state(a),
                a["fallbacks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
                    .collect(),
                u["requests_today"].as_u64().unwrap(),
                u["requests_30d"].as_u64().unwrap(),
                u["failed_30d"].as_u64().unwrap(),
                u["cost_30d"].as_f64().unwrap(),
                a["paperclip"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn every_surface_shows_the_one_agents_view() {
    use nxr::domain::paperclip::{self, links::Link};
    use nxr::domain::view::Checks;
    use nxr::domain::watch::agent_check::{CheckKind, CheckState};
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = setup(&rt, &homes);
    let env = homes.env();
    let now = Utc::now();
    let made: Vec<_> = [
        ("pm", Role::Pm),
        ("eng", Role::Engineer),
        ("research", Role::Research),
        ("writer", Role::Creative),
    ]
    .into_iter()
    .map(|(name, role)| {
        rt.block_on(agents::create(
            &store,
            &env,
            NewAgent {
                name: name.into(),
                role,
                category: None,
                model: None,
                skills: None,
                is_default: false,
                host: None,
            },
        ))
        .unwrap()
    })
    .collect();
    rt.block_on(nxr::domain::agents::credentials::set_openrouter_key(
        &env,
        &store,
        "sk-or-v1-view0000000000000000abcd",
    ))
    .unwrap();
    let config =
        |a: &agents::Agent| std::path::PathBuf::from(&a.hermes_profile_path).join("config.yaml");
    // research: its profile's config.yaml is gone.
    std::fs::remove_file(config(&made[2])).unwrap();
    // writer: a chain set by hand.
    let text = std::fs::read_to_string(config(&made[3])).unwrap();
    let start = text
        .find("fallback_providers:")
        .expect("writer has a chain");
    let end = text[start..]
        .find("\nauxiliary:")
        .map_or(text.len(), |e| start + e + 1);
    let mine = "fallback_providers:\n- provider: openrouter\n  model: my/own-pick:free\n";
    std::fs::write(
        config(&made[3]),
        format!("{}{mine}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    // eng: requests today (one rate-limited) and a paid one three days ago.
    for (requests, status, cost, at) in [
        (12, "ok", 0.0, now - Duration::seconds(5)),
        (1, "rate_limited", 0.0, now - Duration::seconds(4)),
        (5, "ok", 0.5, now - Duration::days(3)),
    ] {
        rt.block_on(store.conn().execute(
            "INSERT INTO usage_events (agent_id, model, is_free, requests, cost_usd, status, occurred_at) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
            libsql::params![made[1].id, made[1].model.clone(), requests, cost, status, to_db(at)],
        ))
        .unwrap();
    }
    // pm: linked to a connected Paperclip with its current model and skills.
    rt.block_on(store.set_setting(paperclip::sync::SETTING_URL, "http://127.0.0.1:9"))
        .unwrap();
    rt.block_on(store.set_setting(paperclip::sync::SETTING_COMPANY_ID, "company-1"))
        .unwrap();
    rt.block_on(paperclip::links::replace(
        &store,
        &[Link {
            agent_id: made[0].id,
            agent_name: made[0].name.clone(),
            company_id: "company-1".into(),
            paperclip_agent_id: "pc-pm".into(),
            synced_model: made[0].model.clone(),
            synced_skills: made[0].skillset.clone(),
            budget_paused_on: None,
            synced_at: to_db(now),
        }],
        &[],
    ))
    .unwrap();

    // The view: the four states as set up.
    let v = rt
        .block_on(view::agents(&store, &env, store.clock(), Checks::Stored))
        .unwrap();
    let names: Vec<&str> = v.iter().map(|r| r.agent.name.as_str()).collect();
    assert_eq!(names, ["pm", "eng", "research", "writer"]);
    let state = |i: usize| v.rows[i].check.as_ref().unwrap().state;
    assert_eq!(state(0), CheckState::Ready, "{:?}", v.rows[0].check);
    assert_eq!(state(2), CheckState::Broken);
    assert!(v.rows[2].fallbacks.is_empty());
    assert_eq!(v.rows[3].fallbacks, ["my/own-pick:free"]);
    let chain_line = |i: usize| {
        v.rows[i]
            .check
            .as_ref()
            .unwrap()
            .checks
            .iter()
            .find(|l| l.kind == CheckKind::Fallbacks)
            .map(|l| l.detail.clone())
            .unwrap_or_default()
    };
    assert!(
        chain_line(3).contains("edited by hand"),
        "{}",
        chain_line(3)
    );
    assert!(!v.rows[0].fallbacks.is_empty(), "pm has nxr's chain");
    let eng = &v.rows[1].usage;
    assert!(eng.requests_today >= 12, "{eng:?}");
    assert!(eng.requests_30d > eng.requests_today, "{eng:?}");
    assert_eq!(eng.failed_30d, 1, "{eng:?}");
    assert_eq!(eng.cost_30d, 0.5, "{eng:?}");
    assert_eq!(v.rows[0].usage, view::Usage::default());
    use nxr::domain::paperclip::links::LinkState;
    assert_eq!(v.rows[0].paperclip, Some(LinkState::Synced));
    assert_eq!(v.rows[1].paperclip, Some(LinkState::NotSynced));

    let snake = |s: CheckState| match s {
        CheckState::Ready => "ready",
        CheckState::NeedsKey => "needs_key",
        CheckState::Broken => "broken",
    };
    let link_json = |s: LinkState| match s {
        LinkState::NotConnected => "not_connected",
        LinkState::NotSynced => "not_synced",
        LinkState::Synced => "synced",
        LinkState::Stale => "stale",
        LinkState::PausedByBudget => "paused_by_budget",
    };
    let want: Vec<Seen> = v
        .iter()
        .map(|r| {
            (
                r.agent.name.clone(),
                r.model().to_string(),
                snake(r.check.as_ref().unwrap().state).to_string(),
                r.fallbacks.clone(),
                r.usage.requests_today,
                r.usage.requests_30d,
                r.usage.failed_30d,
                r.usage.cost_30d,
                r.paperclip.map(|s| link_json(s).to_string()),
            )
        })
        .collect();

    // `nxr agents list --json`.
    let list = homes.json(&["agents", "list"]);
    let from_list = |a: &Value| a["check"]["state"].as_str().unwrap_or("-").to_string();
    assert_eq!(seen_in_json(&list, "name", from_list), want);
    // The agent's own fields are where they were.
    assert_eq!(list[0]["hermes_profile"], made[0].hermes_profile.as_str());

    // `nxr agents check --json` (exits non-zero: research cannot run).
    let out = homes
        .nxr()
        .args(["agents", "check", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_check = |a: &Value| a["state"].as_str().unwrap().to_string();
    assert_eq!(seen_in_json(&check, "agent", from_check), want);

    // The web: /api/agents, /api/agents/check, /api/agents/manage and the /agents page.
    let server = nxr::web::server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let api: Value = serde_json::from_str(&get(
        &rt,
        &format!("{}/api/agents", server.base_url()),
        &server.token,
    ))
    .unwrap();
    assert_eq!(seen_in_json(&api, "name", from_list), want);
    let api_check: Value = serde_json::from_str(&get(
        &rt,
        &format!("{}/api/agents/check", server.base_url()),
        &server.token,
    ))
    .unwrap();
    assert_eq!(seen_in_json(&api_check, "agent", from_check), want);
    // /api/agents/manage (the manage page's rows): the same agents, chains and usage.
    let manage: Value = serde_json::from_str(&get(
        &rt,
        &format!("{}/api/agents/manage", server.base_url()),
        &server.token,
    ))
    .unwrap();
    let managed: Vec<(String, Vec<String>, u64, u64, u64)> = manage["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["agent"]["name"].as_str().unwrap().to_string(),
                serde_json::from_value(m["fallbacks"].clone()).unwrap(),
                m["requests_today"].as_u64().unwrap(),
                m["requests_30d"].as_u64().unwrap(),
                m["failed_30d"].as_u64().unwrap(),
            )
        })
        .collect();
    let want_managed: Vec<(String, Vec<String>, u64, u64, u64)> = want
        .iter()
        .map(|w| (w.0.clone(), w.3.clone(), w.4, w.5, w.6))
        .collect();
    assert_eq!(managed, want_managed);
    let page = get(&rt, &format!("{}/agents", server.base_url()), &server.token);
    let rows: Vec<&str> = page
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap()
        .split("<tr>")
        .skip(1)
        .collect();
    assert_eq!(rows.len(), v.len(), "{page}");
    for (row, r) in rows.iter().zip(v.iter()) {
        assert!(row.contains(&format!("<td>{}", r.agent.name)), "{row}");
        assert!(row.contains(r.model()), "{row}");
        let c = r.check.as_ref().unwrap();
        assert!(row.contains(c.state.label()), "{row}");
        if !r.fallbacks.is_empty() {
            assert!(row.contains(&r.fallbacks.join(" → ")), "{row}");
        }
        match r.usage.summary() {
            Some(line) => assert!(row.contains(&line), "{row}"),
            None => assert!(!row.contains("requests today"), "{row}"),
        }
        assert!(row.contains(r.paperclip.unwrap().label()), "{row}");
    }

    // Tab 3, filled by the app loader: each agent selected in turn.
    let part = rt.block_on(loader::load_catalog(&store, now));
    let data = rt.block_on(loader::load(&store, &env, store.clock(), &part));
    let mut state = State::new(data);
    update(&mut state, Action::GoTab(Tab::Agents));
    for (i, r) in v.iter().enumerate() {
        assert_eq!(state.agents.selected, i);
        let text = screen(&state, 240, 50);
        let c = r.check.as_ref().unwrap();
        // The table row: name, state and model on one line, in the view's order.
        let line = text
            .lines()
            .find(|l| l.contains(&format!("│{} ", r.agent.name)) && l.contains(r.model()))
            .unwrap_or_else(|| panic!("{} not in the table:\n{text}", r.agent.name));
        assert!(line.contains(c.state.label()), "{text}");
        // The detail pane: the check, the chain, the usage and the link.
        assert!(
            text.contains(&format!("can run: {}", c.state.label())),
            "{text}"
        );
        if !r.fallbacks.is_empty() {
            assert!(text.contains(&r.fallbacks.join(" → ")), "{text}");
        }
        match r.usage.summary() {
            Some(u) => assert!(text.contains(&format!("usage: {u}")), "{text}"),
            None => assert!(!text.contains("usage: "), "{text}"),
        }
        assert!(
            text.contains(&format!("Paperclip: {}", r.paperclip.unwrap().label())),
            "{text}"
        );
        update(&mut state, Action::Down);
    }
    let order: Vec<&str> = state.data.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(order, names);
}
