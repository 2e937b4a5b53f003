//! The hostile input corpus: every file under tests/corpus/<surface>/ (plus a few big bodies made at
//! test time and the HTTP faults below) goes through the command where a user meets it, against a
//! fake server on 127.0.0.1:0. Each case must end without a panic, with either a clear error (non-zero
//! exit, `error: …` on stderr, nothing lost: the database and the files byte-identical) or a success
//! that counts what it skipped and leaves readable state behind.

mod common;

use common::{FakeServer, Homes, Reply};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
const KEY_OK: &str =
    r#"{"data":{"label":"sk-or-v1-012...9ab","usage":0,"limit":null,"is_free_tier":true}}"#;

/// What one nxr run gave.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs nxr with a deadline; a run past it is killed (by its own pid) and reported.
fn run(cmd: &mut std::process::Command) -> Ran {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nxr");
    let (mut out, mut err) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let mut stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    if status.is_none() {
        stderr.push_str("\n[killed: still running after 60 s]");
    }
    Ran {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

type Check = Result<String, String>;

/// No panic, no hang, no crash by signal.
fn sane(r: &Ran) -> Result<(), String> {
    if r.code.is_none() || r.code == Some(101) || r.stderr.contains("panicked") {
        return Err(format!("crashed or hung: code {:?}\n{}", r.code, r.stderr));
    }
    Ok(())
}

/// A clear error: non-zero, `error: ` first on stderr, and no raw escape codes echoed from the input.
fn clear_error(r: &Ran) -> Result<(), String> {
    sane(r)?;
    if r.code == Some(0) {
        return Err("expected an error, got success".into());
    }
    if !r.stderr.starts_with("error: ") || r.stderr.trim().len() < 20 {
        return Err(format!("unclear error: {:?}", r.stderr));
    }
    no_terminal_injection(&r.stderr)
}

/// Input text never reaches the terminal as control sequences.
fn no_terminal_injection(text: &str) -> Result<(), String> {
    match text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        Some(c) => Err(format!("raw control character {c:?} in output: {text:?}")),
        None => Ok(()),
    }
}

/// Every table's rows, in rowid order: the database's logical content.
fn db_dump(nxr_home: &Path, tables: Option<&[&str]>) -> String {
    let path = nxr_home.join("hermes_tracking.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let db = libsql::Builder::new_local(&path)
            .build()
            .await
            .expect("open db");
        let conn = db.connect().expect("connect");
        let mut names = Vec::new();
        let mut rows = conn
            .query(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                (),
            )
            .await
            .expect("tables");
        while let Some(row) = rows.next().await.expect("row") {
            names.push(row.get::<String>(0).expect("name"));
        }
        let mut out = String::new();
        for name in names {
            if tables.is_some_and(|t| !t.contains(&name.as_str())) {
                continue;
            }
            out.push_str(&format!("## {name}\n"));
            let mut rows = conn
                .query(&format!("SELECT * FROM \"{name}\""), ())
                .await
                .expect("select");
            let mut lines = Vec::new();
            while let Some(row) = rows.next().await.expect("row") {
                let mut line = String::new();
                for i in 0..row.column_count() {
                    line.push_str(&format!("{:?}|", row.get_value(i).expect("value")));
                }
                lines.push(line);
            }
            lines.sort();
            out.push_str(&lines.join("\n"));
            out.push('\n');
        }
        out
    })
}

fn read_bytes(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

/// A fresh home whose DB holds the recorded 57-model catalog.
fn seeded(server: &FakeServer) -> Homes {
    let homes = Homes::new();
    server.always(
        "/api/v1/models",
        Reply::json(200, common::fixture("openrouter/models.json")),
    );
    let r = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .args(["catalog", "refresh"]));
    assert_eq!(r.code, Some(0), "seeding the catalog: {}", r.stderr);
    homes
}

