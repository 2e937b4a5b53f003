//! The Paperclip skill contract (docs/design.md §5): Paperclip's `hermes_local` adapter lists and syncs an
//! agent's skills as an `AdapterSkillSnapshot`. nxr serves the same shape (`nxr agents skills NAME --json`,
//! `GET /api/agents/{id}/skills`, `POST …/skills/sync`) and keeps the skill files on disk in step.
//!
//! Field names and values follow Paperclip's `@paperclipai/adapter-utils` types: `AdapterSkillSyncMode`
//! (`persistent` here: skills live in the profile between runs), `AdapterSkillState` (`installed`,
//! `missing`, `stale`, `external`, …) and `AdapterSkillOrigin` (`company_managed` for nxr's skills,
//! `user_installed` for the other skills found in the profile, which nxr shows read-only).

pub mod client;
pub mod guard;
pub mod home;
pub mod links;
pub mod sync;

use crate::domain::agents::hermes::{self, NXR_SKILL_CATEGORY};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use serde::{Deserialize, Serialize};

pub const ADAPTER_TYPE: &str = "hermes_local";
pub const MODE_PERSISTENT: &str = "persistent";

/// One skill as Paperclip sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterSkillEntry {
    /// The stable key: the skill name for nxr's skills, `<category>/<name>` for external ones.
    pub key: String,
    /// The name Hermes knows the skill by (front matter `name`).
    pub runtime_name: Option<String>,
    pub desired: bool,
    /// True for the skills nxr writes and removes.
    pub managed: bool,
    pub required: bool,
    /// `installed`, `missing` (desired, not on disk), `stale` (nxr's, no longer desired) or `external`.
    pub state: String,
    /// `company_managed` (nxr) or `user_installed` (found in the profile).
    pub origin: String,
    pub origin_label: Option<String>,
    pub location_label: Option<String>,
    pub read_only: bool,
    /// The skill's directory.
    pub source_path: Option<String>,
    /// Its SKILL.md.
    pub target_path: Option<String>,
    pub detail: Option<String>,
}

/// An agent's skills: what is desired and what is on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterSkillSnapshot {
    pub adapter_type: String,
    pub supported: bool,
    pub mode: String,
    pub desired_skills: Vec<String>,
    pub entries: Vec<AdapterSkillEntry>,
    pub warnings: Vec<String>,
}

/// The body of `POST /api/agents/{id}/skills/sync`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequest {
    pub desired_skills: Vec<String>,
}

/// Builds the snapshot of `agent` from its database skillset and its profile's skills dir.
pub fn snapshot(agent: &Agent) -> AdapterSkillSnapshot {
    let profile = agent.profile();
    let on_disk = hermes::skills_on_disk(&profile);
    let location = format!("Hermes profile {:?}", profile.name);
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    for name in &agent.skillset {
        let found = on_disk
            .iter()
            .find(|s| s.category == NXR_SKILL_CATEGORY && s.nxr_managed && &s.name == name);
        let dir = profile.nxr_skills_dir().join(name);
        let detail = crate::domain::agents::skills::find(name).map(|d| d.description.to_string());
        if found.is_none() {
            warnings.push(format!(
                "skill {name:?} is desired but missing from {}; sync the agent's skills to restore it",
                dir.display()
            ));
        }
        entries.push(AdapterSkillEntry {
            key: name.clone(),
            runtime_name: Some(name.clone()),
            desired: true,
            managed: true,
            required: false,
            state: if found.is_some() {
                "installed"
            } else {
                "missing"
            }
            .into(),
            origin: "company_managed".into(),
            origin_label: Some("nxr".into()),
            location_label: Some(location.clone()),
            read_only: false,
            source_path: Some(dir.display().to_string()),
            target_path: Some(dir.join("SKILL.md").display().to_string()),
            detail,
        });
    }
    let mut externals = Vec::new();
    for s in &on_disk {
        let ours = s.category == NXR_SKILL_CATEGORY && s.nxr_managed;
        if ours && agent.skillset.contains(&s.name) {
            continue;
        }
        let dir = s.path.parent().map(|p| p.display().to_string());
        if ours {
            warnings.push(format!(
                "skill {:?} is on disk but no longer desired; sync the agent's skills to remove it",
                s.name
            ));
            entries.push(AdapterSkillEntry {
                key: s.name.clone(),
                runtime_name: Some(s.name.clone()),
                desired: false,
                managed: true,
                required: false,
                state: "stale".into(),
                origin: "company_managed".into(),
                origin_label: Some("nxr".into()),
                location_label: Some(location.clone()),
                read_only: false,
                source_path: dir,
                target_path: Some(s.path.display().to_string()),
                detail: s.description.clone(),
            });
            continue;
        }
        let key = if s.category.is_empty() {
            s.name.clone()
        } else {
            format!("{}/{}", s.category, s.name)
        };
        externals.push(AdapterSkillEntry {
            key,
            runtime_name: Some(s.name.clone()),
            desired: false,
            managed: false,
            required: false,
            state: "external".into(),
            origin: "user_installed".into(),
            origin_label: Some("installed in the Hermes profile (not managed by nxr)".into()),
            location_label: Some(location.clone()),
            read_only: true,
            source_path: dir,
            target_path: Some(s.path.display().to_string()),
            detail: s.description.clone(),
        });
    }
    externals.sort_by(|a, b| a.key.cmp(&b.key));
    entries.extend(externals);
    AdapterSkillSnapshot {
        adapter_type: ADAPTER_TYPE.into(),
        supported: true,
        mode: MODE_PERSISTENT.into(),
        desired_skills: agent.skillset.clone(),
        entries,
        warnings,
    }
}

/// `listSkills`: the snapshot of one agent (by name or id).
pub async fn list_skills(
    store: &Store,
    env: &Env,
    name_or_id: &str,
) -> Result<AdapterSkillSnapshot, AgentError> {
    let agent = agents::resolve(store, env, name_or_id).await?;
    Ok(snapshot(&agent))
}

/// `syncSkills`: makes the agent's managed skills exactly `desired` (disk and database) and returns the new
/// snapshot. Keys of external skills may appear in `desired` (Paperclip sends back what it was shown);
/// they are left as they are, with a warning.
pub async fn sync_skills(
    store: &Store,
    env: &Env,
    name_or_id: &str,
    desired: &[String],
) -> Result<AdapterSkillSnapshot, AgentError> {
    let agent = agents::resolve(store, env, name_or_id).await?;
    let before = snapshot(&agent);
    let mut managed = Vec::new();
    let mut ignored = Vec::new();
    for d in desired {
        let is_external = before.entries.iter().any(|e| {
            !e.managed && (e.key == *d) && crate::domain::agents::skills::find(d).is_none()
        });
        if is_external {
            ignored.push(d.clone());
        } else {
            managed.push(d.clone());
        }
    }
    let agent = agents::set_skills(store, env, &agent.name, &managed).await?;
    let mut snap = snapshot(&agent);
    for d in ignored {
        snap.warnings.push(format!(
            "skill {d:?} is installed in the Hermes profile outside nxr; nxr shows it read-only and left it as it is"
        ));
    }
    Ok(snap)
}
