//! nxr's agents in a Paperclip company (docs/design.md §5). `connect` stores the Paperclip URL and company
//! (found by name or created); `sync` makes every nxr agent a `hermes_local` Paperclip agent of the same
//! name, role and model, whose `adapterConfig.env.HOME` holds a `.hermes` link to the agent's Hermes
//! profile, so Paperclip runs that profile and its `listSkills` reads that profile's skills. Agents
//! deleted in nxr are deleted in Paperclip. The link (Paperclip agent id, what was last synced) lives in
//! `paperclip_links`; a re-run finds each agent by its stored id, then by name, so it never duplicates.
//!
//! Skills go both ways through Paperclip's desired-skill list: nxr's skillset is added to it, and a
//! change made on Paperclip's side (`POST /api/agents/:id/skills/sync`) since the last sync is applied to
//! nxr's skillset through `paperclip::sync_skills` (when both sides changed, nxr's skillset wins).
//!
//! Order of work, so that a Paperclip that is down or answers errors changes nothing in nxr: every read
//! from Paperclip first, then the writes to Paperclip, then nxr's own changes (homes, skills, links).

pub use super::home::{agent_home, ensure_home, paperclip_role};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::clock;
use crate::domain::base::env::Env;
use crate::domain::paperclip::client::{AgentSpec, PaperclipClient, PaperclipError, RemoteAgent};
use crate::domain::paperclip::links::{self as links, Link};
use crate::domain::store::{Store, StoreError};
use crate::domain::{agents::skills, paperclip};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub const SETTING_URL: &str = "paperclip.url";
pub const SETTING_COMPANY_ID: &str = "paperclip.company_id";
pub const SETTING_COMPANY_NAME: &str = "paperclip.company_name";
pub const DEFAULT_COMPANY: &str = "nxr";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}; nothing in nxr was changed")]
    Paperclip(#[from] PaperclipError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot prepare {path} for Paperclip: {reason}; check that NXR_HOME is writable")]
    Home {
        path: String,
        reason: std::io::Error,
    },
    #[error("invalid company name {0:?}: give 1 to 100 characters without control characters")]
    BadCompany(String),
}

impl From<libsql::Error> for SyncError {
    fn from(e: libsql::Error) -> Self {
        SyncError::Store(StoreError::Sql(e))
    }
}

/// Where nxr's Paperclip lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub url: String,
    pub company_id: String,
    pub company_name: String,
}

/// The stored connection, if any.
pub async fn connection(store: &Store) -> Result<Option<Connection>, StoreError> {
    let url = store.setting(SETTING_URL).await?;
    let id = store.setting(SETTING_COMPANY_ID).await?;
    let name = store.setting(SETTING_COMPANY_NAME).await?;
    Ok(match (url, id) {
        (Some(url), Some(company_id)) => Some(Connection {
            url,
            company_id,
            company_name: name.unwrap_or_default(),
        }),
        _ => None,
    })
}