/// What a (fake) Hermes printed, exiting 0 as hermes-agent 0.19.0 does when every API call
/// failed, goes through `nxr run --agent PM hi`: a file named `fail-…` must end in a clear error
/// naming the agent, `queued-…` in a queued task, `ok-…` in the answer on stdout. A name with
/// `usagefailed` also gets `{"failed": true}` in the usage report Hermes writes.
fn hermes_output_case(file: &str, bytes: Vec<u8>) -> Check {
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = rt
        .block_on(nxr::domain::store::Store::open(&env))
        .map_err(|e| e.to_string())?;
    let catalog = nxr::domain::catalog::parse_catalog(&common::fixture("openrouter/models.json"))
        .map_err(|e| e.to_string())?;
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &catalog,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .map_err(|e| e.to_string())?;
    rt.block_on(nxr::domain::agents::create(
        &store,
        &env,
        nxr::domain::agents::NewAgent {
            name: "PM".into(),
            role: nxr::domain::base::roles::Role::Pm,
            category: None,
            model: Some("meta-llama/llama-3.3-70b-instruct:free".into()),
            skills: None,
            is_default: true,
            host: None,
        },
    ))
    .map_err(|e| e.to_string())?;
    drop(store);
    let out_file = homes.dir.path().join("hermes-says.txt");
    std::fs::write(&out_file, &bytes).map_err(|e| e.to_string())?;
    let usage = if file.contains("usagefailed") {
        r#"{"failed": true, "completed": false, "api_calls": 1}"#
    } else {
        r#"{"failed": false, "completed": true, "api_calls": 1}"#
    };
    let script = homes.dir.path().join("fake-hermes");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --usage-file ]; then printf '%s' '{usage}' > \"$2\"; fi\n  shift\ndone\ncat '{}'\nexit 0\n",
            out_file.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    let r = run(homes
        .nxr()
        .env("NXR_HERMES_BIN", &script)
        .args(["run", "--agent", "PM", "hi"]));
    sane(&r)?;
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    if file.starts_with("ok-") {
        if r.code != Some(0) || !r.stdout.contains(&text) {
            return Err(format!("the answer was lost: {:?} {:?}", r.code, r.stderr));
        }
        return Ok("answered".into());
    }
    if file.starts_with("queued-") {
        if r.code != Some(0) || !r.stdout.contains("queued as task #1") {
            return Err(format!(
                "not queued: {:?} {} {}",
                r.code, r.stdout, r.stderr
            ));
        }
        return Ok("queued for the reset".into());
    }
    clear_error(&r)?;
    if !r.stderr.contains("PM did not answer") || !r.stderr.contains("fix: ") {
        return Err(format!("the error does not say what failed: {}", r.stderr));
    }
    Ok(first_line(&r.stderr))
}

/// `nxr catalog refresh` answered with `body` (or a scripted fault): an error keeps the stored
/// catalog byte for byte; a success stores something and every list surface still reads it.
fn models_case(reply: Reply) -> Check {
    let server = FakeServer::start();
    let homes = seeded(&server);
    let before = db_dump(&homes.nxr_home(), None);
    server.always("/api/v1/models", reply);
    let url = format!("{}/api/v1", server.base);
    let r = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", &url)
        .args(["catalog", "refresh", "--json"]));
    sane(&r)?;
    if r.code != Some(0) {
        clear_error(&r)?;
        if db_dump(&homes.nxr_home(), None) != before {
            return Err("the database changed on an error".into());
        }
        return Ok(first_line(&r.stderr));
    }
    let v: serde_json::Value =
        serde_json::from_str(&r.stdout).map_err(|e| format!("refresh --json: {e}"))?;
    let count = v["count"].as_u64().ok_or("no count")?;
    let skipped = v["skipped"].as_u64().ok_or("no skipped count")?;
    if count == 0 {
        return Err("a refresh stored an empty catalog over a good one".into());
    }
    for args in [
        &["models", "list", "--json"][..],
        &["models", "list"],
        &["models", "roster"],
        &["models", "best-free", "--role", "engineer"],
    ] {
        let l = run(homes.nxr().args(args));
        sane(&l)?;
        if l.code != Some(0) {
            return Err(format!("{args:?} after the refresh: {}", l.stderr));
        }
        no_terminal_injection(&l.stdout)?;
        // A price too large for a per-million figure reads "price unknown", never "$inf" (found by
        // fuzz/fuzz_targets/catalog_parse.rs on huge-prices.json).
        if l.stdout.contains("$inf") || l.stdout.contains("NaN") {
            return Err(format!("{args:?} printed a broken number:\n{}", l.stdout));
        }
        if args.contains(&"--json") {
            serde_json::from_str::<serde_json::Value>(&l.stdout)
                .map_err(|e| format!("models list --json: {e}"))?;
        }
    }
    Ok(format!("stored {count}, skipped {skipped} (counted)"))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(140).collect()
}

