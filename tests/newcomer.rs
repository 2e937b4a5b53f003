//! What a new user (or a hostile one) meets on an ordinary bad day, through the real `nxr` binary: an
//! unwritable log, a crash that left a half-made agent, models without prices, a server that never
//! answers, a dangling symlink, no free model, another application's database, a root model the user
//! chose, hostile model ids and names, a read-only database. OpenRouter, Ollama and libSQL servers are
//! fakes on 127.0.0.1 (or sockets that never answer); Hermes is the real CLI.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn nxr(homes: &Homes) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_HERMES_BIN", common::hermes_bin())
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    c
}

/// Runs a command to its end: (exit code, stdout, stderr).
fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("run nxr");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_ok(c: &mut Command) -> String {
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{c:?} failed\nstdout:\n{out}\nstderr:\n{err}");
    out
}

/// Runs a command that must end by itself within `limit` (killed and failed otherwise).
fn run_bounded(c: &mut Command, limit: Duration) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nxr");
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{c:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}

fn agents_json(homes: &Homes) -> Vec<Value> {
    let out = run_ok(nxr(homes).args(["agents", "list", "--json"]));
    serde_json::from_str::<Value>(&out)
        .expect("agents json")
        .as_array()
        .expect("array")
        .clone()
}

fn hermes(homes: &Homes, args: &[&str]) -> String {
    let out = Command::new(common::hermes_bin())
        .env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("hermes");
    assert!(
        out.status.success(),
        "hermes {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs SQL on the local database file directly (as a user with the sqlite3 shell would).
fn sql(db: &Path, statements: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let d = libsql::Builder::new_local(db).build().await.expect("open");
        let c = d.connect().expect("connect");
        c.execute_batch(statements).await.expect("sql");
    });
}

/// One catalog entry in OpenRouter's shape.
fn model(id: &str, pricing: Option<Value>, context: u64, tools: bool) -> Value {
    let mut m = json!({
        "id": id,
        "name": id,
        "created": 1_770_000_000,
        "context_length": context,
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        "supported_parameters": if tools { json!(["tools", "tool_choice", "max_tokens"]) } else { json!(["max_tokens"]) },
    });
    if let Some(p) = pricing {
        m["pricing"] = p;
    }
    m
}

fn paid() -> Option<Value> {
    Some(json!({"prompt": "0.000003", "completion": "0.000015"}))
}

fn free() -> Option<Value> {
    Some(json!({"prompt": "0", "completion": "0"}))
}

fn openrouter_with(models: Vec<Value>) -> FakeServer {
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(200, json!({ "data": models }).to_string()),
    );
    server
}

fn api(server: &FakeServer) -> String {
    format!("{}/api/v1", server.base)
}

