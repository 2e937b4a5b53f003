//! Which Paperclip agent each nxr agent runs as (`paperclip_links`, migrations/0011), and the link
//! state the agent views show.

use crate::domain::agents::Agent;
use crate::domain::store::{Store, StoreError};
use libsql::params;
use serde::Serialize;

/// One stored link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub agent_id: i64,
    pub agent_name: String,
    pub company_id: String,
    pub paperclip_agent_id: String,
    /// The model the last sync left in Paperclip.
    pub synced_model: String,
    /// The nxr skills the last sync left in Paperclip's desired list.
    pub synced_skills: Vec<String>,
    /// The UTC day (`YYYY-MM-DD`) on which the budget guard paused the agent in Paperclip.
    pub budget_paused_on: Option<String>,
    pub synced_at: String,
}

const COLUMNS: &str = "agent_id, agent_name, company_id, paperclip_agent_id, synced_model, synced_skills, \
                       budget_paused_on, synced_at";

/// Every link, by nxr agent id.
pub async fn list(store: &Store) -> Result<Vec<Link>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            &format!("SELECT {COLUMNS} FROM paperclip_links ORDER BY agent_id"),
            (),
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let skills: String = row.get(5)?;
        out.push(Link {
            agent_id: row.get(0)?,
            agent_name: row.get(1)?,
            company_id: row.get(2)?,
            paperclip_agent_id: row.get(3)?,
            synced_model: row.get(4)?,
            synced_skills: serde_json::from_str(&skills).unwrap_or_default(),
            budget_paused_on: row.get(6)?,
            synced_at: row.get(7)?,
        });
    }
    Ok(out)
}

/// Writes `keep` (insert or replace) and deletes the links of `gone` agent ids, in one transaction.
pub async fn replace(store: &Store, keep: &[Link], gone: &[i64]) -> Result<(), StoreError> {
    let keep = keep.to_vec();
    let gone = gone.to_vec();
    store
        .in_transaction(|tx| async move {
            for id in &gone {
                tx.execute(
                    "DELETE FROM paperclip_links WHERE agent_id = ?1",
                    params![*id],
                )
                .await?;
            }
            for l in &keep {
                // A Paperclip agent id belongs to one nxr agent: a stale row naming it goes first.
                tx.execute(
                    "DELETE FROM paperclip_links WHERE paperclip_agent_id = ?1 AND agent_id <> ?2",
                    params![l.paperclip_agent_id.as_str(), l.agent_id],
                )
                .await?;
                let skills = serde_json::to_string(&l.synced_skills).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    &format!(
                        "INSERT OR REPLACE INTO paperclip_links ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                    ),
                    params![
                        l.agent_id,
                        l.agent_name.as_str(),
                        l.company_id.as_str(),
                        l.paperclip_agent_id.as_str(),
                        l.synced_model.as_str(),
                        skills,
                        l.budget_paused_on.clone(),
                        l.synced_at.as_str()
                    ],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Records (Some(day)) or clears (None) the budget guard's pause of these agents.
pub async fn set_budget_paused(
    store: &Store,
    agent_ids: &[i64],
    day: Option<&str>,
) -> Result<(), StoreError> {
    let ids = agent_ids.to_vec();
    let day = day.map(str::to_string);
    store
        .in_transaction(|tx| async move {
            for id in &ids {
                tx.execute(
                    "UPDATE paperclip_links SET budget_paused_on = ?1 WHERE agent_id = ?2",
                    params![day.clone(), *id],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// An agent's Paperclip link, as the agent views show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// nxr is not connected to a Paperclip.
    NotConnected,
    /// Connected, but this agent was never synced.
    NotSynced,
    /// In Paperclip with the agent's current model and skills.
    Synced,
    /// In Paperclip, but the model or skills changed since the last sync.
    Stale,
    /// Paused in Paperclip by the budget guard until the 00:00 UTC reset.
    PausedByBudget,
}

impl LinkState {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            LinkState::NotConnected => "not connected",
            LinkState::NotSynced => "not synced",
            LinkState::Synced => "synced",
            LinkState::Stale => "out of date",
            LinkState::PausedByBudget => "paused (budget)",
        }
    }
}

/// The link state of `agent` given the stored links of the connected company (`None`: not connected).
pub fn state_of(agent: &Agent, links: Option<&[Link]>) -> LinkState {
    let Some(links) = links else {
        return LinkState::NotConnected;
    };
    match links.iter().find(|l| l.agent_id == agent.id) {
        None => LinkState::NotSynced,
        Some(l) if l.budget_paused_on.is_some() => LinkState::PausedByBudget,
        Some(l) => {
            let same_skills = {
                let mut a = l.synced_skills.clone();
                let mut b = agent.skillset.clone();
                a.sort();
                b.sort();
                a == b
            };
            if l.synced_model == agent.model && same_skills {
                LinkState::Synced
            } else {
                LinkState::Stale
            }
        }
    }
}

/// Every agent's link state, by agent id, read once for a view.
pub async fn states(store: &Store, agents: &[Agent]) -> Result<Vec<(i64, LinkState)>, StoreError> {
    Ok(status(store, agents)
        .await?
        .agents
        .into_iter()
        .map(|r| (r.agent_id, r.state))
        .collect())
}

/// One agent's row of `nxr paperclip status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLinkRow {
    pub agent: String,
    pub agent_id: i64,
    pub model: String,
    pub state: LinkState,
    pub paperclip_agent_id: Option<String>,
    pub synced_at: Option<String>,
}

/// The connection and every agent's link (what `nxr paperclip status` shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkStatus {
    pub connection: Option<crate::domain::paperclip::sync::Connection>,
    pub agents: Vec<AgentLinkRow>,
}

pub async fn status(store: &Store, agents: &[Agent]) -> Result<LinkStatus, StoreError> {
    let conn = crate::domain::paperclip::sync::connection(store).await?;
    let all = list(store).await?;
    let mine: Option<Vec<Link>> = conn.as_ref().map(|c| {
        all.into_iter()
            .filter(|l| l.company_id == c.company_id)
            .collect()
    });
    let rows = agents
        .iter()
        .map(|a| {
            let link = mine
                .as_deref()
                .and_then(|m| m.iter().find(|l| l.agent_id == a.id));
            AgentLinkRow {
                agent: a.name.clone(),
                agent_id: a.id,
                model: a.model.clone(),
                state: state_of(a, mine.as_deref()),
                paperclip_agent_id: link.map(|l| l.paperclip_agent_id.clone()),
                synced_at: link.map(|l| l.synced_at.clone()),
            }
        })
        .collect();
    Ok(LinkStatus {
        connection: conn,
        agents: rows,
    })
}
