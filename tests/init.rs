//! Onboarding: `nxr init`, `nxr config set|get openrouter-key`, and the `/setup` wizard over real HTTP.
//! Fresh temp homes, no network: OpenRouter and Ollama are fakes on 127.0.0.1:0 (or port 9, refused).

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::agents::{self, Agent};
use nxr::domain::catalog::{self, CatalogSource, Model};
use nxr::domain::onboarding;
use nxr::domain::store::Store;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::Arc;

const GOOD_KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef";
const BAD_KEY: &str = "sk-or-v1-ffffffffffffffffffffffffffffbad0";

fn nxr(homes: &Homes) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_HERMES_BIN", common::hermes_bin())
        // No faster-whisper unless a test says so (the machine's python3 may or may not have it).
        .env("NXR_FASTER_WHISPER_CMD", "false");
    c
}

fn run_ok(mut c: Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "command failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        c,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn hermes(homes: &Homes, args: &[&str]) -> String {
    let out = Command::new(common::hermes_bin())
        .env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hermes {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Db {
    rt: tokio::runtime::Runtime,
    store: Store,
    env: nxr::domain::base::env::Env,
}

fn db(homes: &Homes) -> Db {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = rt.block_on(Store::open(&env)).unwrap();
    Db { rt, store, env }
}

impl Db {
    fn agents(&self) -> Vec<Agent> {
        self.rt
            .block_on(agents::list(&self.store, &self.env))
            .unwrap()
    }
    fn records(&self) -> Vec<onboarding::Record> {
        self.rt
            .block_on(onboarding::all_records(&self.store))
            .unwrap()
    }
    fn catalog(&self) -> catalog::Catalog {
        self.rt.block_on(catalog::load(&self.store)).unwrap()
    }
}

/// The role's requirement, checked against the catalog entry itself (not the scorer's flags).
fn assert_fits_role(agent: &Agent, cat: &catalog::Catalog) {
    let m: &Model = cat
        .get(&agent.model)
        .unwrap_or_else(|| panic!("{} is not in the catalog", agent.model));
    assert!(m.is_free(), "{} is free", m.id);
    let req = agent.role.default_requirements();
    assert!(
        m.context_length >= req.min_context,
        "{}: context {} < {}",
        m.id,
        m.context_length,
        req.min_context
    );
    if req.needs_tools {
        assert!(m.supports_tools(), "{} supports tools", m.id);
    }
}

fn default_agents(agents: &[Agent]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = agents
        .iter()
        .filter(|a| a.is_default)
        .map(|a| (a.name.clone(), a.role.to_string(), a.model.clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn init_free_offline_creates_three_free_agents_that_hermes_lists() {
    let homes = Homes::new();
    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    let out = run_ok(c);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for step in ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"] {
        assert!(stdout.contains(step), "step {step} printed:\n{stdout}");
    }
    assert!(
        stdout.contains("catalog: embedded snapshot of 2026-05-01"),
        "{stdout}"
    );
    assert!(stdout.contains("20 requests per minute"), "{stdout}");
    assert!(stdout.contains("50 requests per day"), "{stdout}");
    assert!(
        stdout.contains("1000 free-model requests per day"),
        "{stdout}"
    );
    assert!(stdout.contains("free OpenRouter account key"), "{stdout}");
    assert!(stdout.contains("nxr config set openrouter-key"), "{stdout}");
    // It ends with the static check, in plain words: nothing can run until a key is added.
    assert!(
        stdout.contains("Waiting for an OpenRouter key: PM, Engineer, Hermes — add a key"),
        "{stdout}"
    );
    assert!(!stdout.contains("Ready to run now"), "{stdout}");

    let d = db(&homes);
    let agents = d.agents();
    assert_eq!(agents.len(), 3, "{agents:#?}");
    let cat = d.catalog();
    assert!(cat.source.is_embedded());
    let mut roles: Vec<String> = agents.iter().map(|a| a.role.to_string()).collect();
    roles.sort();
    assert_eq!(roles, ["engineer", "hermes", "pm"]);
    for a in &agents {
        assert!(a.is_default && a.model_auto_assigned, "{a:?}");
        assert!(!a.skillset.is_empty());
        assert_fits_role(a, &cat);
        assert!(
            stdout.contains(&a.name) && stdout.contains(&a.model),
            "{stdout}"
        );
    }
    let recs = d.records();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert!(r.completed_at.is_some());
    assert_eq!(r.mode, onboarding::Mode::Free);
    assert_eq!(r.steps_completed, onboarding::STEPS);
    assert_eq!(r.agents_created.len(), 3);
    assert!(!r.ollama_detected && !r.faster_whisper_detected);
    for a in &agents {
        assert_eq!(r.initial_free_models.get(a.role.as_str()), Some(&a.model));
    }

    // The real Hermes CLI sees the profiles and their models.
    let listed = hermes(&homes, &["profile", "list"]);
    for a in &agents {
        assert!(listed.contains(&a.hermes_profile), "{listed}");
        let model = hermes(
            &homes,
            &["-p", &a.hermes_profile, "config", "get", "model.default"],
        );
        assert!(model.contains(&a.model), "{} → {model}", a.hermes_profile);
    }
}

#[test]
fn live_catalog_and_local_ollama_route_the_helper_slots() {
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/models",
        Reply::json(
            200,
            common::fixture("openrouter/catalog-history/models-2026-03-02.json"),
        ),
    );
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(
            200,
            r#"{"models":[{"name":"llama3.2:3b","model":"llama3.2:3b"},{"name":"qwen3:8b","model":"qwen3:8b"}]}"#,
        ),
    );
    let mut c = nxr(&homes);
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .env("NXR_OLLAMA_URL", &ollama.base)
        .env("NXR_FASTER_WHISPER_CMD", "true")
        .args(["init", "--free", "--json"]);
    let out = run_ok(c);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["already_done"], false);
    assert_eq!(v["summary"]["agents"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["readiness"]["needs_key"],
        serde_json::json!(["PM", "Engineer", "Hermes"]),
        "{v}"
    );
    assert_eq!(v["checks"].as_array().unwrap().len(), 3);
    assert!(openrouter.hits("/api/v1/models") >= 1);
    assert!(ollama.hits("/api/tags") >= 1);

    let d = db(&homes);
    let cat = d.catalog();
    match &cat.source {
        CatalogSource::Stored { origin, .. } => {
            assert_eq!(origin, &format!("{}/api/v1", openrouter.base))
        }
        other => panic!("the live catalog is used, not {other:?}"),
    }
    for a in d.agents() {
        assert_fits_role(&a, &cat);
    }
    let recs = d.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].ollama_detected, "the row records Ollama");
    assert!(recs[0].faster_whisper_detected);

    // The real Hermes reads the routing from config.yaml.
    let local = format!("{}/v1", ollama.base);
    for slot in onboarding::LOCAL_SLOTS {
        let base = hermes(
            &homes,
            &["config", "get", &format!("auxiliary.{slot}.base_url")],
        );
        assert!(base.contains(&local), "{slot}: {base}");
        let model = hermes(
            &homes,
            &["config", "get", &format!("auxiliary.{slot}.model")],
        );
        assert!(model.contains("qwen3:8b"), "{slot}: {model}");
    }
    let vision = hermes(&homes, &["config", "get", "auxiliary.vision.base_url"]);
    assert!(
        !vision.contains(&local),
        "vision stays on the provider: {vision}"
    );
    let stt = hermes(&homes, &["config", "get", "stt.provider"]);
    assert!(stt.contains("local"), "{stt}");
    // The profiles of the other default agents route the same slots.
    let pm = hermes(
        &homes,
        &[
            "-p",
            "pm",
            "config",
            "get",
            "auxiliary.compression.base_url",
        ],
    );
    assert!(pm.contains(&local), "{pm}");
}