// ---------------------------------------------------------------------------------------------------------
// 1. logging
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_log_file_that_cannot_be_opened_never_stops_a_command() {
    let homes = Homes::new();
    run_ok(nxr(&homes).args(["db", "status"]));
    let log = homes.nxr_home().join("logs/nxr.log");
    std::fs::remove_file(&log).expect("the log was written");
    std::fs::create_dir(&log).expect("a directory in its place");
    let (code, out, err) = run(nxr(&homes).args(["agents", "list"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("no agents yet"), "{out}");
    assert!(!err.contains("panicked"), "{err}");
    // Asked for logs: said once, on stderr.
    let (code, _, err) = run(nxr(&homes).env("RUST_LOG", "info").args(["agents", "list"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("not logging to").count(), 1, "{err}");
    assert!(err.contains("nxr.log"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------
// 2. an agent change interrupted half-way; agents delete
// ---------------------------------------------------------------------------------------------------------

#[test]
fn init_adopts_profiles_an_interrupted_change_left_and_removes_staging_dirs() {
    let homes = Homes::new();
    run_ok(nxr(&homes).args(["init", "--free"]));
    // As a crash between placing the profile and committing the row leaves it (reproduced without
    // timing), plus a staging dir of a create that was killed while building.
    sql(
        &homes.nxr_home().join("hermes_tracking.db"),
        "DELETE FROM agent_model_history WHERE agent_id IN (SELECT id FROM agents WHERE name IN ('Engineer','Hermes'));
         DELETE FROM agents WHERE name IN ('Engineer','Hermes'); DELETE FROM onboarding;",
    );
    let staging = homes.hermes_home().join("profiles/.nxr-tmp-killed");
    std::fs::create_dir_all(staging.join("skills")).unwrap();
    std::fs::write(staging.join("SOUL.md"), "half").unwrap();
    let user_file = homes.hermes_home().join("profiles/engineer/notes.txt");
    std::fs::write(&user_file, "mine").unwrap();

    let out = run_ok(nxr(&homes).args(["init", "--free"]));
    assert!(out.contains("adopted the profile directory"), "{out}");
    assert!(out.contains("profiles/engineer"), "{out}");
    let agents = agents_json(&homes);
    assert_eq!(agents.len(), 3, "{agents:#?}");
    assert!(!staging.exists(), "the leftover staging dir is removed");
    assert_eq!(std::fs::read_to_string(&user_file).unwrap(), "mine");
    let eng = agents.iter().find(|a| a["name"] == "Engineer").unwrap();
    assert_eq!(
        hermes(
            &homes,
            &["-p", "engineer", "config", "get", "model.default"]
        ),
        eng["model"].as_str().unwrap()
    );
    // The same through `agents create`.
    sql(
        &homes.nxr_home().join("hermes_tracking.db"),
        "DELETE FROM agent_model_history WHERE agent_id IN (SELECT id FROM agents WHERE name = 'PM');
         DELETE FROM agents WHERE name = 'PM';",
    );
    let (code, _, err) =
        run(nxr(&homes).args(["agents", "create", "--role", "pm", "--name", "PM"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("adopted the profile directory"), "{err}");
}

#[test]
fn agents_delete_confirms_and_moves_the_profile_to_a_dated_backup() {
    let homes = Homes::new();
    run_ok(nxr(&homes).args(["init", "--free"]));
    let profile = homes.hermes_home().join("profiles/engineer");
    // Not on a terminal and no --yes: refused, nothing changed.
    let (code, _, err) = run(nxr(&homes).args(["agents", "delete", "Engineer"]));
    assert_ne!(code, 0);
    assert!(err.contains("--yes"), "{err}");
    assert!(profile.is_dir());
    assert_eq!(agents_json(&homes).len(), 3);

    let out = run_ok(nxr(&homes).args(["agents", "delete", "Engineer", "--yes"]));
    assert!(!profile.exists());
    let backups: Vec<_> = std::fs::read_dir(homes.hermes_home().join(".nxr-backups/profiles"))
        .expect("backup dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(backups[0].join("SOUL.md").is_file());
    let name = backups[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("engineer-20"), "{name}");
    assert!(out.contains(&name), "{out}");
    assert_eq!(agents_json(&homes).len(), 2);
    assert!(!hermes(&homes, &["profile", "list"]).contains("engineer"));

    // --keep-profile leaves the directory; a later create of the same agent adopts it.
    run_ok(nxr(&homes).args(["agents", "delete", "PM", "--yes", "--keep-profile"]));
    assert!(
        homes
            .hermes_home()
            .join("profiles/pm/config.yaml")
            .is_file()
    );
    let (code, _, err) =
        run(nxr(&homes).args(["agents", "create", "--role", "pm", "--name", "PM"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(agents_json(&homes).len(), 2);
}

// ---------------------------------------------------------------------------------------------------------
// 3. prices
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_model_without_prices_is_price_unknown_and_never_a_free_pick() {
    let homes = Homes::new();
    let server = openrouter_with(vec![
        model("google/gemini-2.5-flash", None, 1_000_000, true),
        model(
            "acme/blank-price-405b",
            Some(json!({"prompt": "", "completion": ""})),
            500_000,
            true,
        ),
        model("openrouter/free", free(), 200_000, true),
    ]);
    let out = run_ok(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", api(&server))
            .args(["init", "--free"]),
    );
    for a in agents_json(&homes) {
        assert_eq!(a["model"], "openrouter/free", "{out}");
    }
    let listed = run_ok(nxr(&homes).args(["models", "list", "--free", "--json"]));
    assert!(!listed.contains("gemini-2.5-flash"), "{listed}");
    assert!(!listed.contains("blank-price"), "{listed}");
    let listed = run_ok(nxr(&homes).args(["models", "list"]));
    let line = listed
        .lines()
        .find(|l| l.contains("google/gemini-2.5-flash"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("price unknown"), "{line}");
}

// ---------------------------------------------------------------------------------------------------------
// 4. a libSQL server that never answers
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_database_server_that_never_answers_gives_an_error_naming_it() {
    let homes = Homes::new();
    // Accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let (code, _, err, _) = run_bounded(
        nxr(&homes).env("NXR_DB_URL", &url).args(["db", "status"]),
        Duration::from_secs(60),
    );
    assert_ne!(code, 0);
    assert!(err.contains(&url), "{err}");
    assert!(err.contains("no answer"), "{err}");
    drop(silent);
}

// ---------------------------------------------------------------------------------------------------------
// 5. a dangling symlink at config.yaml
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_dangling_config_symlink_is_an_error_and_stays() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let link = homes.hermes_home().join("config.yaml");
    std::os::unix::fs::symlink("/missing/file", &link).unwrap();
    let (code, out, err) = run(nxr(&homes).args(["init", "--free"]));
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("config.yaml") && err.contains("/missing/file"),
        "{err}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the user's link is kept"
    );
    assert!(
        !homes.hermes_home().join("profiles").exists(),
        "nothing written"
    );
    assert!(agents_json(&homes).is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// 6. the fallback chain
// ---------------------------------------------------------------------------------------------------------

#[test]
fn with_no_free_model_no_router_and_no_ollama_no_agent_is_put_on_a_dead_endpoint() {
    let homes = Homes::new();
    let server = openrouter_with(vec![
        model("acme/paid-large", paid(), 400_000, true),
        model("acme/free-tiny:free", free(), 4_000, false),
    ]);
    let (code, out, err) = run(nxr(&homes)
        .env("NXR_OPENROUTER_URL", api(&server))
        .args(["init", "--free"]));
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("no model nxr can reach"), "{err}");
    assert!(err.contains("ollama pull"), "{err}");
    for a in agents_json(&homes) {
        assert_ne!(a["provider"], "ollama", "{a}");
    }
}

#[test]
fn agents_on_a_fallback_are_named_with_the_reason() {
    // The router when the catalog offers it.
    let homes = Homes::new();
    let server = openrouter_with(vec![
        model("acme/paid-large", paid(), 400_000, true),
        model("openrouter/free", free(), 200_000, true),
    ]);
    let out = run_ok(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", api(&server))
            .args(["init", "--free"]),
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("[4/5] agent")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in lines {
        assert!(
            l.contains("openrouter/free") && l.contains("fallback"),
            "{l}"
        );
    }
    // A local model only when Ollama answered with one.
    let homes = Homes::new();
    let server = openrouter_with(vec![model("acme/paid-large", paid(), 400_000, true)]);
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(
            200,
            r#"{"models":[{"name":"qwen2.5:14b","model":"qwen2.5:14b"}]}"#,
        ),
    );
    let out = run_ok(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", api(&server))
            .env("NXR_OLLAMA_URL", &ollama.base)
            .args(["init", "--free"]),
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("[4/5] agent")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in lines {
        assert!(l.contains("qwen2.5:14b") && l.contains("fallback"), "{l}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 7. another application's database
// ---------------------------------------------------------------------------------------------------------

#[test]
fn another_applications_database_is_refused_untouched() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.nxr_home()).unwrap();
    let db = homes.nxr_home().join("hermes_tracking.db");
    sql(
        &db,
        "CREATE TABLE agents(x); INSERT INTO agents VALUES (1);",
    );
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["agents", "list"][..],
        &["db", "status"],
        &["init", "--free"],
    ] {
        let (code, out, err) = run(nxr(&homes).args(args));
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains("not an nxr database"), "{args:?}: {err}");
        assert!(err.contains("agents"), "{err}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file is untouched");
    assert!(!homes.hermes_home().join("profiles").exists());
}

// ---------------------------------------------------------------------------------------------------------
// 8. the user's own root model
// ---------------------------------------------------------------------------------------------------------

#[test]
fn init_says_it_replaces_the_users_root_model_keeps_a_backup_and_revert_restores_it() {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let config = homes.hermes_home().join("config.yaml");
    let mine = "# my setup\nmodel:\n  default: anthropic/claude-sonnet-4\n  provider: custom\n  base_url: http://10.0.0.5:8000/v1\nterminal:\n  backend: local\n";
    std::fs::write(&config, mine).unwrap();
    let out = run_ok(nxr(&homes).args(["init", "--free"]));
    assert!(out.contains("anthropic/claude-sonnet-4"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("backed up to"))
        .unwrap_or_else(|| panic!("{out}"));
    let backup = line
        .split("backed up to ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap()
        .trim()
        .to_string();
    assert!(backup.contains("config.yaml.nxr-backup-20"), "{backup}");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), mine);
    assert_ne!(
        hermes(&homes, &["config", "get", "model.default"]),
        "anthropic/claude-sonnet-4"
    );

    let out = run_ok(nxr(&homes).args(["agents", "revert", "Hermes"]));
    assert!(out.contains("anthropic/claude-sonnet-4"), "{out}");
    assert_eq!(
        hermes(&homes, &["config", "get", "model.default"]),
        "anthropic/claude-sonnet-4"
    );
    assert_eq!(
        hermes(&homes, &["config", "get", "model.base_url"]),
        "http://10.0.0.5:8000/v1"
    );
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(!after.contains("free_only"), "{after}");
    let h = agents_json(&homes)
        .into_iter()
        .find(|a| a["name"] == "Hermes")
        .unwrap();
    assert_eq!(h["model"], "anthropic/claude-sonnet-4");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("# my setup")
    );
    // An agent nxr replaced nothing for: a clear refusal.
    let (code, _, err) = run(nxr(&homes).args(["agents", "revert", "PM"]));
    assert_ne!(code, 0);
    assert!(err.contains("nothing to go back to"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------
// 9. one model-id rule
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_catalog_id_that_model_would_refuse_is_skipped_and_counted_at_refresh() {
    let homes = Homes::new();
    let evil = "evil/<script>alert(1)</script>-999b:free";
    let server = openrouter_with(vec![
        model(evil, free(), 1_000_000, true),
        model(
            "meta-llama/llama-3.3-70b-instruct:free",
            free(),
            131_072,
            true,
        ),
        model("openrouter/free", free(), 200_000, true),
    ]);
    let out = run_ok(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", api(&server))
            .args(["catalog", "refresh"]),
    );
    assert!(out.contains("stored 2 models"), "{out}");
    assert!(out.contains("1 unusable entry skipped"), "{out}");
    let (code, _, err) = run(nxr(&homes).args([
        "agents", "create", "--role", "engineer", "--name", "e", "--model", evil,
    ]));
    assert_ne!(code, 0);
    assert!(err.contains("invalid model id"), "{err}");
    run_ok(nxr(&homes).args(["agents", "create", "--role", "engineer", "--name", "e"]));
    for a in agents_json(&homes) {
        assert!(!a["model"].as_str().unwrap().contains("script"), "{a}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 10. papercuts
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_refresh_against_a_server_that_never_answers_says_its_real_time_and_stays_bounded() {
    let homes = Homes::new();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/api/v1",
        silent.local_addr().unwrap().port()
    );
    let (code, _, err, took) = run_bounded(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", &url)
            .args(["catalog", "refresh"]),
        Duration::from_secs(60),
    );
    assert_ne!(code, 0);
    // The time the message states is the time it took.
    let said: f64 = err
        .split("no answer within ")
        .nth(1)
        .and_then(|r| r.split(" s").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    let took = took.as_secs_f64();
    assert!(
        said <= took && took - said < 5.0,
        "said {said} s, took {took} s: {err}"
    );
    assert!(took < 40.0, "the whole refresh stays near 30 s: {took} s");
    drop(silent);
}

#[test]
fn an_http_500_is_reported_as_an_answer_not_as_unreachable() {
    let homes = Homes::new();
    let server = FakeServer::start();
    server.always(
        "/api/v1/models",
        Reply::json(
            500,
            r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
        ),
    );
    let (code, _, err) = run(nxr(&homes)
        .env("NXR_OPENROUTER_URL", api(&server))
        .args(["catalog", "refresh"]));
    assert_ne!(code, 0);
    assert!(err.contains("answered HTTP 500"), "{err}");
    assert!(!err.contains("unreachable"), "{err}");
}

#[test]
fn init_key_on_an_installed_nxr_stores_the_key() {
    let homes = Homes::new();
    run_ok(nxr(&homes).args(["init", "--free"]));
    let server = FakeServer::start();
    server.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    let key = "sk-or-v1-0123456789abcdef0123456789abcdef";
    let out = run_ok(
        nxr(&homes)
            .env("NXR_OPENROUTER_URL", api(&server))
            .args(["init", "--key", key]),
    );
    assert!(out.contains("stored"), "{out}");
    assert!(!out.contains(key), "the key is never printed");
    let env = std::fs::read_to_string(homes.hermes_home().join(".env")).unwrap();
    assert!(env.contains(key));
    let shown = run_ok(nxr(&homes).args(["config", "get", "openrouter-key"]));
    assert!(shown.contains("cdef"), "{shown}");
}

/// `nxr` run as another user (nobody) when the tests run as root, for whom no file is read-only.
fn as_other_user(homes: &Homes, args: &[&str]) -> (i32, String, String) {
    let mut c = if unsafe_is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_nxr"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_nxr"))
    };
    c.env("NXR_HOME", homes.nxr_home())
        .env("HERMES_HOME", homes.hermes_home())
        .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
        .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .env_remove("NXR_DB_URL")
        .env_remove("RUST_LOG")
        .args(args);
    run(&mut c)
}

fn unsafe_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .is_some_and(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn a_read_only_database_still_answers_read_only_commands() {
    use std::os::unix::fs::PermissionsExt;
    let homes = Homes::new();
    run_ok(nxr(&homes).args(["init", "--free"]));
    // Readable, not writable, for the user running nxr (nobody when the tests run as root).
    for dir in [homes.dir.path(), &homes.nxr_home(), &homes.hermes_home()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for e in std::fs::read_dir(homes.nxr_home()).unwrap().flatten() {
        let mode = if e.path().is_dir() { 0o555 } else { 0o444 };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(homes.nxr_home(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let (code, out, err) = as_other_user(&homes, &["agents", "list", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v.as_array().unwrap().len(), 3);
    let (code, out, err) = as_other_user(&homes, &["db", "status"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, _, err) = as_other_user(&homes, &["models", "list", "--free"]);
    assert_eq!(code, 0, "{err}");
    // A change still fails, clearly.
    let (code, _, err) =
        as_other_user(&homes, &["agents", "create", "--role", "pm", "--name", "x"]);
    assert_ne!(code, 0);
    assert!(err.starts_with("error:"), "{err}");
    std::fs::set_permissions(homes.nxr_home(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn invisible_and_bidi_characters_are_refused_in_names_and_never_printed_raw() {
    let homes = Homes::new();
    for name in ["pm\u{200B}1", "evil\u{202E}gpj", "a\u{2066}b"] {
        let (code, out, err) =
            run(nxr(&homes).args(["agents", "create", "--role", "pm", "--name", name]));
        assert_ne!(code, 0, "{name:?}: {out}");
        assert!(
            err.contains("invisible or text-direction character U+"),
            "{err}"
        );
        let hidden = name.chars().find(|c| !c.is_ascii()).unwrap();
        assert!(!err.contains(hidden), "printed raw: {err:?}");
    }
    assert!(agents_json(&homes).is_empty());
    // A name an older nxr stored is shown escaped.
    run_ok(nxr(&homes).args(["agents", "create", "--role", "pm", "--name", "plain"]));
    sql(
        &homes.nxr_home().join("hermes_tracking.db"),
        "UPDATE agents SET name = 'pl' || char(8238) || 'ain' WHERE name = 'plain';",
    );
    let out = run_ok(nxr(&homes).args(["agents", "list"]));
    assert!(!out.contains('\u{202E}'), "{out:?}");
    assert!(out.contains("pl\\u{202e}ain"), "{out}");
}
