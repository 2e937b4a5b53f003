//! The budget guard through Paperclip: when the free daily bucket is spent (100 %), the synced Paperclip
//! agents that run on free models are paused with Paperclip's own pause (its heartbeats then wait instead
//! of failing); after the 00:00 UTC reset they are resumed. A notification says so both times.
//!
//! The caller (the budget poller) passes the clock and the figure it read; the figure must be for the
//! clock's UTC day. Only agents the guard paused are resumed: an agent paused by hand stays paused.

use crate::domain::agents;
use crate::domain::base::clock::Clock;
use crate::domain::base::env::Env;
use crate::domain::catalog::{self, Catalog};
use crate::domain::notifications::NewNotification;
use crate::domain::notifications::telegram_forward;
use crate::domain::paperclip::client::{PaperclipClient, PaperclipError, RemoteAgent};
use crate::domain::paperclip::links;
use crate::domain::paperclip::sync::{SyncError, connection};
use crate::domain::store::Store;
use serde::Serialize;

/// `kind` of the guard's notifications.
pub use crate::domain::notifications::KIND_PAPERCLIP_BUDGET;

/// The free daily bucket as the budget poller read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FreeBudgetFigure {
    /// Free-model requests used today (UTC).
    pub used_today: u64,
    pub daily_limit: u64,
}

impl From<&crate::domain::budget::Budget> for FreeBudgetFigure {
    fn from(b: &crate::domain::budget::Budget) -> Self {
        FreeBudgetFigure {
            used_today: b.used_today,
            daily_limit: b.daily_limit,
        }
    }
}

impl FreeBudgetFigure {
    pub fn is_spent(&self) -> bool {
        self.used_today >= self.daily_limit
    }
}

/// What one guard run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GuardReport {
    /// False when nxr is not connected to a Paperclip (the guard then does nothing).
    pub connected: bool,
    /// Agent names paused now.
    pub paused: Vec<String>,
    /// Agent names resumed now (after the reset).
    pub resumed: Vec<String>,
}