/// `nxr config set openrouter-key` answered with this `/key` reply: success stores the key (0600,
/// other lines kept); an error changes neither .env nor the database.
fn key_case(reply: Reply) -> Check {
    let server = FakeServer::start();
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).map_err(|e| e.to_string())?;
    let env_path = homes.hermes_home().join(".env");
    std::fs::write(&env_path, "# mine\nOTHER=keep\n").map_err(|e| e.to_string())?;
    let r = run(homes.nxr().args(["db", "migrate"]));
    sane(&r)?;
    let (db0, env0) = (db_dump(&homes.nxr_home(), None), read_bytes(&env_path));
    server.always("/api/v1/key", reply);
    let r = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .args(["config", "set", "openrouter-key", KEY]));
    sane(&r)?;
    if r.stdout.contains(KEY) || r.stderr.contains(KEY) {
        return Err("the full key was printed".into());
    }
    if r.code != Some(0) {
        clear_error(&r)?;
        if read_bytes(&env_path) != env0 || db_dump(&homes.nxr_home(), None) != db0 {
            return Err(".env or the database changed on an error".into());
        }
        return Ok(first_line(&r.stderr));
    }
    no_terminal_injection(&r.stdout)?;
    let text = std::fs::read_to_string(&env_path).map_err(|e| e.to_string())?;
    if !text.contains("OTHER=keep") || !text.contains("# mine") || !text.contains(KEY) {
        return Err(format!(".env lost a line: {text:?}"));
    }
    if mode_of(&env_path) != 0o600 {
        return Err(format!(".env mode {:o}", mode_of(&env_path)));
    }
    Ok("accepted and stored (0600)".into())
}

/// The credits call has no command of its own yet: the domain client must give Ok or a typed error.
fn credits_case(body: Vec<u8>) -> Check {
    let server = FakeServer::start();
    server.always(
        "/api/v1/credits",
        Reply {
            status: 200,
            headers: vec![],
            body,
            delay: Duration::ZERO,
        },
    );
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let client = nxr::domain::catalog::openrouter::OpenRouterClient::new(
        format!("{}/api/v1", server.base),
        Some(KEY.to_string()),
    );
    match rt.block_on(client.credits()) {
        Ok(c) => {
            // Only amounts an account can have are read as a balance (never "balance $inf").
            for v in [c.total_credits, c.total_usage] {
                if !v.is_finite() || !(0.0..=1e9).contains(&v) {
                    return Err(format!("an implausible amount was read: {c:?}"));
                }
            }
            Ok(format!("read {c:?}"))
        }
        Err(e) => {
            let msg = e.to_string();
            if msg.len() < 15 {
                return Err(format!("unclear error {msg:?}"));
            }
            Ok(msg.chars().take(120).collect())
        }
    }
}

