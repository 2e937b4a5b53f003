//! The web server's rules (docs/design.md §7), over real HTTP on 127.0.0.1:0.

mod common;

use common::Homes;
use nxr::domain::store::Store;
use nxr::web::server::{self, ServerHandle};
use reqwest::StatusCode;
use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::time::Duration;

struct Running {
    rt: tokio::runtime::Runtime,
    server: ServerHandle,
    client: reqwest::Client,
    _homes: Homes,
}

impl Running {
    fn start() -> Running {
        let homes = Homes::new();
        Running::start_in(homes)
    }

    fn start_in(homes: Homes) -> Running {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let env = homes.env();
        let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
        let server = server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Running {
            rt,
            server,
            client,
            _homes: homes,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    fn cookie(&self) -> String {
        format!("{}={}", self.server.cookie_name(), self.server.token)
    }

    fn send(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.rt.block_on(async {
            let resp = rb.send().await.unwrap();
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.text().await.unwrap();
            (status, headers, body)
        })
    }

    fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.send(self.client.get(self.url(path)))
    }

    fn get_cookie(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.send(
            self.client
                .get(self.url(path))
                .header("Cookie", self.cookie()),
        )
    }

    fn get_bearer(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        self.send(
            self.client
                .get(self.url(path))
                .bearer_auth(&self.server.token),
        )
    }
}

#[test]
fn every_request_without_cookie_or_bearer_is_401() {
    let s = Running::start();
    let (status, headers, body) = s.get("/");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        body.contains("nxr serve"),
        "the 401 page explains how to sign in: {body}"
    );
    assert!(
        !body.contains(&s.server.token),
        "the 401 page must not reveal the token"
    );

    let (status, headers, body) = s.get("/api/models/roster");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"].as_str().unwrap().contains("Bearer"));

    // A wrong token in the URL, the bearer header or the cookie is refused too.
    assert_eq!(s.get("/?token=deadbeef").0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = s.send(s.client.get(s.url("/")).bearer_auth("not-the-token"));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bad_cookie = format!("{}={}", s.server.cookie_name(), "0".repeat(64));
    let (status, _, _) = s.send(s.client.get(s.url("/")).header("Cookie", bad_cookie));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn token_url_sets_a_strict_httponly_cookie_and_redirects_without_the_token() {
    let s = Running::start();
    let (status, headers, _) = s.get(&format!("/?token={}&view=all", s.server.token));
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap();
    assert_eq!(location, "/?view=all");
    assert!(!location.contains(&s.server.token));
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with(&format!("{}=", s.server.cookie_name())));
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Strict"));

    // The browser sends the cookie back on the redirect and lands on the dashboard.
    let pair = set_cookie.split(';').next().unwrap().to_string();
    let (status, _, body) = s.send(s.client.get(s.url(location)).header("Cookie", pair));
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Dashboard"));

    let (status, _, body) = s.get_cookie("/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Dashboard"));
}

#[test]
fn bearer_token_works_for_pages_and_api() {
    let s = Running::start();
    let (status, _, body) = s.get_bearer("/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<nav>"));
    for label in ["Dashboard", "Models", "Agents", "Setup"] {
        assert!(body.contains(label), "nav lists {label}");
    }
    let (status, headers, body) = s.get_bearer("/api/no-such-thing");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(body.contains("no such API path"));
}

