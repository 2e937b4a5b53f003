//! `nxr agents check`: each way an agent can be unable to run is found without spending a request, and
//! says what to fix; and the key reaches agents created after it was stored. (The real Hermes CLI
//! answering every agent is in every_agent_runs.rs.)

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;

const KEY: &str = "sk-or-v1-check000000000000000000000000000000000000000000000000cccc";

fn run(homes: &Homes, envs: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = homes.nxr();
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

fn ok(homes: &Homes, envs: &[(&str, &str)], args: &[&str]) -> String {
    let out = run(homes, envs, args);
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `nxr agents check [NAME] --json` → (exit ok, the checks).
fn check(homes: &Homes, envs: &[(&str, &str)], name: Option<&str>) -> (bool, Vec<Value>) {
    let mut args = vec!["agents", "check", "--json"];
    args.extend(name);
    let out = run(homes, envs, &args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v.as_array().unwrap().clone())
}

fn line<'a>(check: &'a Value, kind: &str) -> &'a Value {
    check["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} line in {check}"))
}

/// A fake OpenRouter that accepts any key.
fn openrouter() -> FakeServer {
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake
}

#[test]
fn an_agent_created_after_the_key_is_stored_gets_it_and_is_ready() {
    let homes = Homes::new();
    let fake = openrouter();
    let url = format!("{}/api/v1", fake.base);
    let envs = [("NXR_OPENROUTER_URL", url.as_str())];
    ok(&homes, &envs, &["config", "set", "openrouter-key", KEY]);
    ok(
        &homes,
        &envs,
        &["agents", "create", "--role", "pm", "--name", "Late Planner"],
    );
    let env_file = homes.hermes_home().join("profiles/late-planner/.env");
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert_eq!(text, format!("OPENROUTER_API_KEY={KEY}\n"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let (all_ready, checks) = check(&homes, &envs, Some("Late Planner"));
    assert!(all_ready, "{checks:?}");
    assert_eq!(checks[0]["state"], "ready");
    // The key is never shown in full, not even in the check.
    let out = run(&homes, &envs, &["agents", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(KEY), "{text}");
    assert!(text.contains("✓ OPENROUTER_API_KEY set in"), "{text}");
}

#[test]
fn an_invalid_key_reaches_no_profile() {
    let homes = Homes::new();
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(401, r#"{"error":{"code":401,"message":"User not found."}}"#),
    );
    let url = format!("{}/api/v1", fake.base);
    let envs = [("NXR_OPENROUTER_URL", url.as_str())];
    ok(&homes, &envs, &["init", "--free"]);
    let out = run(&homes, &envs, &["config", "set", "openrouter-key", KEY]);
    assert!(!out.status.success());
    for p in ["profiles/pm/.env", "profiles/engineer/.env", ".env"] {
        let text = std::fs::read_to_string(homes.hermes_home().join(p)).unwrap_or_default();
        assert!(!text.contains("OPENROUTER_API_KEY"), "{p}: {text}");
    }
}

#[test]
fn each_broken_part_is_found_with_its_fix() {
    let homes = Homes::new();
    ok(&homes, &[], &["init", "--free"]);
    let root = homes.hermes_home();

    // The PM's config.yaml no longer parses.
    std::fs::write(root.join("profiles/pm/config.yaml"), "model: [unclosed\n").unwrap();
    // The Engineer's model was changed by hand and one of its skills deleted.
    let eng_cfg = root.join("profiles/engineer/config.yaml");
    let text = std::fs::read_to_string(&eng_cfg).unwrap();
    let (_, model_line) = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("default:")
                .map(|m| (l, m.trim().to_string()))
        })
        .unwrap();
    std::fs::write(
        &eng_cfg,
        text.replace(&model_line, "openai/gpt-oss-20b:free"),
    )
    .unwrap();
    std::fs::remove_dir_all(root.join("profiles/engineer/skills/nxr/coding")).unwrap();

    let (all_ready, checks) = check(&homes, &[], None);
    assert!(!all_ready);
    let by = |name: &str| checks.iter().find(|c| c["agent"] == name).unwrap().clone();

    let pm = by("PM");
    assert_eq!(pm["state"], "broken");
    let config = line(&pm, "config");
    assert_eq!(config["ok"], false);
    assert!(
        config["fix"].as_str().unwrap().contains("line"),
        "the YAML error names its line: {config}"
    );

    let eng = by("Engineer");
    assert_eq!(eng["state"], "broken");
    let db = line(&eng, "database");
    assert_eq!(db["ok"], false);
    assert!(
        db["detail"]
            .as_str()
            .unwrap()
            .contains("openai/gpt-oss-20b:free"),
        "{db}"
    );
    assert!(
        db["fix"]
            .as_str()
            .unwrap()
            .contains("hermes -p engineer config set model.default"),
        "{db}"
    );
    let skills = line(&eng, "skills");
    assert_eq!(skills["ok"], false);
    assert!(
        skills["detail"].as_str().unwrap().contains("coding"),
        "{skills}"
    );
    assert!(
        skills["fix"]
            .as_str()
            .unwrap()
            .contains("nxr agents skills"),
        "{skills}"
    );

    // The Hermes agent only lacks the key.
    assert_eq!(by("Hermes")["state"], "needs_key");

    // The text form: a ✗ line with the fix, and the summary of who can run.
    let out = run(&homes, &[], &["agents", "check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✗ skill(s) missing"), "{text}");
    assert!(text.contains("— fix: `nxr agents skills"), "{text}");
    assert!(text.contains("Cannot run: PM, Engineer"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 of 3 agent(s) cannot run yet"), "{err}");

    // An unknown agent is an error that says how to list them.
    let out = run(&homes, &[], &["agents", "check", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nxr agents list"));
}

#[test]
fn a_local_model_slot_is_checked_against_ollama() {
    let homes = Homes::new();
    let ollama = FakeServer::start();
    ollama.always(
        "/api/tags",
        Reply::json(200, r#"{"models":[{"name":"qwen3:8b"}]}"#),
    );
    let base = ollama.base.clone();
    let envs = [("NXR_OLLAMA_URL", base.as_str())];
    ok(&homes, &envs, &["init", "--free"]);
    let (_, checks) = check(&homes, &envs, Some("PM"));
    let local = line(&checks[0], "local_endpoint");
    assert_eq!(local["ok"], true, "{local}");
    assert!(
        local["detail"].as_str().unwrap().contains("qwen3:8b"),
        "{local}"
    );
    assert_eq!(checks[0]["state"], "needs_key");

    // The model is gone from Ollama: pull it.
    ollama.always("/api/tags", Reply::json(200, r#"{"models":[]}"#));
    let (_, checks) = check(&homes, &envs, Some("PM"));
    let local = line(&checks[0], "local_endpoint");
    assert_eq!(local["ok"], false);
    assert_eq!(local["fix"], "`ollama pull qwen3:8b`");
    assert_eq!(checks[0]["state"], "broken");

    // Ollama is not running at all.
    drop(ollama);
    let (_, checks) = check(&homes, &envs, Some("PM"));
    let local = line(&checks[0], "local_endpoint");
    assert_eq!(local["ok"], false);
    assert!(
        local["fix"].as_str().unwrap().contains("ollama serve"),
        "{local}"
    );
}

#[test]
fn a_key_stored_only_in_the_root_is_copied_to_every_profile_by_fix() {
    // A setup from an older nxr: the key in $HERMES_HOME/.env only.
    let homes = Homes::new();
    ok(&homes, &[], &["init", "--free"]);
    let pm_env = homes.hermes_home().join("profiles/pm/.env");
    std::fs::write(&pm_env, "MINE=1\n").unwrap();
    std::fs::write(
        homes.hermes_home().join(".env"),
        format!("OPENROUTER_API_KEY={KEY}\n"),
    )
    .unwrap();
    let (_, checks) = check(&homes, &[], Some("PM"));
    assert_eq!(checks[0]["state"], "needs_key");
    let creds = line(&checks[0], "credentials");
    assert!(
        creds["fix"]
            .as_str()
            .unwrap()
            .contains("nxr agents check --fix"),
        "{creds}"
    );

    let out = run(&homes, &[], &["agents", "check", "--fix", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pm") && err.contains("engineer"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert_eq!(
        std::fs::read_to_string(&pm_env).unwrap(),
        format!("MINE=1\nOPENROUTER_API_KEY={KEY}\n")
    );
    let (all_ready, _) = check(&homes, &[], None);
    assert!(all_ready);
}
