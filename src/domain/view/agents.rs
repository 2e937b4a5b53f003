//! [`Agents`]: every agent with what the surfaces show beside it — whether it can run (the probe
//! checks of `watch::agent_check`, not a live prompt), its fallback chain as its profile holds it,
//! its usage (requests, cost and failures from the budget and `usage_events`) and its Paperclip link —
//! built once by [`agents`] (or [`agents_of`] for agents already read) and rendered by the dashboard,
//! Tab 1 and Tab 3, the web `/agents`, `/agents/manage` and `/api/agents`, and `nxr agents list` and
//! `nxr agents check`. The checks are the expensive part: a surface that does not show them passes
//! [`Checks::Skip`]. It never renders anything.

use crate::domain::agents::{self, Agent, AgentError, hermes};
use crate::domain::base::clock::{self, Clock};
use crate::domain::base::env::Env;
use crate::domain::budget::{self, AgentUsage};
use crate::domain::paperclip::links::{self, LinkState};
use crate::domain::store::{Store, StoreError};
use crate::domain::watch::agent_check::{self, AgentCheck, CatalogFacts, CheckState};
use serde::Serialize;

/// Which checks the view runs.
pub enum Checks<'a> {
    /// None: every row's `check` is `None`.
    Skip,
    /// Against the stored catalog and scoring inputs (`agent_check::check_agents`).
    Stored,
    /// Against a catalog the caller holds (the TUI's), with the same fallback-chain line.
    With(&'a CatalogFacts<'a>),
}

/// An agent's requests, cost and failures (the budget's per-agent figures and `usage_events`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Usage {
    pub requests_today: u64,
    pub requests_30d: u64,
    /// USD spent today / in the last 7 / 30 days.
    pub cost_today: f64,
    pub cost_7d: f64,
    pub cost_30d: f64,
    /// Requests in the last 30 days that did not succeed (rate-limited or failed).
    pub failed_30d: u64,
    /// `failed_30d` over every request of the last 30 days; `None` without requests.
    pub error_rate: Option<f64>,
    /// The newest request in the last 30 days.
    pub last_activity: Option<String>,
}

impl Usage {
    /// The figures in one line, the words every surface shows (e.g. `12 requests today · 30 in 30 d
    /// · $0.00 today · $0.00 in 30 d · 2 failed in 30 d`); `None` when there is nothing yet.
    pub fn summary(&self) -> Option<String> {
        use crate::domain::upgrade::usd;
        (*self != Usage::default()).then(|| {
            format!(
                "{} requests today · {} in 30 d · {} today · {} in 30 d · {} failed in 30 d",
                self.requests_today,
                self.requests_30d,
                usd(self.cost_today),
                usd(self.cost_30d),
                self.failed_30d
            )
        })
    }
}

/// One agent and its facts. It reads as its [`Agent`] (`row.name`, `row.model`); as JSON the agent's
/// fields come first, then `check` (when checked: its state, reasons and first fix; every line is in
/// [`CheckAnswer`]), `fallbacks`, `usage` and `paperclip`.
#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    #[serde(flatten)]
    pub agent: Agent,
    /// Whether it can run; `None` when the view was built without checks.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "check_summary"
    )]
    pub check: Option<AgentCheck>,
    /// The models of its fallback chain, as its profile holds them (Hermes tries them in order when
    /// the agent's own model refuses); empty without a readable profile.
    pub fallbacks: Vec<String>,
    pub usage: Usage,
    /// Its Paperclip link; `None` when the links could not be read.
    pub paperclip: Option<LinkState>,
}

/// A row's check as the agent lists answer it.
#[derive(Serialize)]
struct CheckSummary<'a> {
    state: CheckState,
    reasons: &'a [String],
    fix: Option<&'a str>,
}

fn check_summary<S: serde::Serializer>(c: &Option<AgentCheck>, s: S) -> Result<S::Ok, S::Error> {
    c.as_ref()
        .map(|c| CheckSummary {
            state: c.state,
            reasons: &c.reasons,
            fix: c.first_fix(),
        })
        .serialize(s)
}

impl AgentRow {
    /// The model it runs on (the database's, which its profile's main slot holds).
    pub fn model(&self) -> &str {
        &self.agent.model
    }
}

/// Every agent, oldest first, with its facts.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Agents {
    pub rows: Vec<AgentRow>,
}

/// What `nxr agents check --json` and `/api/agents/check` answer per agent: the check's fields, then
/// the chain, usage and link of the same row.
#[derive(Debug, Clone, Serialize)]
pub struct CheckAnswer<'a> {
    #[serde(flatten)]
    pub check: &'a AgentCheck,
    pub fallbacks: &'a [String],
    pub usage: &'a Usage,
    pub paperclip: Option<LinkState>,
}