/// `nxr init --free` with this root config.yaml: an error names the file and leaves it (and the
/// agents) untouched; a success keeps every foreign key and comment, a symlink stays a symlink.
fn config_case(name: &str, bytes: Vec<u8>) -> Check {
    let homes = Homes::new();
    let hermes = homes.hermes_home();
    std::fs::create_dir_all(&hermes).map_err(|e| e.to_string())?;
    let cfg = hermes.join("config.yaml");
    let real = if name.contains(".symlink.") {
        let dot = homes.dir.path().join("dotfiles/hermes-config.yaml");
        std::fs::create_dir_all(dot.parent().expect("parent")).map_err(|e| e.to_string())?;
        std::fs::write(&dot, &bytes).map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink(&dot, &cfg).map_err(|e| e.to_string())?;
        dot
    } else {
        std::fs::write(&cfg, &bytes).map_err(|e| e.to_string())?;
        cfg.clone()
    };
    if name.contains(".readonly.") {
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o444))
            .map_err(|e| e.to_string())?;
    }
    sane(&run(homes.nxr().args(["db", "migrate"])))?;
    let agents0 = db_dump(&homes.nxr_home(), Some(&["agents"]));
    let r = run(homes.nxr().args(["init", "--free"]));
    sane(&r)?;
    if r.code != Some(0) {
        clear_error(&r)?;
        if !r.stderr.contains("config.yaml") {
            return Err(format!("the error does not name config.yaml: {}", r.stderr));
        }
        // Words, not Rust's Debug output; "changed nothing" said once.
        if ["{ at", "AliasRefused", "TypeMismatch", "NotFound {"]
            .iter()
            .any(|d| r.stderr.contains(d))
        {
            return Err(format!("Debug output in the error: {}", r.stderr));
        }
        if r.stderr.matches("changed nothing").count() > 1 {
            return Err(format!("\"changed nothing\" said twice: {}", r.stderr));
        }
        if read_bytes(&real).as_deref() != Some(&bytes[..]) {
            return Err("config.yaml changed on an error".into());
        }
        if db_dump(&homes.nxr_home(), Some(&["agents"])) != agents0 {
            return Err("agents were created although init failed".into());
        }
        return Ok(first_line(&r.stderr));
    }
    no_terminal_injection(&r.stdout)?;
    if name.contains(".readonly.") && read_bytes(&real).as_deref() != Some(&bytes[..]) {
        return Err("a read-only config.yaml was rewritten".into());
    }
    let after = std::fs::read_to_string(&real).map_err(|e| e.to_string())?;
    // A byte order mark the file started with is kept.
    const BOM: &str = "\u{feff}";
    let had_bom = bytes.starts_with(BOM.as_bytes());
    if had_bom != after.starts_with(BOM) {
        return Err(format!(
            "the byte order mark was not kept as it was: {after:?}"
        ));
    }
    let after = after.trim_start_matches(BOM).to_string();
    let parsed: serde_norway::Value =
        serde_norway::from_str(&after).map_err(|e| format!("config.yaml no longer parses: {e}"))?;
    let original: serde_norway::Value =
        serde_norway::from_slice(bytes.strip_prefix(BOM.as_bytes()).unwrap_or(&bytes[..]))
            .map_err(|e| format!("case parses: {e}"))?;
    for key in original.as_mapping().into_iter().flat_map(|m| m.keys()) {
        if parsed.get(key).is_none() {
            return Err(format!("foreign key {key:?} was dropped"));
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    for comment in text.lines().filter(|l| l.trim_start().starts_with('#')) {
        if !after.contains(comment.trim()) {
            return Err(format!("comment {comment:?} was dropped"));
        }
    }
    if name.contains(".symlink.")
        && !std::fs::symlink_metadata(&cfg)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    {
        return Err("the symlink was replaced by a file".into());
    }
    Ok("set up; foreign keys and comments kept".into())
}

/// `nxr config get` / `config set openrouter-key` over this .env: no crash, no full secret shown,
/// an error leaves the file alone, a success keeps every other line.
fn env_case(bytes: Vec<u8>) -> Check {
    let server = FakeServer::start();
    server.always("/api/v1/key", Reply::json(200, KEY_OK));
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).map_err(|e| e.to_string())?;
    let env_path = homes.hermes_home().join(".env");
    std::fs::write(&env_path, &bytes).map_err(|e| e.to_string())?;
    let get = run(homes
        .nxr()
        .args(["config", "get", "openrouter-key", "--json"]));
    sane(&get)?;
    if get.code != Some(0) {
        clear_error(&get)?;
    } else {
        serde_json::from_str::<serde_json::Value>(&get.stdout)
            .map_err(|e| format!("config get --json: {e}"))?;
    }
    let text = String::from_utf8_lossy(&bytes);
    for secret in text
        .split(['=', '\n', '"', '\r'])
        .filter(|s| s.starts_with("sk-or-"))
    {
        if get.stdout.contains(secret) || get.stderr.contains(secret) {
            return Err(format!("the full key {secret:?} was shown"));
        }
    }
    let set = run(homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", server.base))
        .args(["config", "set", "openrouter-key", KEY]));
    sane(&set)?;
    if set.code != Some(0) {
        clear_error(&set)?;
        if read_bytes(&env_path).as_deref() != Some(&bytes[..]) {
            return Err(".env changed on an error".into());
        }
        return Ok(first_line(&set.stderr));
    }
    let after = std::fs::read_to_string(&env_path).map_err(|e| e.to_string())?;
    for line in text.lines() {
        let l = line.trim_end_matches('\r');
        if !l.contains("OPENROUTER_API_KEY") && !after.contains(l) {
            return Err(format!("line {l:?} was dropped"));
        }
    }
    if mode_of(&env_path) != 0o600 {
        return Err(format!(".env mode {:o}", mode_of(&env_path)));
    }
    Ok(format!(
        "get: {}; set: stored",
        if get.code == Some(0) { "ok" } else { "error" }
    ))
}

/// `nxr config set NAME VALUE` with the file's text as VALUE (NAME is the file name up to `--`): a
/// clear error with the settings unchanged, or a success that `config get` reads back as it was set.
fn config_value_case(file: &str, bytes: Vec<u8>) -> Check {
    let name = file.split("--").next().unwrap_or(file);
    let text = String::from_utf8_lossy(&bytes);
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let homes = Homes::new();
    let get = || run(homes.nxr().args(["config", "get", name, "--json"]));
    sane(&get())?;
    let before = db_dump(&homes.nxr_home(), Some(&["settings"]));
    let set = run(homes.nxr().args(["config", "set", name, value, "--json"]));
    sane(&set)?;
    if set.code != Some(0) {
        clear_error(&set)?;
        if db_dump(&homes.nxr_home(), Some(&["settings"])) != before {
            return Err("settings changed on an error".into());
        }
        return Ok(first_line(&set.stderr));
    }
    let stored: serde_json::Value =
        serde_json::from_str(&set.stdout).map_err(|e| format!("config set --json: {e}"))?;
    let got = get();
    let read: serde_json::Value =
        serde_json::from_str(&got.stdout).map_err(|e| format!("config get --json: {e}"))?;
    if read["value"] != stored["value"] {
        return Err(format!(
            "set {} but get reads {}",
            stored["value"], read["value"]
        ));
    }
    let shown = run(homes.nxr().args(["config", "get", name]));
    no_terminal_injection(&shown.stdout)?;
    Ok(format!("stored {}", stored["value"]))
}

