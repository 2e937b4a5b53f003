//! The chain rule over every dated catalog, every role and every possible primary: no chain holds a
//! paid model for a free agent, the primary itself or its other variant, a duplicate, a model
//! failing the role's requirements, or a model with an announced removal.

mod common;

use nxr::domain::agents::fallbacks::{self, DEFAULT_FALLBACK_COUNT};
use nxr::domain::base::roles::Role;
use nxr::domain::catalog::parse_catalog;
use nxr::domain::scoring::evals::canonical_slug;
use nxr::domain::scoring::{self, Health, ScoringConfig};
use std::collections::BTreeSet;

const DATES: [&str; 7] = common::HISTORY_DATES;

#[test]
fn no_chain_breaks_the_rule_on_any_dated_catalog() {
    let mut chains = 0;
    for date in DATES {
        let body = common::fixture(&format!("openrouter/catalog-history/models-{date}.json"));
        let models = parse_catalog(&body).expect("a dated catalog").models;
        let now = chrono::DateTime::parse_from_rfc3339(&format!("{date}T12:00:00Z"))
            .expect("date")
            .with_timezone(&chrono::Utc);
        let cfg = ScoringConfig::for_catalog(&models, now);
        let health = Health::default();
        for role in Role::ALL {
            // Every free model that passes the role, the best paid ones, and a model outside the
            // catalog (a local one) as the primary.
            let mut primaries: Vec<String> = models
                .iter()
                .filter(|m| scoring::passes_gates(m, role, &cfg))
                .map(|m| m.id.clone())
                .take(40)
                .collect();
            primaries.push("qwen3:8b".into());
            for primary in &primaries {
                let primary_free = models
                    .iter()
                    .find(|m| &m.id == primary)
                    .is_none_or(|m| m.is_free());
                let chain = fallbacks::choose(
                    &models,
                    role,
                    primary,
                    &health,
                    &cfg,
                    DEFAULT_FALLBACK_COUNT,
                );
                chains += 1;
                let what = format!("{date} {role} on {primary}: {chain:?}");
                assert!(chain.len() <= DEFAULT_FALLBACK_COUNT, "{what}");
                let ids: BTreeSet<&str> = chain.iter().map(|m| m.model_id.as_str()).collect();
                assert_eq!(ids.len(), chain.len(), "a duplicate: {what}");
                let slugs: BTreeSet<String> =
                    chain.iter().map(|m| canonical_slug(&m.model_id)).collect();
                assert_eq!(
                    slugs.len(),
                    chain.len(),
                    "two variants of one model: {what}"
                );
                for m in &chain {
                    let model = models
                        .iter()
                        .find(|x| x.id == m.model_id)
                        .unwrap_or_else(|| panic!("not in the catalog: {what}"));
                    assert_ne!(&m.model_id, primary, "the primary itself: {what}");
                    assert_ne!(
                        canonical_slug(&m.model_id),
                        canonical_slug(primary),
                        "the primary's other variant: {what}"
                    );
                    assert!(
                        scoring::passes_gates(model, role, &cfg),
                        "fails the role: {what}"
                    );
                    assert!(model.expiration_date.is_none(), "expiring: {what}");
                    if primary_free {
                        assert!(model.is_free(), "paid in a free agent's chain: {what}");
                    }
                }
                if !primary_free {
                    assert!(
                        chain.first().is_none_or(|m| !m.is_free),
                        "a paid agent's chain starts with a paid model: {what}"
                    );
                }
            }
        }
    }
    common::figures(
        "fallback-props",
        &format!("{chains} chains over 7 dated catalogs × 6 roles checked against the chain rule"),
    );
}
