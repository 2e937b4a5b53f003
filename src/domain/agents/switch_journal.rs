//! Crash safety for model switches. A switch changes two stores, the agent's config.yaml and its row in
//! the database, which cannot commit together. So before the file is written, a journal row holding the
//! file's previous bytes is committed; the transaction that records the switch in `agents` also deletes
//! that row. A row that is still there afterwards means the process died between the two writes: the
//! database still has the old model, so [`recover`] puts the old file back, and the agent's model in the
//! database and in config.yaml agree again.
//!
//! [`recover`] runs under the agents lock (a live switch holds it, so its row is never mistaken for a
//! dead one). `agents::list` and every model switch call it first, so the next nxr command after a crash
//! sees a consistent state.

use crate::domain::agents::hermes;
use crate::domain::base::env::Env;
use crate::domain::store::{Store, StoreError};
use libsql::{Value, params};
use std::path::Path;

/// Records that `agent_id`'s config.yaml at `config_path` is about to change to `to_model`.
pub async fn begin(
    store: &Store,
    env: &Env,
    agent_id: i64,
    config_path: &Path,
    to_model: &str,
) -> Result<(), JournalError> {
    let before = match std::fs::read(config_path) {
        Ok(b) => Value::Blob(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(e) => {
            return Err(JournalError::Read {
                path: config_path.display().to_string(),
                source: e,
            });
        }
    };
    let now = crate::domain::base::clock::to_db(store.now());
    let path = config_path.display().to_string();
    let host = crate::domain::base::host::this_host(env);
    store
        .in_transaction(|conn| async move {
            conn.execute(
                "INSERT OR REPLACE INTO model_switch_journal \
                 (agent_id, config_path, config_before, to_model, started_at, host) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![agent_id, path, before, to_model, now, host],
            )
            .await
        })
        .await
        .map_err(|e| JournalError::Db(e.to_string()))?;
    Ok(())
}

/// Inside the transaction that records the switch: the switch is complete.
pub async fn finish_in(
    conn: &crate::domain::store::Conn,
    agent_id: i64,
) -> Result<(), libsql::Error> {
    conn.execute(
        "DELETE FROM model_switch_journal WHERE agent_id = ?1",
        params![agent_id],
    )
    .await
    .map(|_| ())
}

/// After a switch failed and its file change was undone: forget the row.
pub async fn abandon(store: &Store, agent_id: i64) {
    let _ = store
        .conn()
        .execute(
            "DELETE FROM model_switch_journal WHERE agent_id = ?1",
            params![agent_id],
        )
        .await;
}

/// True when some switch did not finish (cheap; no lock).
pub async fn pending(store: &Store) -> Result<bool, StoreError> {
    let mut rows = store
        .conn()
        .query("SELECT 1 FROM model_switch_journal LIMIT 1", ())
        .await?;
    Ok(rows.next().await?.is_some())
}

/// Undoes every switch a dead process left half done (see the module docs). Takes the agents lock;
/// returns the config.yaml paths put back.
pub async fn recover(store: &Store, env: &Env) -> Result<Vec<String>, JournalError> {
    if !pending(store)
        .await
        .map_err(|e| JournalError::Db(e.to_string()))?
    {
        return Ok(Vec::new());
    }
    let _lock = crate::domain::agents::agents_lock(env).await;
    recover_locked(store, env).await
}

/// [`recover`] for a caller that already holds the agents lock. Only this host's rows: a path in
/// another host's row names a file on that host.
pub async fn recover_locked(store: &Store, env: &Env) -> Result<Vec<String>, JournalError> {
    let db = |e: libsql::Error| JournalError::Db(e.to_string());
    let host = crate::domain::base::host::this_host(env);
    let mut rows = store
        .conn()
        .query(
            "SELECT agent_id, config_path, config_before FROM model_switch_journal \
             WHERE host = ?1 OR host = '' ORDER BY agent_id",
            params![host],
        )
        .await
        .map_err(db)?;
    let mut stale = Vec::new();
    while let Some(row) = rows.next().await.map_err(db)? {
        let id: i64 = row.get(0).map_err(db)?;
        let path: String = row.get(1).map_err(db)?;
        let before: Option<Vec<u8>> = match row.get_value(2).map_err(db)? {
            Value::Blob(b) => Some(b),
            Value::Text(t) => Some(t.into_bytes()),
            _ => None,
        };
        stale.push((id, path, before));
    }
    drop(rows);
    let mut restored = Vec::new();
    for (id, path, before) in stale {
        let p = Path::new(&path);
        // The profile is gone (the agent was deleted since): nothing to put back.
        if !p.parent().is_some_and(Path::is_dir) {
            abandon(store, id).await;
            continue;
        }
        let put_back = match &before {
            Some(bytes) => hermes::write_atomic(p, bytes, 0o600).map_err(|e| e.to_string()),
            None => match std::fs::remove_file(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            },
        };
        if let Err(reason) = put_back {
            return Err(JournalError::Restore { path, reason });
        }
        tracing::warn!(agent_id = id, path = %path, "an interrupted model switch was undone");
        abandon(store, id).await;
        restored.push(path);
    }
    Ok(restored)
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read {path} before changing it: {source}; nothing was changed")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "an earlier model switch was interrupted and {path} cannot be put back ({reason}); check that the file is writable, then run the command again"
    )]
    Restore { path: String, reason: String },
    #[error("database error: {0}; nothing was changed")]
    Db(String),
}

