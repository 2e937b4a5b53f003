//! The routing slots of agents in team mode. An agent's auxiliary slots (vision, compression, …) are
//! kept only in its config.yaml, on its host. So that every host can show and change them:
//! - the agent's host publishes the slots it reads from that file (`agent_slots`) at each reconcile;
//! - a slot change asked on another host is a row in `slot_requests`, which the agent's host writes to
//!   config.yaml at its next reconcile (under the agents lock, by the same endpoint rule as a change
//!   made there: [`endpoint_for`]) and marks done, or refused with the reason;
//! - a profile made on a new host for a moved agent gets the OpenRouter slots its old host published.
//!
//! The main model is not a slot request: it is the agent's row (`agents.model`), which every host
//! already brings its files in step with.

use crate::domain::agents::Agent;
use crate::domain::agents::hermes::{self, Endpoint, HermesError, Slot};
use crate::domain::base::clock;
use crate::domain::base::env::Env;
use crate::domain::store::{Store, StoreError};
use libsql::params;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// A slot of the user's own endpoint, which nxr does not replace unless told to (`force`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnEndpoint {
    pub slot: String,
    pub provider: String,
    pub base_url: String,
}

/// What pointing `slot` at an OpenRouter model does with its endpoint keys. nxr owns a slot's
/// `provider` and `model`; `base_url` and `api_key` only when nxr set them (the local Ollama endpoint
/// `nxr init` writes). A slot already on OpenRouter keeps its `base_url` / `api_key` (a proxy of the
/// user's); a slot with another endpoint of the user's is refused unless `force`, which replaces it.
pub fn endpoint_for(
    env: &Env,
    path: &Path,
    slot: &Slot,
    force: bool,
) -> Result<Result<Endpoint, OwnEndpoint>, HermesError> {
    let prefix = hermes::slot_prefix(path, &slot.name)?;
    let api_key = hermes::get_config(path, &format!("{prefix}.api_key"))?;
    if slot.base_url.is_none() && api_key.is_none() {
        return Ok(Ok(Endpoint::RemoveBaseUrl));
    }
    if slot.provider.as_deref() == Some("openrouter") {
        return Ok(Ok(Endpoint::Keep));
    }
    let local = crate::domain::catalog::ollama::openai_base_url(&env.ollama_url);
    let nxr_set = slot.provider.as_deref() == Some("custom")
        && slot.base_url.as_deref() == Some(local.as_str())
        && api_key.as_deref().is_none_or(|k| k == "ollama");
    if nxr_set || force {
        return Ok(Ok(Endpoint::Replace));
    }
    Ok(Err(OwnEndpoint {
        slot: slot.name.clone(),
        provider: slot.provider.clone().unwrap_or_else(|| "(none)".into()),
        base_url: slot.base_url.clone().unwrap_or_else(|| "(none)".into()),
    }))
}

/// A slot change asked for an agent of another host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotRequest {
    pub id: i64,
    pub agent_id: i64,
    pub slot: String,
    pub model: String,
    pub force: bool,
    pub asked_at: String,
    /// The host it was asked on.
    pub asked_on: String,
    /// When the agent's host handled it (written, or refused with `error`).
    pub done_at: Option<String>,
    pub error: Option<String>,
}

impl SlotRequest {
    /// `pending`, `written` or `refused`.
    pub fn state(&self) -> &'static str {
        match (&self.done_at, &self.error) {
            (None, _) => "pending",
            (Some(_), None) => "written",
            (Some(_), Some(_)) => "refused",
        }
    }
}

/// The slots `agent_id`'s host last published, in file order (empty when none were).
pub async fn published(store: &Store, agent_id: i64) -> Result<Vec<Slot>, StoreError> {
    Ok(all_published(store)
        .await?
        .remove(&agent_id)
        .unwrap_or_default())
}