impl Agents {
    /// A view of facts already read (no I/O): `checks` matched by agent name, `links` by id; usage
    /// by id when given.
    pub fn from_parts(
        list: Vec<Agent>,
        checks: &[AgentCheck],
        links: &[(i64, LinkState)],
        usage: &[(i64, Usage)],
    ) -> Agents {
        Agents {
            rows: list
                .into_iter()
                .map(|a| AgentRow {
                    check: checks.iter().find(|c| c.agent == a.name).cloned(),
                    fallbacks: Vec::new(),
                    usage: usage
                        .iter()
                        .find(|(id, _)| *id == a.id)
                        .map(|(_, u)| u.clone())
                        .unwrap_or_default(),
                    paperclip: links.iter().find(|(id, _)| *id == a.id).map(|(_, s)| *s),
                    agent: a,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, AgentRow> {
        self.rows.iter()
    }

    /// The agents alone, in order.
    pub fn agents(&self) -> Vec<Agent> {
        self.rows.iter().map(|r| r.agent.clone()).collect()
    }

    /// The checks of the checked rows, in order.
    pub fn checks(&self) -> Vec<AgentCheck> {
        self.rows.iter().filter_map(|r| r.check.clone()).collect()
    }

    /// Each row's Paperclip link, by agent id (rows whose link is unknown left out).
    pub fn links(&self) -> Vec<(i64, LinkState)> {
        self.rows
            .iter()
            .filter_map(|r| r.paperclip.map(|s| (r.agent.id, s)))
            .collect()
    }

    /// Each row's usage, by agent id.
    pub fn usage(&self) -> Vec<(i64, Usage)> {
        self.rows
            .iter()
            .map(|r| (r.agent.id, r.usage.clone()))
            .collect()
    }

    /// The checked rows as `nxr agents check --json` answers them.
    pub fn check_answers(&self) -> Vec<CheckAnswer<'_>> {
        self.rows
            .iter()
            .filter_map(|r| {
                r.check.as_ref().map(|check| CheckAnswer {
                    check,
                    fallbacks: &r.fallbacks,
                    usage: &r.usage,
                    paperclip: r.paperclip,
                })
            })
            .collect()
    }

    /// The row of the agent with this id.
    pub fn get(&self, id: i64) -> Option<&AgentRow> {
        self.rows.iter().find(|r| r.agent.id == id)
    }
}

impl<'a> IntoIterator for &'a Agents {
    type Item = &'a AgentRow;
    type IntoIter = std::slice::Iter<'a, AgentRow>;
    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

/// Every agent with its facts (see the module docs).
pub async fn agents(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    checks: Checks<'_>,
) -> Result<Agents, AgentError> {
    let list = agents::list(store, env).await?;
    agents_of(store, env, clock, list, checks).await
}

/// [`agents`] for agents already read (one agent named on the command line, say), in their order.
pub async fn agents_of(
    store: &Store,
    env: &Env,
    clock: &dyn Clock,
    list: Vec<Agent>,
    checks: Checks<'_>,
) -> Result<Agents, AgentError> {
    let usage = usage_of(store, clock, &list)
        .await
        .map_err(|e| AgentError::Other(format!("cannot read usage: {e}")))?;
    let checked = !matches!(checks, Checks::Skip);
    // An agent is checked on its own host, where its profile is (team mode).
    let here: Vec<Agent> = list.iter().filter(|a| a.is_here(env)).cloned().collect();
    let found = match checks {
        Checks::Skip => Vec::new(),
        Checks::Stored => {
            agent_check::check_agents(env, store, &here, agent_check::PROBE_TIMEOUT).await
        }
        Checks::With(facts) => {
            let mut out =
                agent_check::check_agents_with(env, &here, Some(facts), agent_check::PROBE_TIMEOUT)
                    .await;
            agent_check::add_fallback_lines(store, env, &here, &mut out).await;
            out
        }
    };
    let links = links::states(store, &list).await.ok();
    // The checks come back in the order of the list, one per agent.
    let mut found = found.into_iter();
    let rows = list
        .into_iter()
        .map(|a| AgentRow {
            check: if checked && a.is_here(env) {
                found.next()
            } else {
                None
            },
            fallbacks: a
                .usable_profile()
                .ok()
                .and_then(|p| hermes::fallback_models(&p.config_path()).ok())
                .unwrap_or_default(),
            usage: usage
                .iter()
                .find(|(id, _)| *id == a.id)
                .map(|(_, u)| u.clone())
                .unwrap_or_default(),
            paperclip: links
                .as_ref()
                .and_then(|l| l.iter().find(|(id, _)| *id == a.id).map(|(_, s)| *s)),
            agent: a,
        })
        .collect();
    Ok(Agents { rows })
}

/// Each agent's [`Usage`], by id: the budget's per-agent figures and the failures of the last 30 days.
pub async fn usage_of(
    store: &Store,
    clock: &dyn Clock,
    list: &[Agent],
) -> Result<Vec<(i64, Usage)>, StoreError> {
    let budget = budget::load(store, clock).await?;
    let failures = failures_30d(store, clock).await?;
    Ok(list
        .iter()
        .map(|a| {
            let u = budget.per_agent.iter().find(|u| u.agent_id == Some(a.id));
            let (failed, total) = failures
                .iter()
                .find(|(id, _, _)| *id == a.id)
                .map_or((0, 0), |(_, f, t)| (*f, *t));
            (a.id, usage(u, failed, total))
        })
        .collect())
}

fn usage(u: Option<&AgentUsage>, failed: u64, total: u64) -> Usage {
    Usage {
        requests_today: u.map_or(0, |u| u.today),
        requests_30d: u.map_or(0, |u| u.last_30d),
        cost_today: u.map_or(0.0, |u| u.cost_today),
        cost_7d: u.map_or(0.0, |u| u.cost_7d),
        cost_30d: u.map_or(0.0, |u| u.cost_30d),
        failed_30d: failed,
        error_rate: (total > 0).then(|| failed as f64 / total as f64),
        last_activity: u.and_then(|u| u.last_at.clone()),
    }
}

/// Per agent id: requests in the last 30 days that did not succeed (`status` other than `ok`), and
/// all its requests in that time.
async fn failures_30d(
    store: &Store,
    clock: &dyn Clock,
) -> Result<Vec<(i64, u64, u64)>, StoreError> {
    let now = clock.now();
    let mut rows = store
        .conn()
        .query(
            "SELECT agent_id, SUM(CASE WHEN status <> 'ok' THEN MAX(requests, 1) ELSE 0 END),
                    SUM(CASE WHEN status <> 'ok' THEN MAX(requests, 1) ELSE requests END)
             FROM usage_events
             WHERE agent_id IS NOT NULL AND occurred_at >= ?1 AND occurred_at <= ?2
             GROUP BY agent_id",
            libsql::params![
                clock::to_db(now - chrono::Duration::days(30)),
                clock::to_db(now)
            ],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let n = |i: i32| -> Result<u64, StoreError> {
            Ok(row.get::<Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
        };
        out.push((row.get::<i64>(0)?, n(1)?, n(2)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::base::roles::Role;
    use crate::domain::watch::agent_check::{CheckKind, CheckLine};

    fn agent() -> Agent {
        Agent {
            id: 7,
            name: "eng".into(),
            role: Role::Engineer,
            model: "a/b:free".into(),
            provider: "openrouter".into(),
            status: "active".into(),
            skillset: vec!["coding".into()],
            model_score: None,
            model_auto_assigned: true,
            workspace_id: "default".into(),
            is_default: false,
            hermes_profile: "eng".into(),
            hermes_profile_path: "/h/profiles/eng".into(),
            host: String::new(),
            created_at: "2026-05-01T00:00:00Z".into(),
            updated_at: "2026-05-01T00:00:00Z".into(),
        }
    }

    fn check() -> AgentCheck {
        AgentCheck {
            agent: "eng".into(),
            role: Role::Engineer,
            profile: "eng".into(),
            model: "a/b:free".into(),
            provider: "openrouter".into(),
            state: CheckState::NeedsKey,
            reasons: vec!["no key".into()],
            checks: vec![CheckLine {
                kind: CheckKind::Credentials,
                ok: false,
                blocking: true,
                detail: "no key".into(),
                fix: Some("add one".into()),
            }],
        }
    }

    #[test]
    fn a_row_answers_as_its_agent_plus_its_facts() {
        let usage = Usage {
            requests_today: 3,
            ..Usage::default()
        };
        let v = Agents::from_parts(
            vec![agent()],
            &[check()],
            &[(7, LinkState::Stale)],
            &[(7, usage)],
        );
        let json = serde_json::to_value(&v).unwrap();
        let row = &json[0];
        assert_eq!(row["name"], "eng");
        assert_eq!(row["hermes_profile"], "eng");
        assert_eq!(row["check"]["state"], "needs_key");
        assert_eq!(row["check"]["fix"], "add one");
        assert!(row["check"].get("checks").is_none(), "{row}");
        assert_eq!(row["usage"]["requests_today"], 3);
        assert_eq!(row["paperclip"], "stale");
        // Without checks there is no `check` key at all.
        let plain = Agents::from_parts(vec![agent()], &[], &[], &[]);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json[0].get("check").is_none(), "{json}");
        assert_eq!(json[0]["paperclip"], serde_json::Value::Null);
        // The check answer keeps every line of the check.
        let answers = serde_json::to_value(v.check_answers()).unwrap();
        assert_eq!(answers[0]["agent"], "eng");
        assert_eq!(answers[0]["checks"][0]["kind"], "credentials");
        assert_eq!(answers[0]["usage"]["requests_today"], 3);
    }

    #[test]
    fn usage_summary_is_said_only_once_there_is_usage() {
        assert_eq!(Usage::default().summary(), None);
        let u = Usage {
            requests_today: 12,
            requests_30d: 18,
            cost_30d: 0.5,
            failed_30d: 1,
            error_rate: Some(1.0 / 18.0),
            ..Usage::default()
        };
        assert_eq!(
            u.summary().unwrap(),
            "12 requests today · 18 in 30 d · $0.00 today · $0.50 in 30 d · 1 failed in 30 d"
        );
    }
}