#[test]
fn cookie_posts_need_the_csrf_token_bearer_posts_do_not() {
    let s = Running::start();
    let form = "csrf=wrong&x=1";
    // Cookie, no CSRF token → 403.
    let (status, _, body) = s.send(
        s.client
            .post(s.url("/"))
            .header("Cookie", s.cookie())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("x=1"),
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("CSRF"));
    // Cookie, wrong CSRF token → 403.
    let (status, _, _) = s.send(
        s.client
            .post(s.url("/"))
            .header("Cookie", s.cookie())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form),
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Cookie, right CSRF token → past the check (the dashboard answers GET only: 405).
    let (status, headers, _) = s.send(
        s.client
            .post(s.url("/"))
            .header("Cookie", s.cookie())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("csrf={}&x=1", s.server.csrf_token())),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET");
    // The header form of the token works as well.
    let (status, _, _) = s.send(
        s.client
            .post(s.url("/"))
            .header("Cookie", s.cookie())
            .header("X-CSRF-Token", s.server.csrf_token()),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Bearer calls are not cookie-driven: no CSRF needed.
    let (status, _, _) = s.send(
        s.client
            .post(s.url("/"))
            .bearer_auth(&s.server.token)
            .body("x=1"),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Forms on pages carry the token: the CSRF value is derived from the access token, not equal to it.
    assert_ne!(s.server.csrf_token(), s.server.token);
    assert_eq!(s.server.csrf_token().len(), 64);
}

#[test]
fn bodies_over_one_megabyte_get_413() {
    let s = Running::start();
    let big = vec![b'a'; server::MAX_BODY_BYTES + 1];
    let (status, _, body) = s.send(
        s.client
            .post(s.url("/api/models/rescore"))
            .bearer_auth(&s.server.token)
            .body(big),
    );
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"].as_str().unwrap().contains("larger than"));
    // Exactly at the limit is read (and then routed: the dashboard answers 405 to POST).
    let ok = vec![b'a'; server::MAX_BODY_BYTES];
    let (status, _, _) = s.send(
        s.client
            .post(s.url("/"))
            .bearer_auth(&s.server.token)
            .body(ok),
    );
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405() {
    let s = Running::start();
    let (status, headers, body) = s.get_bearer("/no/such/page");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(body.contains("Not found"));
    let (status, _, _) = s.send(s.client.delete(s.url("/")).bearer_auth(&s.server.token));
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn security_headers_are_on_every_response() {
    let s = Running::start();
    for (status, headers, _) in [s.get("/"), s.get_bearer("/"), s.get_bearer("/nope")] {
        assert_eq!(headers["x-content-type-options"], "nosniff", "{status}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{status}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

#[test]
fn non_loopback_bind_is_refused_without_allow_remote() {
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let err = server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "0.0.0.0",
        0,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--allow-remote"), "{err}");
    assert!(err.contains("0.0.0.0"), "{err}");
    let err = server::start(env, store, rt.handle().clone(), "not an ip", 0, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--bind 127.0.0.1"), "{err}");

    // The CLI says the same and exits non-zero.
    let out = homes
        .nxr()
        .args(["serve", "--bind", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[test]
fn token_file_is_0600_and_reused_across_runs() {
    use std::os::unix::fs::PermissionsExt;
    let homes = Homes::new();
    let path = server::token_path(&homes.nxr_home());
    let first = {
        let s = Running::start_in(Homes {
            dir: tempfile::tempdir().unwrap(),
        });
        // (a separate home: its token differs from ours)
        s.server.token.clone()
    };
    let t1 = server::load_or_create_token(&homes.nxr_home()).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let t2 = server::load_or_create_token(&homes.nxr_home()).unwrap();
    assert_eq!(t1, t2, "the token is reused");
    assert_ne!(t1, first, "each home has its own random token");
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), t1);
    // A server started on this home uses the stored token.
    let s = Running::start_in(homes);
    assert_eq!(s.server.token, t1);
}

#[test]
fn hostile_strings_are_html_escaped() {
    let s = Running::start();
    // A raw request whose path carries markup: the 404 page echoes it escaped.
    let mut tcp = std::net::TcpStream::connect(s.server.addr).unwrap();
    write!(
        tcp,
        "GET /<script>alert(1)</script> HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        s.server.token
    )
    .unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    assert!(!raw.contains("<script>alert(1)</script>"), "{raw}");
    assert!(
        raw.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{raw}"
    );

    // The dashboard escapes agent fields (names, models from the catalog, skills).
    let hostile = "<img src=x onerror=alert(1)>";
    let agent = nxr::domain::agents::Agent {
        id: 1,
        name: hostile.into(),
        role: nxr::domain::base::roles::Role::Pm,
        model: format!("evil/{hostile}:free"),
        provider: "openrouter".into(),
        status: "active".into(),
        skillset: vec![hostile.into()],
        model_score: None,
        model_auto_assigned: true,
        workspace_id: "default".into(),
        is_default: true,
        hermes_profile: "pm".into(),
        hermes_profile_path: "/tmp/x".into(),
        host: String::new(),
        created_at: "2026-05-01T00:00:00Z".into(),
        updated_at: "2026-05-01T00:00:00Z".into(),
    };
    let html = nxr::web::pages::dashboard_body(
        &Ok(vec![agent]),
        hostile,
        &nxr::web::pages::SetupStatus::Unknown(hostile.into()),
    )
    .into_string();
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
}

#[test]
fn nxr_serve_prints_the_sign_in_url_once_and_it_works() {
    let homes = Homes::new();
    let mut child = homes
        .nxr()
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut url = None;
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if let Some(pos) = line.find("http://")
            && line.contains("?token=")
        {
            url = Some(line[pos..].trim().to_string());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("no sign-in URL in {seen:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(
        seen.iter().filter(|l| l.contains("?token=")).count(),
        1,
        "the token URL is printed once: {seen:?}"
    );
    let token = url.split("?token=").nth(1).unwrap().to_string();
    let stored = std::fs::read_to_string(server::token_path(&homes.nxr_home())).unwrap();
    assert_eq!(stored.trim(), token);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let first = client.get(&url).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let cookie = first.headers()["set-cookie"].to_str().unwrap();
        let pair = cookie.split(';').next().unwrap().to_string();
        let base = url.split("/?token=").next().unwrap();
        client
            .get(format!("{base}/"))
            .header("Cookie", pair)
            .send()
            .await
            .unwrap()
            .status()
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------------------
// Page snapshots (pure renders with fixed state)
// ---------------------------------------------------------------------------------------------------------

fn readable(html: String) -> String {
    // One tag per line, and the inline CSS left out, so a snapshot diff shows what changed.
    let start = html.find("<style>").unwrap_or(0);
    let end = html.find("</style>").map_or(0, |i| i + "</style>".len());
    let html = format!("{}<style>…</style>{}", &html[..start], &html[end..]);
    html.replace("><", ">\n<")
}

fn snapshot(name: &str, html: String) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, readable(html));
    });
}

fn sample_agents() -> Vec<nxr::domain::onboarding::DefaultAgent> {
    use nxr::domain::base::roles::Role;
    [
        ("PM", Role::Pm, "pm", vec!["planning", "task-breakdown"]),
        (
            "Engineer",
            Role::Engineer,
            "engineer",
            vec!["coding", "debugging"],
        ),
        (
            "Hermes",
            Role::Hermes,
            "default",
            vec!["memory", "web-search"],
        ),
    ]
    .into_iter()
    .map(
        |(name, role, profile, skills)| nxr::domain::onboarding::DefaultAgent {
            name: name.into(),
            role,
            model: "nvidia/nemotron-3-super-120b-a12b:free".into(),
            skills: skills.into_iter().map(String::from).collect(),
            hermes_profile: profile.into(),
            created: true,
            fallback: None,
        },
    )
    .collect()
}

#[test]
fn setup_pages_snapshots() {
    use nxr::domain::onboarding::{FREE_TIER_NOTES, Mode, Record, STEPS, Summary};
    let req = nxr::web::Req {
        csrf_token: "CSRF-TOKEN".into(),
        ..Default::default()
    };
    let summary = |agents| Summary {
        record: None,
        agents,
        catalog: "catalog: embedded snapshot of 2026-05-01".into(),
        openrouter_key: None,
        free_tier: FREE_TIER_NOTES.iter().map(|s| s.to_string()).collect(),
    };
    let record = |steps: usize, done: bool| Record {
        id: 1,
        mode: Mode::Free,
        started_at: "2026-05-01T00:00:00Z".into(),
        completed_at: done.then(|| "2026-05-01T00:00:01Z".to_string()),
        agents_created: Vec::new(),
        initial_free_models: Default::default(),
        ollama_detected: false,
        faster_whisper_detected: false,
        steps_completed: STEPS[..steps].iter().map(|s| s.to_string()).collect(),
    };
    let page = nxr::web::setup::setup_page(&req, None, &summary(Vec::new()), None);
    snapshot("web_setup_1_key", page.into_string());
    for (n, name) in [(1, "2_detect"), (2, "3_catalog"), (3, "4_agents")] {
        let r = record(n, false);
        let page = nxr::web::setup::setup_page(&req, Some(&r), &summary(Vec::new()), None);
        snapshot(&format!("web_setup_{name}"), page.into_string());
    }
    let r = record(4, false);
    let page = nxr::web::setup::setup_page(&req, Some(&r), &summary(sample_agents()), None);
    snapshot("web_setup_5_finish", page.into_string());
    let r = record(5, true);
    let page = nxr::web::setup::setup_page(&req, Some(&r), &summary(sample_agents()), None);
    let html = page.into_string();
    assert!(
        html.contains("CSRF-TOKEN"),
        "the reset form carries the CSRF token"
    );
    snapshot("web_setup_done", html);
    let page = nxr::web::setup::setup_page(
        &req,
        None,
        &summary(Vec::new()),
        Some("OpenRouter refused the API key <script>"),
    );
    let html = page.into_string();
    assert!(html.contains("&lt;script&gt;"));
    snapshot("web_setup_error", html);
}

#[test]
fn dashboard_page_snapshots() {
    use nxr::web::pages::{SetupStatus, dashboard_body, layout};
    let empty = layout(
        &Default::default(),
        "Dashboard",
        "/",
        dashboard_body(
            &Ok(Vec::new()),
            "catalog: embedded snapshot of 2026-05-01 (371 models)",
            &SetupStatus::NotYet,
        ),
    );
    snapshot("web_dashboard_empty", empty.into_string());
    let agents: Vec<nxr::domain::agents::Agent> = sample_agents()
        .into_iter()
        .enumerate()
        .map(|(i, a)| nxr::domain::agents::Agent {
            id: i as i64 + 1,
            name: a.name,
            role: a.role,
            model: a.model,
            provider: "openrouter".into(),
            status: "active".into(),
            skillset: a.skills,
            model_score: Some(700),
            model_auto_assigned: true,
            workspace_id: "default".into(),
            is_default: true,
            hermes_profile: a.hermes_profile,
            hermes_profile_path: "/h".into(),
            host: String::new(),
            created_at: "2026-05-01T00:00:00Z".into(),
            updated_at: "2026-05-01T00:00:00Z".into(),
        })
        .collect();
    let full = layout(
        &Default::default(),
        "Dashboard",
        "/",
        dashboard_body(
            &Ok(agents),
            "catalog: OpenRouter, fetched 2026-05-01T00:00:00Z from https://openrouter.ai/api/v1 (371 models)",
            &SetupStatus::Done("2026-05-01T00:00:01Z".into()),
        ),
    );
    snapshot("web_dashboard_agents", full.into_string());
    let err = layout(
        &Default::default(),
        "Dashboard",
        "/",
        dashboard_body(
            &Err("database is locked".into()),
            "catalog: embedded snapshot of 2026-05-01 (371 models)",
            &SetupStatus::NotYet,
        ),
    );
    snapshot("web_dashboard_error", err.into_string());
}

#[test]
fn agents_and_models_pages_show_the_same_state_as_the_domain() {
    let homes = Homes::new();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let rt = tokio::runtime::Runtime::new().unwrap();
    {
        let store = rt.block_on(Store::open(&env)).unwrap();
        rt.block_on(nxr::domain::onboarding::run(
            &env,
            &store,
            &nxr::domain::onboarding::KeyChoice::Free,
            &nxr::domain::onboarding::Probes::default(),
            &nxr::domain::base::clock::SystemClock,
            &mut |_| {},
        ))
        .unwrap();
    }
    drop(rt);
    let s = Running::start_in(homes);
    let agents =
        s.rt.block_on(nxr::domain::agents::list(
            &s.rt.block_on(Store::open(&env)).unwrap(),
            &env,
        ))
        .unwrap();
    assert_eq!(agents.len(), 3);

    let (status, _, body) = s.get_bearer("/agents");
    assert_eq!(status, StatusCode::OK);
    for a in &agents {
        assert!(body.contains(&a.name) && body.contains(&a.model), "{body}");
    }
    // No key stored yet: every agent says so, with the fix.
    assert_eq!(body.matches(">needs key</strong>").count(), 3, "{body}");
    assert!(body.contains("nxr config set openrouter-key"), "{body}");
    let (status, _, json) = s.get_bearer("/api/agents/check");
    assert_eq!(status, StatusCode::OK);
    let checks: serde_json::Value = serde_json::from_str(&json).unwrap();
    let states: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["needs_key"; 3], "{json}");
    let (status, _, json) = s.get_bearer("/api/agents/PM/check");
    assert_eq!(status, StatusCode::OK);
    assert!(
        json.contains("\"agent\": \"PM\"") || json.contains("\"agent\":\"PM\""),
        "{json}"
    );
    let (status, _, _) = s.get_bearer("/api/agents/nobody/check");
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = s.get_bearer("/");
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Set up "), "{body}");

    let (status, _, body) = s.get_bearer("/models");
    assert_eq!(status, StatusCode::OK);
    // The page's best pick per role is the API's.
    let (_, _, json) = s.get_bearer("/api/models/roster");
    let roster: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (role, id) in roster["best"].as_object().unwrap() {
        assert!(body.contains(id.as_str().unwrap()), "{role}: {id}");
    }
    let (status, _, body) = s.get_bearer("/models?role=engineer");
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<option value=\"engineer\" selected>"),
        "{body}"
    );
    let (status, _, body) = s.get_bearer("/models?role=wizard");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("valid roles"), "{body}");
}

#[test]
fn agents_page_snapshot() {
    let agents: Vec<nxr::domain::agents::Agent> = sample_agents()
        .into_iter()
        .enumerate()
        .map(|(i, a)| nxr::domain::agents::Agent {
            id: i as i64 + 1,
            name: a.name,
            role: a.role,
            model: a.model,
            provider: "openrouter".into(),
            status: "active".into(),
            skillset: a.skills,
            model_score: Some(700),
            model_auto_assigned: true,
            workspace_id: "default".into(),
            is_default: true,
            hermes_profile: a.hermes_profile,
            hermes_profile_path: "/h".into(),
            host: String::new(),
            created_at: "2026-05-01T00:00:00Z".into(),
            updated_at: "2026-05-01T00:00:00Z".into(),
        })
        .collect();
    // The three states as the domain hands them over: ready, waiting for a key, broken.
    use nxr::domain::watch::agent_check::{AgentCheck, CheckKind, CheckLine, CheckState};
    let failing = |kind, detail: &str, fix: &str| CheckLine {
        kind,
        ok: false,
        blocking: true,
        detail: detail.into(),
        fix: Some(fix.into()),
    };
    let checks: Vec<AgentCheck> = agents
        .iter()
        .zip([
            (CheckState::Ready, None),
            (
                CheckState::NeedsKey,
                Some(failing(
                    CheckKind::Credentials,
                    "no OPENROUTER_API_KEY in /h/profiles/engineer/.env",
                    "add a key: `nxr config set openrouter-key <key>`",
                )),
            ),
            (
                CheckState::Broken,
                Some(failing(
                    CheckKind::Config,
                    "/h/config.yaml does not parse",
                    "fix line 3 <of> the file",
                )),
            ),
        ])
        .map(|(a, (state, line))| AgentCheck {
            agent: a.name.clone(),
            role: a.role,
            profile: a.hermes_profile.clone(),
            model: a.model.clone(),
            provider: a.provider.clone(),
            state,
            reasons: line.iter().map(|l| l.detail.clone()).collect(),
            checks: line.into_iter().collect(),
        })
        .collect();
    use nxr::domain::paperclip::links::LinkState;
    let links: Vec<(i64, LinkState)> = agents
        .iter()
        .zip([
            LinkState::Synced,
            LinkState::PausedByBudget,
            LinkState::NotSynced,
        ])
        .map(|(a, s)| (a.id, s))
        .collect();
    let page = nxr::web::pages::layout(
        &Default::default(),
        "Agents",
        "/agents",
        nxr::web::pages::agents_body(
            &Ok(agents),
            "catalog: embedded snapshot of 2026-05-01 (371 models)",
            &links,
            &checks,
        ),
    );
    snapshot("web_agents", page.into_string());
}

#[test]
fn control_characters_in_catalog_names_never_reach_the_page() {
    use nxr::domain::scoring::rescore::RosterEntry;
    use nxr::domain::view::{ModelRow, ModelsQuery, ModelsView};
    let esc_id = "evil/\u{1b}[31mred\u{7}:free";
    let esc_name = "Evil\u{1b}]0;pwned\u{7} <b>model</b>\u{0}\u{202e}\u{9b}";
    let mut model = nxr::domain::catalog::Catalog::embedded().models[0].clone();
    model.id = esc_id.into();
    model.name = esc_name.into();
    let view = ModelsView {
        catalog: nxr::domain::catalog::CatalogSource::Stored {
            fetched_at: "2026-05-01T00:00:00Z".into(),
            origin: "http://x/\u{1b}[2J".into(),
            unreadable: 0,
        },
        total: 1,
        roles: vec![nxr::domain::base::roles::Role::Pm],
        best: [(nxr::domain::base::roles::Role::Pm, esc_id.to_string())]
            .into_iter()
            .collect(),
        rows: vec![ModelRow {
            model,
            scores: Some(RosterEntry {
                model_id: esc_id.into(),
                name: esc_name.into(),
                context_length: 131072,
                scores: Default::default(),
            }),
            main_figures: Default::default(),
            caveats: Vec::new(),
        }],
    };
    let query = ModelsQuery {
        text: "\u{1b}[2J<script>".into(),
        ..Default::default()
    };
    let html = nxr::web::pages::layout(
        &Default::default(),
        "Models",
        "/models",
        nxr::web::pages::models_body(&Ok(view), &query),
    )
    .into_string();
    assert!(html.contains("&lt;script&gt;"), "{html}");
    for bad in ['\u{1b}', '\u{7}', '\u{0}', '\u{202e}', '\u{9b}'] {
        assert!(!html.contains(bad), "{bad:?} reached the page: {html:?}");
    }
    // The rest of the name is still shown (escaped), with the control characters marked.
    assert!(html.contains("evil/\u{fffd}[31mred\u{fffd}:free"), "{html}");
    assert!(html.contains("&lt;b&gt;model&lt;/b&gt;"), "{html}");
}

/// `nxr serve` as a user runs it: a slow request (OpenRouter answering slowly while a key is checked)
/// does not hold up the others, and SIGTERM stops the server.
#[test]
fn a_slow_request_does_not_block_others_and_sigterm_stops_serve() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let homes = Homes::new();
    let openrouter = common::FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        common::Reply::json(200, common::fixture("openrouter/key.json"))
            .delayed(Duration::from_secs(2)),
    );
    let mut child = homes
        .nxr()
        .args(["serve", "--port", "0"])
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut base = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(pos) = line.find("listening on http://") {
            base = Some(line[pos + "listening on ".len()..].trim().to_string());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let base = base.expect("serve printed its address");
    let token = std::fs::read_to_string(server::token_path(&homes.nxr_home()))
        .unwrap()
        .trim()
        .to_string();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let slow_done = Arc::new(AtomicBool::new(false));
    let slow = {
        let (base, token, slow_done, client) = (
            base.clone(),
            token.clone(),
            slow_done.clone(),
            client.clone(),
        );
        rt.spawn(async move {
            let status = client
                .post(format!("{base}/setup/key"))
                .bearer_auth(&token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("mode=key&key=sk-or-v1-0123456789abcdef0123456789abcdef")
                .send()
                .await
                .map(|r| r.status());
            slow_done.store(true, Ordering::SeqCst);
            status
        })
    };
    common::wait_until(
        "the key check reaches OpenRouter",
        Duration::from_secs(20),
        || openrouter.hits("/api/v1/key") == 1,
    );
    // The slow request is in flight; others are answered meanwhile.
    for path in ["/", "/agents", "/setup"] {
        let status = rt.block_on(async {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        });
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    assert!(
        !slow_done.load(Ordering::SeqCst),
        "the other pages were answered while the key check was still waiting"
    );
    assert_eq!(rt.block_on(slow).unwrap().unwrap(), StatusCode::SEE_OTHER);

    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut exited = None;
    common::wait_until(
        "nxr serve exits on SIGTERM",
        Duration::from_secs(10),
        || {
            exited = child.try_wait().unwrap();
            exited.is_some()
        },
    );
    assert!(exited.unwrap().success(), "{exited:?}");
    assert!(std::net::TcpStream::connect(base.trim_start_matches("http://")).is_err());
}

/// The `data-model` ids of the models table, in page order.
fn listed_models(body: &str) -> Vec<String> {
    body.split("data-model=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect()
}

/// The models table's row for `id`.
fn model_row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("data-model=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} not listed: {body}"));
    let rest = &body[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[test]
fn models_page_filters_like_the_cli_and_scores_free_models_per_role() {
    use nxr::domain::base::roles::Role;
    use nxr::domain::catalog::{Catalog, Filter};
    let s = Running::start();
    let catalog = Catalog::embedded();
    // The text is the fuzzy search every surface uses (Tab 2's `/`, `nxr models list --query`).
    let list = nxr::domain::view::ModelList::for_search(&catalog.models);
    let ids = |f: &Filter, text: &str| -> Vec<String> {
        list.search(text, f)
            .into_iter()
            .map(|i| catalog.models[i as usize].id.clone())
            .collect()
    };

    // A bare /models opens on the free models (what the roster scores).
    let (status, _, body) = s.get_bearer("/models");
    assert_eq!(status, StatusCode::OK);
    let free = ids(
        &Filter {
            free: true,
            ..Default::default()
        },
        "",
    );
    assert!(!free.is_empty());
    assert_eq!(listed_models(&body), free);
    assert!(body.contains("embedded snapshot of 2026-05-01"), "{body}");

    // The form's filters are the CLI's `models list --tools --min-context 100000 --query Qwen`
    // (smart case: an upper-case letter makes the search case-sensitive).
    let (status, _, body) = s.get_bearer("/models?f=1&q=Qwen&tools=1&min_context=100000");
    assert_eq!(status, StatusCode::OK);
    let want = ids(
        &Filter {
            tools: true,
            min_context: Some(100_000),
            ..Default::default()
        },
        "Qwen",
    );
    assert!(want.len() > 1, "{want:?}");
    assert_eq!(listed_models(&body), want);
    assert!(
        body.contains(&format!("<strong id=\"count\">{}</strong>", want.len())),
        "{body}"
    );
    // The form shows what was asked for.
    assert!(body.contains("value=\"Qwen\""), "{body}");
    assert!(body.contains("id=\"tools\" type=\"checkbox\" name=\"tools\" value=\"1\" checked"));
    assert!(!body.contains("id=\"free\" type=\"checkbox\" name=\"free\" value=\"1\" checked"));
    assert!(body.contains("value=\"100000\""), "{body}");

    // Unticking "free only" lists the whole catalog.
    let (_, _, body) = s.get_bearer("/models?f=1");
    assert_eq!(listed_models(&body).len(), catalog.models.len());

    // One role: free models in the domain's ranking, each with the domain's score and place.
    let store = s.rt.block_on(Store::open(&s._homes.env())).unwrap();
    let roster =
        s.rt.block_on(nxr::domain::scoring::rescore::roster(
            &store,
            Some(Role::Engineer),
            chrono::Utc::now(),
        ))
        .unwrap();
    let (status, _, body) = s.get_bearer("/models?role=engineer");
    assert_eq!(status, StatusCode::OK);
    let listed = listed_models(&body);
    let ranked: Vec<String> = roster.models.iter().map(|e| e.model_id.clone()).collect();
    assert_eq!(listed, ranked);
    for e in roster.models.iter().take(5) {
        let score = &e.scores[&Role::Engineer];
        let row = model_row(&body, &e.model_id);
        if score.passes {
            assert!(
                row.contains(&format!(
                    "{}<span class=\"muted\"> #{}</span>",
                    score.total,
                    score.rank.unwrap()
                )),
                "{row}"
            );
        } else {
            assert!(row.contains("fails"), "{row}");
        }
    }

    // Nothing matches: an empty state with the way out.
    let (status, _, body) = s.get_bearer("/models?f=1&q=no-such-model-anywhere");
    assert_eq!(status, StatusCode::OK);
    assert!(listed_models(&body).is_empty());
    assert!(body.contains("No model matches these filters"), "{body}");
    assert!(body.contains("href=\"/models?f=1\""), "{body}");

    // A bad number: 400, naming the field and the fix, with the rest of the form kept.
    let (status, _, body) = s.get_bearer("/models?f=1&q=gemma&tools=1&min_context=lots");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("min context &quot;lots&quot; is not a whole number of tokens"),
        "{body}"
    );
    assert!(body.contains("value=\"gemma\""), "{body}");
    assert!(body.contains("id=\"tools\" type=\"checkbox\" name=\"tools\" value=\"1\" checked"));
}

/// A sign-in link followed from another site's page: a browser drops SameSite=Strict cookies on a
/// redirect in a cross-site navigation, so the server answers a page that moves on by itself.
#[test]
fn token_url_followed_from_another_site_answers_a_page_that_moves_on() {
    let s = Running::start();
    let (status, headers, body) = s.send(
        s.client
            .get(s.url(&format!("/models?q=gemma&token={}", s.server.token)))
            .header("Sec-Fetch-Site", "cross-site"),
    );
    assert_eq!(status, StatusCode::OK);
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with(&format!("{}=", s.server.cookie_name())));
    assert!(set_cookie.contains("SameSite=Strict") && set_cookie.contains("HttpOnly"));
    assert!(
        body.contains("<meta http-equiv=\"refresh\" content=\"0;url=/models?q=gemma\">"),
        "{body}"
    );
    assert!(body.contains("href=\"/models?q=gemma\""), "{body}");
    assert!(!body.contains(&s.server.token));

    // Same-site (or typed) sign-in keeps the plain redirect; a "//host" path never leaves the server.
    let (status, headers, _) = s.get(&format!("//evil.example/?token={}", s.server.token));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"].to_str().unwrap(), "/");
}

#[test]
fn models_page_snapshot() {
    use nxr::domain::base::roles::Role;
    use nxr::domain::catalog::{Catalog, CatalogSource};
    use nxr::domain::scoring::rescore::{RoleScore, RosterEntry};
    use nxr::domain::view::{ModelRow, ModelsQuery, ModelsView};
    let catalog = Catalog::embedded();
    let pick = |id: &str| catalog.models.iter().find(|m| m.id == id).unwrap().clone();
    let free = pick("nvidia/nemotron-3-super-120b-a12b:free");
    let paid = catalog
        .models
        .iter()
        .find(|m| !m.is_free() && !m.is_router() && m.supports_tools())
        .unwrap()
        .clone();
    let score = |total, rank: Option<usize>| RoleScore {
        total,
        passes: rank.is_some(),
        rank,
        sub: nxr::domain::scoring::SubScores {
            context: 0,
            capability: 0,
            tools: 0,
            recency: 0,
            reliability: 0,
            price: 0,
        },
    };
    let view = ModelsView {
        catalog: CatalogSource::Embedded { date: "2026-05-01" },
        total: 371,
        roles: vec![Role::Pm, Role::Creative],
        best: [(Role::Pm, free.id.clone())].into_iter().collect(),
        rows: vec![
            ModelRow {
                scores: Some(RosterEntry {
                    model_id: free.id.clone(),
                    name: free.name.clone(),
                    context_length: free.context_length,
                    scores: [
                        (Role::Pm, score(727, Some(1))),
                        (Role::Creative, score(310, None)),
                    ]
                    .into_iter()
                    .collect(),
                }),
                main_figures: [(Role::Pm, "τ²-bench Retail 56.9%".to_string())]
                    .into_iter()
                    .collect(),
                caveats: Vec::new(),
                model: free,
            },
            ModelRow {
                model: paid,
                scores: None,
                main_figures: Default::default(),
                caveats: vec![nxr::domain::scoring::caveats::Caveat::LogsPrompts],
            },
        ],
    };
    let query = ModelsQuery {
        text: "nemo".into(),
        ..Default::default()
    };
    let page = nxr::web::pages::layout(
        &Default::default(),
        "Models",
        "/models",
        nxr::web::pages::models_body(&Ok(view), &query),
    );
    snapshot("web_models", page.into_string());
}

#[test]
fn upgrade_forms_need_the_csrf_token_and_a_key_and_change_nothing_without_them() {
    let homes = Homes::new();
    let out = homes
        .nxr()
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .args(["init", "--free"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = Running::start_in(homes);
    let models = |s: &Running| {
        let (_, _, body) = s.send(
            s.client
                .get(s.url("/api/agents"))
                .bearer_auth(&s.server.token),
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].to_string(), a["model"].to_string()))
            .collect::<Vec<_>>()
    };
    let before = models(&s);
    let name = before[0].0.trim_matches('"').to_string();
    let post = |path: &str, body: String| {
        s.send(
            s.client
                .post(s.url(path))
                .header("Cookie", s.cookie())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body),
        )
    };
    for path in [
        "/agents/upgrade".to_string(),
        format!("/agents/{name}/upgrade"),
        format!("/agents/{name}/revert"),
    ] {
        let (status, _, _) = post(&path, "x=1".into());
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} without CSRF");
    }
    let csrf = format!("csrf={}", s.server.csrf_token());
    // With the token but no key stored: 400, naming the fix.
    let (status, _, body) = post("/agents/upgrade", csrf.clone());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("no OpenRouter API key is stored"), "{body}");
    let (status, _, body) = post(&format!("/agents/{name}/upgrade"), csrf.clone());
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing to revert on a free model.
    let (status, _, body) = post(&format!("/agents/{name}/revert"), csrf.clone());
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("already on a free model"), "{body}");
    let (status, _, _) = post("/agents/nobody/revert", csrf);
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, headers, _) = s.get_cookie(&format!("/agents/{name}/upgrade"));
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "POST");
    assert_eq!(models(&s), before);

    // The agents page links the bulk upgrade and carries the token in every form; the plan page
    // shows each agent and asks for a key, as none is stored.
    let (status, _, page) = s.get_cookie("/agents");
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/agents/upgrade\""), "{page}");
    assert_eq!(
        page.matches(&format!("value=\"{}\"", s.server.csrf_token()))
            .count(),
        2 * before.len()
    );
    let (status, _, plan) = s.get_cookie("/agents/upgrade");
    assert_eq!(status, StatusCode::OK);
    for (n, _) in &before {
        assert!(plan.contains(n.trim_matches('"')), "{plan}");
    }
    assert!(plan.contains("Total estimated:"), "{plan}");
    assert!(plan.contains("name=\"key\""), "{plan}");
}

