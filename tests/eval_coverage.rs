//! Every free model that passes a role's requirements in a dated catalog has a published figure of
//! that role's main kind, or is listed as unmeasured with the reason (data/unmeasured.yaml); and
//! the list holds nothing the catalogs do not need.

mod common;

use nxr::domain::base::roles::Role;
use nxr::domain::catalog::parse_catalog;
use nxr::domain::scoring::capability::KindWeights;
use nxr::domain::scoring::evals::Kind;
use nxr::domain::scoring::unmeasured;
use nxr::domain::scoring::{self, ScoringConfig};
use std::collections::BTreeSet;

const DATES: [&str; 7] = common::HISTORY_DATES;

/// (model id, role) pairs of gate-passing free models without a figure of the role's main kind.
fn unmeasured_in(date: &str) -> BTreeSet<(String, Role)> {
    let body = common::fixture(&format!("openrouter/catalog-history/models-{date}.json"));
    let models = parse_catalog(&body).expect("a dated catalog").models;
    let now = chrono::DateTime::parse_from_rfc3339(&format!("{date}T12:00:00Z"))
        .expect("date")
        .with_timezone(&chrono::Utc);
    let cfg = ScoringConfig::for_catalog(&models, now);
    let table = cfg.capability.clone().expect("the embedded figures");
    let mut out = BTreeSet::new();
    for m in models.iter().filter(|m| m.is_free()) {
        for role in Role::ALL {
            if !scoring::passes_gates(m, role, &cfg) {
                continue;
            }
            let weights = KindWeights::default_for(role);
            let main = Kind::ALL.iter().map(|k| weights.get(*k)).max().unwrap_or(0);
            let measured = table
                .role_capability(&m.id, role)
                .is_some_and(|c| c.figures.iter().any(|u| weights.get(u.figure.kind) == main));
            if !measured {
                out.insert((m.id.clone(), role));
            }
        }
    }
    out
}

#[test]
fn every_gate_passing_free_model_is_measured_or_listed_with_a_reason() {
    let mut needed = BTreeSet::new();
    let mut missing = Vec::new();
    for date in DATES {
        for (id, role) in unmeasured_in(date) {
            if unmeasured::reason(&id, role).is_none() {
                missing.push(format!("{date}: {id} for {role}"));
            }
            needed.insert((id, role));
        }
    }
    assert!(
        missing.is_empty(),
        "free models that pass a role's requirements have no figure of its main kind and are not in \
         data/unmeasured.yaml; add a cited figure to data/model_evals.yaml or list them with the reason:\n{}",
        missing.join("\n")
    );
    let stale: Vec<String> = unmeasured::all()
        .iter()
        .flat_map(|u| u.roles.iter().map(move |r| (u.id.clone(), *r)))
        .filter(|pair| !needed.contains(pair))
        .map(|(id, role)| format!("{id} for {role}"))
        .collect();
    assert!(
        stale.is_empty(),
        "data/unmeasured.yaml lists pairs no dated catalog needs (measured now, or failing the role):\n{}",
        stale.join("\n")
    );
    common::figures(
        "eval-coverage",
        &format!(
            "{} (model, role) pairs over {} dated catalogs are unmeasured and listed with a reason",
            needed.len(),
            DATES.len()
        ),
    );
}
