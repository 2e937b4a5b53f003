//! Fills [`AppData`] from the domain, whole at start and then by [`Parts`]: a background event or a
//! finished effect re-reads only what it concerns ([`refresh`] answers a [`Fresh`] that `update`
//! merges). Each part that fails carries its error into the view instead of failing the whole screen.

use crate::app::action::BackgroundEvent;
use crate::app::state::AppData;
use crate::app::state::compact_catalog;
use crate::domain::agents::gateway::GatewayStatus;
use crate::domain::agents::hermes::Slot;
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::budget::Budget;
use crate::domain::catalog::Model;
use crate::domain::notifications::Notification;
use crate::domain::scoring::{Health, ScoringConfig};
use crate::domain::store::Store;
use crate::domain::view::{self, Agents, Checks, ModelList, Usage};
use crate::domain::{
    agents::gateway, agents::hermes, budget, notifications, scoring::rescore, watch::agent_check,
};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The catalog (compacted) and its scoring inputs: read once, and again only when a scan or refresh
/// changed them.
#[derive(Debug, Clone)]
pub struct CatalogPart {
    pub models: Arc<ModelList>,
    pub picks: crate::app::state::Picks,
    pub source: String,
    pub health: Health,
    pub cfg: ScoringConfig,
}

impl CatalogPart {
    pub fn build(
        models: Vec<Model>,
        source: String,
        health: Health,
        cfg: ScoringConfig,
    ) -> CatalogPart {
        let (models, picks) = compact_catalog(models, &health, &cfg);
        CatalogPart {
            models,
            picks,
            source,
            health,
            cfg,
        }
    }
}

pub async fn load_catalog(store: &Store, now: DateTime<Utc>) -> CatalogPart {
    let (inputs, why) = rescore::inputs_or_embedded(store, now).await;
    let source = match why {
        None => inputs.catalog.describe(),
        Some(why) => format!("{} ({why})", inputs.catalog.describe()),
    };
    CatalogPart::build(inputs.models, source, inputs.health, inputs.cfg)
}

/// The catalog facts the checks judge on: the TUI's own catalog, so the checks and Tab 2 agree.
fn facts(models: &Arc<ModelList>, source: &str) -> agent_check::CatalogFacts<'static> {
    let list = models.clone();
    agent_check::CatalogFacts {
        source: source.to_string(),
        score: Box::new(move |id, role| list.score_id(id, role)),
    }
}

/// The agents view (`domain::view::Agents`) with each agent's check judged on the catalog `data`
/// holds.
async fn agents_view(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    data: &AppData,
) -> Result<Agents, String> {
    let facts = facts(&data.models, &data.catalog_source);
    view::agents(store, env, clock, Checks::With(&facts))
        .await
        .map_err(|e| e.to_string())
}

/// Which parts of [`AppData`] a refresh re-reads. A background event or a finished effect names only
/// the parts it concerns; the agents' checks and the recommendations follow whenever the agents,
/// config.yaml or the catalog moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Parts {
    /// The stored catalog and its scoring inputs (after a scan or a refresh).
    pub catalog: bool,
    /// The agents view: the agents, their checks, chains, usage and Paperclip links.
    pub agents: bool,
    /// config.yaml: the routing slots, the gateway, whether a key is stored.
    pub config: bool,
    pub budget: bool,
    pub notifications: bool,
}

impl Parts {
    pub const NONE: Parts = Parts {
        catalog: false,
        agents: false,
        config: false,
        budget: false,
        notifications: false,
    };
    /// Everything but the catalog (the `r` key; the catalog moves only with a scan).
    pub const DATA: Parts = Parts {
        catalog: false,
        agents: true,
        config: true,
        budget: true,
        notifications: true,
    };
    pub const CATALOG: Parts = Parts {
        catalog: true,
        ..Parts::NONE
    };
    pub const AGENTS: Parts = Parts {
        agents: true,
        ..Parts::NONE
    };
    pub const CONFIG: Parts = Parts {
        config: true,
        ..Parts::NONE
    };
    pub const BUDGET: Parts = Parts {
        budget: true,
        ..Parts::NONE
    };
    pub const NOTIFICATIONS: Parts = Parts {
        notifications: true,
        ..Parts::NONE
    };

