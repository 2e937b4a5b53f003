//! `nxr doctor`, run as the built binary: on a healthy setup (the real Hermes, a running `nxr serve`,
//! OpenRouter, Ollama and Paperclip on loopback) every line is ✓ and it exits 0; on each broken setup
//! the matching ✗ line names the fix, it exits non-zero, and neither home changes by a byte.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const KEY: &str = "sk-or-v1-doctor00000000000000000000000000000000000000000000000dddd";

/// A loopback OpenRouter (catalog and key) that also answers as Ollama.
fn outside() -> FakeServer {
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/models",
        Reply::json(200, common::fixture("openrouter/models.json")),
    );
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.always(
        "/api/tags",
        Reply::json(
            200,
            r#"{"models":[{"name":"qwen3:8b","model":"qwen3:8b"}]}"#,
        ),
    );
    fake.always("/api/version", Reply::json(200, r#"{"version":"0.9.0"}"#));
    fake
}

/// A loopback Paperclip that answers its health check.
fn paperclip() -> FakeServer {
    let fake = FakeServer::start();
    fake.always("/api/health", Reply::json(200, r#"{"status":"ok"}"#));
    fake.always(
        "/api/companies",
        Reply::json(200, r#"[{"id":"c1","name":"nxr"}]"#),
    );
    fake
}

struct Setup {
    homes: Homes,
    outside: FakeServer,
    envs: Vec<(String, String)>,
}

impl Setup {
    /// `nxr init --free` against the loopback OpenRouter, the key stored, one scan done, the real
    /// Hermes as `hermes`.
    fn new(with_key: bool) -> Setup {
        let homes = Homes::new();
        let outside = outside();
        let envs = vec![
            (
                "NXR_OPENROUTER_URL".to_string(),
                format!("{}/api/v1", outside.base),
            ),
            ("NXR_OLLAMA_URL".to_string(), outside.base.clone()),
            (
                "NXR_HERMES_BIN".to_string(),
                common::path_str(&common::hermes_bin()),
            ),
        ];
        let s = Setup {
            homes,
            outside,
            envs,
        };
        s.ok(&["init", "--free"]);
        if with_key {
            s.ok(&["config", "set", "openrouter-key", KEY]);
        }
        s.ok(&["scan"]);
        s
    }

    fn cmd(&self) -> Command {
        let mut c = self.homes.nxr();
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn set_env(&mut self, key: &str, value: &str) {
        self.envs.retain(|(k, _)| k != key);
        self.envs.push((key.to_string(), value.to_string()));
    }

    /// Connects Paperclip at `url`.
    fn connect_paperclip(&self, url: &str) {
        self.ok(&["paperclip", "connect", "--url", url]);
    }

    /// `gateway.pid` and `gateway_state.json` as `hermes gateway run` writes them, for `pid`.
    fn gateway_files(&self, pid: u32) {
        let h = self.homes.hermes_home();
        std::fs::write(h.join("gateway.pid"), format!("{pid}\n")).unwrap();
        std::fs::write(
            h.join("gateway_state.json"),
            format!(r#"{{"gateway_state":"running","pid":{pid}}}"#),
        )
        .unwrap();
    }

    /// Runs `nxr doctor ARGS` and checks that it changed nothing in either home.
    fn doctor(&self, args: &[&str]) -> Output {
        let before = tree(self.homes.dir.path());
        let out = self.cmd().arg("doctor").args(args).output().unwrap();
        let after = tree(self.homes.dir.path());
        assert_eq!(
            changed(&before, &after),
            Vec::<PathBuf>::new(),
            "nxr doctor changed files"
        );
        out
    }

    /// Runs the doctor and expects it to fail with a ✗ line starting `✗ {topic}` whose text has
    /// `says`, followed by a fix line with `fix`.
    fn expect_failure(&self, args: &[&str], topic: &str, says: &str, fix: &str) {
        let out = self.doctor(args);
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "doctor passed:\n{text}");
        assert!(err.contains("check(s) failed"), "{err}");
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("✗ {topic}")) && l.contains(says))
            .unwrap_or_else(|| panic!("no ✗ {topic} line saying {says:?} in:\n{text}"));
        let next = lines.get(at + 1).copied().unwrap_or_default();
        assert!(
            next.starts_with("    fix: ") && next.contains(fix),
            "the fix after {:?} is {next:?}, expected {fix:?}",
            lines[at]
        );
    }
}

/// Every file (and its bytes) and directory under `root`.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                out.insert(p.clone(), Some(std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out
}

fn changed(
    a: &BTreeMap<PathBuf, Option<Vec<u8>>>,
    b: &BTreeMap<PathBuf, Option<Vec<u8>>>,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = a
        .iter()
        .filter(|(p, v)| b.get(*p) != Some(v))
        .map(|(p, _)| p.clone())
        .collect();
    out.extend(b.keys().filter(|p| !a.contains_key(*p)).cloned());
    out
}

/// `GET path` with a bearer token over plain HTTP/1.0; the whole answer as text.
fn http_get(port: u16, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = write!(
        c,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `nxr serve` on a free port, killed on drop.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn json_lines(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["lines"].as_array().unwrap().clone()
}

#[test]
fn a_healthy_setup_passes_every_check() {
    let s = Setup::new(true);
    let pc = paperclip();
    s.connect_paperclip(&pc.base);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = Serve(
        s.cmd()
            .args(["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    s.gateway_files(serve.0.id());
    // `nxr serve` records that it runs on its first tick, right after it starts.
    let mut last = Vec::new();
    common::wait_until(
        "nxr serve shows as running",
        Duration::from_secs(60),
        || {
            let out = s.cmd().args(["doctor", "--json"]).output().unwrap();
            last = json_lines(&out);
            last.iter()
                .any(|l| l["topic"] == "serve" && l["mark"] == "pass")
        },
    );
    let out = s.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for l in text.lines().filter(|l| !l.starts_with("All checks")) {
        assert!(l.starts_with("✓ "), "not ✓: {l:?} in\n{text}");
    }
    for topic in [
        "✓ Hermes: Hermes Agent 0.19.0",
        "✓ HERMES_HOME:",
        "✓ NXR_HOME:",
        "✓ database:",
        "integrity_check ok",
        "✓ OpenRouter key:",
        "✓ agent PM:",
        "✓ agent Engineer:",
        "✓ agent Hermes:",
        "✓ gateway: running",
        "✓ nxr serve: running",
        "✓ last scan:",
        "✓ catalog:",
        "✓ Ollama: Ollama 0.9.0",
        "✓ Paperclip: connected to",
        "✓ disk:",
    ] {
        assert!(text.contains(topic), "{topic:?} missing from\n{text}");
    }
    assert!(text.ends_with("All checks passed.\n"), "{text}");
    let status = s.ok(&["status"]);
    assert!(status.contains("nxr serve running; last scan "), "{status}");
    // --live asks OpenRouter about the key and names its tier.
    let out = s.cmd().args(["doctor", "--live"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("✓ OpenRouter key: OpenRouter accepts the key: paid tier"),
        "{text}"
    );
    assert!(!text.contains(KEY), "the key is never printed");
    // The web control plane shows the same report: /api/doctor as JSON, /doctor as a page.
    let token = std::fs::read_to_string(s.homes.nxr_home().join("web_token")).unwrap();
    let api = http_get(port, "/api/doctor", token.trim());
    let body = api.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {api}"));
    assert_eq!(v["failed"], 0, "{v}");
    assert!(
        v["lines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["mark"] == "pass"),
        "{v}"
    );
    let page = http_get(port, "/doctor", token.trim());
    assert!(page.contains("All checks passed."), "{page}");
    assert!(page.contains("Hermes Agent 0.19.0"), "{page}");
    drop(serve);
}

#[test]
fn no_hermes() {
    let mut s = Setup::new(true);
    s.set_env("NXR_HERMES_BIN", "/nonexistent/bin/hermes");
    s.expect_failure(&[], "Hermes", "Hermes not found", "NXR_HERMES_BIN");
}

#[test]
fn a_hermes_that_is_too_old() {
    let mut s = Setup::new(true);
    let script = s.homes.dir.path().join("old-hermes");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'Hermes Agent v0.18.2 (2026.1.1)'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.set_env("NXR_HERMES_BIN", &common::path_str(&script));
    s.expect_failure(
        &[],
        "Hermes",
        "0.18.2 is older than the 0.19.0",
        "update Hermes",
    );
}

#[test]
fn an_unwritable_home() {
    let mut s = Setup::new(true);
    // A file where NXR_HOME's directory should be (permissions alone do not stop root).
    let file = s.homes.dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    s.set_env("NXR_HOME", &common::path_str(&file));
    s.expect_failure(
        &[],
        "NXR_HOME",
        "is not a directory",
        "a directory you may write to, or set NXR_HOME",
    );
}

#[test]
fn a_corrupt_database() {
    let s = Setup::new(true);
    let db = s.homes.nxr_home().join("hermes_tracking.db");
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 3 * 4096, "a database of several pages");
    for b in &mut bytes[4096..3 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    s.expect_failure(&[], "database", "integrity_check", "restore a backup");
}

#[test]
fn no_key() {
    let s = Setup::new(false);
    s.expect_failure(
        &[],
        "OpenRouter key",
        "no OpenRouter key in",
        "`nxr config set openrouter-key <key>`",
    );
}

#[test]
fn a_revoked_key_with_live() {
    let s = Setup::new(true);
    s.outside.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    s.expect_failure(
        &["--live"],
        "OpenRouter key",
        "OpenRouter refuses the stored key (HTTP 401: User not found.)",
        "create a new key at https://openrouter.ai/keys",
    );
}

#[test]
fn an_agents_profile_deleted() {
    let s = Setup::new(true);
    std::fs::remove_dir_all(s.homes.hermes_home().join("profiles/engineer")).unwrap();
    s.expect_failure(
        &[],
        "agent Engineer",
        "no Hermes profile at",
        "create the agent again",
    );
}

#[test]
fn a_model_gone_from_the_catalog() {
    let s = Setup::new(true);
    let pm: Value = s.homes.json(&["agents", "list"]);
    let model = pm
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "PM")
        .unwrap()["model"]
        .as_str()
        .unwrap()
        .to_string();
    let mut catalog: Value =
        serde_json::from_str(&common::fixture("openrouter/models.json")).unwrap();
    catalog["data"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["id"] != model.as_str());
    s.outside
        .always("/api/v1/models", Reply::json(200, catalog.to_string()));
    s.ok(&["catalog", "refresh"]);
    s.expect_failure(
        &[],
        "agent PM",
        &format!("{model} is not in the catalog"),
        "`nxr models best-free --role pm`",
    );
}

#[test]
fn a_dead_gateway() {
    let s = Setup::new(true);
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    s.gateway_files(pid);
    s.expect_failure(&[], "gateway", "stopped", "`nxr gateway start`");
}

#[test]
fn no_serve_and_a_scan_overdue() {
    let s = Setup::new(true);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open(&s.homes.env())
            .await
            .unwrap();
        let old = nxr::domain::base::clock::to_db(chrono::Utc::now() - chrono::Duration::hours(7));
        store
            .conn()
            .execute("UPDATE scans SET started_at = ?1", libsql::params![old])
            .await
            .unwrap();
    });
    drop(rt);
    s.expect_failure(
        &[],
        "last scan",
        "last scan 7h 0m ago: is `nxr serve` running?",
        "`nxr scan` scans now",
    );
    // `nxr status` (the dashboard every surface shows) says the same.
    let status = s.ok(&["status"]);
    assert!(
        status.contains("last scan 7h 0m ago: is `nxr serve` running?"),
        "{status}"
    );
    s.expect_failure(
        &[],
        "nxr serve",
        "no `nxr serve` is running",
        "`nxr service install` keeps it running",
    );
}

#[test]
fn paperclip_down() {
    let s = Setup::new(true);
    let pc = paperclip();
    let url = pc.base.clone();
    s.connect_paperclip(&url);
    drop(pc);
    s.expect_failure(
        &[],
        "Paperclip",
        &format!("Paperclip at {url} does not answer"),
        "start Paperclip at",
    );
}

#[test]
fn the_web_page_shows_a_failing_check_with_its_fix() {
    use nxr::domain::setup::doctor::{Doctor, Line, Topic};
    let report = Doctor {
        live: false,
        lines: vec![
            Line::pass(Topic::Disk, "54 GB free"),
            Line::fail(
                Topic::Gateway,
                "stopped <pid 42>",
                "`nxr gateway start` starts it again",
            ),
        ],
        failed: 1,
    };
    let html = nxr::web::doctor::doctor_body(&report).into_string();
    assert!(html.contains("1 of 2 check(s) failed"), "{html}");
    assert!(html.contains("stopped &lt;pid 42&gt;"), "escaped: {html}");
    assert!(
        html.contains("`nxr gateway start` starts it again"),
        "{html}"
    );
    assert!(html.contains("href=\"/doctor?live=1\""), "{html}");
}
