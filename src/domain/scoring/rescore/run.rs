//! A rescore run: every (model, role) score written to `model_scores` with one `scored_at`, the agents'
//! `model_score` updated and the changes of best pick reported, all in one transaction; and reading a
//! stored run back.

use super::*;

/// The best pick of one role in a rescore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleBest {
    pub role: Role,
    pub model_id: String,
    pub provider: String,
    pub source: PickSource,
    pub total: Option<u32>,
    pub warnings: Vec<String>,
}

/// A role whose best pick differs from the previous rescore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub role: Role,
    /// `None` on the first rescore.
    pub before: Option<String>,
    pub after: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RescoreReport {
    pub scored_at: String,
    pub previous_scored_at: Option<String>,
    pub catalog: CatalogSource,
    pub models_scored: usize,
    pub rows_written: usize,
    pub agents_updated: usize,
    pub best: Vec<RoleBest>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
pub(super) struct LastBest {
    pub(super) scored_at: String,
    pub(super) best: BTreeMap<Role, String>,
}

/// Rescore the catalog in use (the stored one, else the embedded snapshot) at `now`.
pub async fn rescore(store: &Store, env: &Env, now: DateTime<Utc>) -> Result<RescoreReport> {
    let inputs = inputs(store, now).await?;
    let (ollama_models, warning) = ollama_models_if_needed(env, &inputs, &Role::ALL).await;
    let mut report = rescore_with(store, &inputs, &ollama_models, now).await?;
    if let Some(w) = warning {
        for b in &mut report.best {
            if matches!(b.source, PickSource::LocalOllama { .. }) {
                b.warnings.push(w.clone());
            }
        }
    }
    Ok(report)
}

/// Columns per row besides `scored_at`.
pub(super) const COLUMNS: usize = 12;
pub(super) const ROWS_PER_INSERT: usize = 64;

/// Scores `inputs.models` for every role and stores the run (one transaction).
pub async fn rescore_with(
    store: &Store,
    inputs: &Inputs,
    ollama_models: &[String],
    now: DateTime<Utc>,
) -> Result<RescoreReport> {
    let mut picks =
        scoring::best_free_all(&inputs.models, &inputs.health, &inputs.cfg, ollama_models);
    scoring::note_caveat_skips(&inputs.models, &inputs.health, &inputs.cfg, &mut picks);
    let (totals, values) = score_rows(inputs);
    let rows = values.len() / COLUMNS;
    let best = role_bests(&picks);
    let best_ids: BTreeMap<Role, String> =
        best.iter().map(|b| (b.role, b.model_id.clone())).collect();

    // One IMMEDIATE transaction on a connection of its own (Store::in_transaction), so a concurrent
    // caller sharing the store never runs inside it.
    let step = store
        .in_transaction(|tx| async move {
            let previous = previous_best(&tx).await?;
            let scored_at = next_scored_at(&tx, now).await?;
            let this_best_json = serde_json::to_string(&LastBest {
                scored_at: scored_at.clone(),
                best: best_ids.clone(),
            })
            .unwrap_or_default();
            insert_scores(&tx, values, &scored_at).await?;
            let agents_updated = update_agent_scores(&tx, &totals).await?;
            tx.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![SETTING_LAST_BEST, this_best_json.clone(), scored_at.clone()],
            )
            .await?;
            Ok::<_, libsql::Error>((previous, agents_updated, scored_at))
        })
        .await;
    let (previous, agents_updated, scored_at) = step?;
    let changes = changes(&best, previous.as_ref());
    Ok(RescoreReport {
        scored_at,
        previous_scored_at: previous.map(|p| p.scored_at),
        catalog: inputs.catalog.clone(),
        models_scored: inputs.models.len(),
        rows_written: rows,
        agents_updated,
        best,
        changes,
    })
}

