//! Onboarding time: `nxr init --free` end to end (process start to exit) on fresh homes.
//! Target: under 5 s with no network; aim for seconds. Prints figures; asserts nothing.
//!
//! Cases:
//! - offline: OpenRouter and Ollama refuse connections (the common "no network" case);
//! - unresponsive: OpenRouter and Ollama accept connections but never answer (a captive portal or a
//!   black-holed route) — bounded by onboarding's short timeouts.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

fn run_init(openrouter: &str, ollama: &str) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_nxr"))
        .env("NXR_HOME", dir.path().join("nxr"))
        .env("HERMES_HOME", dir.path().join("hermes"))
        .env("NXR_OPENROUTER_URL", openrouter)
        .env("NXR_OLLAMA_URL", ollama)
        .env("NXR_FASTER_WHISPER_CMD", "false")
        .env("NO_COLOR", "1")
        .env_remove("NXR_DB_URL")
        .args(["init", "--free"])
        .output()
        .expect("run nxr");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "nxr init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn report(name: &str, mut runs: Vec<Duration>) {
    runs.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "init --free, {name}: {} runs, min {:.0} ms, median {:.0} ms, max {:.0} ms (target < 5000 ms)",
        runs.len(),
        ms(runs[0]),
        ms(runs[runs.len() / 2]),
        ms(runs[runs.len() - 1])
    );
}

fn main() {
    let offline: Vec<Duration> = (0..7)
        .map(|_| run_init("http://127.0.0.1:9/api/v1", "http://127.0.0.1:9"))
        .collect();
    report("offline (connections refused)", offline);

    // Accepts and never answers: the listener's backlog holds the connections.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let unresponsive: Vec<Duration> = (0..3)
        .map(|_| {
            run_init(
                &format!("http://127.0.0.1:{port}/api/v1"),
                &format!("http://127.0.0.1:{port}"),
            )
        })
        .collect();
    report("unresponsive servers (timeouts)", unresponsive);
    drop(silent);
}
