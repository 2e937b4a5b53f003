//! The rankings agree with outside measurements, as a user would check them: on every dated catalog
//! the Engineer's order of the qualified free models follows the OpenHands Index (one agent, one
//! harness, the 500 SWE-bench Verified tasks, for every model; tests/fixtures/leaderboards), so does
//! the paid order the upgrade picks from, and the PM and Hermes orders follow the general-knowledge
//! figure their weights name. Each check prints Spearman's ρ.

mod common;

use nxr::domain::base::roles::Role;
use nxr::domain::catalog::{self, Model};
use nxr::domain::scoring::evals::{self, canonical_slug};
use nxr::domain::scoring::{self, Health, ModelScore, Pool, ScoringConfig};
use serde_json::Value;
use std::collections::BTreeMap;

/// The leaderboard's entries (its `directory`) and the model family each one is.
const OPENHANDS_INDEX: [(&str, &str); NUM_ENTRIES] = [
    ("DeepSeek-V3.2-Reasoner", "deepseek/deepseek-v3.2"),
    ("DeepSeek-V4-Pro", "deepseek/deepseek-v4-pro"),
    ("GLM-4.7", "z-ai/glm-4.7"),
    ("GLM-5.1", "z-ai/glm-5.1"),
    ("GLM-5", "z-ai/glm-5"),
    ("GPT-5.2-Codex", "openai/gpt-5.2-codex"),
    ("GPT-5.2", "openai/gpt-5.2"),
    ("GPT-5.4", "openai/gpt-5.4"),
    ("GPT-5.5", "openai/gpt-5.5"),
    ("Gemini-3-Flash", "google/gemini-3-flash-preview"),
    ("Gemini-3-Pro", "google/gemini-3-pro-preview"),
    ("Gemini-3.1-Pro", "google/gemini-3.1-pro-preview"),
    ("Kimi-K2-Thinking", "moonshotai/kimi-k2-thinking"),
    ("Kimi-K2.5", "moonshotai/kimi-k2.5"),
    ("Kimi-K2.6", "moonshotai/kimi-k2.6"),
    ("MiniMax-M2.1", "minimax/minimax-m2.1"),
    ("MiniMax-M2.5", "minimax/minimax-m2.5"),
    ("MiniMax-M2.7", "minimax/minimax-m2.7"),
    ("Nemotron-3-Nano", "nvidia/nemotron-3-nano-30b-a3b"),
    ("Nemotron-3-Super", "nvidia/nemotron-3-super-120b-a12b"),
    ("Qwen3-Coder-480B", "qwen/qwen3-coder"),
    ("Qwen3-Coder-Next", "qwen/qwen3-coder-next"),
    ("Qwen3.6-Plus", "qwen/qwen3.6-plus"),
    ("Trinity-Large-Thinking", "arcee-ai/trinity-large-thinking"),
    ("claude-opus-4-5", "anthropic/claude-opus-4.5"),
    ("claude-opus-4-6", "anthropic/claude-opus-4.6"),
    ("claude-opus-4-7", "anthropic/claude-opus-4.7"),
    ("claude-sonnet-4-5", "anthropic/claude-sonnet-4.5"),
    ("claude-sonnet-4-6", "anthropic/claude-sonnet-4.6"),
];
const NUM_ENTRIES: usize = 29;

fn history(date: &str) -> Vec<Model> {
    let json = common::fixture(&format!("openrouter/catalog-history/models-{date}.json"));
    catalog::parse_catalog(&json)
        .expect("a dated catalog")
        .models
}

fn end_of(date: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&format!("{date}T23:59:59Z"))
        .expect("a date")
        .with_timezone(&chrono::Utc)
}

/// Family → SWE-bench Verified % in hundredths, read from the leaderboard's own file.
fn openhands_index() -> BTreeMap<&'static str, i64> {
    let doc: Value =
        serde_json::from_str(&common::fixture("leaderboards/openhands-index.json")).expect("JSON");
    let results = doc["results"].as_array().expect("results");
    OPENHANDS_INDEX
        .iter()
        .map(|(dir, family)| {
            let entry = results
                .iter()
                .find(|r| r["directory"] == *dir)
                .unwrap_or_else(|| panic!("{dir} is on the leaderboard"));
            let value = entry["swe_bench_verified"].as_f64().expect("a score");
            (*family, (value * 100.0).round() as i64)
        })
        .collect()
}

