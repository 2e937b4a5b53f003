//! Onboarding: the five steps of `nxr init` and the `/setup` wizard, as domain functions both call.

use crate::domain::catalog;
use crate::domain::store::Store;

/// Where the stored catalog came from, in words ("live OpenRouter catalog fetched …" or the
/// embedded snapshot).
pub async fn catalog_source(store: &Store) -> String {
    let row = async {
        let mut rows = store
            .conn()
            .query(
                "SELECT source, fetched_at, model_count FROM catalog_meta WHERE id = 1",
                (),
            )
            .await?;
        match rows.next().await? {
            Some(r) => Ok::<_, libsql::Error>(Some((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
            ))),
            None => Ok(None),
        }
    }
    .await;
    match row {
        Ok(Some((source, fetched_at, count))) => {
            format!("{source}: {count} models, fetched {fetched_at}")
        }
        _ => format!(
            "embedded snapshot of {} (no live catalog stored yet; `nxr catalog refresh` fetches one)",
            catalog::EMBEDDED_CATALOG_DATE
        ),
    }
}
