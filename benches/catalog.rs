//! Catalog performance figures (printed, never asserted):
//! - parsing the 371-model embedded catalog,
//! - storing it in a temp local database (one transaction),
//! - loading it back (what every CLI call does),
//! - `nxr models list --free --json` end to end as a process.
//!
//! Run: `cargo bench --bench catalog`.

use nxr::domain::catalog;
use nxr::domain::store::Store;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs `f` `n` times; returns (min, median, mean) in ms.
fn measure(n: usize, mut f: impl FnMut()) -> (f64, f64, f64) {
    let mut times: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            ms(t.elapsed())
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    (times[0], times[times.len() / 2], mean)
}

fn report(what: &str, n: usize, (min, median, mean): (f64, f64, f64)) {
    println!(
        "{what:<48} n={n:<3} min {min:>8.2} ms   median {median:>8.2} ms   mean {mean:>8.2} ms"
    );
}

/// The nxr binary next to this bench executable (target/<profile>/deps/catalog-… → target/<profile>/nxr),
/// else the other profile's build.
fn nxr_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut candidates = Vec::new();
    for dir in exe.ancestors().skip(1).take(3) {
        candidates.push(dir.join("nxr"));
        if dir.file_name().is_some_and(|n| n == "target") {
            candidates.push(dir.join("release/nxr"));
            candidates.push(dir.join("debug/nxr"));
        }
    }
    if let Some(p) = option_env!("CARGO_BIN_EXE_nxr") {
        candidates.push(PathBuf::from(p));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn main() {
    let json = catalog::EMBEDDED_CATALOG_JSON;
    let parsed = match catalog::parse_catalog(json) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("the embedded catalog does not parse: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "catalog: embedded snapshot of {} ({} models, {} KB)",
        catalog::EMBEDDED_CATALOG_DATE,
        parsed.models.len(),
        json.len() / 1024
    );

    let n = 30;
    report(
        &format!("parse {} models", parsed.models.len()),
        n,
        measure(n, || {
            let p = catalog::parse_catalog(std::hint::black_box(json));
            std::hint::black_box(p.is_ok());
        }),
    );

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot create a temp dir: {e}");
            std::process::exit(1);
        }
    };
    let store = match runtime.block_on(async {
        let s = Store::open_local(&dir.path().join("bench.db")).await?;
        s.migrate().await?;
        Ok::<_, nxr::domain::store::StoreError>(s)
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open the bench database: {e}");
            std::process::exit(1);
        }
    };
    let n = 10;
    report(
        &format!(
            "store {} models (one transaction, local)",
            parsed.models.len()
        ),
        n,
        measure(n, || {
            if let Err(e) = runtime.block_on(catalog::save(
                &store,
                &parsed,
                "2026-05-01T00:00:00Z",
                "bench",
            )) {
                eprintln!("store failed: {e}");
                std::process::exit(1);
            }
        }),
    );
    report(
        "load the stored catalog",
        n,
        measure(n, || {
            let c = runtime.block_on(catalog::load(&store));
            std::hint::black_box(c.map(|c| c.models.len()).unwrap_or(0));
        }),
    );

    let Some(bin) = nxr_binary() else {
        println!("nxr models list --free --json: skipped (build nxr first: cargo build --release)");
        return;
    };
    let home = dir.path().join("home");
    let run = || {
        let out = std::process::Command::new(&bin)
            .args(["models", "list", "--free", "--json"])
            .env("NXR_HOME", &home)
            .env("HERMES_HOME", home.join("hermes"))
            .env("NXR_OPENROUTER_URL", "http://127.0.0.1:9/api/v1")
            .env_remove("NXR_DB_URL")
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                eprintln!(
                    "nxr models list failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("cannot run {}: {e}", bin.display());
                std::process::exit(1);
            }
        }
    };
    // First run creates and migrates the database; measure both.
    report(
        "nxr models list --free --json (fresh home)",
        1,
        measure(1, run),
    );
    let n = 10;
    report(
        &format!("nxr models list --free --json ({})", bin.display()),
        n,
        measure(n, run),
    );
}
