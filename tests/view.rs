//! The three surfaces over one view model: the same query gives the same models in the same order in
//! Tab 2 (TestBackend), on the web models page and from `nxr models list --query … --json`; and
//! `nxr status --json`, the web dashboard and Tab 1 show the one `view::Dashboard`.

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
        .map(|a| (a.name.clone(), a.model.clone()))
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
