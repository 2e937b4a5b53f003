//! Scoring figures (with their targets; printed, never asserted):
//! - scoring 100,000 synthetic models × 6 roles: target < 20 ms on one core
//! - rescore-and-store of the embedded 371-model catalog: target < 100 ms
//! - `nxr models best-free --role engineer --json` end-to-end process time
//!
//! Run: `cargo build --release && cargo bench --bench scoring` (add `-- scoring`, `paid`,
//! `rescore` or `cli` for one section).

use nxr::domain::base::roles::Role;
use nxr::domain::catalog::{self, Model};
use nxr::domain::scoring::rescore;
use nxr::domain::scoring::{self, Health, ScoringConfig};
use nxr::domain::store::Store;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[0], samples[samples.len() / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// 100,000 models built from the real catalog's entries: ids, sizes, contexts, dates and prices vary.
fn synthetic(n: usize) -> Vec<Model> {
    let base = catalog::embedded().models;
    let sizes = [
        "7b",
        "8b",
        "14b",
        "32b",
        "70b",
        "120b-a12b",
        "405b",
        "1.2b",
        "e4b",
        "mini",
    ];
    (0..n)
        .map(|i| {
            let mut m = base[i % base.len()].clone();
            let size = sizes[(i / base.len()) % sizes.len()];
            let free = i % 3 == 0;
            m.id = format!(
                "vendor{}/model-{i}-{size}{}",
                i % 97,
                if free { ":free" } else { "" }
            );
            // Every tenth keeps its real family (a `:v…` variant of the real id), so the
            // evaluation figures are looked up and ranked for thousands of models.
            if i % 10 == 0 {
                let base_id = base[i % base.len()].id.split(':').next().unwrap_or("x/y");
                m.id = format!("{base_id}:v{i}");
            }
            m.name = m.id.clone();
            m.context_length = 4096 << (i % 9);
            m.created -= (i as i64 % 900) * 86_400;
            if !free && m.prompt_price == "0" {
                m.prompt_price = "0.0000002".into();
                m.completion_price = "0.0000008".into();
            }
            m
        })
        .collect()
}

/// Min and median of `best_free_all` over `models` (every model read inside the timed region).
fn time_best_free_all(models: &[Model], cfg: &ScoringConfig, runs: usize) -> (Duration, Duration) {
    let health = Health::default();
    let mut samples = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let picks = scoring::best_free_all(black_box(models), &health, cfg, &[]);
        black_box(&picks);
        samples.push(t.elapsed());
    }
    stats(samples)
}

/// The headline figure: best free model per role for 100,000 models × 6 roles, straight from the
/// model list. The scan stops early on a model that provably cannot beat the current best of any
/// role, so its speed depends on the order of the list: the figure is also printed for a shuffled
/// list (its heap strings stay where they were, so memory is read out of order too) and for the
/// engineer ranking reversed (each passing model beats the one before it: the early exit helps least).
fn bench_scoring(models: &[Model], cfg: &ScoringConfig) {
    let (min, median) = time_best_free_all(models, cfg, 15);
    println!(
        "scoring 100,000 synthetic models × 6 roles (best free per role, evaluation figures looked up per model): min {}, median {} (target < 20 ms, one core)",
        ms(min),
        ms(median)
    );
    // The same scan without the capability table (size estimates only), measured in the same run,
    // so the cost of the lookup shows apart from the machine's load.
    let plain = ScoringConfig {
        capability: None,
        ..cfg.clone()
    };
    let (min, median) = time_best_free_all(models, &plain, 15);
    println!(
        "  the same without evaluation figures (size estimates only): min {}, median {}",
        ms(min),
        ms(median)
    );
    let mut shuffled = models.to_vec();
    // Fisher–Yates with a fixed xorshift seed: the same order on every run.
    let mut r: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..shuffled.len()).rev() {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        shuffled.swap(i, (r % (i as u64 + 1)) as usize);
    }
    let (min, median) = time_best_free_all(&shuffled, cfg, 15);
    println!(
        "  the same models shuffled: min {}, median {}",
        ms(min),
        ms(median)
    );
    drop(shuffled);
    let order = scoring::rank(
        models,
        Role::Engineer,
        scoring::Pool::All,
        &Health::default(),
        cfg,
    );
    let by_id: std::collections::HashMap<&str, &Model> =
        models.iter().map(|m| (m.id.as_str(), m)).collect();
    let worst: Vec<Model> = order
        .iter()
        .rev()
        .map(|s| by_id[s.model_id.as_str()].clone())
        .collect();
    drop(by_id);
    drop(order);
    let (min, median) = time_best_free_all(&worst, cfg, 5);
    println!(
        "  the same models in reverse engineer ranking order (worst case for the early exit): min {}, median {}",
        ms(min),
        ms(median)
    );
}

