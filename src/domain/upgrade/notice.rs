//! Carrying out what an `upgrade` notification proposes (the Notifications tab's Enter, the web
//! page's Apply button, `nxr notifications apply ID`).

use super::{PlanOutcome, UpgradeError};
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::notifications::{KIND_UPGRADE, UpgradePayload, get, mark_read};
use crate::domain::store::{Store, StoreError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no notification has id {0}; the list shows the ids")]
    NotFound(i64),
    #[error(
        "notification {0} does not propose a model switch; only “{KIND_UPGRADE}” notifications can be applied"
    )]
    NotAnUpgrade(i64),
    #[error(transparent)]
    Upgrade(#[from] UpgradeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What applying an upgrade notification did.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationApplied {
    pub id: i64,
    pub proposal: UpgradePayload,
    pub outcome: PlanOutcome,
}

/// Carries out what an `upgrade` notification proposes — the agent to the proposed model, through the
/// journaled switch ([`super::upgrade_agent_to`]) — then marks it read. On an error nothing is
/// changed and the notification stays as it was.
pub async fn apply_notification(
    store: &Store,
    env: &Env,
    id: i64,
    clock: &dyn Clock,
) -> Result<NotificationApplied, ApplyError> {
    let n = get(store, id).await?.ok_or(ApplyError::NotFound(id))?;
    let proposal = n.upgrade().ok_or(ApplyError::NotAnUpgrade(id))?;
    let outcome = super::upgrade_agent_to(store, env, &proposal.agent, &proposal.to_model).await?;
    mark_read(store, id, clock).await?;
    Ok(NotificationApplied {
        id,
        proposal,
        outcome,
    })
}

impl crate::domain::base::hint::Hinted for ApplyError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            ApplyError::Upgrade(e) => e.hints(),
            _ => Vec::new(),
        }
    }
}