/// Calls `f` for each link's Paperclip agent until one fails: the links done, and the failure.
async fn each<'a, F, Fut>(
    all: &[&'a links::Link],
    f: F,
) -> (Vec<&'a links::Link>, Option<PaperclipError>)
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<RemoteAgent, PaperclipError>>,
{
    let mut done = Vec::new();
    for l in all {
        match f(&l.paperclip_agent_id).await {
            Ok(_) => done.push(*l),
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

fn is_free_model(catalog: &Catalog, id: &str) -> bool {
    id.ends_with(":free") || catalog.get(id).is_some_and(|m| m.is_free())
}

/// Runs the guard once at `clock.now()` with `figure`. Paperclip down: an error, and nothing in nxr
/// changes (no flag, no notification).
pub async fn budget_guard(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    figure: FreeBudgetFigure,
) -> Result<GuardReport, SyncError> {
    let Some(conn) = connection(store).await? else {
        return Ok(GuardReport::default());
    };
    let mut report = GuardReport {
        connected: true,
        ..GuardReport::default()
    };
    let today = clock.now().date_naive().format("%Y-%m-%d").to_string();
    let client = PaperclipClient::new(&conn.url)?;
    let mine: Vec<links::Link> = links::list(store)
        .await?
        .into_iter()
        .filter(|l| l.company_id == conn.company_id)
        .collect();

    // After the reset: resume what the guard paused on an earlier day.
    let due: Vec<&links::Link> = mine
        .iter()
        .filter(|l| {
            l.budget_paused_on
                .as_deref()
                .is_some_and(|d| d < today.as_str())
        })
        .collect();
    if !due.is_empty() {
        report.resumed = resume(store, env, clock, &client, &due).await?;
    }

    if !figure.is_spent() {
        return Ok(report);
    }
    let to_pause = pausable(store, env, &client, &conn.company_id, &mine, &due).await?;
    if to_pause.is_empty() {
        return Ok(report);
    }
    report.paused = pause(store, env, clock, &client, &to_pause, &today, figure).await?;
    Ok(report)
}

/// Resumes the Paperclip agents of `due`, clears the guard's mark of those Paperclip resumed (even
/// when a later call fails, so no pause is forgotten) and notifies; returns the names resumed.
async fn resume(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    client: &PaperclipClient,
    due: &[&links::Link],
) -> Result<Vec<String>, SyncError> {
    let (done, failed) = each(due, |id| client.resume_agent(id)).await;
    let ids: Vec<i64> = done.iter().map(|l| l.agent_id).collect();
    links::set_budget_paused(store, &ids, None).await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let resumed: Vec<String> = due.iter().map(|l| l.agent_name.clone()).collect();
    let title = format!(
        "Resumed {} Paperclip agent(s) after the free-budget reset",
        ids.len()
    );
    let body = format!(
        "The free daily bucket reset at 00:00 UTC; Paperclip runs {} again.",
        resumed.join(", ")
    );
    notify(store, env, clock, title, body).await?;
    Ok(resumed)
}

/// The links of `mine` the guard may pause: not marked as paused by it (or just resumed, in
/// `due`), with an nxr agent on a free model and a Paperclip agent that is neither paused (by
/// hand) nor terminated.
async fn pausable<'a>(
    store: &Store,
    env: &Env,
    client: &PaperclipClient,
    company_id: &str,
    mine: &'a [links::Link],
    due: &[&links::Link],
) -> Result<Vec<&'a links::Link>, SyncError> {
    let catalog = catalog::load(store).await?;
    let remote = client.agents(company_id).await?;
    let all = agents::list(store, env).await?;
    let mut to_pause = Vec::new();
    for l in mine
        .iter()
        .filter(|l| l.budget_paused_on.is_none() || due.iter().any(|d| d.agent_id == l.agent_id))
    {
        let Some(agent) = all.iter().find(|a| a.id == l.agent_id) else {
            continue;
        };
        let Some(r) = remote.iter().find(|r| r.id == l.paperclip_agent_id) else {
            continue;
        };
        // Paused by hand or terminated: not the guard's to touch.
        if r.is_paused() || r.is_terminated() || !is_free_model(&catalog, &agent.model) {
            continue;
        }
        to_pause.push(l);
    }
    Ok(to_pause)
}

/// Pauses the Paperclip agents of `to_pause`, marks those Paperclip paused as paused by the guard
/// on `today` (even when a later call fails) and notifies with `figure`; returns the names paused.
async fn pause(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    client: &PaperclipClient,
    to_pause: &[&links::Link],
    today: &str,
    figure: FreeBudgetFigure,
) -> Result<Vec<String>, SyncError> {
    let (done, failed) = each(to_pause, |id| client.pause_agent(id)).await;
    let ids: Vec<i64> = done.iter().map(|l| l.agent_id).collect();
    links::set_budget_paused(store, &ids, Some(today)).await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let paused: Vec<String> = to_pause.iter().map(|l| l.agent_name.clone()).collect();
    let title = format!(
        "Paused {} Paperclip agent(s): the free daily budget is spent",
        ids.len()
    );
    let body = format!(
        "{} of {} free requests used today; Paperclip holds {} until the 00:00 UTC reset, when nxr resumes them.",
        figure.used_today,
        figure.daily_limit,
        paused.join(", ")
    );
    notify(store, env, clock, title, body).await?;
    Ok(paused)
}

/// Records the guard's notification (forwarded to Telegram when connected).
async fn notify(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    title: String,
    body: String,
) -> Result<(), SyncError> {
    let n = NewNotification {
        kind: KIND_PAPERCLIP_BUDGET.into(),
        title,
        body,
        agent_id: None,
        payload: None,
    };
    telegram_forward::record(store, env, n, clock).await?;
    Ok(())
}