#[test]
fn a_bad_key_fails_clearly_and_nothing_is_created() {
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    let out = nxr(&homes)
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["init", "--key", BAD_KEY])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the API key"), "{stderr}");
    assert!(stderr.contains("nothing was created"), "{stderr}");
    assert!(
        !stderr.contains(BAD_KEY),
        "the key is never echoed: {stderr}"
    );
    assert_eq!(openrouter.hits("/api/v1/key"), 1);
    let d = db(&homes);
    assert!(d.agents().is_empty());
    assert!(d.records().is_empty());
    assert!(!homes.hermes_home().join(".env").exists());
    assert!(!homes.hermes_home().join("profiles").exists());

    // `config set` refuses it the same way and keeps the file as it was.
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(homes.hermes_home().join(".env"), "OTHER=1\n").unwrap();
    let out = nxr(&homes)
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["config", "set", "openrouter-key", BAD_KEY])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the API key"));
    assert_eq!(
        std::fs::read_to_string(homes.hermes_home().join(".env")).unwrap(),
        "OTHER=1\n"
    );
}

#[test]
fn a_good_key_is_validated_and_stored_0600_and_shown_masked() {
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let env_file = homes.hermes_home().join(".env");
    std::fs::write(&env_file, "# mine\nTELEGRAM_BOT_TOKEN=abc\n").unwrap();
    let mut c = nxr(&homes);
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["init", "--key", GOOD_KEY]);
    let out = run_ok(c);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(GOOD_KEY),
        "never printed in full: {stdout}"
    );
    assert!(stdout.contains("sk-or-…cdef"), "{stdout}");
    let seen = openrouter.seen();
    let key_req = seen.iter().find(|s| s.path == "/api/v1/key").unwrap();
    assert!(
        key_req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == &format!("Bearer {GOOD_KEY}"))
    );

    let text = std::fs::read_to_string(&env_file).unwrap();
    assert_eq!(
        text,
        format!("# mine\nTELEGRAM_BOT_TOKEN=abc\nOPENROUTER_API_KEY={GOOD_KEY}\n")
    );
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let d = db(&homes);
    assert_eq!(d.records()[0].mode, onboarding::Mode::Key);
    assert_eq!(d.agents().len(), 3);
    // The agents made after the key have it in their own profiles, and init says they can run.
    for p in ["pm", "engineer"] {
        let profile_env = homes.hermes_home().join("profiles").join(p).join(".env");
        assert_eq!(
            std::fs::read_to_string(&profile_env).unwrap(),
            format!("OPENROUTER_API_KEY={GOOD_KEY}\n"),
            "{p}"
        );
    }
    assert!(
        stdout.contains("Ready to run now: PM, Engineer, Hermes."),
        "{stdout}"
    );

    // config get shows it masked; config set replaces it in place.
    let mut c = nxr(&homes);
    c.args(["config", "get", "openrouter-key"]);
    let got = String::from_utf8_lossy(&run_ok(c).stdout).to_string();
    assert!(
        got.contains("sk-or-…cdef") && !got.contains(GOOD_KEY),
        "{got}"
    );
    let newer = "sk-or-v1-99999999999999999999999999991234";
    let mut c = nxr(&homes);
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["config", "set", "openrouter-key", newer]);
    let set = String::from_utf8_lossy(&run_ok(c).stdout).to_string();
    assert!(set.contains("sk-or-…1234") && !set.contains(newer), "{set}");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        format!("# mine\nTELEGRAM_BOT_TOKEN=abc\nOPENROUTER_API_KEY={newer}\n")
    );
}