    /// Both sets of parts.
    pub fn with(self, o: Parts) -> Parts {
        Parts {
            catalog: self.catalog || o.catalog,
            agents: self.agents || o.agents,
            config: self.config || o.config,
            budget: self.budget || o.budget,
            notifications: self.notifications || o.notifications,
        }
    }

    pub fn is_empty(self) -> bool {
        self == Parts::NONE
    }

    /// The agents view (its checks) depends on the agents, their profiles and the catalog.
    fn moves_agents(self) -> bool {
        self.catalog || self.agents || self.config
    }
}

impl From<BackgroundEvent> for Parts {
    fn from(e: BackgroundEvent) -> Parts {
        match e {
            BackgroundEvent::ScanFinished => Parts::CATALOG,
            BackgroundEvent::BudgetChanged => Parts::BUDGET,
            BackgroundEvent::Notification => Parts::NOTIFICATIONS,
            BackgroundEvent::AgentsChanged => Parts::AGENTS,
            BackgroundEvent::ConfigChanged => Parts::CONFIG,
        }
    }
}

/// What config.yaml and the Hermes home say.
#[derive(Debug, Clone)]
pub struct ConfigPart {
    pub config_path: String,
    pub slots: Result<Vec<Slot>, String>,
    pub gateway: GatewayStatus,
    pub has_key: bool,
}

/// The parts a refresh re-read; `None` for the parts it left alone.
#[derive(Debug, Clone, Default)]
pub struct Fresh {
    pub catalog: Option<CatalogPart>,
    /// The agents view (or why it could not be built): agents, Paperclip links, usage.
    pub agents: Option<Result<Agents, String>>,
    pub config: Option<ConfigPart>,
    pub budget: Option<Result<Budget, String>>,
    pub notifications: Option<Result<Vec<Notification>, String>>,
    /// The checks of that same view (kept as they were when it could not be built).
    pub checks: Option<Vec<agent_check::AgentCheck>>,
    /// Each agent's usage, re-read after a budget change (`view::usage_of`, the view's own figures).
    pub usage: Option<Vec<(i64, Usage)>>,
    pub background: Option<crate::domain::view::Background>,
}

impl Fresh {
    /// Writes the re-read parts into `data`, keeping the others, and recomputes the recommendations.
    pub fn apply_to(&self, data: &mut AppData) {
        if let Some(c) = &self.catalog {
            data.models = c.models.clone();
            data.picks = c.picks.clone();
            data.catalog_source = c.source.clone();
            data.health = c.health.clone();
            data.cfg = c.cfg.clone();
        }
        match &self.agents {
            Some(Ok(v)) => {
                data.agents = v.agents();
                data.agents_error = None;
                data.paperclip_links = v.links();
                data.agent_usage = v.usage();
            }
            Some(Err(e)) => data.agents_error = Some(e.clone()),
            None => {}
        }
        if let Some(u) = &self.usage {
            data.agent_usage = u.clone();
        }
        if let Some(c) = &self.config {
            data.config_path = c.config_path.clone();
            match &c.slots {
                Ok(s) => {
                    data.slots = s.clone();
                    data.slots_error = None;
                }
                Err(e) => data.slots_error = Some(e.clone()),
            }
            data.gateway = c.gateway.clone();
            data.has_key = c.has_key;
        }
        if let Some(b) = &self.budget {
            match b {
                Ok(b) => {
                    data.budget = Some(b.clone());
                    data.budget_error = None;
                }
                Err(e) => data.budget_error = Some(e.clone()),
            }
        }
        if let Some(n) = &self.notifications {
            match n {
                Ok(n) => {
                    data.notifications = n.clone();
                    data.notifications_error = None;
                }
                Err(e) => data.notifications_error = Some(e.clone()),
            }
        }
        if let Some(c) = &self.checks {
            data.checks = c.clone();
        }
        if let Some(b) = &self.background {
            data.background = Some(b.clone());
        }
        data.recompute_recommendations();
    }
}