/// `nxr evals import FILE`: refused with a clear error and the figures unchanged, or imported with
/// every link an http(s) address, every date set, and no control character in what is shown.
fn evals_case(file: &str, bytes: Vec<u8>) -> Check {
    let homes = Homes::new();
    let path = homes.dir.path().join(file);
    std::fs::write(&path, &bytes).map_err(|e| e.to_string())?;
    let list = || run(homes.nxr().args(["evals", "list", "--json"]));
    let before = list();
    sane(&before)?;
    let r = run(homes.nxr().args(["evals", "import"]).arg(&path));
    sane(&r)?;
    let after = list();
    if r.code != Some(0) {
        clear_error(&r)?;
        if after.stdout != before.stdout {
            return Err("the figures changed on an error".into());
        }
        return Ok(first_line(&r.stderr));
    }
    no_terminal_injection(&r.stdout)?;
    let shown = run(homes.nxr().args(["evals", "list"]));
    sane(&shown)?;
    no_terminal_injection(&shown.stdout)?;
    let v: serde_json::Value =
        serde_json::from_str(&after.stdout).map_err(|e| format!("evals list --json: {e}"))?;
    for family in v["families"].as_array().into_iter().flatten() {
        for figure in family["figures"].as_array().into_iter().flatten() {
            if let Some(url) = figure["url"].as_str() {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                    return Err(format!(
                        "imported a link that is not a web address: {url:?}"
                    ));
                }
            }
            if figure["date"].as_str().is_none_or(|d| d.trim().is_empty()) {
                return Err(format!("imported a figure without a date: {figure}"));
            }
        }
    }
    Ok("imported".into())
}

/// `nxr init --free` with Ollama answering this: Ollama is optional, so init completes, with its
/// three agents, whatever Ollama says.
fn ollama_case(reply: Reply) -> Check {
    let server = FakeServer::start();
    server.always("/api/tags", reply);
    let homes = Homes::new();
    let r = run(homes
        .nxr()
        .env("NXR_OLLAMA_URL", &server.base)
        .args(["init", "--free"]));
    sane(&r)?;
    if r.code != Some(0) {
        return Err(format!("init failed over an Ollama answer: {}", r.stderr));
    }
    no_terminal_injection(&r.stdout)?;
    no_terminal_injection(&r.stderr)?;
    let l = run(homes.nxr().args(["agents", "list", "--json"]));
    let v: serde_json::Value =
        serde_json::from_str(&l.stdout).map_err(|e| format!("agents list --json: {e}"))?;
    let n = v.as_array().map(|a| a.len()).unwrap_or(0);
    if n != 3 {
        return Err(format!("{n} agents after init: {}", l.stdout));
    }
    Ok("init completed with 3 agents".into())
}