#[test]
fn init_twice_and_reset_never_create_an_agent_twice() {
    let homes = Homes::new();
    // No flag and no TTY (stdin is not a terminal here): free, without asking.
    let mut c = nxr(&homes);
    c.arg("init").stdin(std::process::Stdio::null());
    let out = run_ok(c);
    assert!(String::from_utf8_lossy(&out.stdout).contains("free models only"));
    assert_eq!(db(&homes).records()[0].mode, onboarding::Mode::Free);
    let first = default_agents(&db(&homes).agents());

    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    let out = run_ok(c);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already set up"), "{stdout}");
    let d = db(&homes);
    assert_eq!(default_agents(&d.agents()), first);
    assert_eq!(d.records().len(), 1);
    drop(d);

    // --reset needs a confirmation; without a TTY that is -y.
    let out = nxr(&homes).args(["init", "--reset"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("-y"));
    assert_eq!(db(&homes).records().len(), 1);

    let mut c = nxr(&homes);
    c.args(["init", "--reset", "-y", "--free"]);
    let out = run_ok(c);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("already there, kept"), "{stdout}");
    let d = db(&homes);
    assert_eq!(d.agents().len(), 3);
    assert_eq!(default_agents(&d.agents()), first);
    let recs = d.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].completed_at.is_some());
}

