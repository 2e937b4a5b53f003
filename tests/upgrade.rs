//! `nxr upgrade` end to end: the built binary on temp homes set up by `nxr init --free`, a fake
//! OpenRouter on 127.0.0.1:0 answering `/key` and `/credits`, and the real Hermes CLI reading each
//! profile's model back (`hermes -p <profile> config get model.default`).

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "sk-or-v1-0123456789abcdef0123456789abcdef";

fn key_body(usage: f64, report: Option<u64>) -> String {
    let mut data = serde_json::json!({
        "label": "sk-or-v1-012...def",
        "limit": null,
        "limit_remaining": null,
        "usage": usage,
        "is_free_tier": usage == 0.0,
    });
    if let Some(limit) = report {
        data["free_model_daily_requests"] =
            serde_json::json!({"used": 3, "limit": limit, "remaining": limit - 3});
    }
    serde_json::json!({ "data": data }).to_string()
}

const FORBIDDEN: &str =
    r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#;

/// An OpenRouter that accepts the key (usage 5, no daily-limit report) and refuses /credits (403).
fn openrouter() -> FakeServer {
    let s = FakeServer::start();
    s.always("/api/v1/key", Reply::json(200, key_body(5.0, None)));
    s.always("/api/v1/credits", Reply::json(403, FORBIDDEN));
    s
}

fn nxr(homes: &Homes, server: Option<&FakeServer>) -> Command {
    let mut c = homes.nxr();
    c.env("NXR_HERMES_BIN", common::hermes_bin())
        .env("NXR_FASTER_WHISPER_CMD", "false");
    if let Some(s) = server {
        c.env("NXR_OPENROUTER_URL", format!("{}/api/v1", s.base));
    }
    c
}

fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args).output().expect("nxr runs")
}

