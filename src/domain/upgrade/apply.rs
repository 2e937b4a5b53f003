//! Carrying out a plan: each switch goes through `agents::set_model_choice` (validate, config.yaml
//! written atomically, the database in one transaction with `agent_model_history`, the file put back
//! if the database write fails, crash-safe through `switch_journal`). A dry run shows the same changes
//! as a diff of the database fields and each profile's config.yaml lines, writing nothing.

use super::UpgradeError;
use super::plan::{Plan, PlanRow, Switch};
use crate::domain::agents::hermes;
use crate::domain::agents::{self, ModelChoice};
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Switched {
    pub agent: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failed {
    pub agent: String,
    pub to: String,
    pub error: String,
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanOutcome {
    pub switched: Vec<Switched>,
    /// Agents the plan left on their model.
    pub kept: Vec<String>,
    /// Switches that failed; those agents are unchanged.
    pub failed: Vec<Failed>,
}

impl PlanOutcome {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// "AGENT could not move to MODEL: why", for the first failed switch.
    pub fn first_failure(&self) -> Option<String> {
        let f = self.failed.first()?;
        Some(format!(
            "{} could not move to {}: {}",
            f.agent, f.to, f.error
        ))
    }

    /// "N of M switches failed; AGENT could not move to MODEL: why", when any failed.
    pub fn failure_summary(&self) -> Option<String> {
        let first = self.first_failure()?;
        Some(format!(
            "{} of {} switches failed; {first}",
            self.failed.len(),
            self.failed.len() + self.switched.len()
        ))
    }
}

fn choice(s: &Switch) -> ModelChoice {
    ModelChoice {
        id: s.to.id.clone(),
        provider: s.to.provider.clone(),
        is_free: s.to.is_free,
        score: s.to.score,
        notes: Vec::new(),
        fallbacks: None,
    }
}

/// Switches every agent the plan switches, one change each, in the plan's order; a failing switch is
/// reported and the others still run.
pub async fn apply(store: &Store, env: &Env, plan: &Plan) -> PlanOutcome {
    let mut out = PlanOutcome::default();
    for row in &plan.rows {
        let Some(s) = &row.switch else {
            out.kept.push(row.agent.clone());
            continue;
        };
        match agents::set_model_choice(
            store,
            env,
            &row.agent,
            &choice(s),
            s.reason.as_str(),
            s.auto_assigned,
        )
        .await
        {
            Ok(a) => out.switched.push(Switched {
                agent: a.name,
                from: row.current.id.clone(),
                to: a.model,
                reason: s.reason.as_str().into(),
            }),
            Err(e) => out.failed.push(Failed {
                agent: row.agent.clone(),
                to: s.to.id.clone(),
                error: e.to_string(),
            }),
        }
    }
    out
}

/// One agent's change as a dry run shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDiff {
    pub agent: String,
    /// `agents.model: a → b`-style lines.
    pub db: Vec<String>,
    pub config_path: String,
    /// Unified-diff lines of config.yaml (`-old`, `+new`, ` context`).
    pub config: Vec<String>,
}

/// The changes applying `plan` would make, computed on a copy of each config.yaml (nothing is written).
pub fn preview(env: &Env, plan: &Plan) -> Result<Vec<RowDiff>, UpgradeError> {
    plan.rows
        .iter()
        .filter_map(|row| row.switch.as_ref().map(|s| (row, s)))
        .map(|(row, s)| row_diff(env, row, s))
        .collect()
}

/// The database changes of one switch, as `agents.model: a → b`-style lines.
fn db_lines(row: &PlanRow, s: &Switch) -> Vec<String> {
    let mut db = vec![format!("agents.model: {} → {}", row.current.id, s.to.id)];
    if row.current.provider != s.to.provider {
        db.push(format!(
            "agents.provider: {} → {}",
            row.current.provider, s.to.provider
        ));
    }
    db.push(format!(
        "agents.model_auto_assigned → {}",
        i32::from(s.auto_assigned)
    ));
    db.push(format!(
        "agent_model_history += ({} → {}, reason {})",
        row.current.id,
        s.to.id,
        s.reason.as_str()
    ));
    db
}

fn row_diff(env: &Env, row: &PlanRow, s: &Switch) -> Result<RowDiff, UpgradeError> {
    let path = std::path::Path::new(&row.config_path);
    let before = match std::fs::read_to_string(path) {
        Ok(t) => t,
        // Team mode: the profile of an agent of another host is there, not here; its host writes
        // the model the database gives it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && env.db_url.is_some() => {
            return Ok(RowDiff {
                agent: row.agent.clone(),
                db: db_lines(row, s),
                config_path: format!("{} (on the agent's host, which writes it)", path.display()),
                config: Vec::new(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(UpgradeError::Other(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let scratch = tempfile::tempdir()
        .map_err(|e| UpgradeError::Other(format!("cannot create a scratch directory: {e}")))?;
    let copy = scratch.path().join("config.yaml");
    std::fs::write(&copy, &before)
        .map_err(|e| UpgradeError::Other(format!("cannot write a scratch copy: {e}")))?;
    hermes::set_config(&copy, &agents::model_edits(env, &choice(s)))
        .map_err(|e| UpgradeError::Agents(e.into()))?;
    let after = std::fs::read_to_string(&copy)
        .map_err(|e| UpgradeError::Other(format!("cannot read the scratch copy: {e}")))?;
    let diff = similar::TextDiff::from_lines(&before, &after);
    let mut config = Vec::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => continue,
        };
        config.push(format!("{sign}{}", change.value().trim_end_matches('\n')));
    }
    Ok(RowDiff {
        agent: row.agent.clone(),
        db: db_lines(row, s),
        config_path: row.config_path.clone(),
        config,
    })
}