/// The JSON body of a web API POST, sent to the endpoint the file name starts with, to `nxr serve`
/// over a home with the recorded catalog, a PM agent and one unread notification: refused with a 4xx and a JSON
/// error naming the problem, and the database, config.yaml and .env byte-identical.
fn web_json_case(file: &str, body: Vec<u8>) -> Check {
    let path = match file.split("--").next().unwrap_or_default() {
        "models-switch" => "/api/models/switch",
        "notifications-read" => "/api/notifications/read",
        "notifications-apply" => "/api/notifications/apply",
        "notifications-telegram" => "/api/notifications/telegram",
        "gateway" => "/api/gateway",
        "agents-skills-sync" => "/api/agents/PM/skills/sync",
        other => return Err(format!("no endpoint for corpus prefix {other:?}")),
    };
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).map_err(|e| e.to_string())?;
    std::fs::write(
        homes.hermes_home().join("config.yaml"),
        "model:\n  default: meta-llama/llama-3.3-70b-instruct:free\n  provider: openrouter\n",
    )
    .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    let store = std::sync::Arc::new(
        rt.block_on(nxr::domain::store::Store::open(&env))
            .map_err(|e| e.to_string())?,
    );
    let catalog = nxr::domain::catalog::parse_catalog(&common::fixture("openrouter/models.json"))
        .map_err(|e| e.to_string())?;
    rt.block_on(nxr::domain::catalog::save(
        &store,
        &catalog,
        "2026-05-01T00:00:00Z",
        "test",
    ))
    .map_err(|e| e.to_string())?;
    rt.block_on(nxr::domain::agents::create(
        &store,
        &env,
        nxr::domain::agents::NewAgent {
            name: "PM".into(),
            role: nxr::domain::base::roles::Role::Pm,
            category: None,
            model: Some("meta-llama/llama-3.3-70b-instruct:free".into()),
            skills: None,
            is_default: true,
            host: None,
        },
    ))
    .map_err(|e| e.to_string())?;
    rt.block_on(nxr::domain::notifications::add(
        &store,
        nxr::domain::notifications::NewNotification {
            kind: "better_model".into(),
            title: "a better model".into(),
            body: "x".into(),
            agent_id: None,
            payload: None,
        },
        &nxr::domain::base::clock::SystemClock,
    ))
    .map_err(|e| e.to_string())?;
    let files = [
        homes.hermes_home().join("config.yaml"),
        homes.hermes_home().join(".env"),
        homes.hermes_home().join("profiles/pm/config.yaml"),
    ];
    let before_files: Vec<Option<Vec<u8>>> = files.iter().map(|f| read_bytes(f)).collect();
    let before_db = db_dump(&homes.nxr_home(), None);
    let server = nxr::web::server::start(
        env,
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .map_err(|e| e.to_string())?;
    let (status, text) = rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", server.base_url()))
            .bearer_auth(&server.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok::<_, String>((status, resp.text().await.map_err(|e| e.to_string())?))
    })?;
    drop(server);
    if !(400..500).contains(&status) {
        return Err(format!("{path} answered {status}: {text}"));
    }
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("not a JSON error ({e}): {text}"))?;
    let msg = v["error"].as_str().unwrap_or_default().to_string();
    if msg.len() < 15 || msg.contains("Error(") || msg.contains("{ ") {
        return Err(format!("unclear error: {text}"));
    }
    if db_dump(&homes.nxr_home(), None) != before_db {
        return Err("the database changed".into());
    }
    let after_files: Vec<Option<Vec<u8>>> = files.iter().map(|f| read_bytes(f)).collect();
    if after_files != before_files {
        return Err("config.yaml or .env changed".into());
    }
    Ok(format!("{status}: {}", first_line(&msg)))
}

/// A server that sends headers then one byte every 200 ms, forever (until the client gives up).
fn slow_drip_server() -> (String, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"data\":[",
            );
            for _ in 0..50 {
                if s.write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    });
    (format!("http://127.0.0.1:{port}/api/v1"), h)
}

/// Timeouts and a slow drip through the domain client with a 1 s request timeout (the commands'
/// 30 s timeout with retries would make this suite slow; the code path is the same).
fn timeout_case(drip: bool) -> Check {
    use nxr::domain::catalog::openrouter::{OpenRouterClient, RetryPolicy, Timeouts};
    let server = FakeServer::start();
    let (base, handle) = if drip {
        let (b, h) = slow_drip_server();
        (b, Some(h))
    } else {
        server.always(
            "/api/v1/models",
            Reply::json(200, "{}").delayed(Duration::from_secs(3)),
        );
        (format!("{}/api/v1", server.base), None)
    };
    let client = OpenRouterClient::new(base, None)
        .with_timeouts(Timeouts {
            connect: Duration::from_secs(1),
            request: Duration::from_secs(1),
        })
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let res = rt.block_on(client.models());
    let took = started.elapsed();
    drop(rt);
    if let Some(h) = handle {
        let _ = h.join();
    }
    match res {
        Ok(_) => Err("a stalled answer was accepted".into()),
        Err(e) if took >= Duration::from_millis(900) && took < Duration::from_secs(3) => {
            Ok(format!("{e} after {took:.1?}"))
        }
        Err(e) => Err(format!("gave up only after {took:?}: {e}")),
    }
}