#[test]
fn the_bulk_upgrade_page_keeps_a_model_the_user_chose_unless_included() {
    let homes = Homes::new();
    for args in [
        &["init", "--free"][..],
        &[
            "upgrade",
            "--agent",
            "PM",
            "--to",
            "openai/gpt-oss-120b:free",
        ][..],
    ] {
        let out = homes
            .nxr()
            .env("NXR_FASTER_WHISPER_CMD", "false")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let s = Running::start_in(homes);
    let row = |page: &str, agent: &str| -> String {
        let start = page
            .find(&format!("<td>{agent}</td>"))
            .unwrap_or_else(|| panic!("no row for {agent}: {page}"));
        let end = page[start..].find("</tr>").unwrap() + start;
        page[start..end].to_string()
    };
    let (status, _, page) = s.get_cookie("/agents/upgrade");
    assert_eq!(status, StatusCode::OK);
    assert!(row(&page, "PM").contains("kept (your choice)"), "{page}");
    assert!(!row(&page, "Engineer").contains("kept"), "{page}");
    assert!(page.contains("2 of 3 agents switch"), "{page}");
    assert!(page.contains("name=\"include_chosen\""), "{page}");
    assert!(
        page.contains("Also switch the 1 agent(s) on a model you chose"),
        "{page}"
    );
    let (status, _, page) = s.get_cookie("/agents/upgrade?include_chosen=1");
    assert_eq!(status, StatusCode::OK);
    assert!(!row(&page, "PM").contains("kept"), "{page}");
    assert!(page.contains("3 of 3 agents switch"), "{page}");
}
