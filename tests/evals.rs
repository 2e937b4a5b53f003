//! Scoring that knows what a model is good at, as a user checks it: on every dated catalog the
//! Engineer's pick is one of the best coders by published figure, the figures show in `explain` and
//! `nxr evals list`, an import is validated and merged atomically, and the defaults are spread.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::Homes;
use nxr::domain::base::roles::Role;
use nxr::domain::catalog::{self, Model};
use nxr::domain::scoring::evals;
use nxr::domain::scoring::{self, Health, Pool, ScoringConfig};

const HISTORY: [&str; 7] = [
    "2026-03-02",
    "2026-03-13",
    "2026-03-23",
    "2026-04-02",
    "2026-04-12",
    "2026-04-22",
    "2026-05-01",
];

/// The headline coding figure the Engineer's pick is judged by.
const CODING_BENCHMARK: &str = "SWE-bench Verified";

fn history(date: &str) -> Vec<Model> {
    let json = common::fixture(&format!("openrouter/catalog-history/models-{date}.json"));
    catalog::parse_catalog(&json).unwrap().models
}

fn end_of(date: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc()
}

/// The model's published SWE-bench Verified figure, in hundredths of a percent.
fn coding_figure(id: &str) -> Option<u32> {
    let data = evals::embedded();
    data.family_of(id)?
        .figures
        .iter()
        .find(|f| f.benchmark == CODING_BENCHMARK)
        .map(|f| f.value_centi)
}

/// Ranks (1 = first) with ties sharing their mean rank, times 2 to stay in integers.
fn ranks2(values: &[i64]) -> Vec<i64> {
    values
        .iter()
        .map(|v| {
            let below = values.iter().filter(|w| *w < v).count() as i64;
            let equal = values.iter().filter(|w| *w == v).count() as i64;
            2 * below + equal + 1
        })
        .collect()
}

/// Spearman's rank correlation of two equally long lists.
fn spearman(a: &[i64], b: &[i64]) -> f64 {
    let (ra, rb) = (ranks2(a), ranks2(b));
    let n = a.len() as f64;
    let mean = |r: &[i64]| r.iter().sum::<i64>() as f64 / n;
    let (ma, mb) = (mean(&ra), mean(&rb));
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (*x as f64 - ma) * (*y as f64 - mb))
        .sum();
    let var = |r: &[i64], m: f64| r.iter().map(|x| (*x as f64 - m).powi(2)).sum::<f64>();
    cov / (var(&ra, ma) * var(&rb, mb)).sqrt()
}

#[test]
fn the_engineers_pick_is_a_top_coder_on_every_dated_catalog() {
    for date in HISTORY {
        let models = history(date);
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        let health = Health::default();
        // The Engineer's ranking of the gate-passing free models.
        let ranking: Vec<_> = scoring::rank(&models, Role::Engineer, Pool::Free, &health, &cfg)
            .into_iter()
            .filter(|s| s.passes)
            .collect();
        for s in &ranking {
            let m = models.iter().find(|m| m.id == s.model_id).unwrap();
            assert!(scoring::passes_gates(m, Role::Engineer, &cfg), "{}", m.id);
        }
        // Those with a coding figure, best figure first.
        let mut coders: Vec<(&str, u32)> = ranking
            .iter()
            .filter_map(|s| coding_figure(&s.model_id).map(|v| (s.model_id.as_str(), v)))
            .collect();
        coders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        assert!(coders.len() >= 3, "{date}: {coders:?}");
        let pick = scoring::best_free(&models, Role::Engineer, &health, &cfg, &[]);
        let figure = coding_figure(&pick.model_id)
            .unwrap_or_else(|| panic!("{date}: the pick {} has no coding figure", pick.model_id));
        let third = coders[2.min(coders.len() - 1)].1;
        // Rank correlation between the Engineer's order and the figure, over the coders.
        let place: Vec<i64> = coders
            .iter()
            .map(|(id, _)| -(ranking.iter().position(|s| s.model_id == *id).unwrap() as i64))
            .collect();
        let value: Vec<i64> = coders.iter().map(|(_, v)| *v as i64).collect();
        let rho = spearman(&place, &value);
        println!(
            "{date}: engineer pick {} ({CODING_BENCHMARK} {}.{:02}%), {} free coders with a figure, rank correlation {rho:.2}",
            pick.model_id,
            figure / 100,
            figure % 100,
            coders.len()
        );
        assert!(
            figure >= third,
            "{date}: the pick {} ({figure}) is not within the top 3 by {CODING_BENCHMARK}: {coders:?}",
            pick.model_id
        );
        assert!(rho >= 0.6, "{date}: rank correlation {rho:.2} < 0.6");
    }
}

