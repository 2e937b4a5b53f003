//! `update(&mut State, Action) -> Option<Action>`: the only place state changes. No I/O: work for the
//! domain is queued as an `Effect` for the runtime.

use crate::app::action::Action;
use crate::app::draw;
use crate::app::state::{State, Tab};

/// Rows a page key moves.
pub fn page_rows(state: &State) -> usize {
    (state.size.1 as usize).saturating_sub(10).max(1)
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    // Every action but the tick changes what is on screen; the runtime redraws after a tick itself
    // (relative times move), coalesced with everything else into at most one frame per FRAME.
    if !matches!(action, Action::Tick) {
        state.dirty = true;
    }
    match action {
        Action::Quit => {
            state.should_quit = true;
            None
        }
        Action::Tick => None,
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
        Action::Loaded(data) => {
            state.set_data(*data);
            None
        }
        Action::EffectDone(text) => {
            state.info(text);
            Some(Action::Reload)
        }
        Action::EffectFailed(text) => {
            if state.create.submitting {
                state.create.create_error = Some(text.clone());
            }
            state.create.submitting = false;
            state.error(text);
            Some(Action::Reload)
        }
        Action::Background(_) => Some(Action::Reload),
        // The runtime performs the reload; the state has nothing to change yet.
        Action::Reload => None,
        Action::AgentCreated(agent) => crate::tabs::create::agent_created(state, *agent),
        Action::UpgradePlanLoaded(result) => {
            crate::tabs::agents::plan_loaded(state, *result);
            None
        }
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
