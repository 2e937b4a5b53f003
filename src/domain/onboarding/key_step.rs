//! Step 1, the key choice: free (no key) or an OpenRouter key validated with `GET /key` before
//! `credentials` stores it in `$HERMES_HOME/.env`. A key that fails validation is never written.

use super::*;

/// Validates a key with `GET /key` (401 → [`OnboardingError::InvalidKey`]) and returns what
/// OpenRouter says of it; stores nothing.
pub async fn validate_key(env: &Env, key: &str, timeouts: Timeouts) -> Result<KeyInfo> {
    secrets::check_value(secrets::OPENROUTER_KEY_VAR, key.trim())?;
    let client = OpenRouterClient::from_env(env, Some(key.trim().to_string()))
        .with_timeouts(timeouts)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    match client.key().await {
        Ok(info) => Ok(info),
        Err(e @ OpenRouterError::Unauthorized { .. }) => Err(OnboardingError::InvalidKey(e)),
        Err(e) => Err(OnboardingError::KeyCheck(e)),
    }
}

/// Validates `key`, stores it in `$HERMES_HOME/.env` and in every agent profile's `.env` (0600; a
/// named Hermes profile reads only its own), then records what OpenRouter said of it that the budget
/// needs (its free-model daily limit). Nothing is stored when validation fails.
/// `nxr config set openrouter-key`, `nxr init --key` and `/setup` all come here.
pub async fn store_key(env: &Env, store: &Store, key: &str, timeouts: Timeouts) -> Result<KeyInfo> {
    let info = validate_key(env, key, timeouts).await?;
    credentials::set_openrouter_key(env, store, key.trim()).await?;
    crate::domain::budget::record_key_limits(store, &info).await?;
    Ok(info)
}

/// Step 1: takes the key choice (a key is validated, then stored in `$HERMES_HOME/.env`) and starts the
/// record. An unfinished earlier run is continued from here rather than duplicated. Refuses when nxr is
/// already set up.
pub async fn step_key(
    env: &Env,
    store: &Store,
    choice: &KeyChoice,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<Record> {
    if let Some(r) = latest(store).await?
        && r.is_complete()
    {
        return Err(OnboardingError::AlreadyDone {
            completed_at: r.completed_at.unwrap_or_default(),
        });
    }
    let mode = match choice {
        KeyChoice::Free => Mode::Free,
        KeyChoice::Key(key) => {
            store_key(env, store, key, probes.openrouter).await?;
            Mode::Key
        }
    };
    let now = clock::to_db(clock.now());
    let steps = to_json(&["key"]);
    // One transaction: runs at the same moment (two `nxr init`, the CLI and /setup) all continue the
    // newest unfinished record instead of each inserting one, and rows a crashed run left go away.
    let taken = store
        .in_transaction(move |conn| async move {
            let mut rows = conn
                .query(
                    "SELECT id, completed_at FROM onboarding ORDER BY id DESC LIMIT 1",
                    (),
                )
                .await?;
            let newest = match rows.next().await? {
                Some(row) => Some((row.get::<i64>(0)?, row.get::<Option<String>>(1)?)),
                None => None,
            };
            drop(rows);
            let id = match newest {
                Some((_, Some(completed_at))) => return Ok(Err(completed_at)),
                Some((id, None)) => {
                    conn.execute(
                        "UPDATE onboarding SET mode = ?1, started_at = ?2, steps_completed = ?3 WHERE id = ?4",
                        params![mode.as_str(), now, steps, id],
                    )
                    .await?;
                    id
                }
                None => {
                    conn.execute(
                        "INSERT INTO onboarding (mode, started_at, steps_completed) VALUES (?1, ?2, ?3)",
                        params![mode.as_str(), now, steps],
                    )
                    .await?;
                    conn.last_insert_rowid()
                }
            };
            conn.execute(
                "DELETE FROM onboarding WHERE completed_at IS NULL AND id <> ?1",
                params![id],
            )
            .await?;
            Ok(Ok(id))
        })
        .await?;
    let id = taken.map_err(|completed_at| OnboardingError::AlreadyDone { completed_at })?;
    record(store, id).await
}