/// Checks the Paperclip at `url`, finds the company named `company` (default `nxr`) or creates it, and
/// stores the connection. Nothing is stored when Paperclip cannot be reached.
pub async fn connect(
    store: &Store,
    url: &str,
    company: Option<&str>,
) -> Result<(Connection, bool), SyncError> {
    let name = company.unwrap_or(DEFAULT_COMPANY).trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(SyncError::BadCompany(agents::echo(company.unwrap_or(""))));
    }
    let client = PaperclipClient::new(url)?;
    client.health().await?;
    let existing = client
        .companies()
        .await?
        .into_iter()
        .find(|c| c.name == name);
    let (found, created) = match existing {
        Some(c) => (c, false),
        None => (client.create_company(&name).await?, true),
    };
    let conn = Connection {
        url: client.url().to_string(),
        company_id: found.id,
        company_name: found.name,
    };
    let c = conn.clone();
    let at = clock::to_db(store.now());
    store
        .in_transaction(|tx| async move {
            for (k, v) in [
                (SETTING_URL, &c.url),
                (SETTING_COMPANY_ID, &c.company_id),
                (SETTING_COMPANY_NAME, &c.company_name),
            ] {
                tx.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    libsql::params![k, v.as_str(), at.as_str()],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok((conn, created))
}

/// What a sync does to one Paperclip agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentAction {
    Create,
    /// What differs (e.g. `model a -> b`).
    Update(Vec<String>),
    Unchanged,
    /// The nxr agent is gone: the Paperclip agent is deleted.
    Delete,
}

/// Which way an agent's skills move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "direction")]
pub enum SkillFlow {
    InStep,
    /// nxr's skillset is written to Paperclip's desired list.
    ToPaperclip {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Paperclip's desired list changed since the last sync: nxr takes it.
    FromPaperclip {
        skills: Vec<String>,
    },
    None,
}

/// One row of a sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentSync {
    pub agent: String,
    pub agent_id: i64,
    pub role: &'static str,
    pub model: String,
    /// The Paperclip agent's id (None before it is created, or in a dry run of a create).
    pub paperclip_agent_id: Option<String>,
    pub action: AgentAction,
    pub skills: SkillFlow,
    /// The agent's Paperclip HOME and its Hermes profile dir (None for a deleted agent).
    #[serde(skip)]
    home: Option<(PathBuf, PathBuf)>,
    #[serde(skip)]
    remote: Option<RemoteAgent>,
    #[serde(skip)]
    synced_skills: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub url: String,
    pub company_id: String,
    pub company_name: String,
    pub dry_run: bool,
    pub agents: Vec<AgentSync>,
    pub warnings: Vec<String>,
}

/// Progress of a sync, for a progress bar (and for tests that stop Paperclip at a chosen step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    /// Before the writes to Paperclip: how many there are.
    Planned { writes: usize },
    /// One write to Paperclip succeeded.
    Wrote { agent: String, what: String },
}

fn to_set(v: &[String]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// The nxr skills in Paperclip's desired list (Paperclip keeps its own bundled skills there too).
fn nxr_skills_in(desired: &[String]) -> BTreeSet<String> {
    desired
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| skills::find(s).is_some())
        .collect()
}

/// Decides the skill flow from nxr's skillset `n`, Paperclip's `p` and the last synced `s` (None: never).
fn skill_flow(n: &[String], p: Option<&BTreeSet<String>>, s: Option<&[String]>) -> SkillFlow {
    let ns = to_set(n);
    let Some(p) = p else {
        return SkillFlow::ToPaperclip {
            add: ns.into_iter().collect(),
            remove: Vec::new(),
        };
    };
    let paperclip_changed = s.is_some_and(|s| &to_set(s) != p);
    let nxr_changed = s.is_none_or(|s| to_set(s) != ns);
    if paperclip_changed && !nxr_changed {
        let mut keep: Vec<String> = n
            .iter()
            .filter(|x| p.contains(&x.to_ascii_lowercase()))
            .cloned()
            .collect();
        keep.extend(p.iter().filter(|x| !ns.contains(*x)).cloned());
        return SkillFlow::FromPaperclip { skills: keep };
    }
    let add: Vec<String> = ns.difference(p).cloned().collect();
    let remove: Vec<String> = p.difference(&ns).cloned().collect();
    if add.is_empty() && remove.is_empty() {
        SkillFlow::InStep
    } else {
        SkillFlow::ToPaperclip { add, remove }
    }
}

/// Finds the Paperclip agent of an nxr agent: by the stored id, then by name.
fn find_remote<'a>(
    remote: &'a [RemoteAgent],
    link: Option<&Link>,
    name: &str,
) -> Option<&'a RemoteAgent> {
    let live = |r: &&RemoteAgent| !r.is_terminated();
    link.and_then(|l| {
        remote
            .iter()
            .filter(live)
            .find(|r| r.id == l.paperclip_agent_id)
    })
    .or_else(|| {
        let mut same: Vec<&RemoteAgent> = remote
            .iter()
            .filter(live)
            .filter(|r| r.name.eq_ignore_ascii_case(name))
            .collect();
        same.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        same.into_iter().next()
    })
}