/// Telegram answers to `sendMessage` (what a budget or scan notice meets): sent only for a 2xx with
/// `"ok": true`; any other answer is an error carrying Telegram's description (cleaned); never a
/// panic, and the bot token never in the message.
fn telegram_case(status: u16, body: Vec<u8>) -> Check {
    let answer = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let want_sent =
        (200..300).contains(&status) && answer.as_ref().is_some_and(|v| v["ok"] == true);
    let description: Option<String> =
        answer
            .as_ref()
            .and_then(|v| v["description"].as_str())
            .map(|d| {
                d.replace(TELEGRAM_TOKEN, "…")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect()
            });
    const TOKEN: &str = TELEGRAM_TOKEN;
    let server = FakeServer::start();
    server.always(&format!("/bot{TOKEN}/sendMessage"), raw(status, body));
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).map_err(|e| e.to_string())?;
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_HOME_CHANNEL=12345\n"),
    )
    .map_err(|e| e.to_string())?;
    let mut env = homes.env();
    env.telegram_api_url = server.base.clone();
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let store = nxr::domain::store::Store::open(&env)
            .await
            .map_err(|e| e.to_string())?;
        let gw = nxr::domain::notifications::telegram::gateway(&env, &store)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no gateway from a .env with a token and a chat")?;
        match nxr::domain::notifications::telegram::send(&gw, "corpus").await {
            Ok(()) if want_sent => Ok(format!("HTTP {status}: sent")),
            Ok(()) => Err(format!(
                "HTTP {status} without \"ok\": true was taken as sent"
            )),
            Err(e) => {
                let msg = e.to_string();
                if msg.contains(TOKEN) {
                    return Err(format!("the bot token is in the error: {msg}"));
                }
                no_terminal_injection(&msg)?;
                if want_sent {
                    return Err(format!("an ok answer was refused: {msg}"));
                }
                if let Some(d) = description.filter(|d| !msg.contains(d.as_str())) {
                    return Err(format!(
                        "the error drops Telegram's description {d:?}: {msg}"
                    ));
                }
                Ok(msg.chars().take(120).collect())
            }
        }
    })
}

/// The bot token the Telegram cases store (a corpus answer may echo it).
const TELEGRAM_TOKEN: &str = "7000000001:AAH-corpusCorpusCorpusCorpusCorpus01";

fn raw(status: u16, body: Vec<u8>) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
        delay: Duration::ZERO,
    }
}

/// The 10 MB description, the 100k-entry catalog and a 100k-character id, made here rather than
/// committed.
fn generated_models() -> Vec<(String, Vec<u8>)> {
    let good: serde_json::Value = serde_json::from_str(
        r#"{"id":"acme/good-model:free","name":"Acme: Good","created":1750000000,"context_length":131072,
            "architecture":{"input_modalities":["text"],"output_modalities":["text"]},
            "pricing":{"prompt":"0","completion":"0"},"supported_parameters":["tools","tool_choice"]}"#,
    )
    .expect("template");
    let with = |id: &str, key: &str, value: serde_json::Value| {
        let mut m = good.clone();
        m["id"] = id.into();
        m[key] = value;
        m
    };
    let big = with(
        "acme/big-description",
        "description",
        "x".repeat(10 * 1024 * 1024).into(),
    );
    let many: Vec<serde_json::Value> = (0..100_000)
        .map(|i| {
            with(
                &format!("acme/m{i}:free"),
                "created",
                (1_700_000_000 + i).into(),
            )
        })
        .collect();
    let long_id = with(&"a".repeat(100_000), "name", "long".into());
    let cat = |v: Vec<serde_json::Value>| {
        serde_json::to_vec(&serde_json::json!({ "data": v })).expect("json")
    };
    vec![
        (
            "generated/ten-mb-description".into(),
            cat(vec![good.clone(), big]),
        ),
        ("generated/100k-entries".into(), cat(many)),
        (
            "generated/100k-char-id".into(),
            cat(vec![good.clone(), long_id]),
        ),
    ]
}