// ---------------------------------------------------------------------------------------------------------
// /setup over HTTP
// ---------------------------------------------------------------------------------------------------------

struct Web {
    rt: tokio::runtime::Runtime,
    server: nxr::web::server::ServerHandle,
    client: reqwest::Client,
}

impl Web {
    fn start(homes: &Homes) -> Web {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut env = homes.env();
        env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
        env.ollama_url = "http://127.0.0.1:9".into();
        env.hermes_bin = common::hermes_bin().display().to_string();
        let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
        let server =
            nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false)
                .unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Web { rt, server, client }
    }

    fn cookie(&self) -> String {
        format!("{}={}", self.server.cookie_name(), self.server.token)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.rt.block_on(async {
            let r = self
                .client
                .get(format!("{}{path}", self.server.base_url()))
                .header("Cookie", self.cookie())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    }

    /// A form POST as a browser sends it: cookie + CSRF field.
    fn post(&self, path: &str, fields: &[(&str, &str)], with_csrf: bool) -> (u16, String) {
        let csrf = self.server.csrf_token();
        let mut pairs: Vec<(&str, &str)> = fields.to_vec();
        if with_csrf {
            pairs.push(("csrf", &csrf));
        }
        let body: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&");
        self.rt.block_on(async {
            let r = self
                .client
                .post(format!("{}{path}", self.server.base_url()))
                .header("Cookie", self.cookie())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (r.status().as_u16(), loc.unwrap_or(r.text().await.unwrap()))
        })
    }
}

#[test]
fn setup_wizard_over_http_then_cli_creates_no_duplicates() {
    let homes = Homes::new();
    let web = Web::start(&homes);
    let (status, page) = web.get("/setup");
    assert_eq!(status, 200);
    assert!(page.contains("step-key"), "{page}");
    assert!(
        page.contains(&web.server.csrf_token()),
        "forms carry the CSRF token"
    );

    // Without the CSRF token: 403 and nothing changes.
    let (status, _) = web.post("/setup/key", &[("mode", "free")], false);
    assert_eq!(status, 403);
    assert!(db(&homes).records().is_empty());
    // Out of order: 409, nothing created.
    let (status, _) = web.post("/setup/agents", &[], true);
    assert_eq!(status, 409);
    assert!(db(&homes).agents().is_empty());
    // GET on a form target: 405.
    assert_eq!(web.get("/setup/key").0, 405);

    for (path, fields) in [
        ("/setup/key", vec![("mode", "free")]),
        ("/setup/detect", vec![]),
        ("/setup/catalog", vec![]),
        ("/setup/agents", vec![]),
        ("/setup/finish", vec![]),
    ] {
        let (status, loc) = web.post(path, &fields, true);
        assert_eq!((status, loc.as_str()), (303, "/setup"), "{path}");
    }
    let (_, page) = web.get("/setup");
    assert!(page.contains("nxr is set up"), "{page}");
    assert!(page.contains("20 requests per minute"));
    let after_web = default_agents(&db(&homes).agents());
    assert_eq!(after_web.len(), 3);

    // The CLI now sees the completed record and creates nothing.
    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    let out = run_ok(c);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already set up"));
    let d = db(&homes);
    assert_eq!(d.agents().len(), 3);
    assert_eq!(default_agents(&d.agents()), after_web);
    let recs = d.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].completed_at.is_some());

    // And posting a step again on the web creates nothing either.
    let (status, _) = web.post("/setup/agents", &[], true);
    assert_eq!(status, 303);
    assert_eq!(db(&homes).agents().len(), 3);

    // Start over needs the confirmation box.
    let (status, _) = web.post("/setup/reset", &[], true);
    assert_eq!(status, 400);
    assert_eq!(db(&homes).records().len(), 1);
}