impl From<JournalError> for crate::domain::agents::AgentError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Db(m) => crate::domain::agents::AgentError::Db(m),
            other => crate::domain::agents::AgentError::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_switch_is_undone_and_a_vanished_profile_is_forgotten() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let store = Store::open_local(&dir.path().join("db.sqlite"))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            let profile = dir.path().join("profile");
            std::fs::create_dir(&profile).unwrap();
            let config = profile.join("config.yaml");
            std::fs::write(&config, "model:\n  default: a:free\n").unwrap();
            let env = Env::for_dirs(dir.path(), dir.path().join("h"));
            begin(&store, &env, 1, &config, "b").await.unwrap();
            // The process wrote the new file and died before its transaction.
            std::fs::write(&config, "model:\n  default: b\n").unwrap();
            assert!(pending(&store).await.unwrap());
            let restored = recover_locked(&store, &env).await.unwrap();
            assert_eq!(restored, [config.display().to_string()]);
            assert_eq!(
                std::fs::read_to_string(&config).unwrap(),
                "model:\n  default: a:free\n"
            );
            assert!(!pending(&store).await.unwrap());

            // A file that did not exist before is removed again.
            let fresh = profile.join("new.yaml");
            begin(&store, &env, 2, &fresh, "b").await.unwrap();
            std::fs::write(&fresh, "x").unwrap();
            recover_locked(&store, &env).await.unwrap();
            assert!(!fresh.exists());

            // The profile was deleted since: the row goes, nothing is written.
            begin(&store, &env, 3, &config, "c").await.unwrap();
            std::fs::remove_dir_all(&profile).unwrap();
            assert!(recover_locked(&store, &env).await.unwrap().is_empty());
            assert!(!pending(&store).await.unwrap());
            assert!(!profile.exists());
        });
    }
}

#[cfg(test)]
mod other_hosts {
    use super::*;

    #[test]
    fn a_row_of_another_host_is_left_to_that_host() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let store = Store::open_local(&dir.path().join("db.sqlite"))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            let config = dir.path().join("config.yaml");
            std::fs::write(&config, "before").unwrap();
            let mut there = Env::for_dirs(dir.path(), dir.path().join("h"));
            there.host_name = Some("there".into());
            begin(&store, &there, 1, &config, "b").await.unwrap();
            std::fs::write(&config, "after").unwrap();
            let mut here = there.clone();
            here.host_name = Some("here".into());
            assert!(recover_locked(&store, &here).await.unwrap().is_empty());
            assert_eq!(std::fs::read_to_string(&config).unwrap(), "after");
            assert_eq!(recover_locked(&store, &there).await.unwrap().len(), 1);
            assert_eq!(std::fs::read_to_string(&config).unwrap(), "before");
        });
    }
}