#[test]
fn a_model_without_figures_is_an_estimate_never_above_the_median_of_the_measured() {
    let models = history("2026-05-01");
    let cfg = ScoringConfig::for_catalog(&models, end_of("2026-05-01"));
    let table = cfg.capability.clone().unwrap();
    for role in Role::ALL {
        let Some(median) = table.median(role, true) else {
            continue;
        };
        for s in scoring::rank(&models, role, Pool::All, &Health::default(), &cfg) {
            let estimate = s.reasons.iter().any(|r| r.contains(": estimate ("));
            let measured = s.reasons.iter().any(|r| r.contains("published figures"));
            assert!(
                estimate != measured,
                "{} {role}: {:?}",
                s.model_id,
                s.reasons
            );
            if estimate {
                assert!(
                    s.sub.capability <= median,
                    "{} {role}: estimate {} above the median {median}",
                    s.model_id,
                    s.sub.capability
                );
            }
        }
    }
}

#[test]
fn explain_shows_each_figure_with_its_source_and_date() {
    let homes = Homes::new();
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "qwen/qwen3-coder:free",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("SWE-bench Verified 67.0%")
            && text.contains("Qwen3-Coder blog")
            && text.contains("2025-07-22"),
        "{text}"
    );
    assert!(text.contains("τ-bench Retail 77.5%"), "{text}");
    // A model with no figure says its capability is an estimate.
    let out = homes
        .nxr()
        .args([
            "models",
            "explain",
            "openrouter/owl-alpha",
            "--role",
            "engineer",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("estimate"), "{text}");
}