#[test]
fn cli_then_web_same_state_and_bad_key_on_the_web_stores_nothing() {
    let homes = Homes::new();
    // A bad key on the web: clear message, nothing stored.
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut env = homes.env();
        env.openrouter_url = format!("{}/api/v1", openrouter.base);
        let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
        let server =
            nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false)
                .unwrap();
        let web = Web {
            rt,
            server,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let (status, page) = web.post("/setup/key", &[("mode", "key"), ("key", BAD_KEY)], true);
        assert_eq!(status, 400);
        assert!(page.contains("refused the API key"), "{page}");
        assert!(!page.contains(BAD_KEY));
        assert!(db(&homes).records().is_empty());
        assert!(!homes.hermes_home().join(".env").exists());
    }

    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    run_ok(c);
    let after_cli = default_agents(&db(&homes).agents());
    let web = Web::start(&homes);
    let (status, page) = web.get("/setup");
    assert_eq!(status, 200);
    assert!(page.contains("nxr is set up"));
    for (name, _, model) in &after_cli {
        assert!(page.contains(name.as_str()) && page.contains(model.as_str()));
    }
    let (status, _) = web.post("/setup/key", &[("mode", "free")], true);
    assert_eq!(status, 303);
    let d = db(&homes);
    assert_eq!(default_agents(&d.agents()), after_cli);
    assert_eq!(d.records().len(), 1);
}

// ---------------------------------------------------------------------------------------------------------
// On a terminal (tmux gives `nxr init` a real TTY)
// ---------------------------------------------------------------------------------------------------------

/// A tmux server on its own socket, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

