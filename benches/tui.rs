//! TUI figures (with their targets; printed, never asserted):
//! - filtering 100,000 model names per keystroke with nucleo (the picker), beside `fzf --filter` on the
//!   same list in the same run: target ≤ 1.0× fzf
//! - a full frame of the Models tab at 200×60 with 100,000 models: target < 2 ms
//! - `nxr agents recommend --json` process time beside `hermes config get model`: target ≥ 10× faster
//! - resident memory of the TUI state with the 100,000-model catalog: target < 50 MB
//!
//! Run: `cargo bench --bench tui` (fzf from apt, the Hermes venv from scripts/test.sh).

use nxr::app::state::{AppData, State, Tab};
use nxr::app::{Action, draw, update};
use nxr::domain::catalog::{self, Model};
use nxr::domain::view::ModelList;
use nxr::widgets::model_picker::{ModelFilters, ModelPicker};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const N: usize = 100_000;
/// What a user types, one keystroke at a time.
const QUERY: &str = "qwen coder 32b";

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// 100,000 models built from the real catalog's entries (ids and names vary, like a large catalog).
fn synthetic(n: usize) -> Vec<Model> {
    let base = catalog::embedded().models;
    let families = [
        "qwen", "llama", "gemma", "mistral", "deepseek", "glm", "phi", "nemotron", "gpt-oss",
        "kimi",
    ];
    let kinds = [
        "instruct", "coder", "chat", "vl", "thinking", "base", "omni",
    ];
    let sizes = [
        "1.5b",
        "3b",
        "7b",
        "8b",
        "14b",
        "32b",
        "70b",
        "120b-a12b",
        "235b-a22b",
        "405b",
    ];
    (0..n)
        .map(|i| {
            let mut m = base[i % base.len()].clone();
            let fam = families[i % families.len()];
            let kind = kinds[(i / 10) % kinds.len()];
            let size = sizes[(i / 70) % sizes.len()];
            let free = i % 3 == 0;
            m.id = format!(
                "vendor{}/{fam}-{kind}-{size}-v{i}{}",
                i % 97,
                if free { ":free" } else { "" }
            );
            m.name = format!(
                "Vendor {}: {} {} {} v{i}",
                i % 97,
                fam,
                kind,
                size.to_uppercase()
            );
            m.context_length = 4096 << (i % 9);
            m
        })
        .collect()
}

fn rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Run in a child process so nothing else the bench allocated counts.
fn measure_rss_child() {
    let before = rss_kb().unwrap_or(0);
    let models = synthetic(N);
    let mut data = AppData::empty(chrono::Utc::now(), models);
    data.catalog_source = "synthetic".into();
    let mut state = State::new(data);
    update(&mut state, Action::GoTab(Tab::Models));
    let mut t = Terminal::new(TestBackend::new(200, 60)).unwrap();
    t.draw(|f| draw(&state, f)).unwrap();
    let after = rss_kb().unwrap_or(0);
    println!("{before} {after}");
    black_box(&state);
}

fn bench_filter(full: &[Model]) {
    let rows = ModelList::for_search(full);
    let models = &rows;
    // nucleo, as the picker does it: one keystroke at a time (narrowing as the query grows).
    let mut per_key = Vec::new();
    for _ in 0..5 {
        let mut p = ModelPicker::new(models, ModelFilters::default());
        for c in QUERY.chars() {
            let t = Instant::now();
            p.push_char(c, models);
            per_key.push(t.elapsed());
            black_box(p.matched_count());
        }
    }
    // nucleo from scratch for every prefix (no narrowing): the worst case per keystroke.
    let mut fresh = Vec::new();
    let mut p = ModelPicker::new(models, ModelFilters::default());
    for i in 1..=QUERY.len() {
        let t = Instant::now();
        p.set_query("", models);
        p.set_query(&QUERY[..i], models);
        fresh.push(t.elapsed());
    }
    let matched = p.matched_count();

    // fzf --filter on the same list (id + name per line), one process per keystroke.
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("models.txt");
    let mut f = std::fs::File::create(&list).unwrap();
    for m in full {
        writeln!(f, "{} {}", m.id, m.name).unwrap();
    }
    drop(f);
    let mut fzf = Vec::new();
    let mut fzf_matched = 0;
    let have_fzf = Command::new("fzf").arg("--version").output().is_ok();
    if have_fzf {
        for _ in 0..3 {
            for i in 1..=QUERY.len() {
                let t = Instant::now();
                let out = Command::new("fzf")
                    .args(["--filter", &QUERY[..i]])
                    .stdin(std::fs::File::open(&list).unwrap())
                    .stdout(Stdio::piped())
                    .output()
                    .unwrap();
                fzf.push(t.elapsed());
                fzf_matched = out.stdout.iter().filter(|b| **b == b'\n').count();
            }
        }
    }
    let nucleo_key = median(per_key);
    println!(
        "filter 100,000 model names per keystroke (query {QUERY:?}, {} matches at the end): nucleo picker median {}, nucleo from scratch median {}",
        matched,
        ms(nucleo_key),
        ms(median(fresh)),
    );
    if have_fzf {
        let f = median(fzf);
        println!(
            "  fzf --filter on the same list (one process per keystroke: start, read the list, match): median {} ({fzf_matched} matches at the end); nucleo/fzf = {:.2}× (target ≤ 1.0×)",
            ms(f),
            nucleo_key.as_secs_f64() / f.as_secs_f64()
        );
    } else {
        println!("  fzf not installed (apt install fzf): no comparison");
    }
}

