//! Fills [`AppData`] from the domain. Each part that fails carries its error into the view instead of
//! failing the whole screen.

use crate::app::state::AppData;
use crate::app::state::compact_catalog;
use crate::domain::catalog::{Catalog, Model};
use crate::domain::clock::Clock;
use crate::domain::env::Env;
use crate::domain::scoring::{Health, ScoringConfig};
use crate::domain::store::Store;
use crate::domain::view::ModelList;
use crate::domain::{agent_check, hermes, rescore};
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
    match rescore::inputs(store, now).await {
        Ok(inputs) => CatalogPart::build(
            inputs.models,
            inputs.catalog.describe(),
            inputs.health,
            inputs.cfg,
        ),
        Err(e) => {
            let c = Catalog::embedded();
            let cfg = ScoringConfig::for_catalog(&c.models, now);
            CatalogPart::build(
                c.models,
                format!(
                    "{} (the stored catalog could not be read: {e})",
                    c.source.describe()
                ),
                Health::default(),
                cfg,
            )
        }
    }
}

/// Whether each agent can run, judged on the catalog the TUI already holds.
async fn check_agents(env: &Env, data: &AppData) -> Vec<agent_check::AgentCheck> {
    let list = data.models.clone();
    let facts = agent_check::CatalogFacts {
        source: data.catalog_source.clone(),
        score: Box::new(move |id, role| list.score_id(id, role)),
    };
    agent_check::check_agents_with(env, &data.agents, Some(&facts), agent_check::PROBE_TIMEOUT)
        .await
}

/// Fills the data: the dashboard part (gateway, agents, budget, notifications) from the one
/// `domain::view::Dashboard` that the web dashboard and `nxr status` also show, then the TUI's own
/// parts (slots, Paperclip links, checks, recommendations).
pub async fn load(store: &Store, env: &Env, clock: &dyn Clock, catalog: &CatalogPart) -> AppData {
    let dash = crate::domain::view::dashboard(store, env, clock, 200).await;
    let mut data = AppData::with_catalog(
        dash.now,
        catalog.models.clone(),
        catalog.picks.clone(),
        catalog.health.clone(),
        catalog.cfg.clone(),
    );
    data.catalog_source = catalog.source.clone();
    data.agents = dash.agents;
    data.agents_error = dash.agents_error;
    data.budget = dash.budget;
    data.budget_error = dash.budget_error;
    data.notifications = dash.notifications;
    data.notifications_error = dash.notifications_error;
    data.gateway = dash.gateway;
    data.paperclip_links = crate::domain::paperclip_links::states(store, &data.agents)
        .await
        .unwrap_or_default();
    let config_path = env.hermes_home.join("config.yaml");
    data.config_path = config_path.display().to_string();
    match hermes::routing_slots(&config_path) {
        Ok(s) => data.slots = s,
        Err(e) => data.slots_error = Some(e.to_string()),
    }
    data.has_key = crate::domain::upgrade::has_stored_key(env);
    data.checks = check_agents(env, &data).await;
    data.recompute_recommendations();
    data
}
