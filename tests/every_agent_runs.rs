//! Every agent nxr sets up answers a real prompt: the real Hermes Agent CLI (installed by
//! scripts/test.sh) runs `hermes [-p <profile>] -z "ping"` for each agent against a fake OpenRouter on
//! loopback, which records every chat request. A named Hermes profile reads only its own `.env`, so
//! this fails unless the stored key reaches each profile.
//!
//! The steps are helpers (`setup`, `each_agent_answers`) so that more flows (e.g. moving agents to
//! other models and back) can reuse them.

mod common;

use common::{FakeServer, Homes, Reply};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KEY_1: &str = "sk-or-v1-e2e0000000000000000000000000000000000000000000000000000aaaa";
const KEY_2: &str = "sk-or-v1-e2e1111111111111111111111111111111111111111111111111111bbbb";
const CHAT: &str = "/api/v1/chat/completions";

/// One streamed chat completion, as OpenRouter sends it (server-sent events).
fn chat_reply() -> Reply {
    common::chat_sse("pong")
}

/// A fake OpenRouter: `/key` validates any key, chat completions answer "pong"; everything else 404s
/// (the catalog then comes from the embedded snapshot; Hermes' model-metadata lookups go without).
fn fake_openrouter() -> FakeServer {
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.always(CHAT, chat_reply());
    fake
}

fn nxr(homes: &Homes, fake: &FakeServer, args: &[&str]) -> Output {
    homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .env("OPENROUTER_BASE_URL", format!("{}/api/v1", fake.base))
        .env("HOME", homes.user_home())
        .env_remove("OPENROUTER_API_KEY")
        .args(args)
        .output()
        .unwrap()
}

