//! The model a user had chosen in a Hermes profile before nxr put an agent there. When nxr creates the
//! `hermes` agent in a root profile whose `model.default` the user set, it keeps a dated copy of
//! config.yaml next to it, records the user's model (table `agent_user_models`), and says so; [`revert`]
//! puts the user's model back (`nxr agents revert NAME`).

use crate::domain::agents::hermes::{self, ConfigValue, HermesError};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::env::Env;
use crate::domain::store::{Conn, Store};
use libsql::params;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A profile's main model as the user had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserModel {
    pub model: String,
    pub provider: Option<String>,
    pub base_url: Option<String>,
    /// The dated copy of config.yaml kept before nxr's change.
    pub config_backup: Option<String>,
}

impl UserModel {
    /// "x/y (provider p, base_url u)".
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if let Some(p) = &self.provider {
            extra.push(format!("provider {p}"));
        }
        if let Some(u) = &self.base_url {
            extra.push(format!("base_url {u}"));
        }
        if extra.is_empty() {
            self.model.clone()
        } else {
            format!("{} ({})", self.model, extra.join(", "))
        }
    }
}

/// The main model a config.yaml names (`model.default`, `model.model` or a bare `model: id`), if any.
pub fn read(config_path: &Path) -> Result<Option<UserModel>, HermesError> {
    let slots = hermes::routing_slots(config_path)?;
    let Some(main) = slots.into_iter().find(|s| s.name == hermes::MAIN_SLOT) else {
        return Ok(None);
    };
    Ok(main
        .model
        .filter(|m| !m.trim().is_empty())
        .map(|model| UserModel {
            model,
            provider: main.provider,
            base_url: main.base_url,
            config_backup: None,
        }))
}

/// Copies config.yaml to `config.yaml.nxr-backup-<UTC time>` next to it (mode 0600: it may hold keys).
pub fn backup_config(
    config_path: &Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<PathBuf, HermesError> {
    let bytes = std::fs::read(config_path).map_err(|source| HermesError::Io {
        action: "read",
        path: config_path.display().to_string(),
        source,
    })?;
    let name = config_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.yaml".into());
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let dir = config_path.parent().unwrap_or(Path::new("."));
    let mut to = dir.join(format!("{name}.nxr-backup-{stamp}"));
    let mut n = 2;
    while to.exists() {
        to = dir.join(format!("{name}.nxr-backup-{stamp}-{n}"));
        n += 1;
    }
    crate::domain::base::fsutil::write_atomic(
        &to,
        &bytes,
        crate::domain::base::fsutil::FileMode::Exactly(0o600),
        false,
    )
    .map_err(|e| HermesError::Io {
        action: e.action,
        path: e.path.display().to_string(),
        source: e.source,
    })?;
    Ok(to)
}

/// Records the user's model for `agent_id` (inside the caller's transaction).
pub async fn record(
    conn: &Conn,
    agent_id: i64,
    user: &UserModel,
    at: &str,
) -> Result<(), libsql::Error> {
    conn.execute(
        "INSERT INTO agent_user_models (agent_id, model, provider, base_url, config_backup, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT(agent_id) DO UPDATE SET model = excluded.model, provider = excluded.provider, \
         base_url = excluded.base_url, config_backup = excluded.config_backup, recorded_at = excluded.recorded_at",
        params![
            agent_id,
            user.model.as_str(),
            user.provider.clone(),
            user.base_url.clone(),
            user.config_backup.clone(),
            at
        ],
    )
    .await?;
    Ok(())
}

/// The user's own model recorded for an agent, if nxr replaced one.
pub async fn get(store: &Store, agent_id: i64) -> Result<Option<UserModel>, AgentError> {
    let mut rows = store
        .conn()
        .query(
            "SELECT model, provider, base_url, config_backup FROM agent_user_models WHERE agent_id = ?1",
            params![agent_id],
        )
        .await?;
    Ok(match rows.next().await? {
        Some(row) => Some(UserModel {
            model: row.get(0)?,
            provider: row.get(1)?,
            base_url: row.get(2)?,
            config_backup: row.get(3)?,
        }),
        None => None,
    })
}

/// What [`revert`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Reverted {
    pub agent: Agent,
    pub from_model: String,
    pub to: UserModel,
}

/// Puts an agent's profile back on the model the user had before nxr replaced it: config.yaml's
/// `model.default`, `model.provider`, `model.base_url` and `auxiliary.free_only` as they were (every
/// other key stays as it is now), the agent's row, and a history entry. An error when nxr replaced no model of the user's.
pub async fn revert(store: &Store, env: &Env, name_or_id: &str) -> Result<Reverted, AgentError> {
    let _lock = agents::agents_lock(env).await;
    let agent = agents::resolve(store, env, name_or_id).await?;
    let Some(user) = get(store, agent.id).await? else {
        return Err(AgentError::NothingToRevert {
            agent: agent.name.clone(),
            kind: agents::RevertKind::UserModel,
        });
    };
    let profile = agent.usable_profile()?;
    let config = profile.config_path();
    let before = std::fs::read(&config).ok();
    let opt = |v: &Option<String>| match v {
        Some(s) => ConfigValue::Str(s.clone()),
        None => ConfigValue::Remove,
    };
    let mut edits = vec![
        (
            "model.default".to_string(),
            ConfigValue::Str(user.model.clone()),
        ),
        ("model.provider".to_string(), opt(&user.provider)),
        ("model.base_url".to_string(), opt(&user.base_url)),
    ];
    // `auxiliary.free_only` came with nxr's free model: back to what the user's file had.
    if let Some(backup) = &user.config_backup
        && let Ok(free_only) = hermes::get_config(Path::new(backup), "auxiliary.free_only")
    {
        edits.push((
            "auxiliary.free_only".to_string(),
            match free_only.as_deref() {
                Some("true") => ConfigValue::Bool(true),
                Some("false") => ConfigValue::Bool(false),
                _ => ConfigValue::Remove,
            },
        ));
    }
    if hermes::get_config(&config, "model.model")?.is_some() {
        edits.push((
            "model.model".to_string(),
            ConfigValue::Str(user.model.clone()),
        ));
    }
    hermes::set_config(&config, &edits)?;
    let now = crate::domain::base::clock::to_db(store.now());
    let (id, from) = (agent.id, agent.model.clone());
    let from_auto = i64::from(agent.model_auto_assigned);
    let provider = user.provider.clone().unwrap_or_else(|| "auto".into());
    let to_model = user.model.clone();
    let written = store
        .in_transaction(|conn| async move {
            conn.execute(
                "UPDATE agents SET model = ?1, provider = ?2, model_score = NULL, model_auto_assigned = 0, \
                 updated_at = ?3 WHERE id = ?4",
                params![to_model.as_str(), provider.as_str(), now.as_str(), id],
            )
            .await?;
            conn.execute(
                "INSERT INTO agent_model_history (agent_id, from_model, to_model, reason, changed_at, \
                 from_auto_assigned, to_auto_assigned) \
                 VALUES (?1, ?2, ?3, 'reverted to the user''s own model', ?4, ?5, 0)",
                params![id, from.as_str(), to_model.as_str(), now.as_str(), from_auto],
            )
            .await?;
            Ok(())
        })
        .await;
    if let Err(e) = written {
        if let Some(bytes) = before {
            let _ = hermes::write_atomic(&config, &bytes, 0o600);
        }
        return Err(e.into());
    }
    Ok(Reverted {
        agent: agents::get(store, env, agent.id).await?,
        from_model: agent.model,
        to: user,
    })
}