fn ok(c: Command, args: &[&str]) -> Output {
    let out = run(c, args);
    assert!(
        out.status.success(),
        "nxr {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn setup() -> Homes {
    let homes = Homes::new();
    ok(nxr(&homes, None), &["init", "--free"]);
    homes
}

/// name → (model, model_auto_assigned, hermes profile).
fn agents(homes: &Homes) -> BTreeMap<String, (String, bool, String)> {
    let out = ok(nxr(homes, None), &["agents", "list", "--json"]);
    json(&out)
        .as_array()
        .expect("array")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                (
                    a["model"].as_str().unwrap().to_string(),
                    a["model_auto_assigned"].as_bool().unwrap(),
                    a["hermes_profile"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// What the real Hermes CLI says the profile's model is.
fn hermes_model(homes: &Homes, profile: &str) -> String {
    let mut c = Command::new(common::hermes_bin());
    c.env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1");
    if profile != "default" {
        c.args(["-p", profile]);
    }
    let out = c
        .args(["config", "get", "model.default"])
        .output()
        .expect("hermes runs");
    assert!(
        out.status.success(),
        "hermes config get failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every agent's DB model is what Hermes reads from its profile.
fn assert_db_matches_hermes(homes: &Homes) -> BTreeMap<String, String> {
    let mut models = BTreeMap::new();
    for (name, (model, _, profile)) in agents(homes) {
        let seen = hermes_model(homes, &profile);
        assert!(
            seen.contains(&model),
            "{name}: DB says {model}, hermes says {seen:?}"
        );
        models.insert(name, model);
    }
    models
}

/// sha256 of every file under HERMES_HOME (and the profiles), by relative path.
fn hashes(root: &Path, skip_config: bool) -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, skip: bool, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, skip, out);
            } else if !(skip && p.file_name().is_some_and(|n| n == "config.yaml")) {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, format!("{:x}", Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, skip_config, &mut out);
    out
}

fn history_reasons(homes: &Homes, agent: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open(&homes.env()).await.unwrap();
        let mut rows = store
            .conn()
            .query(
                "SELECT h.reason FROM agent_model_history h JOIN agents a ON a.id = h.agent_id \
                 WHERE a.name = ?1 ORDER BY h.id",
                libsql::params![agent],
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().await.unwrap() {
            out.push(r.get::<String>(0).unwrap());
        }
        out
    })
}

#[test]
fn a_refused_key_an_unreachable_openrouter_or_a_5xx_fail_clearly_and_change_nothing() {
    let homes = setup();
    let before_agents = agents(&homes);
    let before_files = hashes(&homes.hermes_home(), false);
    let refusing = FakeServer::start();
    refusing.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    let out = run(
        nxr(&homes, Some(&refusing)),
        &["upgrade", "--key", KEY, "--all"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("refused the API key"), "{err}");
    assert!(err.contains("User not found"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(!err.contains(KEY), "the key is never printed: {err}");

    // No network at all (the default URL is a closed port).
    let out = run(nxr(&homes, None), &["upgrade", "--key", KEY, "--all"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");

    let failing = FakeServer::start();
    failing.always(
        "/api/v1/key",
        Reply::json(503, r#"{"error":{"code":503,"message":"upstream down"}}"#),
    );
    let out = run(
        nxr(&homes, Some(&failing)),
        &["upgrade", "--key", KEY, "--all"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("HTTP 503"), "{err}");

    // With no key stored and none given: say how to give one.
    let out = run(nxr(&homes, Some(&openrouter())), &["upgrade", "--all"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--key"), "{err}");

    assert_eq!(agents(&homes), before_agents);
    assert_eq!(hashes(&homes.hermes_home(), false), before_files);
    assert!(
        !std::fs::read_to_string(homes.hermes_home().join(".env"))
            .unwrap_or_default()
            .contains(KEY)
    );
}

#[test]
fn the_free_tier_shown_follows_credits_purchased_and_falls_back_to_key_on_403() {
    let homes = setup();
    let check = |server: &FakeServer| {
        let out = ok(
            nxr(&homes, Some(server)),
            &["upgrade", "--key", KEY, "--json"],
        );
        let v = json(&out);
        assert_eq!(v["applied"], false, "no terminal, no choice flag: {v}");
        v["key"].clone()
    };
    // /key says 5 credits were bought (spent), /credits refuses an ordinary key: 50/day.
    let s = openrouter();
    let k = check(&s);
    assert_eq!(k["free_daily_limit"], 50, "{k}");
    assert_eq!(k["credits_from"], "key_usage", "{k}");
    assert!(s.hits("/api/v1/credits") >= 1, "/credits was asked first");
    // 12 credits: 1000/day.
    let s = FakeServer::start();
    s.always("/api/v1/key", Reply::json(200, key_body(12.0, None)));
    s.always("/api/v1/credits", Reply::json(403, FORBIDDEN));
    assert_eq!(check(&s)["free_daily_limit"], 1000);
    // A management key: /credits answers; 12 purchased, 2 used.
    let s = FakeServer::start();
    s.always("/api/v1/key", Reply::json(200, key_body(0.0, None)));
    s.always(
        "/api/v1/credits",
        Reply::json(200, r#"{"data":{"total_credits":12,"total_usage":2}}"#),
    );
    let k = check(&s);
    assert_eq!(
        (
            k["free_daily_limit"].clone(),
            k["credits_from"].clone(),
            k["balance"].clone()
        ),
        (1000.into(), "credits".into(), 10.0.into())
    );
    // The key's own report wins.
    let s = FakeServer::start();
    s.always("/api/v1/key", Reply::json(200, key_body(12.0, Some(50))));
    s.always("/api/v1/credits", Reply::json(403, FORBIDDEN));
    let k = check(&s);
    assert_eq!(k["free_daily_limit"], 50);
    assert_eq!(k["free_limit_from"], "key_report");

    // /credits answering 500 is OpenRouter's trouble, not a missing management key; a total no
    // account can have (1e308) is refused, never shown as a balance.
    for (reply, says) in [
        (
            Reply::json(
                500,
                r#"{"error":{"code":500,"message":"Internal Server Error"}}"#,
            ),
            "/credits answered HTTP 500, a server error at OpenRouter",
        ),
        (
            Reply::json(200, r#"{"data":{"total_credits":1e308,"total_usage":0}}"#),
            "total_credits 1e308 is not a credit amount an account can have",
        ),
    ] {
        let s = FakeServer::start();
        s.always("/api/v1/key", Reply::json(200, key_body(5.0, None)));
        s.always("/api/v1/credits", reply);
        let out = ok(nxr(&homes, Some(&s)), &["upgrade", "--key", KEY]);
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("key ")).unwrap_or("");
        assert!(line.contains(says), "{text}");
        assert!(!line.contains("management key"), "{text}");
        assert!(
            !text.contains("$inf") && !line.contains("balance $"),
            "{text}"
        );
        let k = check(&s);
        assert_eq!(k["credits_from"], "key_usage", "{k}");
    }

    // The text table says how the daily limit and the estimate were made.
    let out = ok(nxr(&homes, Some(&openrouter())), &["upgrade"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("free models: 50/day"), "{text}");
    assert!(
        text.contains("100 requests/day of 2k prompt + 500 completion tokens"),
        "{text}"
    );
    assert!(text.contains("nothing was changed; to apply"), "{text}");
    assert!(text.contains("RECOMMENDED (PAID)"), "{text}");
}

#[test]
fn all_agent_to_and_revert_leave_the_database_and_hermes_in_step() {
    let homes = setup();
    let server = openrouter();
    // The key is stored first (like `nxr config set openrouter-key`), so .env is part of "before".
    ok(
        nxr(&homes, Some(&server)),
        &["config", "set", "openrouter-key", KEY],
    );
    let free = assert_db_matches_hermes(&homes);
    let before = hashes(&homes.hermes_home(), true);

    // A dry run writes nothing and shows the config.yaml lines.
    let all_files = hashes(&homes.hermes_home(), false);
    let out = ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--all", "--dry-run"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing was written"), "{text}");
    assert!(text.contains("agents.model:"), "{text}");
    assert!(text.contains("-  free_only: true"), "{text}");
    assert_eq!(hashes(&homes.hermes_home(), false), all_files);
    assert_eq!(assert_db_matches_hermes(&homes), free);

    // --all: every agent on its paid recommendation.
    let out = ok(nxr(&homes, Some(&server)), &["upgrade", "--all", "--json"]);
    let v = json(&out);
    let rows = v["plan"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let paid = assert_db_matches_hermes(&homes);
    for r in rows {
        let name = r["agent"].as_str().unwrap();
        let rec = r["recommended"]["id"].as_str().unwrap();
        assert_eq!(paid[name], rec, "{name}");
        assert_ne!(paid[name], free[name]);
        assert_eq!(r["recommended"]["is_free"], false);
        assert!(r["monthly_cost_usd"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(r["usage"]["basis"], "assumed");
        assert_eq!(history_reasons(&homes, name).last().unwrap(), "upgrade");
    }
    assert_eq!(v["result"]["switched"].as_array().unwrap().len(), 3);
    for (name, (_, auto, profile)) in agents(&homes) {
        assert!(auto, "{name}: the recommendation is nxr's pick");
        let cfg = std::fs::read_to_string(if profile == "default" {
            homes.hermes_home().join("config.yaml")
        } else {
            homes
                .hermes_home()
                .join("profiles")
                .join(&profile)
                .join("config.yaml")
        })
        .unwrap();
        assert!(!cfg.contains("free_only"), "paid clears free_only: {cfg}");
        assert!(cfg.contains("provider: openrouter"), "{cfg}");
    }

    // --revert --agent: one agent back to its exact free model.
    let pm = agents(&homes)
        .into_iter()
        .find(|(_, (_, _, p))| p != "default" && !p.contains("eng"))
        .map(|(n, _)| n)
        .unwrap();
    ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--revert", "--agent", &pm],
    );
    let now = assert_db_matches_hermes(&homes);
    assert_eq!(now[&pm], free[&pm]);
    assert_eq!(history_reasons(&homes, &pm).last().unwrap(), "revert");

    // --to: a model that fails the role is refused with the reason, unless --force.
    let out = run(
        nxr(&homes, Some(&server)),
        &[
            "upgrade",
            "--agent",
            &pm,
            "--to",
            "meta-llama/llama-3.2-3b-instruct",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("no tool support"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(assert_db_matches_hermes(&homes), now);
    ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--agent", &pm, "--to", "openai/gpt-4o-mini"],
    );
    let chosen = assert_db_matches_hermes(&homes);
    assert_eq!(chosen[&pm], "openai/gpt-4o-mini");
    assert!(
        !agents(&homes)[&pm].1,
        "a user's model is not auto-assigned"
    );
    assert_eq!(history_reasons(&homes, &pm).last().unwrap(), "user");
    ok(
        nxr(&homes, Some(&server)),
        &[
            "upgrade",
            "--agent",
            &pm,
            "--to",
            "meta-llama/llama-3.2-3b-instruct",
            "--force",
        ],
    );
    assert_eq!(
        assert_db_matches_hermes(&homes)[&pm],
        "meta-llama/llama-3.2-3b-instruct"
    );

    // --revert: everyone back to the exact free model they had (PM's own paid pick only when
    // included); nothing but config.yaml changed.
    ok(nxr(&homes, None), &["upgrade", "--revert", "--all"]);
    assert_eq!(
        assert_db_matches_hermes(&homes)[&pm],
        "meta-llama/llama-3.2-3b-instruct"
    );
    ok(
        nxr(&homes, None),
        &["upgrade", "--revert", "--all", "--include-chosen"],
    );
    assert_eq!(assert_db_matches_hermes(&homes), free);
    assert_eq!(hashes(&homes.hermes_home(), true), before);
    for (name, (_, _, profile)) in agents(&homes) {
        let cfg = std::fs::read_to_string(if profile == "default" {
            homes.hermes_home().join("config.yaml")
        } else {
            homes
                .hermes_home()
                .join("profiles")
                .join(&profile)
                .join("config.yaml")
        })
        .unwrap();
        assert!(cfg.contains("free_only: true"), "{name}: restored: {cfg}");
    }
    // A free model of the user's choice needs no key and no network (the scan's notifications
    // suggest exactly this command).
    ok(
        nxr(&homes, None),
        &[
            "upgrade",
            "--agent",
            &pm,
            "--to",
            "openai/gpt-oss-120b:free",
        ],
    );
    assert_eq!(
        assert_db_matches_hermes(&homes)[&pm],
        "openai/gpt-oss-120b:free"
    );
    assert_eq!(history_reasons(&homes, &pm).last().unwrap(), "user");
    ok(
        nxr(&homes, None),
        &["upgrade", "--agent", &pm, "--to", &free[&pm]],
    );
    // Nothing left to revert: said, and nothing changes.
    let out = ok(nxr(&homes, None), &["upgrade", "--revert", "--yes"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change"));
}

#[test]
fn the_estimate_uses_observed_usage_when_there_is_some() {
    let homes = setup();
    let server = openrouter();
    let name = agents(&homes).into_keys().next().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = nxr::domain::store::Store::open(&homes.env()).await.unwrap();
        let at = nxr::domain::base::clock::to_db(chrono::Utc::now() - chrono::Duration::hours(36));
        store
            .conn()
            .execute(
                "INSERT INTO usage_events (agent_id, model, is_free, requests, prompt_tokens, \
                 completion_tokens, occurred_at) \
                 SELECT id, model, 1, 10, 20000, 5000, ?2 FROM agents WHERE name = ?1",
                libsql::params![name.as_str(), at],
            )
            .await
            .unwrap();
    });
    let v = json(&ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--key", KEY, "--json"],
    ));
    let row = v["plan"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["usage"]["basis"], "observed", "{row}");
    assert_eq!(row["usage"]["days"], 2, "36 hours count as two days: {row}");
    let (p, c) = (
        row["recommended"]["prompt_per_million"].as_f64().unwrap(),
        row["recommended"]["completion_per_million"]
            .as_f64()
            .unwrap(),
    );
    let expected = (10_000.0 * p + 2_500.0 * c) / 1_000_000.0 * 30.0;
    let got = row["monthly_cost_usd"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    // The other agents are estimated at the stated assumption.
    let others: Vec<&Value> = v["plan"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["agent"] != name.as_str())
        .collect();
    assert!(others.iter().all(|r| r["usage"]["basis"] == "assumed"));
    assert_eq!(v["plan"]["uses_assumption"], true);
}

#[test]
fn help_documents_the_flow() {
    let out = ok(nxr(&Homes::new(), None), &["upgrade", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--key",
        "--all",
        "--agent",
        "--to",
        "--revert",
        "--dry-run",
        "--yes",
        "--force",
        "GET /credits",
        "403",
        "100 requests/day of 2k prompt + 500 completion tokens",
        "agent_model_history",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    assert!(readme.contains("## Upgrading to paid models"));
    assert!(readme.contains("nxr upgrade --revert"));
}

#[test]
fn a_key_from_stdin_is_stored_and_never_echoed() {
    let homes = setup();
    let server = openrouter();
    let mut c = nxr(&homes, Some(&server));
    c.args(["upgrade", "--key", "-", "--all", "--dry-run"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{KEY}").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.seen();
    let auth = seen
        .iter()
        .find(|s| s.path == "/api/v1/key")
        .and_then(|s| s.headers.iter().find(|(k, _)| k == "authorization"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(auth, format!("Bearer {KEY}"));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(KEY), "{all}");
    // A dry run stores nothing, not even the key.
    assert!(
        !std::fs::read_to_string(homes.hermes_home().join(".env"))
            .unwrap_or_default()
            .contains(KEY)
    );
}

#[test]
fn a_model_the_user_chose_is_kept_by_bulk_upgrade_and_revert_unless_included() {
    let homes = setup();
    let server = openrouter();
    ok(
        nxr(&homes, Some(&server)),
        &["config", "set", "openrouter-key", KEY],
    );
    let free = assert_db_matches_hermes(&homes);
    assert!(free.contains_key("PM"), "{free:?}");
    ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--agent", "PM", "--to", "openai/gpt-4o"],
    );
    assert!(
        !agents(&homes)["PM"].1,
        "the user's pick is not auto-assigned"
    );

    // --all: PM keeps gpt-4o, said as "kept (your choice)"; the others move.
    let out = ok(nxr(&homes, Some(&server)), &["upgrade", "--all", "--yes"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("PM: openai/gpt-4o kept (your choice)"),
        "{text}"
    );
    assert!(text.contains("--include-chosen"), "{text}");
    let paid = assert_db_matches_hermes(&homes);
    assert_eq!(paid["PM"], "openai/gpt-4o");
    for (name, (model, auto, _)) in agents(&homes) {
        if name != "PM" {
            assert_ne!(model, free[&name], "{name} moved to its paid pick");
            assert!(auto, "{name}");
        }
    }
    // The plan says the same, as a table and as JSON.
    ok(
        nxr(&homes, None),
        &["upgrade", "--agent", "Engineer", "--revert"],
    );
    let out = ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--all", "--dry-run"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let pm_line = text.lines().find(|l| l.starts_with("PM ")).unwrap_or("");
    assert!(pm_line.contains("kept (your choice)"), "{text}");
    assert!(text.contains("1 of 3 agents switch"), "{text}");
    assert!(text.contains("add --include-chosen"), "{text}");
    ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--agent", "Engineer"],
    );
    let v = json(&ok(
        nxr(&homes, Some(&server)),
        &["upgrade", "--all", "--dry-run", "--json"],
    ));
    let pm = v["plan"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "PM")
        .unwrap()
        .clone();
    assert_eq!(pm["kept_choice"], true, "{pm}");
    assert!(pm["switch"].is_null(), "{pm}");

    // --revert for every agent: PM's paid choice is not put on a free model; the others go back to
    // their free model and stay auto-assigned (eligible for auto-upgrade).
    let out = ok(nxr(&homes, None), &["upgrade", "--revert", "--all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kept (your choice)"), "{text}");
    let back = agents(&homes);
    assert_eq!(back["PM"].0, "openai/gpt-4o");
    for (name, (model, auto, _)) in &back {
        if name != "PM" {
            assert_eq!(model, &free[name], "{name} back on its free model");
            assert!(
                *auto,
                "{name}: nxr had placed it, so it stays auto-assigned"
            );
        }
    }
    assert_eq!(assert_db_matches_hermes(&homes)["PM"], "openai/gpt-4o");

    // --include-chosen includes it: PM goes back to its free model, which nxr had placed.
    let out = ok(
        nxr(&homes, None),
        &["upgrade", "--revert", "--all", "--include-chosen"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PM: openai/gpt-4o → "), "{text}");
    assert_eq!(assert_db_matches_hermes(&homes), free);
    assert!(agents(&homes)["PM"].1);
    // --include-chosen is for the plan over every agent.
    let out = run(
        nxr(&homes, None),
        &["upgrade", "--agent", "PM", "--include-chosen"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--include-chosen"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_empty_key_is_refused_not_replaced_by_the_stored_one() {
    let homes = setup();
    let server = openrouter();
    ok(
        nxr(&homes, Some(&server)),
        &["config", "set", "openrouter-key", KEY],
    );
    let before_agents = agents(&homes);
    let before_files = hashes(&homes.hermes_home(), false);
    let key_checks = server.hits("/api/v1/key");
    for args in [
        &["upgrade", "--key", "", "--all", "--yes"][..],
        &["upgrade", "--key", "  ", "--all", "--dry-run"][..],
        &["upgrade", "--key", "", "--revert", "--yes"][..],
    ] {
        let out = run(nxr(&homes, Some(&server)), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "nxr {args:?}: {err}");
        assert!(
            err.starts_with("error: the key given is empty") && err.contains("leave --key out"),
            "nxr {args:?}: {err}"
        );
    }
    // `--key -` with nothing on stdin is the same empty key.
    let mut c = nxr(&homes, Some(&server));
    c.args(["upgrade", "--key", "-", "--all", "--yes"])
        .stdin(std::process::Stdio::null());
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the key given is empty"));
    // The stored key was never used, nothing moved.
    assert_eq!(server.hits("/api/v1/key"), key_checks);
    assert_eq!(agents(&homes), before_agents);
    assert_eq!(hashes(&homes.hermes_home(), false), before_files);
    // `nxr init --key ''` and `config set openrouter-key ''` refuse the same way.
    for args in [
        &["init", "--key", ""][..],
        &["config", "set", "openrouter-key", ""][..],
    ] {
        let out = run(nxr(&homes, Some(&server)), args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "nxr {args:?}: {err}");
        assert!(
            err.contains("is empty; pass the key"),
            "nxr {args:?}: {err}"
        );
    }
    assert_eq!(hashes(&homes.hermes_home(), false), before_files);
}
