//! The revert plan: every agent (or the one named) on a paid model back to the last free model it
//! had (`agent_model_history`), picked again by whoever had picked it then, so an agent nxr had placed
//! stays eligible for auto-upgrade. A plan for every agent keeps a paid model the user chose.

use super::UpgradeError;
use super::plan::{
    Plan, PlanKind, Switch, SwitchReason, base_row, finish, model_info, observed_usage, selected,
};
use crate::domain::base::env::Env;
use crate::domain::catalog::Model;
use crate::domain::scoring::rescore;
use crate::domain::store::Store;
use chrono::{DateTime, Utc};
use libsql::params;

/// A free model an agent had, and whether nxr (true) or the user (false) had picked it then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierModel {
    pub id: String,
    pub auto_assigned: bool,
}

/// The last free model the agent had, from `agent_model_history` (newest first; each change's new
/// model, then its old one), other than `current`, with who had picked it (rows written before that
/// was recorded count as the user's pick).
pub async fn last_free_model(
    store: &Store,
    agent_id: i64,
    models: &[Model],
    current: &str,
) -> Result<Option<EarlierModel>, UpgradeError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT to_model, from_model, to_auto_assigned, from_auto_assigned FROM agent_model_history
             WHERE agent_id = ?1 ORDER BY changed_at DESC, id DESC",
            params![agent_id],
        )
        .await
        .map_err(|e| UpgradeError::Other(format!("cannot read agent_model_history: {e}")))?;
    while let Some(row) = rows
        .next()
        .await
        .map_err(|e| UpgradeError::Other(format!("cannot read agent_model_history: {e}")))?
    {
        for i in 0..2 {
            let id: Option<String> = row.get(i).ok().flatten();
            if let Some(id) = id
                && id != current
                && model_info(models, &id, None).is_free
            {
                let auto: Option<i64> = row.get(i + 2).ok().flatten();
                return Ok(Some(EarlierModel {
                    id,
                    auto_assigned: auto.unwrap_or(0) != 0,
                }));
            }
        }
    }
    Ok(None)
}

/// Going back: every agent (or the one named) on a paid model returns to the last free model it had,
/// picked by whoever had picked it then. A plan for every agent keeps a paid model the user chose
/// unless `include_chosen`.
pub async fn plan_revert(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
    include_chosen: bool,
    now: DateTime<Utc>,
) -> Result<Plan, UpgradeError> {
    let inputs = rescore::inputs(store, now).await?;
    let mut rows = Vec::new();
    let list = selected(store, env, agent).await?;
    for a in &list {
        let usage = observed_usage(store, a.id, now).await?;
        let mut row = base_row(a, &inputs.models, usage);
        if row.current.is_free {
            row.note = Some("already on a free model".into());
        } else {
            match last_free_model(store, a.id, &inputs.models, &a.model).await? {
                Some(earlier) => {
                    let to = model_info(&inputs.models, &earlier.id, None);
                    row.recommended = Some(to.clone());
                    row.recommended_auto = earlier.auto_assigned;
                    row.switch = Some(Switch {
                        to,
                        reason: SwitchReason::Revert,
                        auto_assigned: earlier.auto_assigned,
                    });
                }
                None => {
                    row.note = Some(
                        "no free model in its history; choose one with `nxr upgrade --agent NAME --to MODEL`"
                            .into(),
                    );
                }
            }
        }
        rows.push(row);
    }
    let mut plan = finish(PlanKind::Revert, rows, inputs.catalog.describe());
    if agent.is_none() && !include_chosen {
        plan.keep_chosen(&list);
    }
    Ok(plan)
}