#[test]
fn evals_list_and_import_validate_and_merge() {
    let homes = Homes::new();
    let before = homes.json(&["evals", "list"]);
    let families = before["families"].as_array().unwrap();
    assert!(families.len() >= 10);
    let coder = families
        .iter()
        .find(|f| f["id"] == "qwen/qwen3-coder")
        .unwrap();
    assert_eq!(coder["origin"], "embedded");
    assert!(
        coder["figures"][0]["source"]
            .as_str()
            .unwrap()
            .contains("Qwen")
    );

    // A bad file: refused with the problem named, nothing stored.
    let bad = homes.dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "updated: \"2026-12-01\"\nfamilies:\n  - id: \"poolside/laguna-m.1\"\n    name: Laguna\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 250, source: x, date: \"2026-11\"}\n",
    )
    .unwrap();
    let out = homes
        .nxr()
        .args(["evals", "import"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("percentage") && err.contains("bad.yaml"),
        "{err}"
    );
    assert_eq!(homes.json(&["evals", "list"]), before);
    let missing = homes.dir.path().join("nope.yaml");
    let out = homes
        .nxr()
        .args(["evals", "import"])
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.yaml"));

    // A good file: a new family and a replaced one.
    let good = homes.dir.path().join("newer.yaml");
    std::fs::write(
        &good,
        "updated: \"2026-12-01\"\nfamilies:\n  - id: \"poolside/laguna-m.1\"\n    name: Laguna M.1\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 61.5, source: \"test source\", date: \"2026-11\"}\n  - id: \"z-ai/glm-4.5-air\"\n    name: GLM-4.5-Air\n    figures:\n      - {kind: coding, benchmark: SWE-bench Verified, value: 57.6, source: \"GLM-4.5 paper\", date: \"2025-08-08\"}\n",
    )
    .unwrap();
    let report = homes.json(&["evals", "import", good.to_str().unwrap()]);
    assert_eq!(report["added"], serde_json::json!(["poolside/laguna-m.1"]));
    assert_eq!(report["replaced"], serde_json::json!(["z-ai/glm-4.5-air"]));
    let after = homes.json(&["evals", "list"]);
    let find = |id: &str| {
        after["families"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(find("poolside/laguna-m.1")["origin"], "imported");
    assert_eq!(find("z-ai/glm-4.5-air")["figures"][0]["value"], 57.6);
    assert_eq!(find("qwen/qwen3-coder")["origin"], "embedded");
    // The scorer reads the imported figure.
    let explain = homes.json(&[
        "models",
        "explain",
        "z-ai/glm-4.5-air:free",
        "--role",
        "engineer",
    ]);
    let reasons = explain["score"]["reasons"].to_string();
    assert!(
        reasons.contains("57.6%") && reasons.contains("GLM-4.5 paper"),
        "{reasons}"
    );
}

/// The default agents' (role, model) after `nxr init --free` in `homes`.
fn init_defaults(homes: &Homes) -> (Vec<(String, String)>, String) {
    let out = homes.nxr().args(["init", "--free"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agents = homes.json(&["agents", "list"]);
    let list = agents
        .as_array()
        .or_else(|| agents["agents"].as_array())
        .unwrap()
        .clone();
    let mut v: Vec<(String, String)> = list
        .iter()
        .filter(|a| a["is_default"] == true)
        .map(|a| {
            (
                a["role"].as_str().unwrap().to_string(),
                a["model"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    (v, stdout)
}

#[test]
fn init_free_spreads_the_defaults_unless_the_setting_is_off() {
    let homes = Homes::new();
    let (spread, stdout) = init_defaults(&homes);
    assert_eq!(spread.len(), 3, "{spread:?}");
    let distinct: std::collections::BTreeSet<&String> = spread.iter().map(|(_, m)| m).collect();
    assert!(distinct.len() >= 2, "{spread:?}");
    // A default that is not its role's best was spread: the summary and explain say so.
    for (role, model) in &spread {
        let e = homes.json(&["models", "explain", model, "--role", role]);
        let best = homes.json(&["models", "best-free", "--role", role]);
        if best["pick"]["model_id"] != model.as_str() {
            assert!(
                stdout.contains("spread:") && stdout.contains(model.as_str()),
                "{stdout}"
            );
            assert!(
                e["spread"].as_str().is_some_and(|n| n.contains("spread")),
                "{role} {model}: {e}"
            );
        } else {
            assert!(e["spread"].is_null(), "{role} {model}: {e}");
        }
    }

    // Off: every default is the role's best free model, as `models best-free` picks it.
    let plain = Homes::new();
    let out = plain
        .nxr()
        .args(["config", "set", "spread_default_agents", "false"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (defaults, stdout) = init_defaults(&plain);
    assert!(!stdout.contains("spread:"), "{stdout}");
    for (role, model) in &defaults {
        let best = plain.json(&["models", "best-free", "--role", role]);
        assert_eq!(best["pick"]["model_id"], model.as_str(), "{role}");
    }
    let bad = plain
        .nxr()
        .args(["config", "set", "spread_default_agents", "maybe"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("true or false"));
}

#[test]
fn an_import_refuses_an_empty_date_and_a_link_that_is_not_a_web_address() {
    let homes = Homes::new();
    let before = homes.json(&["evals", "list"]);
    let figure = |url: &str, date: &str| {
        format!(
            "updated: \"2026-12-01\"\nfamilies:\n  - id: \"z-ai/glm-4.5-air\"\n    name: GLM-4.5-Air\n    figures:\n      - {{kind: coding, benchmark: SWE-bench Verified, value: 57.6, source: \"GLM-4.5 paper\", url: {url:?}, date: {date:?}}}\n"
        )
    };
    let cases = [
        (figure("https://example.org/glm", ""), "date \"\" is not"),
        (
            figure("javascript:alert(1)", "2025-08-08"),
            "url \"javascript:alert(1)\" is not a web address",
        ),
        (
            figure("data:text/html,<script>x</script>", "2025-08-08"),
            "is not a web address",
        ),
        (figure("https://", "2025-08-08"), "is not a web address"),
        (
            figure("//example.org/glm", "2025-08-08"),
            "is not a web address",
        ),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let file = homes.dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = homes
            .nxr()
            .args(["evals", "import"])
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(
            err.starts_with("error: ")
                && err.contains(&format!("bad{i}.yaml"))
                && err.contains("z-ai/glm-4.5-air SWE-bench Verified")
                && err.contains(says),
            "{text}: {err}"
        );
    }
    assert_eq!(homes.json(&["evals", "list"]), before);
    // An http(s) address in any case is a link.
    let file = homes.dir.path().join("good.yaml");
    std::fs::write(&file, figure("HTTPS://example.org/glm?x=1", "2025-08")).unwrap();
    let report = homes.json(&["evals", "import", file.to_str().unwrap()]);
    assert_eq!(report["replaced"], serde_json::json!(["z-ai/glm-4.5-air"]));
}