async fn all_published(store: &Store) -> Result<HashMap<i64, Vec<Slot>>, StoreError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT agent_id, slot, provider, model, base_url FROM agent_slots ORDER BY agent_id, position",
            (),
        )
        .await?;
    let mut out: HashMap<i64, Vec<Slot>> = HashMap::new();
    while let Some(r) = rows.next().await? {
        out.entry(r.get::<i64>(0)?).or_default().push(Slot {
            name: r.get(1)?,
            provider: r.get(2)?,
            model: r.get(3)?,
            base_url: r.get(4)?,
        });
    }
    Ok(out)
}

/// Records that `slot` of `agent_id`'s config.yaml should use the OpenRouter model `model` (its host
/// writes it). The caller has checked the slot and the model.
pub async fn request(
    store: &Store,
    env: &Env,
    agent_id: i64,
    slot: &str,
    model: &str,
    force: bool,
) -> Result<(), StoreError> {
    let host = crate::domain::base::host::this_host(env);
    store
        .conn()
        .execute(
            "INSERT INTO slot_requests (agent_id, slot, model, force, asked_at, asked_on) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![agent_id, slot, model, i64::from(force), clock::to_db(store.now()), host],
        )
        .await?;
    Ok(())
}

const REQUEST_COLUMNS: &str =
    "id, agent_id, slot, model, force, asked_at, asked_on, done_at, error";

fn request_row(r: &libsql::Row) -> Result<SlotRequest, libsql::Error> {
    Ok(SlotRequest {
        id: r.get(0)?,
        agent_id: r.get(1)?,
        slot: r.get(2)?,
        model: r.get(3)?,
        force: r.get::<i64>(4)? != 0,
        asked_at: r.get(5)?,
        asked_on: r.get(6)?,
        done_at: r.get(7)?,
        error: r.get(8)?,
    })
}

/// The latest `limit` slot requests for `agent_id`, newest first.
pub async fn requests(
    store: &Store,
    agent_id: i64,
    limit: u32,
) -> Result<Vec<SlotRequest>, StoreError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM slot_requests WHERE agent_id = ?1 ORDER BY id DESC LIMIT ?2"
    );
    let mut rows = store
        .conn()
        .query(&sql, params![agent_id, i64::from(limit)])
        .await?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().await? {
        out.push(request_row(&r)?);
    }
    Ok(out)
}

/// The requests not yet handled for `agent_ids`, oldest first.
async fn pending(store: &Store, agent_ids: &[i64]) -> Result<Vec<SlotRequest>, StoreError> {
    let sql =
        format!("SELECT {REQUEST_COLUMNS} FROM slot_requests WHERE done_at IS NULL ORDER BY id");
    let mut rows = store.conn().query(&sql, ()).await?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().await? {
        let req = request_row(&r)?;
        if agent_ids.contains(&req.agent_id) {
            out.push(req);
        }
    }
    Ok(out)
}

/// Why a slot was not written.
#[derive(Debug)]
pub enum WriteError {
    OwnEndpoint(OwnEndpoint),
    Other(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::OwnEndpoint(own) => write!(
                f,
                "slot {} has its own endpoint (provider {}, base_url {}); a forced change replaces it",
                own.slot, own.provider, own.base_url
            ),
            WriteError::Other(e) => f.write_str(e),
        }
    }
}

/// Points `current` (a slot of `path`) at the OpenRouter model `model`, by the endpoint rule of
/// [`endpoint_for`]; atomic, every other key kept. The one slot write of every surface.
pub fn write_slot(
    env: &Env,
    path: &Path,
    current: &Slot,
    model: &str,
    force: bool,
) -> Result<(), WriteError> {
    let other = |e: HermesError| WriteError::Other(e.to_string());
    let endpoint = endpoint_for(env, path, current, force)
        .map_err(other)?
        .map_err(WriteError::OwnEndpoint)?;
    hermes::set_slot_endpoint(path, &current.name, "openrouter", model, &endpoint).map_err(other)
}