/// Every case: (name, runner).
fn cases() -> Vec<(String, Box<dyn FnOnce() -> Check + Send>)> {
    let dir = common::root().join("tests/corpus");
    let mut out: Vec<(String, Box<dyn FnOnce() -> Check + Send>)> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for surface in std::fs::read_dir(&dir).expect("tests/corpus").flatten() {
        for f in std::fs::read_dir(surface.path())
            .expect("corpus dir")
            .flatten()
        {
            files.push(f.path());
        }
    }
    files.sort();
    for path in files {
        let surface = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&path).expect("corpus file");
        let name = format!("{surface}/{file}");
        let run: Box<dyn FnOnce() -> Check + Send> = match surface.as_str() {
            "openrouter-models" => Box::new(move || models_case(raw(200, bytes))),
            "openrouter-key" => Box::new(move || key_case(raw(200, bytes))),
            "openrouter-credits" => Box::new(move || credits_case(bytes)),
            "hermes-config" => Box::new(move || config_case(&file, bytes)),
            "env" => Box::new(move || env_case(bytes)),
            "evals" => Box::new(move || evals_case(&file, bytes)),
            "config-value" => Box::new(move || config_value_case(&file, bytes)),
            "ollama" => Box::new(move || ollama_case(raw(200, bytes))),
            "web-json" => Box::new(move || web_json_case(&file, bytes)),
            "hermes-output" => Box::new(move || hermes_output_case(&file, bytes)),
            "telegram" => Box::new(move || {
                // The file's error_code (when it has one) is the HTTP status Telegram sends; a file
                // named `http200-…` is served with 200, as a proxy in between does.
                let status = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["error_code"].as_u64())
                    .filter(|_| !file.starts_with("http200-"))
                    .map_or(if file.contains("html") { 502 } else { 200 }, |c| c as u16);
                telegram_case(status, bytes)
            }),
            other => panic!("unknown corpus surface {other}"),
        };
        out.push((name, run));
    }
    for (name, body) in generated_models() {
        out.push((name, Box::new(move || models_case(raw(200, body)))));
    }
    let far_ms = (chrono::Utc::now().timestamp() + 3600) * 1000;
    let limited = r#"{"error":{"code":429,"message":"Rate limit exceeded: free-models-per-day"}}"#;
    let faults: Vec<(&str, Reply)> = vec![
        (
            "429-with-x-ratelimit-reset",
            Reply::json(429, limited).header("X-RateLimit-Reset", &far_ms.to_string()),
        ),
        (
            "429-with-retry-after",
            Reply::json(429, limited).header("Retry-After", "3600"),
        ),
        ("429-without-reset-headers", Reply::json(429, limited)),
        (
            "500",
            Reply::json(500, r#"{"error":{"code":500,"message":"Internal"}}"#),
        ),
        ("502-html", raw(502, b"<html>Bad Gateway</html>".to_vec())),
        (
            "402-negative-balance",
            Reply::json(
                402,
                r#"{"error":{"code":402,"message":"Insufficient credits"}}"#,
            ),
        ),
    ];
    for (name, reply) in faults.clone() {
        out.push((
            format!("http-fault/catalog-refresh/{name}"),
            Box::new(move || models_case(reply)),
        ));
    }
    for (name, reply) in faults {
        out.push((
            format!("http-fault/config-set-key/{name}"),
            Box::new(move || key_case(reply)),
        ));
    }
    out.push((
        "http-fault/catalog-refresh/connection-refused".into(),
        Box::new(|| {
            let homes = Homes::new();
            let r = run(homes.nxr().args(["catalog", "refresh"]));
            clear_error(&r)?;
            Ok(first_line(&r.stderr))
        }),
    ));
    out.push((
        "http-fault/config-set-key/connection-refused".into(),
        Box::new(|| {
            let homes = Homes::new();
            let r = run(homes.nxr().args(["config", "set", "openrouter-key", KEY]));
            clear_error(&r)?;
            if homes.hermes_home().join(".env").exists() {
                return Err(".env written although the key was not validated".into());
            }
            Ok(first_line(&r.stderr))
        }),
    ));
    out.push((
        "http-fault/ollama/connection-refused".into(),
        Box::new(|| {
            let homes = Homes::new();
            let r = run(homes.nxr().args(["init", "--free"]));
            sane(&r)?;
            if r.code != Some(0) {
                return Err(r.stderr);
            }
            Ok("init completed without Ollama".into())
        }),
    ));
    out.push((
        "http-fault/ollama/timeout".into(),
        Box::new(|| ollama_case(Reply::json(200, "{}").delayed(Duration::from_secs(3)))),
    ));
    out.push((
        "http-fault/telegram/500".into(),
        Box::new(|| telegram_case(500, b"{}".to_vec())),
    ));
    out.push((
        "http-fault/models/timeout".into(),
        Box::new(|| timeout_case(false)),
    ));
    out.push((
        "http-fault/models/slow-drip".into(),
        Box::new(|| timeout_case(true)),
    ));
    out
}

#[test]
fn every_corpus_case_ends_in_a_clear_error_or_a_counted_success_and_loses_nothing() {
    let cases = Mutex::new(cases());
    let total = cases.lock().expect("cases").len();
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let next = cases.lock().expect("cases").pop();
                    let Some((name, case)) = next else { break };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(case))
                        .unwrap_or_else(|_| Err("the test harness panicked".into()));
                    results.lock().expect("results").push((name, outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut passed = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for (name, outcome) in &results {
        match outcome {
            Ok(what) => {
                passed += 1;
                println!("ok    {name}: {what}");
            }
            Err(why) if why.starts_with("skip: ") => {
                skipped += 1;
                println!("skip  {name}: {why}");
            }
            Err(why) => {
                println!("FAIL  {name}: {why}");
                failures.push(name.clone());
            }
        }
    }
    common::figures(
        "hostile_inputs",
        &format!(
            "hostile inputs: corpus cases passed {passed} / total {} ({skipped} skipped, failed {})",
            total - skipped,
            failures.len()
        ),
    );
    assert!(total - skipped >= 40, "the corpus has fewer than 40 cases");
    assert!(failures.is_empty(), "failed: {failures:?}");
}
