//! End to end through a real terminal: the built `nxr` runs in a detached tmux session (120×40) on temp
//! NXR_HOME / HERMES_HOME with every network URL pointed at a closed loopback port. Keys walk the Tab 5
//! wizard; the screen (`capture-pane`) must show the new agent in Tab 3; then `nxr agents list --json` and
//! the real `hermes profile list` show it too. The slot editor's write is read back with the real
//! `hermes config get auxiliary.vision.model`.

mod common;

use std::process::Command;
use std::time::Duration;

struct Session {
    name: String,
}

impl Session {
    fn start(homes: &common::Homes) -> Session {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("nxr-e2e-{}-{n}", std::process::id());
        let c = homes.nxr();
        let mut env_args: Vec<String> = Vec::new();
        for (k, v) in c.get_envs() {
            if let Some(v) = v {
                env_args.push(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
            }
        }
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "120",
                "-y",
                "40",
                "env",
                "-u",
                "NXR_DB_URL",
                "-u",
                "NXR_DB_TOKEN",
            ])
            .args(&env_args)
            .arg("TERM=xterm-256color")
            .arg(env!("CARGO_BIN_EXE_nxr"))
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        Session { name }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["send-keys", "-t", &self.name, k])
                .status()
                .expect("tmux send-keys")
                .success();
            assert!(ok, "send-keys {k}");
        }
    }

    fn type_text(&self, text: &str) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .expect("tmux send-keys -l")
            .success();
        assert!(ok);
    }

    fn wait_for(&self, what: &str) -> String {
        let limit = Duration::from_secs(30);
        let start = std::time::Instant::now();
        loop {
            let last = self.screen();
            if last.contains(what) {
                return last;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what:?}; screen:\n{last}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn hermes(homes: &common::Homes, args: &[&str]) -> String {
    let out = Command::new(common::hermes_bin())
        .args(args)
        .env("HERMES_HOME", homes.hermes_home())
        .env("NO_COLOR", "1")
        .output()
        .expect("hermes runs");
    assert!(
        out.status.success(),
        "hermes {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn wizard_in_a_real_terminal_creates_an_agent_that_nxr_and_hermes_see() {
    let homes = common::Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    let s = Session::start(&homes);
    s.wait_for("1 Dashboard");
    s.wait_for("No agents yet");

    // Tab 5: Engineer → recommended model → skill template → name → confirm.
    s.keys(&["5"]);
    s.wait_for("Create Agent · Category");
    s.keys(&["Down", "Enter"]);
    let model_screen = s.wait_for("Recommended free model:");
    assert!(model_screen.contains("score"), "{model_screen}");
    // The picker marks a model the engineer role refuses, and will not take it.
    s.keys(&["c"]);
    s.wait_for("Choose a model for engineer");
    s.type_text("llama-3.2-3b");
    s.wait_for("fails engineer: no tool support");
    s.keys(&["Enter"]);
    s.wait_for("not for the engineer role: no tool support");
    s.keys(&["Escape"]);
    let back = s.wait_for("Recommended free model:");
    assert!(!back.contains("Your choice"), "{back}");
    s.keys(&["Enter"]);
    s.wait_for("Skills for Engineer · 8 chosen");
    s.keys(&["Enter"]);
    s.wait_for("Name of the new agent");
    s.type_text("tmux-eng");
    s.keys(&["Enter"]);
    s.wait_for("Create Agent · Confirm");
    s.keys(&["Enter"]);
    // The agent appears at once in Tab 3.
    let agents_screen = s.wait_for("created agent tmux-eng");
    assert!(agents_screen.contains("Agents (1)"), "{agents_screen}");
    assert!(agents_screen.contains("tmux-eng"));
    assert!(agents_screen.contains("engineer"));
    // And on the dashboard.
    s.keys(&["1"]);
    let dash = s.wait_for("Agents (1)");
    assert!(dash.contains("tmux-eng"), "{dash}");

    // Another process writes a notification: the watcher notices and the screen redraws on its own.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let st = nxr::domain::store::Store::open(&homes.env()).await.unwrap();
        nxr::domain::notifications::add(
            &st,
            nxr::domain::notifications::NewNotification {
                kind: "scan".into(),
                title: "Background scan finished".into(),
                body: String::new(),
                agent_id: None,
                payload: None,
            },
            &nxr::domain::base::clock::SystemClock,
        )
        .await
        .unwrap();
    });
    let dash = s.wait_for("Background scan finished");
    assert!(dash.contains("6 Notifications (1)"), "{dash}");

    // nxr and Hermes both see it.
    let out = homes
        .nxr()
        .args(["agents", "list", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let agent = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "tmux-eng")
        .expect("nxr agents list --json shows the agent");
    assert_eq!(agent["role"], "engineer");
    let profiles = hermes(&homes, &["profile", "list"]);
    assert!(
        profiles.contains("tmux-eng"),
        "hermes profile list:\n{profiles}"
    );
    let model = agent["model"].as_str().unwrap();
    let got = hermes(
        &homes,
        &["-p", "tmux-eng", "config", "get", "model.default"],
    );
    assert!(
        got.contains(model),
        "hermes -p tmux-eng config get model.default: {got}"
    );

    // Tab 2 slot editor: vision → google/gemma-3-27b-it:free, written to config.yaml.
    s.keys(&["2"]);
    s.wait_for("sort: relevance");
    s.keys(&["s"]);
    s.wait_for("Routing slots");
    s.keys(&["Down", "Enter"]);
    s.wait_for("Model for slot vision");
    s.type_text("gemma-3-27b-it:free");
    s.wait_for("google/gemma-3-27b-it:free");
    s.keys(&["Enter"]);
    s.wait_for("slot vision → google/gemma-3-27b-it:free");
    let vision = hermes(&homes, &["config", "get", "auxiliary.vision.model"]);
    assert_eq!(vision.trim(), "google/gemma-3-27b-it:free");
    let provider = hermes(&homes, &["config", "get", "auxiliary.vision.provider"]);
    assert_eq!(provider.trim(), "openrouter");
    // The slot list shows the new assignment.
    let slots = s.wait_for("vision           openrouter");
    assert!(slots.contains("google/gemma-3-27b-it:free"));

    // q quits and the process exits (the session closes with it).
    s.keys(&["Escape"]);
    s.wait_for("/ filter");
    s.keys(&["q"]);
    common::wait_until("nxr to exit", Duration::from_secs(10), || !s.alive());
}

/// Kills the child on drop (a failed assertion must not leave a gateway running).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn dashboard_follows_the_real_hermes_gateway() {
    let homes = common::Homes::new();
    std::fs::create_dir_all(homes.hermes_home()).unwrap();
    std::fs::write(
        homes.hermes_home().join("config.yaml"),
        "model:\n  default: openai/gpt-oss-20b:free\n  provider: openrouter\n",
    )
    .unwrap();
    let mut gw = Child(
        Command::new(common::hermes_bin())
            .args(["gateway", "run"])
            .env("HERMES_HOME", homes.hermes_home())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("hermes gateway run starts"),
    );
    let state_file = homes.hermes_home().join("gateway_state.json");
    common::wait_until(
        "the gateway to report running",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(&state_file).is_ok_and(|s| {
                s.contains(r#""gateway_state":"running""#)
                    || s.contains(r#""gateway_state": "running""#)
            })
        },
    );
    let pid = gw.0.id();

    let s = Session::start(&homes);
    let dash = s.wait_for("● running");
    assert!(dash.contains(&format!("pid     {pid}")), "{dash}");
    assert!(dash.contains("openai/gpt-oss-20b:free"), "{dash}");
    assert!(dash.contains("uptime  "), "{dash}");

    // The gateway stops: the dashboard says so without any key press.
    let _ = gw.0.kill();
    let _ = gw.0.wait();
    s.wait_for("○ stopped");
}