/// Every (model, role) score of `inputs.models`: the totals by (model id, role), for the agents,
/// and the `model_scores` values, [`COLUMNS`] per row (all but `scored_at`), in model then role
/// order.
fn score_rows(inputs: &Inputs) -> (BTreeMap<(&str, Role), u32>, Vec<Value>) {
    let mut totals: BTreeMap<(&str, Role), u32> = BTreeMap::new();
    let mut values: Vec<Value> =
        Vec::with_capacity(inputs.models.len() * Role::ALL.len() * COLUMNS);
    for m in &inputs.models {
        for s in scoring::score_all_roles(m, &inputs.health, &inputs.cfg) {
            totals.insert((m.id.as_str(), s.role), s.total);
            let reasons = serde_json::to_string(&s.reasons).unwrap_or_else(|_| "[]".into());
            values.extend([
                Value::Text(s.model_id),
                Value::Text(s.role.as_str().into()),
                Value::Integer(s.total as i64),
                Value::Integer(s.sub.context as i64),
                Value::Integer(s.sub.capability as i64),
                Value::Integer(s.sub.tools as i64),
                Value::Integer(s.sub.recency as i64),
                Value::Integer(s.sub.reliability as i64),
                Value::Integer(s.sub.price as i64),
                Value::Integer(s.passes as i64),
                Value::Integer(s.is_free as i64),
                Value::Text(reasons),
            ]);
        }
    }
    (totals, values)
}

/// The best pick of each role as reported: model, provider, source, total and warnings.
fn role_bests(picks: &[(Role, Pick)]) -> Vec<RoleBest> {
    picks
        .iter()
        .map(|(role, p)| RoleBest {
            role: *role,
            model_id: p.model_id.clone(),
            provider: p.provider.clone(),
            source: p.source.clone(),
            total: p.score.as_ref().map(|s| s.total),
            warnings: p.warnings.clone(),
        })
        .collect()
}

/// The previous run's picks (read inside the transaction, so two rescores cannot interleave);
/// `None` on the first run or when the stored value does not parse.
async fn previous_best(
    tx: &crate::domain::store::Conn,
) -> std::result::Result<Option<LastBest>, libsql::Error> {
    let mut r = tx
        .query(
            "SELECT value FROM settings WHERE key = ?1",
            params![SETTING_LAST_BEST],
        )
        .await?;
    Ok(match r.next().await? {
        Some(row) => serde_json::from_str(&row.get::<String>(0)?).ok(),
        None => None,
    })
}

/// The run's `scored_at`: `now` to the second, strictly after the last run's (a run in the same
/// second as the previous one, or with a clock that went back, is stamped one second after it).
async fn next_scored_at(
    tx: &crate::domain::store::Conn,
    now: DateTime<Utc>,
) -> std::result::Result<String, libsql::Error> {
    let mut r = tx
        .query("SELECT MAX(scored_at) FROM model_scores", ())
        .await?;
    let last: Option<String> = match r.next().await? {
        Some(row) => row.get::<Option<String>>(0)?,
        None => None,
    };
    drop(r);
    let mut at = clock::from_db(&clock::to_db(now)).unwrap_or(now);
    if let Some(last) = last.as_deref().and_then(clock::from_db)
        && last >= at
    {
        at = last + chrono::Duration::seconds(1);
    }
    Ok(clock::to_db(at))
}

/// Inserts the rows of `values` ([`COLUMNS`] each) into `model_scores` with `scored_at`, up to
/// [`ROWS_PER_INSERT`] rows per statement.
async fn insert_scores(
    tx: &crate::domain::store::Conn,
    values: Vec<Value>,
    scored_at: &str,
) -> std::result::Result<(), libsql::Error> {
    let mut left = values.len() / COLUMNS;
    let mut values = values.into_iter();
    while left > 0 {
        let n = left.min(ROWS_PER_INSERT);
        let mut sql = String::from(
            "INSERT INTO model_scores (model_id, role, total_score, context_score, capability_score, tools_score, recency_score, reliability_score, price_score, passes, is_free, reasons, scored_at) VALUES ",
        );
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str("(?,?,?,?,?,?,?,?,?,?,?,?,?)");
        }
        let mut chunk: Vec<Value> = Vec::with_capacity(n * (COLUMNS + 1));
        for _ in 0..n {
            chunk.extend(values.by_ref().take(COLUMNS));
            chunk.push(Value::Text(scored_at.to_string()));
        }
        tx.execute(&sql, libsql::params_from_iter(chunk)).await?;
        left -= n;
    }
    Ok(())
}

