//! Effects: domain work the state asks for. `State::queue` gives each one an id and remembers where it
//! was asked for; the effect worker runs it through the domain (the calls the CLI makes) and answers
//! `Action::Finished { id, outcome }`, so `update` shows a failure at the place that asked (the slot
//! editor, the wizard, …) and re-reads only the parts the effect changed.

use crate::app::action::{Action, Outcome};
use crate::app::loader::Parts;
use crate::app::state::{Effect, State};
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use crate::domain::{agents, notifications, upgrade, upgrade::recommend, view::model_switch};

/// The id of one queued effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EffectId(pub u64);

/// An effect with its id, for the runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: EffectId,
    pub effect: Effect,
}

/// Where an effect was asked for: where its failure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The Create Agent wizard's confirm step.
    Wizard,
    /// Tab 2's slot editor.
    SlotEditor,
    /// Tab 3 (model, skills, upgrade and revert of an agent).
    Agents,
    /// Tab 3's bulk upgrade dialog.
    UpgradeDialog,
    Notifications,
    /// Tab 1's gateway keys.
    Gateway,
}

/// An effect on its way: where it came from and what to re-read when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub id: EffectId,
    pub origin: Origin,
    pub refresh: Parts,
}

impl State {
    /// Queues an effect for the runtime under a new id and remembers where it was asked for.
    pub fn queue(&mut self, effect: Effect) -> EffectId {
        self.last_effect += 1;
        let id = EffectId(self.last_effect);
        self.pending.push(Pending {
            id,
            origin: effect.origin(),
            refresh: effect.refreshes(),
        });
        self.effects.push(Queued { id, effect });
        id
    }

    /// The pending effect with this id, no longer pending.
    pub fn answered(&mut self, id: EffectId) -> Option<Pending> {
        let i = self.pending.iter().position(|p| p.id == id)?;
        Some(self.pending.remove(i))
    }
}

impl Effect {
    pub fn origin(&self) -> Origin {
        match self {
            Effect::CreateAgent(_) => Origin::Wizard,
            Effect::Gateway(_) => Origin::Gateway,
            Effect::SetSlot { .. } => Origin::SlotEditor,
            Effect::SetAgentModel { .. }
            | Effect::RevertAgentModel { .. }
            | Effect::SetAgentSkills { .. }
            | Effect::UpgradeAgentPaid { .. }
            | Effect::RevertAgentToFree { .. } => Origin::Agents,
            Effect::MarkRead(_) | Effect::MarkAllRead | Effect::ApplyNotification(_) => {
                Origin::Notifications
            }
            Effect::LoadUpgradePlan | Effect::ApplyUpgradePlan(_) => Origin::UpgradeDialog,
        }
    }

    /// The parts of the state this effect changes (re-read when it finishes, done or failed).
    pub fn refreshes(&self) -> Parts {
        match self {
            Effect::CreateAgent(_) => Parts::AGENTS,
            Effect::Gateway(_) => Parts::CONFIG,
            // The main slot moves the agent living in this profile too.
            Effect::SetSlot { .. } => Parts::CONFIG.with(Parts::AGENTS),
            Effect::SetAgentModel { .. }
            | Effect::RevertAgentModel { .. }
            | Effect::SetAgentSkills { .. }
            | Effect::UpgradeAgentPaid { .. }
            | Effect::RevertAgentToFree { .. }
            | Effect::ApplyUpgradePlan(_) => Parts::AGENTS.with(Parts::CONFIG),
            Effect::MarkRead(_) | Effect::MarkAllRead => Parts::NOTIFICATIONS,
            Effect::ApplyNotification(_) => {
                Parts::AGENTS.with(Parts::CONFIG).with(Parts::NOTIFICATIONS)
            }
            Effect::LoadUpgradePlan => Parts::NONE,
        }
    }
}

/// Executes one effect (the same domain calls the CLI makes) and answers with its id.
pub async fn run_effect(store: &Store, env: &Env, clock: &dyn Clock, queued: Queued) -> Action {
    let outcome = outcome(store, env, clock, queued.effect).await;
    Action::Finished {
        id: queued.id,
        outcome,
    }
}

