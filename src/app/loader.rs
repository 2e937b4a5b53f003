//! Fills [`AppData`] from the domain. Each part that fails carries its error into the view instead of
//! failing the whole screen.

use crate::app::state::AppData;
use crate::domain::agents;
use crate::domain::catalog::{Catalog, Model};
use crate::domain::clock::Clock;
use crate::domain::env::Env;
use crate::domain::scoring::{Health, ScoringConfig};
use crate::domain::store::Store;
use crate::domain::{budget, gateway, hermes, notifications, rescore};
use crate::widgets::model_picker::{self, Haystacks};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The catalog and its scoring inputs: read once, and again only when a scan or refresh changed them.
#[derive(Debug, Clone)]
pub struct CatalogPart {
    pub models: Arc<Vec<Model>>,
    pub haystacks: Haystacks,
    pub source: String,
    pub health: Health,
    pub cfg: ScoringConfig,
}

impl CatalogPart {
    pub fn from_models(models: Vec<Model>, source: String, now: DateTime<Utc>) -> CatalogPart {
        let haystacks = model_picker::prepare(&models);
        let mut cfg = ScoringConfig::at(now);
        cfg.recency_reference = crate::domain::scoring::newest_created(&models);
        CatalogPart {
            models: Arc::new(models),
            haystacks,
            source,
            health: Health::default(),
            cfg,
        }
    }
}

pub async fn load_catalog(store: &Store, now: DateTime<Utc>) -> CatalogPart {
    match rescore::inputs(store, now).await {
        Ok(inputs) => CatalogPart {
            haystacks: model_picker::prepare(&inputs.models),
            models: Arc::new(inputs.models),
            source: inputs.catalog.describe(),
            health: inputs.health,
            cfg: inputs.cfg,
        },
        Err(e) => {
            let c = Catalog::embedded();
            CatalogPart::from_models(
                c.models,
                format!(
                    "{} (the stored catalog could not be read: {e})",
                    c.source.describe()
                ),
                now,
            )
        }
    }
}

pub async fn load(store: &Store, env: &Env, clock: &dyn Clock, catalog: &CatalogPart) -> AppData {
    let now = clock.now();
    let mut data = AppData::empty(now, Vec::new());
    data.models = catalog.models.clone();
    data.haystacks = catalog.haystacks.clone();
    data.catalog_source = catalog.source.clone();
    data.health = catalog.health.clone();
    data.cfg = catalog.cfg.clone();
    match agents::list(store, env).await {
        Ok(a) => data.agents = a,
        Err(e) => data.agents_error = Some(e.to_string()),
    }
    let config_path = env.hermes_home.join("config.yaml");
    data.config_path = config_path.display().to_string();
    match hermes::routing_slots(&config_path) {
        Ok(s) => data.slots = s,
        Err(e) => data.slots_error = Some(e.to_string()),
    }
    match budget::load(store, clock).await {
        Ok(b) => data.budget = Some(b),
        Err(e) => data.budget_error = Some(e.to_string()),
    }
    match notifications::list(store, 200).await {
        Ok(n) => data.notifications = n,
        Err(e) => data.notifications_error = Some(e.to_string()),
    }
    let main_model = data
        .slots
        .iter()
        .find(|s| s.name == hermes::MAIN_SLOT)
        .and_then(|s| s.model.clone());
    data.gateway = gateway::status(&env.hermes_home, main_model);
    data.recompute_recommendations();
    data
}