fn bench_render(models: Vec<Model>) {
    let mut data = AppData::empty(chrono::Utc::now(), models);
    data.catalog_source = "synthetic 100,000-model catalog".into();
    let mut state = State::new(data);
    update(&mut state, Action::GoTab(Tab::Models));
    update(
        &mut state,
        Action::Resize {
            width: 200,
            height: 60,
        },
    );
    let mut t = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut samples = Vec::new();
    for i in 0..200 {
        // Move the cursor so every frame differs (like scrolling).
        update(
            &mut state,
            if i % 50 < 25 {
                Action::Down
            } else {
                Action::Up
            },
        );
        let start = Instant::now();
        t.draw(|f| draw(&state, f)).unwrap();
        samples.push(start.elapsed());
    }
    // Also with an active filter (highlights on every visible row).
    update(&mut state, Action::FocusFilter);
    for c in "qwen".chars() {
        update(&mut state, Action::InsertChar(c));
    }
    let mut filtered = Vec::new();
    for i in 0..200 {
        update(
            &mut state,
            if i % 50 < 25 {
                Action::Down
            } else {
                Action::Up
            },
        );
        let start = Instant::now();
        t.draw(|f| draw(&state, f)).unwrap();
        filtered.push(start.elapsed());
    }
    println!(
        "full frame of the Models tab at 200×60 with 100,000 models: median {}, with filter + highlights median {} (target < 2 ms)",
        ms(median(samples)),
        ms(median(filtered))
    );
}

fn hermes_bin() -> PathBuf {
    std::env::var_os("NXR_TEST_HERMES_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/hermes-venv/bin/hermes")
        })
}

fn time_process(mut make: impl FnMut() -> Command, runs: usize) -> Option<Duration> {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = make().output().ok()?;
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        v.push(t.elapsed());
    }
    Some(median(v))
}

fn bench_recommend() {
    let dir = tempfile::tempdir().unwrap();
    let nxr_home = dir.path().join("nxr");
    let hermes_home = dir.path().join("hermes");
    std::fs::create_dir_all(&hermes_home).unwrap();
    let nxr = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nxr"));
        c.args(args)
            .env("NXR_HOME", &nxr_home)
            .env("HERMES_HOME", &hermes_home)
            .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
            .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
            .env("NO_COLOR", "1")
            .env_remove("NXR_DB_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    };
    for (role, name) in [
        ("pm", "pm"),
        ("engineer", "eng"),
        ("hermes", "hermes-agent"),
    ] {
        let out = nxr(&["agents", "create", "--role", role, "--name", name])
            .output()
            .unwrap();
        if !out.status.success() {
            println!(
                "nxr agents recommend: cannot create the agents to recommend for ({}); skipped",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return;
        }
    }
    let ours = time_process(|| nxr(&["agents", "recommend", "--json"]), 15);
    let hermes = hermes_bin();
    let theirs = if Path::new(&hermes).exists() {
        time_process(
            || {
                let mut c = Command::new(&hermes);
                c.args(["config", "get", "model"])
                    .env("HERMES_HOME", &hermes_home)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                c
            },
            5,
        )
    } else {
        None
    };
    match (ours, theirs) {
        (Some(o), Some(h)) => println!(
            "`nxr agents recommend --json` (3 agents): median {} beside `hermes config get model`: median {}; {:.1}× faster (target ≥ 10×)",
            ms(o),
            ms(h),
            h.as_secs_f64() / o.as_secs_f64()
        ),
        (Some(o), None) => println!(
            "`nxr agents recommend --json`: median {}; Hermes not installed (scripts/test.sh installs it): no comparison",
            ms(o)
        ),
        _ => println!("`nxr agents recommend --json` failed; see above"),
    }
}

fn bench_rss() {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--rss-child")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .filter_map(|x| x.parse::<u64>().ok());
    match (it.next(), it.next()) {
        (Some(before), Some(after)) => println!(
            "TUI resident memory with the 100,000-model catalog (state built, one frame drawn): {:.1} MB (process start {:.1} MB) (target < 50 MB)",
            after as f64 / 1024.0,
            before as f64 / 1024.0
        ),
        _ => println!("TUI resident memory: could not read /proc/self/status"),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--rss-child") {
        measure_rss_child();
        return;
    }
    let models = synthetic(N);
    bench_filter(&models);
    bench_render(models);
    bench_recommend();
    bench_rss();
}