/// Runs `nxr init` (plus `extra` env) in a tmux pane; stdout/stderr/exit code go to files in the home dir.
fn init_on_a_tty(homes: &Homes, tag: &str, extra: &[(&str, String)]) -> (Tmux, std::path::PathBuf) {
    let dir = homes.dir.path().to_path_buf();
    let mut script = String::from("#!/bin/sh\nunset NXR_DB_URL NXR_DB_TOKEN\n");
    let mut vars = vec![
        ("NXR_HOME", homes.nxr_home().display().to_string()),
        ("HERMES_HOME", homes.hermes_home().display().to_string()),
        (
            "NXR_OPENROUTER_URL",
            "http://127.0.0.1:9/api/v1".to_string(),
        ),
        ("NXR_OLLAMA_URL", "http://127.0.0.1:9".to_string()),
        ("NXR_FASTER_WHISPER_CMD", "false".to_string()),
        ("NO_COLOR", "1".to_string()),
    ];
    vars.extend(extra.iter().cloned());
    for (k, v) in vars {
        script.push_str(&format!("export {k}='{v}'\n"));
    }
    script.push_str(&format!(
        "'{}' init > '{d}/out.txt' 2> '{d}/err.txt'\necho $? > '{d}/rc.tmp' && mv '{d}/rc.tmp' '{d}/rc.txt'\nsleep 60\n",
        env!("CARGO_BIN_EXE_nxr"),
        d = dir.display()
    ));
    std::fs::write(dir.join("run.sh"), script).unwrap();
    let tmux = Tmux {
        socket: format!("nxr-test-{tag}-{}", std::process::id()),
    };
    let out = tmux
        .cmd()
        .args([
            "new-session",
            "-d",
            "-s",
            "init",
            "-x",
            "200",
            "-y",
            "50",
            "sh",
        ])
        .arg(dir.join("run.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = dir.join("err.txt");
    common::wait_until("the key prompt", std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(&err).is_ok_and(|s| s.contains("press Enter"))
    });
    (tmux, dir)
}

fn wait_rc(dir: &std::path::Path) -> i32 {
    let rc = dir.join("rc.txt");
    common::wait_until(
        "nxr init to exit",
        std::time::Duration::from_secs(60),
        || rc.exists(),
    );
    std::fs::read_to_string(rc).unwrap().trim().parse().unwrap()
}

#[test]
fn on_a_terminal_init_asks_once_and_enter_means_free() {
    let homes = Homes::new();
    let (tmux, dir) = init_on_a_tty(&homes, "enter", &[]);
    tmux.cmd()
        .args(["send-keys", "-t", "init", "Enter"])
        .output()
        .unwrap();
    assert_eq!(
        wait_rc(&dir),
        0,
        "{}",
        std::fs::read_to_string(dir.join("err.txt")).unwrap()
    );
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    let err = std::fs::read_to_string(dir.join("err.txt")).unwrap();
    assert_eq!(
        err.matches("OpenRouter key (").count(),
        1,
        "asked once: {err}"
    );
    assert!(out.contains("free models only"), "{out}");
    let d = db(&homes);
    assert_eq!(d.records()[0].mode, onboarding::Mode::Free);
    assert_eq!(d.agents().len(), 3);
}

#[test]
fn on_a_terminal_a_typed_key_is_not_echoed_and_a_bad_one_creates_nothing() {
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    let (tmux, dir) = init_on_a_tty(
        &homes,
        "key",
        &[("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))],
    );
    tmux.cmd()
        .args(["send-keys", "-t", "init", "-l", BAD_KEY])
        .output()
        .unwrap();
    tmux.cmd()
        .args(["send-keys", "-t", "init", "Enter"])
        .output()
        .unwrap();
    assert_ne!(wait_rc(&dir), 0);
    let err = std::fs::read_to_string(dir.join("err.txt")).unwrap();
    assert!(err.contains("refused the API key"), "{err}");
    assert!(!err.contains(BAD_KEY), "{err}");
    let pane = tmux
        .cmd()
        .args(["capture-pane", "-p", "-t", "init"])
        .output()
        .unwrap();
    let pane = String::from_utf8_lossy(&pane.stdout);
    assert!(
        !pane.contains(BAD_KEY),
        "the terminal did not echo the key: {pane}"
    );
    assert_eq!(openrouter.hits("/api/v1/key"), 1);
    let d = db(&homes);
    assert!(d.agents().is_empty());
    assert!(d.records().is_empty());
}

#[test]
fn a_broken_hermes_config_stops_init_with_nothing_half_done() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let config = homes.hermes_home().join("config.yaml");
    let broken = "model:\n  default: x\n  provider: [unclosed\n";
    std::fs::write(&config, broken).unwrap();
    let out = nxr(&homes).args(["init", "--free"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config.yaml") && stderr.contains("line"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
    let d = db(&homes);
    assert!(d.agents().is_empty(), "no agent half-created");
    assert!(d.records().iter().all(|r| r.completed_at.is_none()));
    assert!(!homes.hermes_home().join("profiles").exists());
    drop(d);

    // Fixed, the next run completes and leaves one record.
    std::fs::write(&config, "# mine\nmodel:\n  default: x\n").unwrap();
    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    run_ok(c);
    let d = db(&homes);
    assert_eq!(d.agents().len(), 3);
    let recs = d.records();
    assert_eq!(recs.len(), 1);
    assert!(recs[0].completed_at.is_some());
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .starts_with("# mine\n")
    );
}

#[test]
fn a_good_key_on_the_web_is_stored_0600_and_shown_masked() {
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    openrouter.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut env = homes.env();
    env.openrouter_url = format!("{}/api/v1", openrouter.base);
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let server =
        nxr::web::server::start(env, store, rt.handle().clone(), "127.0.0.1", 0, false).unwrap();
    let web = Web {
        rt,
        server,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    let (status, loc) = web.post("/setup/key", &[("mode", "key"), ("key", GOOD_KEY)], true);
    assert_eq!((status, loc.as_str()), (303, "/setup"));
    let env_file = homes.hermes_home().join(".env");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        format!("OPENROUTER_API_KEY={GOOD_KEY}\n")
    );
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    for path in [
        "/setup/detect",
        "/setup/catalog",
        "/setup/agents",
        "/setup/finish",
    ] {
        assert_eq!(web.post(path, &[], true).0, 303, "{path}");
    }
    let (_, page) = web.get("/setup");
    assert!(page.contains("sk-or-…cdef"), "{page}");
    assert!(!page.contains(GOOD_KEY));
    let d = db(&homes);
    assert_eq!(d.records()[0].mode, onboarding::Mode::Key);
    assert_eq!(d.agents().len(), 3);
}

// ---------------------------------------------------------------------------------------------------------
// QA findings
// ---------------------------------------------------------------------------------------------------------

#[test]
fn concurrent_inits_leave_one_completed_record_and_three_agents() {
    let homes = Homes::new();
    // The database exists before the race (as after any first command), so the runs race on setup only.
    drop(db(&homes));
    let children: Vec<_> = (0..4)
        .map(|_| {
            nxr(&homes)
                .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
                .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
                .args(["init", "--free"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "every run ends set up:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let d = db(&homes);
    let recs = d.records();
    assert_eq!(recs.len(), 1, "one onboarding record: {recs:#?}");
    assert!(recs[0].completed_at.is_some(), "{recs:#?}");
    assert_eq!(recs[0].steps_completed, onboarding::STEPS);
    assert_eq!(default_agents(&d.agents()).len(), 3);
}

#[test]
fn a_crashed_run_leaves_no_stale_record_behind() {
    let homes = Homes::new();
    let d = db(&homes);
    // Two unfinished records, as a crashed run of an older nxr could leave them.
    for _ in 0..2 {
        d.rt.block_on(d.store.conn().execute(
            "INSERT INTO onboarding (mode, started_at, steps_completed) VALUES ('free', '2026-05-01T00:00:00Z', '[\"key\"]')",
            (),
        ))
        .unwrap();
    }
    drop(d);
    let mut c = nxr(&homes);
    c.args(["init", "--free"]);
    run_ok(c);
    let recs = db(&homes).records();
    assert_eq!(recs.len(), 1, "{recs:#?}");
    assert!(recs[0].completed_at.is_some());
}

#[test]
fn setup_key_without_a_valid_mode_is_400_and_changes_nothing() {
    let homes = Homes::new();
    let web = Web::start(&homes);
    for (fields, names) in [
        (
            vec![("choice", "key"), ("key", GOOD_KEY)],
            "no `mode` field",
        ),
        (vec![("mode", "%00")], "`mode` is \"\\0\""),
        (vec![("mode", "premium")], "`mode` is \"premium\""),
        (vec![("mode", "")], "`mode` is \"\""),
    ] {
        let (status, page) = web.post("/setup/key", &fields, true);
        assert_eq!(status, 400, "{fields:?}: {page}");
        let text = page.replace("&quot;", "\"");
        assert!(text.contains(names), "{fields:?}: {page}");
        assert!(
            page.contains("mode=free") && page.contains("mode=key"),
            "{page}"
        );
        assert!(page.contains("nothing was changed"), "{page}");
        assert!(!page.contains(GOOD_KEY));
        assert!(db(&homes).records().is_empty(), "{fields:?}");
        assert!(!homes.hermes_home().join(".env").exists());
    }
    // The valid choice still works.
    let (status, _) = web.post("/setup/key", &[("mode", "free")], true);
    assert_eq!(status, 303);
    assert_eq!(db(&homes).records().len(), 1);
}

#[test]
fn config_set_offline_says_what_failed_without_pointing_at_init() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let env_file = homes.hermes_home().join(".env");
    std::fs::write(&env_file, "OTHER=1\n").unwrap();
    let out = nxr(&homes)
        .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
        .args(["config", "set", "openrouter-key", GOOD_KEY])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach OpenRouter to validate the key at http://127.0.0.1:9/api/v1"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(stderr.contains("again when online"), "{stderr}");
    assert!(!stderr.contains("nxr init"), "not init's advice: {stderr}");
    assert!(!stderr.contains(GOOD_KEY), "{stderr}");
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), "OTHER=1\n");
}

#[test]
fn a_key_whose_free_model_limit_openrouter_reports_sets_the_budget_limit() {
    use nxr::domain::budget;
    let homes = Homes::new();
    let openrouter = FakeServer::start();
    // The recorded free-tier answer, with the limit OpenRouter gives after a 10-credit purchase.
    let body = common::fixture("openrouter/key_free_tier.json")
        .replace("\"limit\": 50", "\"limit\": 1000")
        .replace("\"remaining\": 38", "\"remaining\": 988");
    assert!(body.contains("\"limit\": 1000"), "fixture shape changed");
    openrouter.always("/api/v1/key", Reply::json(200, body));
    let limit = |homes: &Homes| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = Store::open(&homes.env()).await.unwrap();
            budget::daily_limit(&store).await.unwrap()
        })
    };
    assert_eq!(limit(&homes), 50, "no key yet: the free tier's 50 a day");
    let mut c = nxr(&homes);
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["config", "set", "openrouter-key", GOOD_KEY]);
    run_ok(c);
    assert_eq!(limit(&homes), 1000);

    // init --key records it too (fresh homes).
    let homes = Homes::new();
    let mut c = nxr(&homes);
    c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", openrouter.base))
        .args(["init", "--key", GOOD_KEY]);
    run_ok(c);
    assert_eq!(limit(&homes), 1000);
}

