//! View models shared by the surfaces: what a page, a tab or a `--json` answer shows, built once from
//! domain values (docs/design.md §1). [`ModelList`] is the catalog every surface lists and searches;
//! [`Dashboard`] is the one-screen summary of Tab 1, the web dashboard and `nxr status`; [`Agents`] is
//! every agent with its check, fallback chain, usage and Paperclip link.

pub mod agents;
pub mod manage;
pub mod model_switch;

mod dashboard;
mod model_list;

pub use agents::{AgentRow, Agents, CheckAnswer, Checks, Usage, agents, agents_of, usage_of};
pub use dashboard::{
    Background, Dashboard, NEWEST_NOTIFICATIONS, background, catalog_summary, dashboard,
    dashboard_with, database_down_kept_line, database_down_line,
};
pub use model_list::{ListedModel, ModelList, Search, tokens_label};

use crate::domain::base::roles::Role;
use crate::domain::catalog::{CatalogSource, Filter, Model};
use crate::domain::scoring::ScoringConfig;
use crate::domain::scoring::rescore::{self, RosterEntry};
use std::collections::BTreeMap;

/// A query over the scored catalog: the same filters as `nxr models list` (`--free`, `--tools`,
/// `--vision`, `--min-context`) plus the fuzzy search (`--query`) and a role (the web models page's form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelsQuery {
    pub filter: Filter,
    /// The [`ModelList::search`] query (nucleo, as Tab 2 matches); empty = any.
    pub text: String,
    /// Score (and sort by) one role only; `None` = every role.
    pub role: Option<Role>,
}

/// One row of the models page: a catalog model and, when it is free, its scores.
#[derive(Debug, Clone)]
pub struct ModelRow {
    pub model: Model,
    /// The roster entry (free models only).
    pub scores: Option<RosterEntry>,
    /// The main published figure per role (e.g. `SWE-bench Verified 67.0%` for the engineer); roles
    /// without one are missing (their capability is an estimate).
    pub main_figures: BTreeMap<Role, String>,
    /// What to know before running an agent on it (logs prompts, stealth, expires in N days).
    pub caveats: Vec<crate::domain::scoring::caveats::Caveat>,
}

/// The main published figure of `model_id` for each of `roles` in the config's capability table:
/// the benchmark and value of the role's most weighted kind.
pub fn main_figures(cfg: &ScoringConfig, model_id: &str, roles: &[Role]) -> BTreeMap<Role, String> {
    let Some(table) = cfg.capability.as_deref() else {
        return BTreeMap::new();
    };
    roles
        .iter()
        .filter_map(|r| {
            table.main_figure(model_id, *r).map(|u| {
                (
                    *r,
                    format!("{} {}", u.figure.benchmark, u.figure.value_text()),
                )
            })
        })
        .collect()
}

/// What the models page shows.
#[derive(Debug, Clone)]
pub struct ModelsView {
    pub catalog: CatalogSource,
    pub total: usize,
    pub roles: Vec<Role>,
    pub best: BTreeMap<Role, String>,
    /// The models the query keeps: by the chosen role's ranking when one is chosen, else by id.
    pub rows: Vec<ModelRow>,
}

/// Filters and searches the scored catalog as [`ModelList::search`] does (the order Tab 2 shows),
/// and attaches each free model's roster scores; with a role, sorted by that role's ranking (pure).
pub fn models_view(inputs: &rescore::Inputs, q: &ModelsQuery) -> ModelsView {
    let roles: Vec<Role> = match q.role {
        Some(r) => vec![r],
        None => Role::ALL.to_vec(),
    };
    let roster = rescore::build_roster(inputs, &roles);
    let place: BTreeMap<&str, usize> = roster
        .models
        .iter()
        .enumerate()
        .map(|(i, e)| (e.model_id.as_str(), i))
        .collect();
    let list = ModelList::new(&inputs.models, inputs.health.clone(), inputs.cfg.clone());
    let mut rows: Vec<ModelRow> = list
        .search(&q.text, &q.filter)
        .into_iter()
        .filter_map(|i| inputs.models.get(i as usize))
        .map(|m| ModelRow {
            model: m.clone(),
            scores: place.get(m.id.as_str()).map(|&i| roster.models[i].clone()),
            main_figures: main_figures(&inputs.cfg, &m.id, &roles),
            caveats: crate::domain::scoring::caveats::caveats(m, inputs.cfg.now),
        })
        .collect();
    if q.role.is_some() {
        rows.sort_by_key(|r| {
            place
                .get(r.model.id.as_str())
                .copied()
                .unwrap_or(usize::MAX)
        });
    }
    ModelsView {
        catalog: roster.catalog,
        total: inputs.models.len(),
        roles: roster.roles,
        best: roster.best,
        rows,
    }
}

/// `3h 12m`, `2d 4h`, `45s`: how the surfaces show a duration.
pub fn duration_text(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h {}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d {}h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// What every page's navigation shows besides its links.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NavView {
    /// Unread notifications (the badge; hidden at 0).
    pub unread_notifications: u64,
    /// While the libSQL server does not answer: the line every page shows on top.
    pub database_down: Option<String>,
}

/// The navigation's view model, from the notifications table and the connection's state.
pub async fn nav_view(
    store: &crate::domain::store::Store,
) -> Result<NavView, crate::domain::store::StoreError> {
    let unread = crate::domain::notifications::unread_count(store).await;
    let database_down = store.unreachable_since().map(dashboard::database_down_line);
    match unread {
        Ok(unread_notifications) => Ok(NavView {
            unread_notifications,
            database_down,
        }),
        Err(_) if database_down.is_some() => Ok(NavView {
            unread_notifications: 0,
            database_down,
        }),
        Err(e) => Err(e),
    }
}

/// What /notifications shows: unread first (newest first within each group).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotificationsView {
    pub unread: u64,
    pub items: Vec<crate::domain::notifications::Notification>,
}

pub async fn notifications_view(
    store: &crate::domain::store::Store,
    limit: u32,
) -> Result<NotificationsView, crate::domain::store::StoreError> {
    let mut items = crate::domain::notifications::list(store, limit).await?;
    // Stable: keeps newest-first inside the unread and the read groups.
    items.sort_by_key(|n| !n.is_unread());
    Ok(NotificationsView {
        unread: crate::domain::notifications::unread_count(store).await?,
        items,
    })
}

/// What /budget shows: the day's budget (gauge, projection, per agent, 429 log) and the per-agent
/// per-day table of the last 30 days.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetView {
    pub budget: crate::domain::budget::Budget,
    pub level: crate::domain::budget::Level,
    pub percent: u64,
    pub remaining: u64,
    pub daily: Vec<crate::domain::budget::daily::DayRow>,
}

/// Kept between calls while the data and the second are unchanged (`domain::store::memo`).
pub async fn budget_view(
    store: &crate::domain::store::Store,
    clock: &dyn crate::domain::base::clock::Clock,
) -> Result<BudgetView, crate::domain::store::StoreError> {
    let now = clock.now();
    let view = store
        .memos()
        .of::<(), BudgetView>()
        .get_or_try(store, (), now, || async {
            // One instant for every query, the one the result is kept under.
            let clock = crate::domain::base::clock::FixedClock(now);
            let budget = crate::domain::budget::load(store, &clock).await?;
            let daily = crate::domain::budget::daily::daily_table(store, &clock, 30).await?;
            Ok::<_, crate::domain::store::StoreError>(BudgetView {
                level: budget.level(),
                percent: budget.percent(),
                remaining: budget.remaining(),
                budget,
                daily,
            })
        })
        .await?;
    Ok(BudgetView::clone(&view))
}