/// Compares one nxr agent with its Paperclip agent (if any): what to change.
fn agent_action(agent: &Agent, role: &str, r: &RemoteAgent, link: Option<&Link>) -> AgentAction {
    let mut diff = Vec::new();
    if r.name != agent.name {
        diff.push(format!("name {} -> {}", r.name, agent.name));
    }
    if r.role != role {
        diff.push(format!("role {} -> {role}", r.role));
    }
    if r.adapter_type != paperclip::ADAPTER_TYPE {
        diff.push(format!(
            "adapter {} -> {}",
            r.adapter_type,
            paperclip::ADAPTER_TYPE
        ));
    }
    if r.model() != Some(agent.model.as_str()) {
        diff.push(format!(
            "model {} -> {}",
            r.model().unwrap_or("(none)"),
            agent.model
        ));
    }
    // Paperclip redacts env values, so HOME is known only through the link.
    if link.is_none_or(|l| l.paperclip_agent_id != r.id) {
        diff.push("HOME -> the agent's Hermes profile".into());
    }
    if diff.is_empty() {
        AgentAction::Unchanged
    } else {
        AgentAction::Update(diff)
    }
}

/// Everything a sync will do, from reads only.
struct Plan {
    rows: Vec<AgentSync>,
    /// The stored links of this company.
    stored: Vec<Link>,
    warnings: Vec<String>,
}

async fn plan(
    store: &Store,
    env: &Env,
    client: &PaperclipClient,
    company: &str,
) -> Result<Plan, SyncError> {
    let remote = client.agents(company).await?;
    let all = agents::list(store, env).await?;
    let stored: Vec<Link> = links::list(store)
        .await?
        .into_iter()
        .filter(|l| l.company_id == company)
        .collect();
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    // An agent without a usable Hermes profile (stored by an older nxr) has nothing Paperclip could run.
    let (all, unusable): (Vec<Agent>, Vec<Agent>) =
        all.into_iter().partition(|a| a.usable_profile().is_ok());
    for a in &unusable {
        warnings.push(format!(
            "{}: no usable Hermes profile, so it was left out of Paperclip; recreate it with a name that has ASCII letters or digits",
            agents::echo(&a.name)
        ));
    }
    for agent in &all {
        let link = stored.iter().find(|l| l.agent_id == agent.id);
        let found = find_remote(&remote, link, &agent.name).cloned();
        let role = paperclip_role(agent.role);
        let action = match &found {
            None => AgentAction::Create,
            Some(r) => agent_action(agent, role, r, link),
        };
        let linked_same =
            link.filter(|l| found.as_ref().is_some_and(|r| r.id == l.paperclip_agent_id));
        let p = match &found {
            Some(r) => Some(nxr_skills_in(&client.skills(&r.id).await?.desired_skills)),
            None => None,
        };
        let flow = skill_flow(
            &agent.skillset,
            p.as_ref(),
            linked_same.map(|l| l.synced_skills.as_slice()),
        );
        if let (SkillFlow::ToPaperclip { .. }, Some(l), Some(p)) = (&flow, linked_same, &p)
            && &to_set(&l.synced_skills) != p
        {
            warnings.push(format!(
                "{}: skills changed in both nxr and Paperclip since the last sync; nxr's skillset was kept",
                agent.name
            ));
        }
        rows.push(AgentSync {
            agent: agent.name.clone(),
            agent_id: agent.id,
            role,
            model: agent.model.clone(),
            paperclip_agent_id: found.as_ref().map(|r| r.id.clone()),
            action,
            skills: flow,
            home: Some((agent_home(env, agent), agent.profile().dir)),
            remote: found,
            synced_skills: agent.skillset.clone(),
        });
    }
    // Links of agents deleted in nxr: their Paperclip agents go too.
    for l in stored
        .iter()
        .filter(|l| !all.iter().chain(&unusable).any(|a| a.id == l.agent_id))
    {
        let exists = remote
            .iter()
            .any(|r| r.id == l.paperclip_agent_id && !r.is_terminated());
        rows.push(AgentSync {
            agent: l.agent_name.clone(),
            agent_id: l.agent_id,
            role: "",
            model: l.synced_model.clone(),
            paperclip_agent_id: Some(l.paperclip_agent_id.clone()),
            action: if exists {
                AgentAction::Delete
            } else {
                AgentAction::Unchanged
            },
            skills: SkillFlow::None,
            home: None,
            remote: None,
            synced_skills: Vec::new(),
        });
    }
    Ok(Plan {
        rows,
        stored,
        warnings,
    })
}

