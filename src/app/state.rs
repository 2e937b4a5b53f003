//! The TUI's state. [`AppData`] is plain data (agents, catalog, slots, budget, notifications, gateway,
//! the time), so tests build a [`State`] with no database; `app::loader` fills it from the domain.

use crate::domain::agents::gateway::GatewayStatus;
use crate::domain::agents::hermes::Slot;
use crate::domain::agents::{Agent, NewAgent};
use crate::domain::base::roles::Role;
use crate::domain::budget::Budget;
use crate::domain::catalog::Model;
use crate::domain::notifications::Notification;
use crate::domain::paperclip::links::LinkState;
use crate::domain::scoring::{Health, Pick, ScoringConfig};
use crate::domain::upgrade::Plan;
use crate::domain::upgrade::recommend::Recommendation;
use crate::domain::view::{ListedModel, ModelList};
use crate::domain::watch::agent_check::AgentCheck;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use crate::tabs::agents::AgentsTab;
pub use crate::tabs::create::wizard::{Category, Wizard, WizardStep, new_name_area};
pub use crate::tabs::models::{ModelsMode, ModelsTab};
pub use crate::tabs::notifications::NotificationsTab;
pub use crate::widgets::upgrade_dialog::UpgradeDialog;

/// The best free pick per role.
pub type Picks = Arc<Vec<(Role, Pick)>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tab {
    Dashboard,
    Models,
    Agents,
    Budget,
    Create,
    Notifications,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Dashboard,
        Tab::Models,
        Tab::Agents,
        Tab::Budget,
        Tab::Create,
        Tab::Notifications,
    ];
    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
    pub fn title(self) -> &'static str {
        match self {
            Tab::Dashboard => "Dashboard",
            Tab::Models => "Models",
            Tab::Agents => "Agents",
            Tab::Budget => "Budget",
            Tab::Create => "Create Agent",
            Tab::Notifications => "Notifications",
        }
    }
    pub fn next(self) -> Tab {
        Tab::ALL[(self.index() + 1) % Tab::ALL.len()]
    }
    pub fn prev(self) -> Tab {
        Tab::ALL[(self.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
    }
}

/// Everything the TUI shows, read from the domain. A part that failed to load carries its error, which
/// the tab shows instead of data.
#[derive(Debug, Clone)]
pub struct AppData {
    pub now: DateTime<Utc>,
    pub agents: Vec<Agent>,
    pub agents_error: Option<String>,
    /// Whether each agent can run (`domain::watch::agent_check`), in the order of `agents`. The
    /// agents, their checks, links and usage all come from one `domain::view::Agents`.
    pub checks: Vec<AgentCheck>,
    /// Each agent's requests, cost and failures, by agent id (the agents view's `Usage`).
    pub agent_usage: Vec<(i64, crate::domain::view::Usage)>,
    pub recommendations: Vec<Recommendation>,
    /// The catalog as every surface lists it (`domain::view::ModelList`).
    pub models: Arc<ModelList>,
    /// The best free model per role (`scoring::best_free_all`), computed on the full catalog.
    pub picks: Picks,
    /// "catalog: embedded snapshot of 2026-05-01", …
    pub catalog_source: String,
    pub slots: Vec<Slot>,
    pub slots_error: Option<String>,
    /// The config.yaml the slot editor writes.
    pub config_path: String,
    pub budget: Option<Budget>,
    pub budget_error: Option<String>,
    pub notifications: Vec<Notification>,
    pub notifications_error: Option<String>,
    pub gateway: GatewayStatus,
    /// Whether `nxr serve` runs and the last scan's age (`None` until read).
    pub background: Option<crate::domain::view::Background>,
    /// An OpenRouter key is stored (`u` then moves to paid models).
    pub has_key: bool,
    /// Each agent's Paperclip link state, by agent id (empty when it could not be read).
    pub paperclip_links: Vec<(i64, LinkState)>,
    /// Scoring inputs from settings and observed health (`domain::scoring::rescore::inputs`).
    pub health: Health,
    pub cfg: ScoringConfig,
}

impl AppData {
    /// Data with a catalog and nothing else (a fresh install), scored with the default settings.
    pub fn empty(now: DateTime<Utc>, models: Vec<Model>) -> AppData {
        let cfg = ScoringConfig::for_catalog(&models, now);
        let (rows, picks) = compact_catalog(models, &Health::default(), &cfg);
        AppData::with_catalog(now, rows, picks, Health::default(), cfg)
    }

    /// Data with an already compacted catalog and nothing else.
    pub fn with_catalog(
        now: DateTime<Utc>,
        models: Arc<ModelList>,
        picks: Picks,
        health: Health,
        cfg: ScoringConfig,
    ) -> AppData {
        AppData {
            now,
            agents: Vec::new(),
            agents_error: None,
            checks: Vec::new(),
            agent_usage: Vec::new(),
            recommendations: Vec::new(),
            models,
            picks,
            catalog_source: String::new(),
            slots: Vec::new(),
            slots_error: None,
            config_path: String::new(),
            budget: None,
            budget_error: None,
            notifications: Vec::new(),
            notifications_error: None,
            gateway: GatewayStatus::never_started(),
            background: None,
            has_key: false,
            paperclip_links: Vec::new(),
            health,
            cfg,
        }
    }

    /// The catalog row with this id.
    pub fn model(&self, id: &str) -> Option<&ListedModel> {
        self.models.find(id)
    }

    pub fn pick(&self, role: Role) -> Option<&Pick> {
        self.picks.iter().find(|(r, _)| *r == role).map(|(_, p)| p)
    }

    pub fn check_for(&self, agent: &str) -> Option<&AgentCheck> {
        self.checks.iter().find(|c| c.agent == agent)
    }

    /// The usage of the agent with this id, when read.
    pub fn usage_for(&self, agent_id: i64) -> Option<&crate::domain::view::Usage> {
        self.agent_usage
            .iter()
            .find(|(id, _)| *id == agent_id)
            .map(|(_, u)| u)
    }

    /// When the agent last made a request: its usage in the agents view, or the budget's per-agent
    /// figure when the view's usage was not read.
    pub fn last_activity(&self, agent_id: i64) -> Option<&str> {
        match self.usage_for(agent_id) {
            Some(u) => u.last_activity.as_deref(),
            None => self
                .budget
                .as_ref()?
                .per_agent
                .iter()
                .find(|u| u.agent_id == Some(agent_id))?
                .last_at
                .as_deref(),
        }
    }

    /// The Paperclip link state of the agent with this id, when known.
    pub fn paperclip_link(&self, agent_id: i64) -> Option<LinkState> {
        self.paperclip_links
            .iter()
            .find(|(id, _)| *id == agent_id)
            .map(|(_, s)| *s)
    }

    pub fn recommendation_for(&self, agent: &str) -> Option<&Recommendation> {
        self.recommendations.iter().find(|r| r.agent == agent)
    }

    pub fn unread_count(&self) -> usize {
        self.notifications.iter().filter(|n| n.is_unread()).count()
    }

    /// Recomputes the recommendations from agents + picks + catalog (pure).
    pub fn recompute_recommendations(&mut self) {
        let list = &self.models;
        self.recommendations =
            crate::domain::upgrade::recommend::recommend_from(&self.agents, &self.picks, |agent| {
                list.score_id(&agent.model, agent.role)
            });
    }
}

/// Something the state asks the runtime to do through the domain (the runtime executes it and answers
/// with an `Action`). Tests read them instead of touching a database.
/// What to do with the Hermes gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayOp {
    Start,
    Stop,
    Restart,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    CreateAgent(NewAgentSpec),
    /// Start, stop or restart the Hermes gateway.
    Gateway(GatewayOp),
    /// Point a routing slot of the root profile at a catalog model (the slot editor's one rule).
    SetSlot {
        slot: String,
        model: String,
    },
    SetAgentModel {
        agent: String,
        model: String,
        reason: String,
    },
    RevertAgentModel {
        agent: String,
    },
    SetAgentSkills {
        agent: String,
        skills: Vec<String>,
    },
    MarkRead(i64),
    MarkAllRead,
    /// Carry out an upgrade notification (its agent to the proposed model); the domain marks it read
    /// once the switch succeeded.
    ApplyNotification(i64),
    /// Build the bulk upgrade plan for the dialog.
    LoadUpgradePlan,
    ApplyUpgradePlan(Box<Plan>),
    /// One agent to the best paid model for its role (a key is stored).
    UpgradeAgentPaid {
        agent: String,
    },
    /// One agent on a paid model back to the last free model it had.
    RevertAgentToFree {
        agent: String,
    },
}

