//! The control-plane pages over real HTTP on 127.0.0.1:0: state-changing posts need the cookie and
//! the CSRF token and change nothing without them, a hostile model name renders as text everywhere,
//! an 11 MB body is refused, and insta snapshots of each page (volatile values filtered).

mod common;

use common::Homes;
use nxr::domain::base::clock::SystemClock;
use nxr::domain::notifications::{self, NewNotification};
use nxr::domain::store::Store;
use nxr::web::server::{self, ServerHandle};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

const XSS: &str = "<script>alert(1)</script>";
const CONFIG: &str = "# mine\nmodel:\n  default: evil/xss:free\n  provider: openrouter\nauxiliary:\n  vision:\n    provider: openrouter\n    model: google/gemma-3-27b-it:free\n";

struct Running {
    rt: tokio::runtime::Runtime,
    store: Arc<Store>,
    server: ServerHandle,
    client: reqwest::Client,
    homes: Homes,
}

fn start() -> Running {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(homes.hermes_home().join("config.yaml"), CONFIG).unwrap();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.tmux_socket = Some(format!("nxr-pages-{}", std::process::id()));
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let mut body: serde_json::Value =
        serde_json::from_str(&common::fixture("openrouter/models.json")).unwrap();
    body["data"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "evil/xss:free", "name": XSS, "created": 1767225600, "context_length": 32768,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "pricing": {"prompt": "0", "completion": "0"}, "supported_parameters": ["tools"]
        }));
    let parsed = nxr::domain::catalog::parse_catalog(&body.to_string()).unwrap();
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &parsed,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .unwrap();
    rt.block_on(notifications::add(
        &store,
        NewNotification {
            kind: "better_model".into(),
            title: format!("{XSS} is better"),
            body: XSS.into(),
            agent_id: None,
            payload: None,
        },
        &SystemClock,
    ))
    .unwrap();
    let server = server::start(
        env,
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
        server,
        client,
        homes,
    }
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
    fn post_form(&self, path: &str, form: &str, cookie: bool) -> (StatusCode, String) {
        let mut rb = self
            .client
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string());
        if cookie {
            rb = rb.header("Cookie", self.cookie());
        }
        self.send(rb)
    }
    fn unread(&self) -> u64 {
        self.rt
            .block_on(notifications::unread_count(&self.store))
            .unwrap()
    }
}

const PAGES: [&str; 7] = [
    "/hermes",
    "/models/switch",
    "/models/switch?slot=main&q=xss&candidate=evil/xss:free",
    "/agents/manage",
    "/agents/manage/new?role=pm",
    "/budget",
    "/notifications",
];

#[test]
fn a_hostile_model_name_renders_as_text_on_every_page() {
    let r = start();
    for path in PAGES {
        let (status, body) = r.get(path);
        assert!(status.is_success(), "{path}: {status}");
        assert!(!body.contains(XSS), "{path} carries raw markup");
    }
    let (_, body) = r.get("/models/switch?slot=main&q=xss&candidate=evil/xss:free");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let (_, body) = r.get("/notifications");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt; is better"));
    // No agent has that name: the confirm page says so, as text.
    let (status, body) = r.get("/agents/manage/delete?agent=%3Cscript%3Ealert(1)%3C/script%3E");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains(XSS));
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
}

#[test]
fn posts_without_cookie_or_csrf_are_refused_and_change_nothing() {
    let r = start();
    let csrf = r.server.csrf_token();
    let config = r.homes.hermes_home().join("config.yaml");
    let posts = [
        ("/notifications/read", "all=1".to_string()),
        (
            "/models/switch",
            "slot=vision&model=evil%2Fxss%3Afree".to_string(),
        ),
        (
            "/agents/manage/create",
            "role=pm&name=Sneaky&category=".to_string(),
        ),
        ("/hermes/start", String::new()),
        // Would stop forwarding `upgrade`; `id` 1 is not an upgrade proposal.
        (
            "/notifications/telegram",
            "kind=budget&kind=upgrade&on=budget".to_string(),
        ),
        ("/notifications/apply", "id=1".to_string()),
    ];
    for (path, form) in &posts {
        let (status, _) = r.post_form(path, &format!("{form}&csrf={csrf}"), false);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} without cookie");
        let (status, _) = r.post_form(path, form, true);
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} without CSRF");
        let (status, _) = r.post_form(path, &format!("{form}&csrf=bad"), true);
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} with a wrong CSRF");
    }
    assert_eq!(r.unread(), 1);
    let forwarded =
        r.rt.block_on(nxr::domain::notifications::telegram_forward::toggles(
            &r.store,
        ))
        .unwrap();
    assert!(forwarded.iter().all(|t| t.on), "{forwarded:?}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    let (_, agents) = r.get("/api/agents/manage");
    assert!(!agents.contains("Sneaky"));
    assert!(!r.homes.hermes_home().join("gateway.pid").exists());
    // With both, the same post works.
    let (status, _) = r.post_form("/notifications/read", &format!("all=1&csrf={csrf}"), true);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r.unread(), 0);
}