fn read_config(env: &Env) -> ConfigPart {
    let path = env.hermes_home.join("config.yaml");
    let slots = hermes::routing_slots(&path).map_err(|e| e.to_string());
    let main_model = slots
        .as_ref()
        .ok()
        .and_then(|s| s.iter().find(|s| s.name == hermes::MAIN_SLOT))
        .and_then(|s| s.model.clone());
    ConfigPart {
        config_path: path.display().to_string(),
        slots,
        gateway: gateway::status(&env.hermes_home, main_model),
        has_key: crate::domain::upgrade::has_stored_key(env),
    }
}

/// Re-reads `parts` from the domain; `base` is the data the TUI holds now (the checks are judged on it
/// with the fresh parts applied).
pub async fn refresh(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    parts: Parts,
    base: &AppData,
) -> Fresh {
    let mut fresh = Fresh::default();
    if parts.catalog {
        fresh.catalog = Some(load_catalog(store, clock.now()).await);
    }
    if parts.config {
        fresh.config = Some(read_config(env));
    }
    if parts.budget {
        fresh.budget = Some(budget::load(store, clock).await.map_err(|e| e.to_string()));
        if !parts.moves_agents() {
            fresh.usage = view::usage_of(store, clock, &base.agents).await.ok();
        }
    }
    if parts.catalog || parts.budget {
        fresh.background = Some(crate::domain::view::background(store, clock.now()).await);
    }
    if parts.notifications {
        fresh.notifications = Some(
            notifications::list(store, 200)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    if parts.moves_agents() {
        let mut data = base.clone();
        fresh.apply_to(&mut data);
        set_agents(&mut fresh, agents_view(store, env, clock, &data).await);
    }
    fresh
}

/// The agents view into `fresh`: the view, and its checks unless it could not be built.
fn set_agents(fresh: &mut Fresh, view: Result<Agents, String>) {
    fresh.checks = view.as_ref().ok().map(Agents::checks);
    fresh.agents = Some(view);
}

/// Everything but the catalog, read into data that holds `catalog`: the one `domain::view::Dashboard`
/// that the web dashboard and `nxr status` also show (gateway, budget, notifications, and the agents
/// view with each agent's check judged on `catalog`), then the routing slots; later [`refresh`]es
/// re-read single parts with the same domain calls.
pub async fn load(store: &Store, env: &Env, clock: &dyn Clock, catalog: &CatalogPart) -> AppData {
    let facts = facts(&catalog.models, &catalog.source);
    let dash = view::dashboard_with(store, env, clock, 200, Checks::With(&facts)).await;
    let mut data = AppData::with_catalog(
        dash.now,
        catalog.models.clone(),
        catalog.picks.clone(),
        catalog.health.clone(),
        catalog.cfg.clone(),
    );
    data.catalog_source = catalog.source.clone();
    let mut config = read_config(env);
    config.gateway = dash.gateway;
    let mut fresh = Fresh {
        config: Some(config),
        budget: Some(match (dash.budget, dash.budget_error) {
            (Some(b), _) => Ok(b),
            (None, e) => Err(e.unwrap_or_default()),
        }),
        notifications: Some(match dash.notifications_error {
            Some(e) => Err(e),
            None => Ok(dash.notifications),
        }),
        background: Some(dash.background),
        ..Fresh::default()
    };
    set_agents(
        &mut fresh,
        match dash.agents_error {
            Some(e) => Err(e),
            None => Ok(dash.agents),
        },
    );
    fresh.apply_to(&mut data);
    data
}
