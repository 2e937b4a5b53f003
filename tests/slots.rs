//! `nxr slots list|set`: the routing slots of the root config.yaml and of an agent's profile, what the
//! real Hermes then reads, and refusals of bad input that change nothing.

mod common;

use common::Homes;

fn init(homes: &Homes) {
    let o = homes
        .nxr()
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .args(["init", "--free"])
        .output()
        .expect("init");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn hermes_get(homes: &Homes, profile: Option<&str>, key: &str) -> String {
    let mut c = std::process::Command::new(common::hermes_bin());
    c.env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1");
    if let Some(p) = profile {
        c.args(["-p", p]);
    }
    let out = c.args(["config", "get", key]).output().expect("hermes");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn slot_model(view: &serde_json::Value, slot: &str) -> Option<String> {
    view["slots"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == slot)?["model"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn slots_list_and_set_write_what_the_real_hermes_reads() {
    let homes = Homes::new();
    init(&homes);
    let root = homes.json(&["slots", "list"]);
    let names: Vec<&str> = root["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "main",
            "vision",
            "web_extract",
            "compression",
            "session_search",
            "skills_hub",
            "approval",
            "mcp"
        ]
    );
    assert_eq!(root["agent"], "Hermes");

    let model = "qwen/qwen3-coder:free";
    let done = homes.json(&["slots", "set", "vision", model]);
    assert_eq!(done["slot"], "vision");
    assert_eq!(hermes_get(&homes, None, "auxiliary.vision.model"), model);
    assert_eq!(
        slot_model(&homes.json(&["slots", "list"]), "vision").as_deref(),
        Some(model)
    );

    // An agent's profile: its own slot, and its main slot moves the agent (database and file).
    homes.json(&["slots", "set", "compression", model, "--agent", "PM"]);
    assert_eq!(
        hermes_get(&homes, Some("pm"), "auxiliary.compression.model"),
        model
    );
    let other = "google/gemma-4-31b-it:free";
    for (agent, profile) in [("PM", Some("pm")), ("Hermes", None)] {
        let to = if homes.json(&["slots", "list", "--agent", agent])["slots"][0]["model"] == model {
            other
        } else {
            model
        };
        let mut args = vec!["slots", "set", "main", to];
        if profile.is_some() {
            args.extend(["--agent", agent]);
        }
        homes.json(&args);
        let agents = homes.json(&["agents", "list"]);
        let row = agents
            .as_array()
            .expect("agents")
            .iter()
            .find(|a| a["name"] == agent)
            .expect("agent");
        assert_eq!(row["model"], to, "{agent}'s row follows its main slot");
        assert_eq!(hermes_get(&homes, profile, "model.default"), to);
    }
}

#[test]
fn slots_set_refuses_bad_input_with_a_clear_error_and_changes_nothing() {
    let homes = Homes::new();
    init(&homes);
    let cfg = homes.hermes_home().join("config.yaml");
    let before = std::fs::read(&cfg).expect("config.yaml");
    for (args, says) in [
        (
            vec!["slots", "set", "visionx", "qwen/qwen3-coder:free"],
            "\"visionx\" is not a routing slot",
        ),
        (
            vec!["slots", "set", "vision", "nobody/no-such-model"],
            "is not in the catalog; refresh it with `nxr catalog refresh`",
        ),
        (
            vec!["slots", "set", "vision", "<script>alert(1)</script>"],
            "invalid model id",
        ),
        (
            vec!["slots", "set", "vision", "evil\u{1b}[31m\u{202e}model"],
            "invalid model id",
        ),
        (
            vec![
                "slots",
                "set",
                "vision",
                "qwen/qwen3-coder:free",
                "--agent",
                "Nobody",
            ],
            "no agent named \"Nobody\"",
        ),
        (vec!["slots", "list", "--agent", "Nobody"], "no agent named"),
    ] {
        let o = homes.nxr().args(&args).output().expect("nxr");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            err.starts_with("error: ") && err.contains(says),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{args:?} echoed raw control characters: {err:?}"
        );
        assert_eq!(
            std::fs::read(&cfg).expect("config.yaml"),
            before,
            "{args:?} changed config.yaml"
        );
    }
    // A config.yaml that is not YAML: named, with the fix, and left as it was.
    std::fs::write(&cfg, "model: [unclosed\n").expect("break config.yaml");
    for args in [
        &["slots", "list"][..],
        &["slots", "set", "vision", "qwen/qwen3-coder:free"],
    ] {
        let o = homes.nxr().args(args).output().expect("nxr");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            err.contains("is not valid YAML (line 2") && err.contains("nxr changed nothing"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&cfg).expect("config.yaml"),
            "model: [unclosed\n"
        );
    }
}
