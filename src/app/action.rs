//! The one `Action` enum: everything that can happen to the TUI's state, from a key, the mouse, the
//! runtime (ticks, terminal events, background events, loaded data) or a finished effect.

use crate::app::effects::EffectId;
use crate::app::loader::{Fresh, Parts};
use crate::app::state::Tab;
use crate::domain::agents::Agent;
use crate::domain::agents::gateway::GatewayStatus;
use crate::domain::upgrade::Plan;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    /// A tick from the ticker task: the time and the gateway status it read (its `model` is left to
    /// config.yaml).
    Tick {
        now: DateTime<Utc>,
        gateway: GatewayStatus,
    },
    Resize {
        width: u16,
        height: u16,
    },
    NextTab,
    PrevTab,
    GoTab(Tab),
    ToggleHelp,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter: choose / confirm / next step.
    Confirm,
    /// Esc: leave the filter, close an overlay, go back a step; quits when there is nothing to leave.
    Back,
    /// `/`: focus the filter.
    FocusFilter,
    InsertChar(char),
    Backspace,
    ToggleFree,
    ToggleTools,
    ToggleVision,
    CycleMinContext,
    CycleSort,
    /// Tab 2: switch between the model table and the slot editor.
    ToggleSlots,
    /// Space in a selector: toggle the skill under the cursor.
    ToggleItem,
    /// Tab 3: edit the selected agent's skills.
    EditSkills,
    /// Tab 3 / Tab 6: move the agent to its recommended model.
    Upgrade,
    /// Tab 3: move the agent back to its previous model.
    Revert,
    /// Tab 3: open the bulk upgrade dialog (every agent to its paid pick).
    BulkUpgrade,
    /// Tab 5: open the model picker to change the recommended model.
    ChangeModel,
    MarkRead,
    MarkAllRead,
    /// Tab 1: start / stop / restart the Hermes gateway (in its tmux session).
    GatewayStart,
    GatewayStop,
    GatewayRestart,
    /// A mouse click at a cell.
    Click {
        column: u16,
        row: u16,
    },
    /// Re-read everything but the catalog (the `r` key).
    Reload,
    /// Re-read these parts on a task (what a background event or a finished effect concerns).
    Refresh(Parts),
    /// A background event: something changed on disk / in the database.
    Background(BackgroundEvent),
    /// Re-read parts from the loader.
    Refreshed(Box<Fresh>),
    /// An effect finished; `id` is the one `State::queue` gave it.
    Finished {
        id: EffectId,
        outcome: Outcome,
    },
}

/// How an effect ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A line for the status bar.
    Done(String),
    /// The error, shown where the effect was asked for (and in the status bar).
    Failed(String),
    AgentCreated(Box<Agent>),
    /// The bulk upgrade plan (or why it could not be made).
    PlanLoaded(Box<Result<Plan, String>>),
}

/// What background work tells the TUI (docs/design.md §1): it re-reads the part that moved and redraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundEvent {
    ScanFinished,
    BudgetChanged,
    Notification,
    AgentsChanged,
    ConfigChanged,
}