async fn outcome(store: &Store, env: &Env, clock: &dyn Clock, effect: Effect) -> Outcome {
    let failed = |e: &(dyn std::error::Error + 'static)| Outcome::Failed(super::hints::explain(e));
    match effect {
        Effect::CreateAgent(spec) => match agents::create(store, env, spec.into()).await {
            Ok(a) => Outcome::AgentCreated(Box::new(a)),
            Err(e) => failed(&e),
        },
        Effect::Gateway(op) => gateway(env, op).await,
        Effect::SetSlot { slot, model } => set_slot(store, env, &slot, &model).await,
        Effect::SetAgentModel {
            agent,
            model,
            reason,
        } => match agents::set_model(store, env, &agent, &model, &reason).await {
            Ok(a) => Outcome::Done(format!("{} now runs {}", a.name, a.model)),
            Err(e) => failed(&e),
        },
        Effect::RevertAgentModel { agent } => match recommend::revert(store, env, &agent).await {
            Ok(a) => Outcome::Done(format!("{} is back on {}", a.name, a.model)),
            Err(e) => failed(&e),
        },
        Effect::SetAgentSkills { agent, skills } => {
            match agents::set_skills(store, env, &agent, &skills).await {
                Ok(a) => Outcome::Done(format!(
                    "{} has {} skills: {}",
                    a.name,
                    a.skillset.len(),
                    a.skillset.join(", ")
                )),
                Err(e) => failed(&e),
            }
        }
        Effect::MarkRead(id) => match notifications::mark_read(store, id, clock).await {
            Ok(_) => Outcome::Done("marked read".into()),
            Err(e) => failed(&e),
        },
        Effect::MarkAllRead => match notifications::mark_all_read(store, clock).await {
            Ok(n) => Outcome::Done(format!("marked {n} notifications read")),
            Err(e) => failed(&e),
        },
        Effect::ApplyNotification(id) => {
            match crate::domain::upgrade::apply_notification(store, env, id, clock).await {
                Ok(a) => Outcome::Done(format!(
                    "{} now runs {}",
                    a.proposal.agent, a.proposal.to_model
                )),
                Err(e) => failed(&e),
            }
        }
        effect @ (Effect::LoadUpgradePlan
        | Effect::ApplyUpgradePlan(_)
        | Effect::UpgradeAgentPaid { .. }
        | Effect::RevertAgentToFree { .. }) => upgrade_outcome(store, env, clock, effect).await,
    }
}

/// Starts, stops or restarts the Hermes gateway off the async threads.
async fn gateway(env: &Env, op: crate::app::state::GatewayOp) -> Outcome {
    use crate::app::state::GatewayOp;
    use crate::domain::agents::gateway_control::{self, DEFAULT_TIMEOUT};
    let env = env.clone();
    let r = tokio::task::spawn_blocking(move || match op {
        GatewayOp::Start => gateway_control::start(&env, DEFAULT_TIMEOUT)
            .map(|o| format!("gateway started (pid {})", o.pid)),
        GatewayOp::Stop => gateway_control::stop(&env, DEFAULT_TIMEOUT).map(|o| o.describe()),
        GatewayOp::Restart => gateway_control::restart(&env, DEFAULT_TIMEOUT).map(|o| {
            format!(
                "{}; started again (pid {})",
                o.stopped.describe(),
                o.started.pid
            )
        }),
    })
    .await;
    match r {
        Ok(Ok(msg)) => Outcome::Done(msg),
        Ok(Err(e)) => Outcome::Failed(super::hints::explain(&e)),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Points one routing slot of the root profile at a catalog model, through the slot editor's one
/// rule (`view::model_switch`: the main slot moves the agent living in this profile with its row).
async fn set_slot(store: &Store, env: &Env, slot: &str, model: &str) -> Outcome {
    match model_switch::apply(store, env, slot, model, false).await {
        Ok(()) => Outcome::Done(format!(
            "slot {slot} → {model} (openrouter) written to {}",
            env.hermes_home.join("config.yaml").display()
        )),
        Err(e) => Outcome::Failed(super::hints::explain(&e)),
    }
}

/// The upgrade effects: load or apply a plan, move one agent to paid or back to free.
async fn upgrade_outcome(store: &Store, env: &Env, clock: &dyn Clock, effect: Effect) -> Outcome {
    let failed = |e: &(dyn std::error::Error + 'static)| Outcome::Failed(super::hints::explain(e));
    match effect {
        Effect::LoadUpgradePlan => Outcome::PlanLoaded(Box::new(
            upgrade::plan_upgrade(store, env, None, None, false, false, clock.now())
                .await
                .map_err(|e| super::hints::explain(&e)),
        )),
        Effect::ApplyUpgradePlan(plan) => {
            let out = upgrade::apply(store, env, &plan).await;
            match out.failure_summary() {
                Some(f) => Outcome::Failed(f),
                None => Outcome::Done(switched_line(&out)),
            }
        }
        Effect::UpgradeAgentPaid { agent } => {
            match upgrade::upgrade_agent(store, env, &agent).await {
                Ok(out) => Outcome::Done(switched_line(&out)),
                Err(e) => failed(&e),
            }
        }
        Effect::RevertAgentToFree { agent } => {
            match upgrade::revert_agent(store, env, &agent).await {
                Ok(out) => Outcome::Done(switched_line(&out)),
                Err(e) => failed(&e),
            }
        }
        _ => Outcome::Failed("not an upgrade effect".into()),
    }
}

/// "PM now runs a, Engineer now runs b" for the status bar.
fn switched_line(out: &upgrade::PlanOutcome) -> String {
    if out.switched.is_empty() {
        return "nothing to change".into();
    }
    out.switched
        .iter()
        .map(|s| format!("{} now runs {}", s.agent, s.to))
        .collect::<Vec<_>>()
        .join(", ")
}
