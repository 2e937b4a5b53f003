//! A "host" of team mode on this machine (its own NXR_HOME, HERMES_HOME and host name, against a
//! shared sqld) and its running `nxr serve`, for tests/team.rs and benches/team.rs (each uses part).
#![allow(dead_code)]

use crate::common::{FakeServer, Homes, Sqld};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

pub struct Host {
    pub name: &'static str,
    pub homes: Homes,
    /// The Hermes nxr runs (`NXR_HERMES_BIN`), when the caller has one.
    hermes: Option<PathBuf>,
}

/// A running `nxr serve` (killed on drop): its address and what it said on stderr.
pub struct Serve {
    pub child: Child,
    pub base: String,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Host {
    /// A host whose nxr runs the real Hermes.
    pub fn new(name: &'static str) -> Host {
        Host {
            name,
            homes: Homes::new(),
            hermes: Some(crate::common::hermes_bin()),
        }
    }

    /// A host whose nxr never needs Hermes (it makes profiles only).
    pub fn without_hermes(name: &'static str) -> Host {
        Host {
            name,
            homes: Homes::new(),
            hermes: None,
        }
    }

    /// `nxr` on this host: the shared server, this host's name, the loopback OpenRouter.
    pub fn nxr(&self, sqld: &Sqld, fake: &FakeServer) -> Command {
        let mut c = self.homes.nxr();
        c.env("NXR_DB_URL", &sqld.url)
            .env("NXR_HOST_NAME", self.name)
            .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
            .env("HOME", self.homes.user_home())
            .env_remove("OPENROUTER_API_KEY");
        if let Some(h) = &self.hermes {
            c.env("NXR_HERMES_BIN", h);
        }
        c
    }

    pub fn run(&self, sqld: &Sqld, fake: &FakeServer, args: &[&str]) -> Output {
        self.nxr(sqld, fake).args(args).output().unwrap()
    }

    pub fn ok(&self, sqld: &Sqld, fake: &FakeServer, args: &[&str]) -> String {
        let out = self.run(sqld, fake, args);
        assert!(
            out.status.success(),
            "host {}: nxr {args:?} failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn serve(&self, sqld: &Sqld, fake: &FakeServer) -> Serve {
        self.serve_with(sqld, fake, &[])
    }

    pub fn serve_with(&self, sqld: &Sqld, fake: &FakeServer, extra: &[&str]) -> Serve {
        let mut child = self
            .nxr(sqld, fake)
            .args(["serve", "--port", "0", "--json"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (stderr, sink) = (child.stderr.take().unwrap(), lines.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        // `--json` prints one JSON object (pretty) with the address, then runs.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut text = String::new();
        let started: Value = loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "host {}: nxr serve ended: {:?}",
                self.name,
                lines.lock().unwrap()
            );
            text.push_str(&line);
            if let Ok(v) = serde_json::from_str(&text) {
                break v;
            }
        };
        std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = out.read_to_end(&mut rest);
        });
        Serve {
            child,
            base: format!("http://{}", started["addr"].as_str().unwrap()),
            lines,
        }
    }

    pub fn profile(&self, profile: &str) -> PathBuf {
        self.homes.hermes_home().join("profiles").join(profile)
    }

    pub fn backups(&self, profile: &str) -> Vec<PathBuf> {
        let dir = self.homes.hermes_home().join(".nxr-backups/profiles");
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name().is_some_and(|n| {
                            n.to_string_lossy().starts_with(&format!("{profile}-"))
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// `hermes -p PROFILE ARGS` on this host, as a user of it runs it.
    pub fn hermes(
        &self,
        fake: &FakeServer,
        profile: &str,
        args: &[&str],
    ) -> (bool, String, String) {
        let out = Command::new(crate::common::hermes_bin())
            .args(["-p", profile])
            .args(args)
            .env("HERMES_HOME", self.homes.hermes_home())
            .env("HOME", self.homes.user_home())
            .env("OPENROUTER_BASE_URL", format!("{}/api/v1", fake.base))
            .env("COLUMNS", "200")
            .env("NO_COLOR", "1")
            .env_remove("OPENROUTER_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
