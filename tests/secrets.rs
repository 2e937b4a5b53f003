//! Secrets never leak: after an OpenRouter key is stored (and a Telegram bot token sits in Hermes'
//! .env), every output surface — stdout/stderr of many commands with and without `--json`, the logs
//! under $NXR_HOME/logs, every page and API answer of `nxr serve`, error reports — is searched for
//! the full secrets, and every file that holds one must be mode 0600, also after config.yaml
//! rewrites, an upgrade and a revert.

mod common;

use common::{FakeServer, Homes, Reply};
use std::io::{BufRead, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEY: &str = "sk-or-v1-5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e7aa";
const REJECTED_KEY: &str =
    "sk-or-v1-badbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbad99";
const BOT_TOKEN: &str = "7222333444:AAF-s3cr3tT0k3nS3cr3tT0k3nS3cr3tT0k3n";
const KEY_OK: &str =
    r#"{"data":{"label":"sk-or-v1-5ec...7aa","usage":0,"limit":null,"is_free_tier":true}}"#;

fn secrets() -> [&'static str; 3] {
    [KEY, REJECTED_KEY, BOT_TOKEN]
}

/// Fails with the surface's name when a full secret is in `text`.
fn assert_clean(surface: &str, text: &str) {
    for s in secrets() {
        assert!(
            !text.contains(s),
            "{surface} shows a full secret ({}…)",
            &s[..12]
        );
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            files_under(&p, out);
        } else if m.is_file() {
            out.push(p);
        }
    }
}

/// Every file under both homes: one holding a secret is 0600; the logs hold none.
fn check_files(homes: &Homes, phase: &str) -> usize {
    let mut files = Vec::new();
    files_under(homes.dir.path(), &mut files);
    let mut holders = 0;
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let holds = secrets().iter().any(|s| text.contains(s));
        if !holds {
            continue;
        }
        holders += 1;
        let rel = f
            .strip_prefix(homes.dir.path())
            .unwrap_or(&f)
            .display()
            .to_string();
        assert!(
            !rel.contains("logs/") && !rel.ends_with(".log"),
            "{phase}: the log {rel} holds a secret"
        );
        assert!(
            !rel.ends_with(".db") && !rel.ends_with("-wal"),
            "{phase}: the database file {rel} holds a secret"
        );
        let mode = std::fs::metadata(&f)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(
            mode, 0o600,
            "{phase}: {rel} holds a secret with mode {mode:o}"
        );
    }
    holders
}

struct Ran {
    code: i32,
    out: String,
}

fn run(cmd: &mut std::process::Command, label: &str) -> Ran {
    let o = cmd.output().expect("run nxr");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_clean(&format!("`nxr {label}` stdout"), &stdout);
    assert_clean(&format!("`nxr {label}` stderr"), &stderr);
    assert!(!stderr.contains("panicked"), "{label}: {stderr}");
    Ran {
        code: o.status.code().unwrap_or(-1),
        out: stdout + &stderr,
    }
}

/// Runs a batch of commands a user would, each with and without --json where it has one.
fn run_commands(homes: &Homes, api: &str) -> usize {
    let cmds: &[&[&str]] = &[
        &["config", "get", "openrouter-key"],
        &["config", "get", "openrouter-key", "--json"],
        &["agents", "list"],
        &["agents", "list", "--json"],
        &["agents", "recommend", "--json"],
        &["agents", "rescore"],
        &["models", "list", "--free", "--json"],
        &["models", "best-free", "--role", "pm", "--json"],
        &["models", "roster", "--role", "hermes"],
        &["models", "rescore", "--json"],
        &["db", "status", "--json"],
        &["db", "status"],
        &["catalog", "refresh", "--json"],
        &["paperclip", "status"],
        &["scan"],
        &["scan", "--json"],
        &["agents", "skills", "pm"],
        &["config", "get", "no-such-setting"],
        &["models", "explain", "nope/nope", "--role", "pm"],
    ];
    for args in cmds {
        run(
            homes.nxr().env("NXR_OPENROUTER_URL", api).args(*args),
            &args.join(" "),
        );
    }
    cmds.len()
}