#[test]
fn init_stores_the_scores_it_used_and_a_paid_model_is_never_upgraded_to_its_free_variant() {
    let homes = Homes::new();
    run_ok({
        let mut c = nxr(&homes);
        c.args(["init", "--free"]);
        c
    });
    // The first rescore compares with the scores init picked the agents by.
    let out = run_ok({
        let mut c = nxr(&homes);
        c.args(["agents", "rescore"]);
        c
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("no agent's recommendation changed since the last rescore"),
        "{text}"
    );
    assert!(!text.contains("(none)"), "{text}");

    // PM on the paid variant of its free model: the free variant is not an "upgrade".
    let free = homes.json(&["agents", "list"])[0]["model"]
        .as_str()
        .unwrap()
        .to_string();
    let paid = free
        .strip_suffix(":free")
        .expect("a free model")
        .to_string();
    run_ok({
        let mut c = nxr(&homes);
        c.args(["slots", "set", "main", &paid, "--agent", "PM"]);
        c
    });
    let recs = homes.json(&["agents", "recommend"]);
    let pm = recs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "PM")
        .unwrap();
    assert_eq!(pm["current_model"], paid.as_str());
    assert_eq!(pm["recommended_model"], free.as_str(), "{pm}");
    assert_eq!(pm["upgrade_available"], false, "{pm}");
    let out = run_ok({
        let mut c = nxr(&homes);
        c.args(["agents", "recommend"]);
        c
    });
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("PM ")).unwrap_or("");
    assert!(!line.contains("upgrade available"), "{text}");
}