/// [`write_slot`] for the slot named `slot`; `Err` is the reason it was not written, in words.
pub fn write(env: &Env, path: &Path, slot: &str, model: &str, force: bool) -> Result<(), String> {
    let slots = hermes::routing_slots(path).map_err(|e| e.to_string())?;
    let Some(current) = slots.iter().find(|s| s.name == slot) else {
        return Err(format!(
            "{slot:?} is not a routing slot in {}",
            path.display()
        ));
    };
    write_slot(env, path, current, model, force).map_err(|e| e.to_string())
}

/// The reconcile step for this host's agents (`here`, of all `agents`; the caller holds the agents
/// lock): drops the published slots of deleted agents, writes the slot
/// changes asked for them, gives a profile just made here (`created`) the OpenRouter slots its old
/// host published, then publishes every agent's slots. Returns the names of agents whose config.yaml
/// changed; problems are added to `problems`.
pub async fn sync_here(
    store: &Store,
    env: &Env,
    agents: &[Agent],
    here: &[&Agent],
    created: &[String],
    problems: &mut Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let mut changed = Vec::new();
    let mut before = all_published(store).await?;
    // The slots of deleted agents go (any host may see it first).
    if before.keys().any(|id| !agents.iter().any(|a| a.id == *id)) {
        store
            .conn()
            .execute(
                "DELETE FROM agent_slots WHERE agent_id NOT IN (SELECT id FROM agents)",
                (),
            )
            .await?;
    }
    let ids: Vec<i64> = here.iter().map(|a| a.id).collect();
    let mut wrote = false;
    for agent in here.iter().filter(|a| created.contains(&a.name)) {
        let path = agent.profile().config_path();
        let carried = before.remove(&agent.id).unwrap_or_default();
        wrote |= !carried.is_empty();
        for s in carried
            .iter()
            .filter(|s| s.name != hermes::MAIN_SLOT && s.provider.as_deref() == Some("openrouter"))
        {
            let Some(model) = &s.model else { continue };
            if let Err(e) = write(env, &path, &s.name, model, false) {
                problems.push(format!(
                    "agent {:?}: its {} slot was not carried over: {e}",
                    agent.name, s.name
                ));
            }
        }
    }
    for r in pending(store, &ids).await? {
        wrote = true;
        let Some(agent) = here.iter().find(|a| a.id == r.agent_id) else {
            continue;
        };
        let result = write(
            env,
            &agent.profile().config_path(),
            &r.slot,
            &r.model,
            r.force,
        );
        if let Err(e) = &result {
            problems.push(format!(
                "agent {:?}: the {} slot change asked on host {} was refused: {e}",
                agent.name, r.slot, r.asked_on
            ));
        } else if !changed.contains(&agent.name) {
            changed.push(agent.name.clone());
        }
        store
            .conn()
            .execute(
                "UPDATE slot_requests SET done_at = ?1, error = ?2 WHERE id = ?3",
                params![clock::to_db(store.now()), result.err(), r.id],
            )
            .await?;
    }
    let published = if wrote {
        all_published(store).await?
    } else {
        before
    };
    for agent in here {
        let Ok(slots) = hermes::routing_slots(&agent.profile().config_path()) else {
            continue;
        };
        if published.get(&agent.id) != Some(&slots) {
            publish(store, agent.id, &slots).await?;
        }
    }
    Ok(changed)
}

async fn publish(store: &Store, agent_id: i64, slots: &[Slot]) -> Result<(), StoreError> {
    let slots = slots.to_vec();
    let now = clock::to_db(store.now());
    store
        .in_transaction(|tx| async move {
            tx.execute(
                "DELETE FROM agent_slots WHERE agent_id = ?1",
                params![agent_id],
            )
            .await?;
            for (i, s) in slots.iter().enumerate() {
                tx.execute(
                    "INSERT INTO agent_slots (agent_id, slot, provider, model, base_url, position, read_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        agent_id,
                        s.name.clone(),
                        s.provider.clone(),
                        s.model.clone(),
                        s.base_url.clone(),
                        i as i64,
                        now.clone()
                    ],
                )
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}
