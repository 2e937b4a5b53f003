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
    let seeing = "google/gemma-3-27b-it:free";
    let done = homes.json(&["slots", "set", "vision", seeing]);
    assert_eq!(done["slot"], "vision");
    assert_eq!(hermes_get(&homes, None, "auxiliary.vision.model"), seeing);
    assert_eq!(
        slot_model(&homes.json(&["slots", "list"]), "vision").as_deref(),
        Some(seeing)
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
            "is not in the catalog; `nxr catalog refresh` fetches the newest catalog",
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

fn fails(homes: &Homes, args: &[&str]) -> String {
    let o = homes.nxr().args(args).output().expect("nxr");
    assert!(!o.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_vision_slot_refuses_a_model_without_image_input_unless_forced() {
    let homes = Homes::new();
    init(&homes);
    let cfg = homes.hermes_home().join("config.yaml");
    let before = std::fs::read(&cfg).expect("config.yaml");
    let err = fails(&homes, &["slots", "set", "vision", "qwen/qwen3-coder:free"]);
    assert!(
        err.contains("qwen/qwen3-coder:free does not take images")
            && err.contains("--force")
            && err.contains("nxr models list --vision"),
        "{err}"
    );
    assert_eq!(std::fs::read(&cfg).unwrap(), before);
    // Other slots take it; --force takes it for vision too.
    homes.json(&["slots", "set", "compression", "qwen/qwen3-coder:free"]);
    homes.json(&["slots", "set", "vision", "qwen/qwen3-coder:free", "--force"]);
    assert_eq!(
        hermes_get(&homes, None, "auxiliary.vision.model"),
        "qwen/qwen3-coder:free"
    );
}

#[test]
fn slots_set_never_rewrites_what_nxr_does_not_own() {
    let homes = Homes::new();
    init(&homes);
    let cfg = homes.hermes_home().join("config.yaml");
    let fresh = std::fs::read_to_string(&cfg).expect("config.yaml");
    let model = "openai/gpt-4o";

    // `auxiliary` as a list: refused, named, the file byte for byte as it was.
    let listed = format!("{fresh}\n# mine\nextra_list_owner: 1\n").replace(
        "auxiliary:\n  free_only: true\n",
        "auxiliary:\n  - keep\n  - me\n",
    );
    assert!(listed.contains("  - keep"), "{fresh}");
    std::fs::write(&cfg, &listed).unwrap();
    let err = fails(&homes, &["slots", "set", "compression", model]);
    assert!(
        err.contains("`auxiliary` is a list") && err.contains("nxr changed nothing"),
        "{err}"
    );
    assert!(
        !err.contains("TypeMismatch") && !err.contains("{ at"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), listed);

    // A slot on the user's own Ollama endpoint: refused without --force (nothing dropped); with
    // it, provider and model change, base_url and api_key go, every other key and comment stays.
    let own = fresh.replace(
        "auxiliary:\n  free_only: true\n",
        "auxiliary:\n  free_only: true\n  compression:\n    provider: ollama\n    model: qwen3:8b\n    base_url: http://10.0.0.5:11434/v1\n    timeout: 45 # mine\n",
    );
    assert!(own.contains("10.0.0.5"), "{fresh}");
    std::fs::write(&cfg, &own).unwrap();
    let err = fails(&homes, &["slots", "set", "compression", model]);
    assert!(
        err.contains("provider ollama, base_url http://10.0.0.5:11434/v1")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), own);
    homes.json(&["slots", "set", "compression", model, "--force"]);
    let after = std::fs::read_to_string(&cfg).unwrap();
    assert!(after.contains("timeout: 45 # mine"), "{after}");
    assert!(!after.contains("10.0.0.5"), "{after}");
    assert_eq!(
        hermes_get(&homes, None, "auxiliary.compression.model"),
        model
    );
    assert_eq!(
        hermes_get(&homes, None, "auxiliary.compression.provider"),
        "openrouter"
    );

    // A slot already on OpenRouter through the user's proxy keeps its base_url and api_key.
    let proxied = fresh.replace(
        "auxiliary:\n  free_only: true\n",
        "auxiliary:\n  free_only: true\n  web_extract:\n    provider: openrouter\n    model: qwen/qwen3-coder:free\n    base_url: https://proxy.example/v1\n    api_key: sk-proxy\n",
    );
    std::fs::write(&cfg, &proxied).unwrap();
    homes.json(&["slots", "set", "web_extract", model]);
    let after = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        after.contains("base_url: https://proxy.example/v1"),
        "{after}"
    );
    assert!(after.contains("api_key: sk-proxy"), "{after}");
    assert_eq!(
        hermes_get(&homes, None, "auxiliary.web_extract.model"),
        model
    );

    // The local endpoint nxr itself writes (`nxr init` with Ollama: provider custom, base_url of
    // NXR_OLLAMA_URL, api_key ollama) is nxr's to replace without --force.
    let ours = fresh.replace(
        "auxiliary:\n  free_only: true\n",
        "auxiliary:\n  free_only: true\n  session_search:\n    provider: custom\n    model: qwen3:8b\n    base_url: http://127.0.0.1:9/v1\n    api_key: ollama\n",
    );
    std::fs::write(&cfg, &ours).unwrap();
    homes.json(&["slots", "set", "session_search", model]);
    let after = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        !after.contains("127.0.0.1:9/v1") && !after.contains("api_key: ollama"),
        "{after}"
    );
}

#[test]
fn config_yaml_errors_are_worded_once_and_a_byte_order_mark_is_kept() {
    let homes = Homes::new();
    init(&homes);
    let cfg = homes.hermes_home().join("config.yaml");
    let fresh = std::fs::read_to_string(&cfg).expect("config.yaml");

    // A slot that is a YAML alias: named in words, with the fix, "changed nothing" once.
    let aliased = format!("defs: &defs\n  provider: openrouter\n  model: x/y\n{fresh}").replace(
        "auxiliary:\n  free_only: true\n",
        "auxiliary:\n  free_only: true\n  compression: *defs\n",
    );
    assert!(aliased.contains("*defs"), "{fresh}");
    std::fs::write(&cfg, &aliased).unwrap();
    let err = fails(&homes, &["slots", "set", "compression", "openai/gpt-4o"]);
    assert!(err.contains("is the YAML alias *defs"), "{err}");
    assert!(err.contains("write `compression` out in full"), "{err}");
    for debug in ["AliasRefused", "NotFound {", "TypeMismatch", "{ at"] {
        assert!(!err.contains(debug), "Debug output {debug:?}: {err}");
    }
    assert_eq!(err.matches("changed nothing").count(), 1, "{err}");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), aliased);

    // A file that starts with a UTF-8 byte order mark is read and written, the mark kept.
    std::fs::write(&cfg, format!("\u{feff}{fresh}")).unwrap();
    let listed = homes.json(&["slots", "list"]);
    assert!(slot_model(&listed, "main").is_some(), "{listed}");
    homes.json(&["slots", "set", "compression", "openai/gpt-4o"]);
    let after = std::fs::read_to_string(&cfg).unwrap();
    assert!(after.starts_with('\u{feff}'), "{after:?}");
    assert_eq!(
        hermes_get(&homes, None, "auxiliary.compression.model"),
        "openai/gpt-4o"
    );
}
