//! nxr agents against the real Hermes Agent CLI (installed by scripts/test.sh): what nxr writes is what
//! `hermes` reads. HERMES_HOME and HOME point into a temp dir, so nothing touches the user's files.

mod common;

use common::Homes;
use nxr::domain::agents::skills;
use std::process::Command;

/// Short enough that `hermes profile list` prints it whole (its model column holds 26 characters).
const M: &str = "openai/gpt-oss-120b:free";

fn hermes(homes: &Homes, args: &[&str]) -> (bool, String, String) {
    let home = homes.dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(common::hermes_bin())
        .args(args)
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", &home)
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        .env_remove("OPENROUTER_API_KEY")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn nxr(homes: &Homes, args: &[&str]) -> String {
    let out = homes.nxr().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "nxr {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_pm_agent_is_a_hermes_profile_with_its_model_and_its_eight_skills() {
    let homes = Homes::new();
    nxr(
        &homes,
        &[
            "agents", "create", "--role", "pm", "--name", "Plan Bot", "--model", M,
        ],
    );

    let (ok, out, err) = hermes(
        &homes,
        &["-p", "plan-bot", "config", "get", "model.default"],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), M);

    let (ok, out, err) = hermes(&homes, &["profile", "list"]);
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some("plan-bot"))
        .unwrap_or_else(|| panic!("plan-bot missing from `hermes profile list`:\n{out}"));
    assert!(line.contains(M), "{line}");

    let (ok, out, err) = hermes(&homes, &["-p", "plan-bot", "skills", "list"]);
    assert!(ok, "{err}");
    let mut want: Vec<String> = skills::PM_SKILLS.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(common::listed_skills(&out), want, "{out}");

    // Hermes sees a sync: remove two, add one.
    nxr(
        &homes,
        &[
            "agents",
            "skills",
            "Plan Bot",
            "--sync",
            "planning,task-breakdown,prioritization,status-reporting,dependency-mapping,sprint-planning,web-search",
        ],
    );
    let (_, out, _) = hermes(&homes, &["-p", "plan-bot", "skills", "list"]);
    let mut want: Vec<String> = [
        "planning",
        "task-breakdown",
        "prioritization",
        "status-reporting",
        "dependency-mapping",
        "sprint-planning",
        "web-search",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort();
    assert_eq!(common::listed_skills(&out), want, "{out}");
}

#[test]
fn the_default_model_for_a_role_is_what_hermes_reads() {
    let homes = Homes::new();
    let out = nxr(
        &homes,
        &[
            "agents", "create", "--role", "engineer", "--name", "eng", "--json",
        ],
    );
    let agent: serde_json::Value = serde_json::from_str(&out).unwrap();
    let model = agent["model"].as_str().unwrap();
    assert!(!model.is_empty());
    let (ok, out, err) = hermes(&homes, &["-p", "eng", "config", "get", "model.default"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), model);
    let (_, out, _) = hermes(&homes, &["-p", "eng", "config", "get", "model.provider"]);
    assert_eq!(out.trim(), "openrouter");
}

#[test]
fn foreign_keys_and_comments_in_config_yaml_survive_nxr_edits() {
    let homes = Homes::new();
    let root = homes.hermes_home();
    std::fs::create_dir_all(&root).unwrap();
    let cfg = root.join("config.yaml");
    std::fs::write(
        &cfg,
        "# My Hermes settings — hand-written\n\
         model:\n  default: anthropic/claude-sonnet-4  # my old model\n  provider: anthropic\n\
         terminal:\n  backend: local   # keep local\n  timeout: 180\n\
         display:\n  skin: mono\n\
         toolsets:\n  - web\n  - terminal\n\
         auxiliary:\n  vision:\n    provider: auto\n    model: ''\n",
    )
    .unwrap();
    // The `hermes` agent lives in the root profile, so nxr edits this very file.
    nxr(
        &homes,
        &[
            "agents", "create", "--role", "hermes", "--name", "Hermes", "--model", M,
        ],
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    for comment in ["# My Hermes settings — hand-written", "# keep local"] {
        assert!(text.contains(comment), "comment {comment:?} lost:\n{text}");
    }
    for (key, want) in [
        ("model.default", M),
        ("model.provider", "openrouter"),
        ("terminal.backend", "local"),
        ("terminal.timeout", "180"),
        ("display.skin", "mono"),
        ("auxiliary.vision.provider", "auto"),
        ("auxiliary.free_only", "True"),
    ] {
        let (ok, out, err) = hermes(&homes, &["config", "get", key]);
        assert!(ok, "{key}: {err}");
        assert!(
            out.trim().eq_ignore_ascii_case(want),
            "hermes config get {key}: {out:?}, want {want:?}"
        );
    }
    let (_, out, _) = hermes(&homes, &["config", "get", "toolsets"]);
    assert!(out.contains("web") && out.contains("terminal"), "{out}");

    // A profile the user edited after nxr created it keeps their keys when nxr moves the model.
    nxr(
        &homes,
        &[
            "agents", "create", "--role", "pm", "--name", "pm", "--model", M,
        ],
    );
    let pm_cfg = root.join("profiles/pm/config.yaml");
    let mut text = std::fs::read_to_string(&pm_cfg).unwrap();
    text.push_str("# added by hand\nagent:\n  max_turns: 42\n");
    std::fs::write(&pm_cfg, &text).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let env = homes.env();
        let store = nxr::domain::store::Store::open(&env).await.unwrap();
        nxr::domain::agents::set_model(&store, &env, "pm", "openai/gpt-4o", "test")
            .await
            .unwrap();
    });
    let (_, out, _) = hermes(&homes, &["-p", "pm", "config", "get", "agent.max_turns"]);
    assert_eq!(out.trim(), "42");
    let (_, out, _) = hermes(&homes, &["-p", "pm", "config", "get", "model.default"]);
    assert_eq!(out.trim(), "openai/gpt-4o");
    assert!(
        std::fs::read_to_string(&pm_cfg)
            .unwrap()
            .contains("# added by hand")
    );
}