fn bench_paid(models: &[Model], cfg: &ScoringConfig) {
    let health = Health::default();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        for role in Role::ALL {
            black_box(scoring::best_paid(models, role, &health, cfg));
        }
        samples.push(t.elapsed());
    }
    let (min, median) = stats(samples);
    println!(
        "best paid per role over the same 100,000 (6 separate scans): min {}, median {}",
        ms(min),
        ms(median)
    );
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(scoring::best_paid_all(models, &Role::ALL, &health, cfg));
        samples.push(t.elapsed());
    }
    let (min, median) = stats(samples);
    println!(
        "  the same in one scan for all 6 roles (best_paid_all): min {}, median {}",
        ms(min),
        ms(median)
    );
}

fn bench_rescore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env =
        nxr::domain::base::env::Env::for_dirs(dir.path().join("nxr"), dir.path().join("hermes"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = rt.block_on(Store::open(&env)).expect("store");
    let now = chrono::Utc::now();
    let inputs = rt.block_on(rescore::inputs(&store, now)).expect("inputs");
    let n = inputs.models.len();
    let mut samples = Vec::new();
    for i in 0..12 {
        let at = now + chrono::Duration::seconds(i);
        let t = Instant::now();
        let report = rt
            .block_on(rescore::rescore_with(&store, &inputs, &[], at))
            .expect("rescore");
        samples.push(t.elapsed());
        black_box(report);
    }
    let (min, median) = stats(samples);
    println!(
        "rescore-and-store of the {n}-model catalog ({} rows, one transaction, local file): min {}, median {} (target < 100 ms)",
        n * 6,
        ms(min),
        ms(median)
    );
}

/// The nxr binary of the same profile as this bench (target/release/nxr next to target/release/deps).
fn nxr_bin() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    let bin = dir.join(format!("nxr{}", std::env::consts::EXE_SUFFIX));
    bin.exists().then_some(bin)
}

fn bench_cli() {
    let Some(bin) = nxr_bin() else {
        println!(
            "nxr models best-free --role engineer --json: skipped (no nxr binary next to the bench; run `cargo build --release` first)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let run = || {
        let t = Instant::now();
        let out = std::process::Command::new(&bin)
            .args(["models", "best-free", "--role", "engineer", "--json"])
            .env("NXR_HOME", dir.path().join("nxr"))
            .env("HERMES_HOME", dir.path().join("hermes"))
            .env("NXR_OLLAMA_URL", "http://127.0.0.1:9")
            .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
            .env_remove("NXR_DB_URL")
            .output()
            .expect("run nxr");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t.elapsed()
    };
    let first = run();
    let samples: Vec<Duration> = (0..15).map(|_| run()).collect();
    let (min, median) = stats(samples);
    println!(
        "nxr models best-free --role engineer --json ({}): first run (creates + migrates the DB) {}, then min {}, median {}",
        bin.display(),
        ms(first),
        ms(min),
        ms(median)
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not: then only a quick smoke run.
    if !std::env::args().any(|a| a == "--bench") {
        let models = synthetic(1_000);
        let cfg = ScoringConfig::for_catalog(&models, chrono::Utc::now());
        let picks = scoring::best_free_all(&models, &Health::default(), &cfg, &[]);
        println!(
            "scoring bench smoke run: {} picks (run `cargo bench --bench scoring` for figures)",
            picks.len()
        );
        return;
    }
    // `cargo bench --bench scoring -- WORD` runs only the sections whose name contains WORD
    // (`scoring`, `paid`, `rescore`, `cli`), e.g. to profile one of them.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if wanted("scoring") || wanted("paid") {
        let models = synthetic(100_000);
        let now = chrono::Utc::now();
        let mut samples = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            black_box(ScoringConfig::for_catalog(black_box(&models), now));
            samples.push(t.elapsed());
        }
        let cfg = ScoringConfig::for_catalog(&models, now);
        let table = cfg.capability.as_deref().expect("capability table");
        let measured = models.iter().filter(|m| table.get(&m.id).is_some()).count();
        let (min, median) = stats(samples);
        println!(
            "capability table of the same 100,000 models (eval lookup of every id, percentiles of the {measured} with figures), once per catalog: min {}, median {}",
            ms(min),
            ms(median)
        );
        if wanted("scoring") {
            bench_scoring(&models, &cfg);
        }
        if wanted("paid") {
            bench_paid(&models, &cfg);
        }
    }
    if wanted("rescore") {
        bench_rescore();
    }
    if wanted("cli") {
        bench_cli();
    }
}
