//! Team mode's reconcile as every surface runs it (`nxr serve` every few seconds, each command and
//! the TUI at start): first the usage Hermes recorded in each profile about to leave this host (its
//! agent now runs on another) is added to the database, then `agents::reconcile` makes this host's
//! profiles agree with the database. A profile whose usage could not be added stays until it is.

use crate::domain::agents::AgentError;
use crate::domain::agents::reconcile::{self, Held, Report};
use crate::domain::base::env::Env;
use crate::domain::store::Store;

/// Adds the leaving profiles' usage, then reconciles (see the module docs).
pub async fn reconcile(store: &Store, env: &Env) -> Result<Report, AgentError> {
    let mut held = Held::default();
    for (agent, dir) in reconcile::leaving(store, env).await? {
        if let Err(e) =
            crate::domain::budget::usage::ingest_profile(store, &agent, &dir, store.clock()).await
        {
            held.problems.push(format!(
                "agent {:?}: its usage on this host could not be added ({e}); its profile stays here until it is",
                crate::domain::agents::echo(&agent.name)
            ));
            held.profiles.push(agent.hermes_profile);
        }
    }
    reconcile::reconcile(store, env, held).await
}