#[test]
fn an_11_mb_body_is_refused_and_changes_nothing() {
    let r = start();
    let big = format!("slot=vision&model={}", "a".repeat(11 * 1024 * 1024));
    let (status, _) = r.send(
        r.client
            .post(r.url("/models/switch"))
            .header("Cookie", r.cookie())
            .header("X-CSRF-Token", r.server.csrf_token())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(big),
    );
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let config = r.homes.hermes_home().join("config.yaml");
    assert_eq!(std::fs::read_to_string(config).unwrap(), CONFIG);
}

#[test]
fn switching_to_a_model_not_in_the_catalog_is_refused_and_keeps_config_yaml() {
    let r = start();
    let csrf = r.server.csrf_token();
    let (status, body) = r.post_form(
        "/models/switch",
        &format!("slot=vision&model=nobody%2Fnothing&csrf={csrf}"),
        true,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not in the catalog"));
    let config = r.homes.hermes_home().join("config.yaml");
    assert_eq!(std::fs::read_to_string(config).unwrap(), CONFIG);
}

fn readable(html: String) -> String {
    let start = html.find("<style>").unwrap_or(0);
    let end = html.find("</style>").map_or(0, |i| i + "</style>".len());
    let html = format!("{}<style>…</style>{}", &html[..start], &html[end..]);
    html.replace("><", ">\n<")
}

#[test]
fn control_pages_snapshots() {
    let r = start();
    let csrf = r.server.csrf_token();
    let home = r.homes.dir.path().display().to_string();
    for (name, path) in [
        ("web_hermes", "/hermes"),
        ("web_switch", "/models/switch"),
        (
            "web_switch_picker",
            "/models/switch?slot=vision&q=gemma%203&free=1&candidate=google/gemma-3-4b-it:free",
        ),
        ("web_manage", "/agents/manage"),
        ("web_manage_new", "/agents/manage/new?role=engineer"),
        ("web_budget", "/budget"),
        ("web_notifications", "/notifications"),
    ] {
        let (status, body) = r.get(path);
        assert!(status.is_success(), "{path}: {status}");
        let body = readable(body.replace(&csrf, "[csrf]").replace(&home, "[home]"));
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", "[time]"),
                (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "[time]"),
                (r"nxr-pages-\d+", "[socket]"),
                (r#"(?s)<svg id="projection".*?</svg>"#, r#"<svg id="projection">[chart: moves with the hour]</svg>"#),
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
                (r"(cannot reach Ollama at [^:]+:)[^<]*", "$1 [error]"),
            ],
        }, {
            insta::assert_snapshot!(name, body);
        });
    }
}

#[test]
fn the_vision_slot_refuses_a_text_only_model_on_the_page_and_the_api_unless_forced() {
    let r = start();
    let csrf = r.server.csrf_token();
    let config = r.homes.hermes_home().join("config.yaml");
    let (status, body) = r.post_form(
        "/models/switch?slot=vision",
        &format!("slot=vision&model=evil%2Fxss%3Afree&csrf={csrf}"),
        true,
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("does not take images"), "{body}");
    assert!(body.contains("id=\"force-form\""), "{body}");
    assert!(body.contains("name=\"force\" value=\"1\""), "{body}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    // The JSON API: the same refusal, and `force` overrides it.
    let post_json = |body: &str| {
        r.send(
            r.client
                .post(r.url("/api/models/switch"))
                .bearer_auth(&r.server.token)
                .header("Content-Type", "application/json")
                .body(body.to_string()),
        )
    };
    let (status, body) = post_json(r#"{"slot":"vision","model":"evil/xss:free"}"#);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("does not take images"), "{body}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    // The page's "anyway" form writes it.
    let (status, body) = r.post_form(
        "/models/switch?slot=vision",
        &format!("slot=vision&model=evil%2Fxss%3Afree&force=1&csrf={csrf}"),
        true,
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("model: evil/xss:free"), "{written}");
    let (status, body) =
        post_json(r#"{"slot":"vision","model":"google/gemma-3-27b-it:free","force":false}"#);
    assert_eq!(status, StatusCode::OK, "{body}");
}