/// `nxr serve`: fetches every page linked from `/` plus the JSON API, with the bearer token.
fn crawl_web(homes: &Homes) -> usize {
    let mut child = homes
        .nxr()
        .args(["serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nxr serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        assert_clean("`nxr serve` stdout", &line);
        if let Some(p) = line.find("http://")
            && line.contains("?token=")
        {
            url = Some(line[p..].trim().to_string());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let url = url.expect("sign-in URL");
    let base = url.split("/?token=").next().expect("base").to_string();
    let token = url.split("?token=").nth(1).expect("token").to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fetched = rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let mut queue: Vec<String> = vec![
            "/".into(),
            "/models".into(),
            "/agents".into(),
            "/setup".into(),
            "/api/models".into(),
            "/api/agents".into(),
            "/api/models/roster".into(),
            "/api/models/explain?model=nope&role=pm".into(),
            "/api/dashboard".into(),
            "/api/budget".into(),
            "/no-such-page".into(),
            "/api/no-such".into(),
        ];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) || seen.len() > 80 {
                continue;
            }
            let resp = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            let headers = format!("{:?}", resp.headers());
            let body = resp.text().await.unwrap_or_default();
            assert_clean(&format!("GET {path} headers"), &headers);
            assert_clean(&format!("GET {path}"), &body);
            for attr in ["href=\"", "action=\""] {
                for part in body.split(attr).skip(1) {
                    let link = part.split('"').next().unwrap_or("").replace("&amp;", "&");
                    if link.starts_with('/') && !link.starts_with("//") {
                        queue.push(link);
                    }
                }
            }
        }
        // A wrong key typed into the setup form must not come back in the answer either.
        let resp = client
            .post(format!("{base}/setup/key"))
            .bearer_auth(&token)
            .form(&[("key", REJECTED_KEY), ("csrf", "wrong")])
            .send()
            .await
            .expect("post");
        assert_clean("POST /setup/key", &resp.text().await.unwrap_or_default());
        seen.len()
    });
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_clean("`nxr serve` stderr", &err);
    fetched
}

#[test]
fn no_surface_shows_a_full_secret_and_every_file_holding_one_is_0600() {
    let server = FakeServer::start();
    server
        .always("/api/v1/key", Reply::json(200, KEY_OK))
        .always(
            "/api/v1/credits",
            Reply::json(403, r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#),
        )
        .always(
            "/api/v1/models",
            Reply::json(200, common::fixture("openrouter/models.json")),
        );
    let api = format!("{}/api/v1", server.base);
    let homes = Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).expect("hermes home");
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("TELEGRAM_BOT_TOKEN={BOT_TOKEN}\nTELEGRAM_HOME_CHANNEL=12345\n"),
    )
    .expect(".env");
    std::fs::set_permissions(
        homes.hermes_home().join(".env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");

    // Debug logging: the most a log could hold.
    let debug = |c: &mut std::process::Command| {
        c.env("RUST_LOG", "debug");
    };
    let mut set = homes.nxr();
    debug(&mut set);
    let r = run(
        set.env("NXR_OPENROUTER_URL", &api)
            .args(["config", "set", "openrouter-key", KEY]),
        "config set openrouter-key",
    );
    assert_eq!(r.code, 0, "{}", r.out);
    let mut init = homes.nxr();
    debug(&mut init);
    let r = run(
        init.env("NXR_OPENROUTER_URL", &api)
            .args(["init", "--key", KEY]),
        "init --key",
    );
    assert_eq!(r.code, 0, "{}", r.out);
    // A key OpenRouter refuses: the error names the problem, not the key.
    server.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    let r = run(
        homes
            .nxr()
            .env("RUST_LOG", "debug")
            .env("NXR_OPENROUTER_URL", &api)
            .args(["config", "set", "openrouter-key", REJECTED_KEY]),
        "config set openrouter-key (rejected)",
    );
    assert_ne!(r.code, 0);
    server.always("/api/v1/key", Reply::json(200, KEY_OK));
    let commands = run_commands(&homes, &api);
    let holders = check_files(&homes, "after setup");
    assert!(holders >= 2, "the key and the token are stored somewhere");

    // config.yaml rewrites: a new agent and a model change keep the secret files 0600.
    let r = run(
        homes
            .nxr()
            .env("NXR_OPENROUTER_URL", &api)
            .args(["agents", "create", "--role", "research", "--name", "Scout"]),
        "agents create",
    );
    assert_eq!(r.code, 0, "{}", r.out);
    let r = run(
        homes.nxr().env("NXR_OPENROUTER_URL", &api).args([
            "agents", "create", "--role", "creative", "--name", "Muse", "--json",
        ]),
        "agents create --json",
    );
    assert_eq!(r.code, 0, "{}", r.out);
    check_files(&homes, "after config.yaml rewrites");

    // An upgrade to paid models and a revert rewrite every profile: the secrets stay 0600.
    for args in [&["upgrade", "--all"][..], &["upgrade", "--revert", "--all"]] {
        let r = run(
            homes
                .nxr()
                .env("RUST_LOG", "debug")
                .env("NXR_HERMES_BIN", common::hermes_bin())
                .env("NXR_OPENROUTER_URL", &api)
                .args(args),
            &args.join(" "),
        );
        assert_eq!(r.code, 0, "{}", r.out);
        check_files(&homes, &format!("after `nxr {}`", args.join(" ")));
    }

    let pages = crawl_web(&homes);
    let mut logs = Vec::new();
    files_under(&homes.nxr_home().join("logs"), &mut logs);
    assert!(!logs.is_empty(), "nxr writes logs");
    for l in &logs {
        assert_clean(
            &l.display().to_string(),
            &String::from_utf8_lossy(&std::fs::read(l).unwrap_or_default()),
        );
    }
    let holders = check_files(&homes, "at the end");
    common::figures(
        "secrets",
        &format!(
            "secrets: {} commands, {pages} web answers, {} log files searched; {holders} files hold a secret, all 0600",
            commands + 8,
            logs.len()
        ),
    );
}