/// The `NewAgent` the wizard submits (a `PartialEq` mirror for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgentSpec {
    pub name: String,
    pub role: Role,
    pub category: Option<String>,
    pub model: Option<String>,
    pub skills: Option<Vec<String>>,
    /// Team mode: the host the agent runs on (`None` = this one).
    pub host: Option<String>,
}

impl From<NewAgentSpec> for NewAgent {
    fn from(s: NewAgentSpec) -> NewAgent {
        NewAgent {
            name: s.name,
            role: s.role,
            category: s.category,
            model: s.model,
            skills: s.skills,
            is_default: false,
            host: s.host,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct State {
    pub data: AppData,
    pub tab: Tab,
    pub show_help: bool,
    pub should_quit: bool,
    /// The terminal size (for mouse hit-testing and paging).
    pub size: (u16, u16),
    pub message: Option<Message>,
    pub models: ModelsTab,
    pub agents: AgentsTab,
    pub create: Wizard,
    pub notifications: NotificationsTab,
    /// Effects for the runtime to execute, oldest first (`State::queue` adds them).
    pub effects: Vec<crate::app::effects::Queued>,
    /// Effects sent and not answered yet: where each was asked for.
    pub pending: Vec<crate::app::effects::Pending>,
    /// The last effect id given out.
    pub last_effect: u64,
    /// Whether something changed since the last draw.
    pub dirty: bool,
    /// The styles to draw with (the plain one when NO_COLOR is set).
    pub theme: crate::app::theme::Theme,
}

impl State {
    pub fn new(data: AppData) -> State {
        let create = Wizard::new(&data);
        State {
            tab: Tab::Dashboard,
            show_help: false,
            should_quit: false,
            size: (100, 30),
            message: None,
            models: ModelsTab::new(&data.models),
            agents: AgentsTab::default(),
            create,
            notifications: NotificationsTab::default(),
            effects: Vec::new(),
            pending: Vec::new(),
            last_effect: 0,
            dirty: true,
            theme: crate::app::theme::Theme::colour(),
            data,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: false,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: true,
        });
    }

    /// True when typed characters go to a text input rather than to key commands.
    pub fn text_input_active(&self) -> bool {
        match self.tab {
            Tab::Models => self.models.text_input_active(),
            Tab::Create => self.create.text_input_active(),
            _ => false,
        }
    }

    /// Replaces the data (after a reload), keeping cursors and filters.
    pub fn set_data(&mut self, data: AppData) {
        let old = std::mem::replace(&mut self.data, data);
        if !Arc::ptr_eq(&old.models, &self.data.models) {
            let m = &self.data.models;
            self.models.set_catalog(m, &old.models);
            self.create.picker.set_catalog(m, &old.models);
        }
        self.agents.selected = self
            .agents
            .selected
            .min(self.data.agents.len().saturating_sub(1));
        self.notifications.clamp(self.data.notifications.len());
        self.models.slots.clamp(self.data.slots.len());
        self.dirty = true;
    }
}

/// Scores the full catalog once (best free pick per role), then keeps only the compact list; the full
/// models are dropped and the freed memory handed back.
pub fn compact_catalog(
    models: Vec<Model>,
    health: &Health,
    cfg: &ScoringConfig,
) -> (Arc<ModelList>, Picks) {
    let picks = crate::domain::scoring::best_free_all(&models, health, cfg, &[]);
    let list = ModelList::new(&models, health.clone(), cfg.clone());
    drop(models);
    crate::domain::base::sysmem::release_freed_memory();
    (Arc::new(list), Arc::new(picks))
}