/// Ranks with ties sharing their mean rank, times 2 to stay in integers.
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

/// The qualified models of a ranking that have a reference value, in ranking order.
fn with_reference(
    ranking: &[ModelScore],
    reference: impl Fn(&str) -> Option<i64>,
) -> Vec<(String, i64)> {
    ranking
        .iter()
        .filter(|s| s.passes)
        .filter_map(|s| reference(&s.model_id).map(|v| (s.model_id.clone(), v)))
        .collect()
}

/// ρ between the ranking order (first = best) and the reference values.
fn agreement(placed: &[(String, i64)]) -> f64 {
    let place: Vec<i64> = (0..placed.len() as i64).map(|i| -i).collect();
    let value: Vec<i64> = placed.iter().map(|(_, v)| *v).collect();
    spearman(&place, &value)
}

fn ranking(models: &[Model], role: Role, pool: Pool, cfg: &ScoringConfig) -> Vec<ModelScore> {
    scoring::rank(models, role, pool, &Health::default(), cfg)
}

#[test]
fn the_engineers_free_ranking_follows_a_single_harness_leaderboard() {
    let index = openhands_index();
    for date in common::HISTORY_DATES {
        let models = history(date);
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        let order = ranking(&models, Role::Engineer, Pool::Free, &cfg);
        let placed = with_reference(&order, |id| index.get(canonical_slug(id).as_str()).copied());
        assert!(placed.len() >= 2, "{date}: {placed:?}");
        let rho = agreement(&placed);
        println!(
            "{date}: engineer (free) vs the OpenHands Index over {} models: ρ = {rho:.2} {placed:?}",
            placed.len()
        );
        assert!(rho >= 0.6, "{date}: ρ {rho:.2} < 0.6: {placed:?}");
        // No model in the top 3 of the ranking has a leaderboard figure below the (lower) median of
        // the qualified ones.
        let mut values: Vec<i64> = placed.iter().map(|(_, v)| *v).collect();
        values.sort_unstable();
        let median = values[(values.len() - 1) / 2];
        for s in order.iter().filter(|s| s.passes).take(3) {
            if let Some(v) = index.get(canonical_slug(&s.model_id).as_str()) {
                assert!(
                    *v >= median,
                    "{date}: {} ({v}) is in the top 3 below the median {median}",
                    s.model_id
                );
            }
        }
    }
}

#[test]
fn the_paid_ranking_the_upgrade_picks_from_follows_the_same_leaderboard() {
    let index = openhands_index();
    for date in common::HISTORY_DATES {
        let models = history(date);
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        let order = ranking(&models, Role::Engineer, Pool::Paid, &cfg);
        let placed = with_reference(&order, |id| index.get(canonical_slug(id).as_str()).copied());
        assert!(placed.len() >= 5, "{date}: {placed:?}");
        let rho = agreement(&placed);
        println!(
            "{date}: engineer (paid) vs the OpenHands Index over {} models: ρ = {rho:.2}",
            placed.len()
        );
        assert!(rho >= 0.6, "{date}: ρ {rho:.2} < 0.6: {placed:?}");
    }
}

#[test]
fn the_pm_and_hermes_rankings_follow_their_general_figure() {
    let data = evals::embedded();
    let mmlu_pro = |id: &str| {
        data.family_of(id)?
            .figures
            .iter()
            .find(|f| f.benchmark == "MMLU-Pro")
            .map(|f| i64::from(f.value_centi))
    };
    for date in common::HISTORY_DATES {
        let models = history(date);
        let cfg = ScoringConfig::for_catalog(&models, end_of(date));
        for role in [Role::Pm, Role::Hermes] {
            let order = ranking(&models, role, Pool::Free, &cfg);
            let placed = with_reference(&order, mmlu_pro);
            assert!(placed.len() >= 3, "{date} {role}: {placed:?}");
            let rho = agreement(&placed);
            println!(
                "{date}: {role} (free) vs MMLU-Pro over {} models: ρ = {rho:.2}",
                placed.len()
            );
            assert!(rho >= 0.6, "{date} {role}: ρ {rho:.2} < 0.6: {placed:?}");
        }
    }
}