/// Gives every agent whose model was scored that model's total for the agent's role (an unknown
/// role reads as custom); returns how many agents were updated.
async fn update_agent_scores(
    tx: &crate::domain::store::Conn,
    totals: &BTreeMap<(&str, Role), u32>,
) -> std::result::Result<usize, libsql::Error> {
    let mut r = tx.query("SELECT id, model, role FROM agents", ()).await?;
    let mut updates: Vec<(i64, u32)> = Vec::new();
    while let Some(row) = r.next().await? {
        let id: i64 = row.get(0)?;
        let model: String = row.get(1)?;
        let role: String = row.get(2)?;
        let role = role.parse::<Role>().unwrap_or(Role::Custom);
        if let Some(total) = totals.get(&(model.as_str(), role)) {
            updates.push((id, *total));
        }
    }
    drop(r);
    for (id, total) in &updates {
        tx.execute(
            "UPDATE agents SET model_score = ?1 WHERE id = ?2",
            params![*total as i64, *id],
        )
        .await?;
    }
    Ok(updates.len())
}

/// The roles whose best pick differs from the previous run's (every role on the first run).
fn changes(best: &[RoleBest], previous: Option<&LastBest>) -> Vec<Change> {
    best.iter()
        .filter_map(|b| {
            let before = previous.and_then(|p| p.best.get(&b.role)).cloned();
            (before.as_deref() != Some(b.model_id.as_str())).then(|| Change {
                role: b.role,
                before,
                after: b.model_id.clone(),
            })
        })
        .collect()
}

/// One stored `model_scores` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredScore {
    pub model_id: String,
    pub role: String,
    pub total: i64,
    pub context: i64,
    pub capability: i64,
    pub tools: i64,
    pub recency: i64,
    pub reliability: i64,
    pub price: i64,
    pub passes: bool,
    pub is_free: bool,
    pub reasons: Vec<String>,
    pub scored_at: String,
}

/// The rows of the latest rescore (or of `scored_at`), ordered by role, total desc, model id.
pub async fn stored_run(store: &Store, scored_at: Option<&str>) -> Result<Vec<StoredScore>> {
    let at = match scored_at {
        Some(s) => Some(s.to_string()),
        None => {
            let mut r = store
                .conn()
                .query("SELECT MAX(scored_at) FROM model_scores", ())
                .await?;
            match r.next().await? {
                Some(row) => row.get::<Option<String>>(0)?,
                None => None,
            }
        }
    };
    let Some(at) = at else {
        return Ok(Vec::new());
    };
    let mut rows = store
        .conn()
        .query(
            "SELECT model_id, role, total_score, context_score, capability_score, tools_score,
                    recency_score, reliability_score, price_score, passes, is_free, reasons, scored_at
             FROM model_scores WHERE scored_at = ?1
             ORDER BY role, total_score DESC, model_id",
            params![at],
        )
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        let reasons: String = row.get(11)?;
        out.push(StoredScore {
            model_id: row.get(0)?,
            role: row.get(1)?,
            total: row.get(2)?,
            context: row.get(3)?,
            capability: row.get(4)?,
            tools: row.get(5)?,
            recency: row.get(6)?,
            reliability: row.get(7)?,
            price: row.get(8)?,
            passes: row.get::<i64>(9)? != 0,
            is_free: row.get::<i64>(10)? != 0,
            reasons: serde_json::from_str(&reasons).unwrap_or_default(),
            scored_at: row.get(12)?,
        });
    }
    Ok(out)
}