/// How many writes to Paperclip a plan makes.
fn write_count(rows: &[AgentSync]) -> usize {
    rows.iter()
        .map(|r| {
            usize::from(!matches!(r.action, AgentAction::Unchanged))
                + match &r.skills {
                    SkillFlow::ToPaperclip { add, remove } => {
                        usize::from(!add.is_empty()) + usize::from(!remove.is_empty())
                    }
                    _ => 0,
                }
        })
        .sum()
}

/// Makes one row true in Paperclip: the agent, then its desired skills.
async fn write_row(
    client: &PaperclipClient,
    company: &str,
    row: &mut AgentSync,
    progress: &mut (dyn FnMut(&SyncEvent) + Send),
) -> Result<(), SyncError> {
    let spec = AgentSpec {
        name: row.agent.clone(),
        role: row.role,
        model: row.model.clone(),
        home: row
            .home
            .as_ref()
            .map(|(h, _)| h.display().to_string())
            .unwrap_or_default(),
    };
    let what = match (&row.action, &row.remote) {
        (AgentAction::Create, _) => {
            let made = client.create_agent(company, &spec).await?;
            row.paperclip_agent_id = Some(made.id);
            "created"
        }
        (AgentAction::Update(_), Some(r)) => {
            client.update_agent(r, &spec).await?;
            "updated"
        }
        (AgentAction::Delete, _) => {
            if let Some(id) = &row.paperclip_agent_id {
                client.delete_agent(id).await?;
            }
            "deleted"
        }
        _ => "",
    };
    if !what.is_empty() {
        progress(&SyncEvent::Wrote {
            agent: row.agent.clone(),
            what: what.into(),
        });
    }
    if let (SkillFlow::ToPaperclip { add, remove }, Some(id)) =
        (&row.skills, &row.paperclip_agent_id)
    {
        for (mode, list) in [("add", add), ("remove", remove)] {
            if list.is_empty() {
                continue;
            }
            client.sync_skills(id, mode, list).await?;
            progress(&SyncEvent::Wrote {
                agent: row.agent.clone(),
                what: format!("skills {mode}: {}", list.join(", ")),
            });
        }
    }
    Ok(())
}

/// nxr's side after Paperclip's writes: the skills taken from Paperclip, then the links.
async fn record(store: &Store, env: &Env, company: &str, plan: &mut Plan) -> Result<(), SyncError> {
    for row in plan.rows.iter_mut() {
        if let SkillFlow::FromPaperclip { skills } = &row.skills {
            let snap = paperclip::sync_skills(store, env, &row.agent, skills).await?;
            row.synced_skills = snap.desired_skills;
        }
    }
    let now = clock::to_db(store.now());
    let mut keep = Vec::new();
    let mut gone = Vec::new();
    for r in &plan.rows {
        let Some(pid) = r.paperclip_agent_id.clone() else {
            continue;
        };
        if r.home.is_none() {
            gone.push(r.agent_id);
            continue;
        }
        let paused = plan
            .stored
            .iter()
            .find(|l| l.agent_id == r.agent_id && l.paperclip_agent_id == pid)
            .and_then(|l| l.budget_paused_on.clone());
        keep.push(Link {
            agent_id: r.agent_id,
            agent_name: r.agent.clone(),
            company_id: company.to_string(),
            paperclip_agent_id: pid,
            synced_model: r.model.clone(),
            synced_skills: r.synced_skills.clone(),
            budget_paused_on: paused,
            synced_at: now.clone(),
        });
    }
    links::replace(store, &keep, &gone).await?;
    Ok(())
}