fn nxr_ok(homes: &Homes, fake: &FakeServer, args: &[&str]) -> String {
    let out = nxr(homes, fake, args);
    assert!(
        out.status.success(),
        "nxr {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An agent as `nxr agents list --json` shows it.
#[derive(Debug, Clone)]
struct AgentInfo {
    name: String,
    profile: String,
    profile_dir: PathBuf,
    model: String,
}

fn agents(homes: &Homes, fake: &FakeServer) -> Vec<AgentInfo> {
    let list: Value =
        serde_json::from_str(&nxr_ok(homes, fake, &["agents", "list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| AgentInfo {
            name: a["name"].as_str().unwrap().into(),
            profile: a["hermes_profile"].as_str().unwrap().into(),
            profile_dir: PathBuf::from(a["hermes_profile_path"].as_str().unwrap()),
            model: a["model"].as_str().unwrap().into(),
        })
        .collect()
}

/// `nxr init --free`, then one more agent: the four agents every flow starts from.
fn setup(homes: &Homes, fake: &FakeServer) {
    nxr_ok(homes, fake, &["init", "--free"]);
    nxr_ok(
        homes,
        fake,
        &["agents", "create", "--role", "research", "--name", "Scout"],
    );
}

/// `nxr agents check --json`: agent name → state.
fn check_states(homes: &Homes, fake: &FakeServer, extra: &[&str]) -> (bool, Vec<(String, String)>) {
    let mut args = vec!["agents", "check", "--json"];
    args.extend_from_slice(extra);
    let out = nxr(homes, fake, &args);
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "nxr agents check --json: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let states = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["agent"].as_str().unwrap().to_string(),
                c["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.success(), states)
}

fn chat_requests(fake: &FakeServer) -> Vec<common::Seen> {
    fake.seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == CHAT)
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Runs `hermes [-p <profile>] -z "ping"` for every agent, one after the other, and checks that each
/// sent exactly one chat request, on its own model, carrying `key`, and got the answer; and that every
/// `.env` is private.
fn each_agent_answers(homes: &Homes, fake: &FakeServer, key: &str) {
    let list = agents(homes, fake);
    assert_eq!(list.len(), 4, "{list:?}");
    for agent in &list {
        let before = chat_requests(fake).len();
        let mut cmd = Command::new(common::hermes_bin());
        if agent.profile != "default" {
            cmd.args(["-p", &agent.profile]);
        }
        let out = cmd
            .args(["-z", "ping"])
            .env("HERMES_HOME", homes.hermes_home())
            .env("HOME", homes.user_home())
            .env("OPENROUTER_BASE_URL", format!("{}/api/v1", fake.base))
            .env("NO_COLOR", "1")
            .env_remove("OPENROUTER_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("ANTHROPIC_API_KEY")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("pong"),
            "{} ({}) did not answer ({})\nstdout: {stdout}\nstderr: {stderr}",
            agent.name,
            agent.profile,
            out.status
        );
        let sent: Vec<common::Seen> = chat_requests(fake).into_iter().skip(before).collect();
        assert_eq!(sent.len(), 1, "{}: chat requests {sent:?}", agent.name);
        let body: Value = serde_json::from_str(&sent[0].body).unwrap();
        assert_eq!(
            body["model"],
            agent.model.as_str(),
            "{} used another model",
            agent.name
        );
        let auth = sent[0]
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            auth,
            Some(format!("Bearer {key}").as_str()),
            "{} sent another key",
            agent.name
        );
        assert_eq!(
            mode(&agent.profile_dir.join(".env")),
            0o600,
            "{}",
            agent.name
        );
    }
    assert_eq!(mode(&homes.hermes_home().join(".env")), 0o600);
}

#[test]
fn every_agent_answers_a_real_hermes_prompt_with_the_stored_key() {
    let homes = Homes::new();
    let fake = fake_openrouter();
    setup(&homes, &fake);

    // No key yet: every OpenRouter agent waits for one, and checking spends no request.
    let (ok, states) = check_states(&homes, &fake, &[]);
    assert!(!ok, "the check exits non-zero while agents cannot run");
    assert_eq!(states.len(), 4);
    for (agent, state) in &states {
        assert_eq!(state, "needs_key", "{agent}");
    }

    nxr_ok(&homes, &fake, &["config", "set", "openrouter-key", KEY_1]);
    let (ok, states) = check_states(&homes, &fake, &[]);
    assert!(ok, "{states:?}");
    for (agent, state) in &states {
        assert_eq!(state, "ready", "{agent}");
    }
    assert_eq!(
        chat_requests(&fake).len(),
        0,
        "a static check spent a request"
    );

    each_agent_answers(&homes, &fake, KEY_1);

    // A line the user put in a profile's .env by hand stays through a key change.
    let pm_env = homes.hermes_home().join("profiles/pm/.env");
    let mut text = std::fs::read_to_string(&pm_env).unwrap();
    text.push_str("MY_OWN_SETTING=keep-me\n");
    std::fs::write(&pm_env, text).unwrap();

    nxr_ok(&homes, &fake, &["config", "set", "openrouter-key", KEY_2]);
    each_agent_answers(&homes, &fake, KEY_2);
    let text = std::fs::read_to_string(&pm_env).unwrap();
    assert!(text.contains("MY_OWN_SETTING=keep-me\n"), "{text}");
    assert!(!text.contains(KEY_1), "the old key is gone");

    // `--live` sends one prompt through Hermes and reports the answer.
    let before = chat_requests(&fake).len();
    let out = nxr(
        &homes,
        &fake,
        &["agents", "check", "Scout", "--live", "--json"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("free daily bucket"),
        "it says what it spends: {stderr}"
    );
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let live = checks[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "live")
        .cloned()
        .unwrap();
    assert_eq!(live["ok"], true, "{live}");
    assert!(live["detail"].as_str().unwrap().contains("pong"), "{live}");
    assert_eq!(chat_requests(&fake).len(), before + 1);

    // Removing the key takes it out of every profile; the agents wait for a key again.
    nxr_ok(&homes, &fake, &["config", "unset", "openrouter-key"]);
    for a in agents(&homes, &fake) {
        let text = std::fs::read_to_string(a.profile_dir.join(".env")).unwrap_or_default();
        assert!(!text.contains("OPENROUTER_API_KEY"), "{}: {text}", a.name);
    }
    let (_, states) = check_states(&homes, &fake, &[]);
    assert!(states.iter().all(|(_, s)| s == "needs_key"), "{states:?}");
    assert!(
        std::fs::read_to_string(&pm_env)
            .unwrap()
            .contains("MY_OWN_SETTING=keep-me")
    );
}

/// Every agent's model, by name.
fn models(homes: &Homes, fake: &FakeServer) -> std::collections::BTreeMap<String, String> {
    agents(homes, fake)
        .into_iter()
        .map(|a| (a.name, a.model))
        .collect()
}

#[test]
fn every_agent_still_answers_after_an_upgrade_to_paid_models_and_a_revert() {
    let homes = Homes::new();
    let fake = fake_openrouter();
    // An ordinary key: /credits refuses it and the upgrade reads /key instead.
    fake.always(
        "/api/v1/credits",
        Reply::json(
            403,
            r#"{"error":{"code":403,"message":"Only management keys can fetch credits"}}"#,
        ),
    );
    setup(&homes, &fake);
    nxr_ok(&homes, &fake, &["config", "set", "openrouter-key", KEY_1]);
    let free = models(&homes, &fake);

    nxr_ok(&homes, &fake, &["upgrade", "--all", "--yes"]);
    let paid = models(&homes, &fake);
    assert_eq!(paid.len(), 4);
    for (name, model) in &paid {
        assert!(
            !model.ends_with(":free") && model != &free[name],
            "{name} stayed on {model} (was {})",
            free[name]
        );
    }
    // Each agent answers on its paid model, with the key.
    each_agent_answers(&homes, &fake, KEY_1);

    nxr_ok(&homes, &fake, &["upgrade", "--revert", "--all", "--yes"]);
    assert_eq!(
        models(&homes, &fake),
        free,
        "revert goes back to each free model"
    );
    each_agent_answers(&homes, &fake, KEY_1);
}
