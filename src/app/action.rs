//! The one `Action` enum: everything that can happen to the TUI's state. serde `snake_case`, so a key
//! map in a config file deserialises straight into it. Variants that carry loaded data are not
//! serialisable (they never come from a config file).

use crate::app::state::{AppData, Tab};
use crate::domain::agents::Agent;
use crate::domain::upgrade::Plan;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    /// A tick: the clock moved (re-read gateway status, refresh relative times).
    Tick,
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
    /// Re-read everything from the domain.
    Reload,
    /// A background event: something changed on disk / in the database.
    Background(BackgroundEvent),
    /// Fresh data from the loader.
    #[serde(skip)]
    Loaded(Box<AppData>),
    /// The create-agent effect finished.
    #[serde(skip)]
    AgentCreated(Box<Agent>),
    /// The bulk upgrade plan (or why it could not be made).
    #[serde(skip)]
    UpgradePlanLoaded(Box<Result<Plan, String>>),
    /// An effect finished: a line for the status bar.
    EffectDone(String),
    /// An effect failed: the error, for the status bar.
    EffectFailed(String),
}

/// What background work tells the TUI (DESIGN.md §1): it re-reads and redraws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundEvent {
    ScanFinished,
    BudgetChanged,
    Notification,
    AgentsChanged,
    ConfigChanged,
}