/// Syncs every nxr agent into the connected Paperclip company. With `dry_run`, only reads and reports.
pub async fn sync(
    store: &Store,
    env: &Env,
    dry_run: bool,
    progress: &mut (dyn FnMut(&SyncEvent) + Send),
) -> Result<SyncReport, SyncError> {
    let conn = connection(store)
        .await?
        .ok_or(SyncError::Paperclip(PaperclipError::NotConnected))?;
    let client = PaperclipClient::new(&conn.url)?;
    let company = conn.company_id.clone();
    let mut plan = plan(store, env, &client, &company).await?;
    if !dry_run {
        // The agents' homes first (nxr's own scaffolding under $NXR_HOME): Paperclip's adapter creates
        // `$HOME/.hermes/skills` when the agent is created, so the link must already be there.
        for (home, profile) in plan.rows.iter().filter_map(|r| r.home.as_ref()) {
            ensure_home(home, profile)?;
        }
        progress(&SyncEvent::Planned {
            writes: write_count(&plan.rows),
        });
        for row in plan.rows.iter_mut() {
            write_row(&client, &company, row, progress).await?;
        }
        record(store, env, &company, &mut plan).await?;
    }
    Ok(SyncReport {
        url: conn.url,
        company_id: conn.company_id,
        company_name: conn.company_name,
        dry_run,
        agents: plan.rows,
        warnings: plan.warnings,
    })
}

impl crate::domain::base::hint::Hinted for SyncError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            SyncError::Paperclip(e) => e.hints(),
            SyncError::Store(e) => e.hints(),
            SyncError::Agent(e) => e.hints(),
            SyncError::Home { .. } | SyncError::BadCompany(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::base::roles::Role;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }
    fn set(x: &[&str]) -> BTreeSet<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn skills_flow_from_the_side_that_changed() {
        let n = v(&["planning", "coding"]);
        // Never synced: nxr's skillset goes to Paperclip.
        assert_eq!(
            skill_flow(&n, None, None),
            SkillFlow::ToPaperclip {
                add: v(&["coding", "planning"]),
                remove: vec![]
            }
        );
        // In step.
        let p = set(&["coding", "planning"]);
        assert_eq!(skill_flow(&n, Some(&p), Some(&n)), SkillFlow::InStep);
        // Paperclip added one: nxr takes it, keeping its own order.
        let p = set(&["coding", "planning", "testing"]);
        assert_eq!(
            skill_flow(&n, Some(&p), Some(&n)),
            SkillFlow::FromPaperclip {
                skills: v(&["planning", "coding", "testing"])
            }
        );
        // nxr dropped one: Paperclip loses it.
        let p = set(&["coding", "planning"]);
        assert_eq!(
            skill_flow(&v(&["planning"]), Some(&p), Some(&n)),
            SkillFlow::ToPaperclip {
                add: vec![],
                remove: v(&["coding"])
            }
        );
        // Both changed: nxr wins.
        let p = set(&["planning"]);
        assert_eq!(
            skill_flow(&v(&["coding"]), Some(&p), Some(&n)),
            SkillFlow::ToPaperclip {
                add: v(&["coding"]),
                remove: v(&["planning"])
            }
        );
    }

    #[test]
    fn roles_map_to_paperclip_roles() {
        assert_eq!(paperclip_role(Role::Pm), "pm");
        assert_eq!(paperclip_role(Role::Engineer), "engineer");
        assert_eq!(paperclip_role(Role::Research), "researcher");
        assert_eq!(paperclip_role(Role::Hermes), "general");
    }
}
