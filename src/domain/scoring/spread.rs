//! Spread defaults: the three default agents (PM, Engineer, Hermes) do not all land on one model when
//! a near-equal alternative exists, so one upstream outage or provider rate limit never stops the
//! whole team (docs/scoring.md, "Spread defaults").
//!
//! Roles are assigned most demanding first (Engineer, Hermes, PM). A role whose best free model is
//! already taken gets the best model not taken yet whose total is within [`SPREAD_MARGIN_PERMILLE`] of
//! its best; without one it shares the best. The setting `spread_default_agents` (default true)
//! turns spreading off: every role then gets its best free model.

use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::scoring::{self, Health, Pool, ScoringConfig};
use crate::domain::store::{Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings key; `false` turns spreading off.
pub const SETTING_SPREAD: &str = "spread_default_agents";
/// A spread pick's total is at least the best's × (1000 − this) / 1000: 3 %.
pub const SPREAD_MARGIN_PERMILLE: u32 = 30;
/// The order defaults are assigned in: the most demanding role first.
pub const ASSIGN_ORDER: [Role; 3] = [Role::Engineer, Role::Hermes, Role::Pm];

/// One default role's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefaultPick {
    pub role: Role,
    pub model_id: String,
    pub total: u32,
    /// Set when the pick was spread: the role's best model, which an earlier role already has.
    pub spread_from: Option<SpreadFrom>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpreadFrom {
    pub model_id: String,
    pub total: u32,
    /// The role that has it.
    pub taken_by: Role,
}

impl DefaultPick {
    /// One sentence for `explain` and the init summary; `None` when the pick was not spread.
    pub fn note(&self) -> Option<String> {
        let f = self.spread_from.as_ref()?;
        Some(format!(
            "spread: the {} default is {} (total {}) rather than {} (total {}, within {}.{}% of it), which the {} default already uses, so one outage cannot stop the whole team; `nxr config set spread_default_agents false` turns this off",
            self.role,
            self.model_id,
            self.total,
            f.model_id,
            f.total,
            SPREAD_MARGIN_PERMILLE / 10,
            SPREAD_MARGIN_PERMILLE % 10,
            f.taken_by
        ))
    }
}

/// The default picks of `roles` (ranked free models only; a role with no passing free model is left
/// out: the fallback chain applies to it as before).
pub fn default_picks(
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
    roles: &[Role],
    spread: bool,
) -> BTreeMap<Role, DefaultPick> {
    let mut out = BTreeMap::new();
    let mut taken: Vec<(String, Role)> = Vec::new();
    let order: Vec<Role> = ASSIGN_ORDER
        .iter()
        .copied()
        .filter(|r| roles.contains(r))
        .chain(roles.iter().copied().filter(|r| !ASSIGN_ORDER.contains(r)))
        .collect();
    for role in order {
        let ranked: Vec<_> = scoring::rank(models, role, Pool::Free, health, cfg)
            .into_iter()
            .filter(|s| s.passes)
            .collect();
        let Some(best) = ranked.first() else { continue };
        let holder = taken
            .iter()
            .find(|(id, _)| *id == best.model_id)
            .map(|(_, r)| *r);
        let floor = (best.total as u64 * (1000 - SPREAD_MARGIN_PERMILLE) as u64).div_ceil(1000);
        let alternative = match holder {
            Some(_) if spread => ranked
                .iter()
                .take_while(|s| s.total as u64 >= floor)
                .find(|s| !taken.iter().any(|(id, _)| *id == s.model_id)),
            _ => None,
        };
        let pick = match (alternative, holder) {
            (Some(alt), Some(taken_by)) => DefaultPick {
                role,
                model_id: alt.model_id.clone(),
                total: alt.total,
                spread_from: Some(SpreadFrom {
                    model_id: best.model_id.clone(),
                    total: best.total,
                    taken_by,
                }),
            },
            _ => DefaultPick {
                role,
                model_id: best.model_id.clone(),
                total: best.total,
                spread_from: None,
            },
        };
        taken.push((pick.model_id.clone(), role));
        out.insert(role, pick);
    }
    out
}

/// The `spread_default_agents` setting (default true).
pub async fn enabled(store: &Store) -> Result<bool, StoreError> {
    Ok(match store.setting(SETTING_SPREAD).await? {
        Some(v) => !matches!(v.trim(), "false" | "0" | "no" | "off"),
        None => true,
    })
}

/// Parses a user's value for the setting.
pub fn parse_setting(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The default picks of the three default roles from the stored state.
pub async fn stored_default_picks(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<BTreeMap<Role, DefaultPick>, crate::domain::scoring::rescore::ScoringError> {
    let inputs = crate::domain::scoring::rescore::inputs(store, now).await?;
    let on = enabled(store).await?;
    Ok(default_picks(
        &inputs.models,
        &inputs.health,
        &inputs.cfg,
        &ASSIGN_ORDER,
        on,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_spreading_every_role_gets_its_best() {
        let models = crate::domain::catalog::embedded().models;
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T23:59:59Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let cfg = ScoringConfig::for_catalog(&models, now);
        let health = Health::default();
        let plain = default_picks(&models, &health, &cfg, &ASSIGN_ORDER, false);
        for (role, pick) in &plain {
            let best = scoring::best_free(&models, *role, &health, &cfg, &[]);
            assert_eq!(pick.model_id, best.model_id, "{role}");
            assert!(pick.spread_from.is_none());
        }
        let spread = default_picks(&models, &health, &cfg, &ASSIGN_ORDER, true);
        for pick in spread.values() {
            if let Some(f) = &pick.spread_from {
                assert!(pick.total * 1000 >= f.total * (1000 - SPREAD_MARGIN_PERMILLE));
                assert!(pick.note().unwrap().contains(&f.model_id));
            }
        }
    }

    #[test]
    fn a_shared_best_is_spread_to_a_near_equal_twin() {
        let mut models = crate::domain::catalog::embedded().models;
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T23:59:59Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        // A twin of the engineer's best: the same in every respect but the id.
        let cfg = ScoringConfig::for_catalog(&models, now);
        let best = scoring::best_free(&models, Role::Engineer, &Health::default(), &cfg, &[]);
        let mut twin = models
            .iter()
            .find(|m| m.id == best.model_id)
            .unwrap()
            .clone();
        // `:twin` instead of `:free`: the same family (the same figures), free by its zero prices.
        twin.id = format!("{}:twin", best.model_id.trim_end_matches(":free"));
        assert!(twin.is_free());
        models.push(twin.clone());
        // Only the twins qualify for the three roles.
        models.retain(|m| m.id == best.model_id || m.id == twin.id || !m.supports_tools());
        let cfg = ScoringConfig::for_catalog(&models, now);
        let health = Health::default();
        let picks = default_picks(&models, &health, &cfg, &ASSIGN_ORDER, true);
        let used: std::collections::BTreeSet<&str> =
            picks.values().map(|p| p.model_id.as_str()).collect();
        assert_eq!(used.len(), 2, "{picks:#?}");
        let spread: Vec<&DefaultPick> =
            picks.values().filter(|p| p.spread_from.is_some()).collect();
        assert_eq!(spread.len(), 1, "{picks:#?}");
        assert!(spread[0].note().unwrap().contains("within 3.0%"));
        // Off: all three share the best.
        let plain = default_picks(&models, &health, &cfg, &ASSIGN_ORDER, false);
        assert!(plain.values().all(|p| p.spread_from.is_none()));
    }
}
