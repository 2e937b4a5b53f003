//! `update(&mut State, Action) -> Option<Action>`: the only place state changes. No I/O: work for the
//! domain is queued as an `Effect` for the runtime, re-reads are asked for as `Action::Refresh`.

use crate::app::action::{Action, Outcome};
use crate::app::draw;
use crate::app::effects::{EffectId, Origin};
use crate::app::loader::Parts;
use crate::app::state::{State, Tab};
use crate::domain::agents::gateway::GatewayStatus;

/// Rows a page key moves.
pub fn page_rows(state: &State) -> usize {
    (state.size.1 as usize).saturating_sub(10).max(1)
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    // Every action changes what is on screen (a tick moves relative times and uptime); the runtime
    // draws at most one frame per FRAME.
    state.dirty = true;
    match action {
        Action::Quit => {
            state.should_quit = true;
            None
        }
        Action::Tick { now, gateway } => {
            state.data.now = now;
            let model = state.data.gateway.model.take();
            state.data.gateway = GatewayStatus { model, ..gateway };
            None
        }
        Action::Resize { width, height } => {
            state.size = (width, height);
            None
        }
        Action::ToggleHelp => {
            state.show_help = !state.show_help;
            None
        }
        Action::NextTab => {
            state.tab = state.tab.next();
            None
        }
        Action::PrevTab => {
            state.tab = state.tab.prev();
            None
        }
        Action::GoTab(t) => {
            state.tab = t;
            None
        }
        Action::Click { column, row } => {
            if let Some(t) = draw::tab_at(state, column, row) {
                state.tab = t;
            }
            None
        }
        Action::Refreshed(fresh) => {
            let mut data = state.data.clone();
            fresh.apply_to(&mut data);
            state.set_data(data);
            None
        }
        Action::Finished { id, outcome } => finished(state, id, outcome),
        Action::Background(e) => Some(Action::Refresh(e.into())),
        Action::Reload => Some(Action::Refresh(Parts::DATA)),
        // The runtime performs the refresh; the state has nothing to change yet.
        Action::Refresh(_) => None,
        Action::Back if !state.show_help && at_top_level(state) => {
            state.should_quit = true;
            None
        }
        other => match state.tab {
            Tab::Dashboard => crate::tabs::dashboard::update(state, other),
            Tab::Models => crate::tabs::models::update(state, other),
            Tab::Agents => crate::tabs::agents::update(state, other),
            Tab::Budget => crate::tabs::budget::update(state, other),
            Tab::Create => crate::tabs::create::update(state, other),
            Tab::Notifications => crate::tabs::notifications::update(state, other),
        },
    }
}

/// An effect answered: its result goes where it was asked for, then the parts it changed are re-read
/// (also after a failure: the domain may have done part of the work).
fn finished(state: &mut State, id: EffectId, outcome: Outcome) -> Option<Action> {
    let pending = state.answered(id);
    match outcome {
        Outcome::Done(text) => {
            if pending.is_some_and(|p| p.origin == Origin::SlotEditor) {
                state.models.slots.error = None;
            }
            state.info(text);
        }
        Outcome::Failed(text) => {
            match pending.map(|p| p.origin) {
                Some(Origin::Wizard) => {
                    state.create.create_error = Some(text.clone());
                    state.create.submitting = false;
                }
                Some(Origin::SlotEditor) => state.models.slots.error = Some(text.clone()),
                Some(Origin::UpgradeDialog) => {
                    if let Some(d) = &mut state.agents.upgrade {
                        d.error = Some(text.clone());
                    }
                }
                _ => {}
            }
            state.error(text);
        }
        Outcome::AgentCreated(agent) => crate::tabs::create::agent_created(state, *agent),
        Outcome::PlanLoaded(result) => crate::tabs::agents::plan_loaded(state, *result),
    }
    let refresh = pending.map_or(Parts::DATA, |p| p.refresh);
    (!refresh.is_empty()).then_some(Action::Refresh(refresh))
}

/// Nothing to back out of: Esc quits.
fn at_top_level(state: &State) -> bool {
    use crate::app::state::{ModelsMode, WizardStep};
    match state.tab {
        Tab::Models => state.models.mode == ModelsMode::Browse && !state.models.filter_focused,
        Tab::Agents => state.agents.skills.is_none() && state.agents.upgrade.is_none(),
        Tab::Create => state.create.step == WizardStep::Category && !state.create.picking_model,
        _ => true,
    }
}
