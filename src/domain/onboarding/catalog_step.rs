//! Step 3, the catalog: a live fetch from OpenRouter with short timeouts, else the stored or embedded
//! catalog. Fetching needs no database; storing happens in one place, `apply_catalog`.

use super::*;

/// A catalog fetched from OpenRouter (or the reason it could not be), not stored yet. Fetching needs no
/// database, so `nxr init` starts it while step 2 probes the local tools.
#[derive(Debug)]
pub struct Fetched {
    pub(super) result: std::result::Result<catalog::ParsedCatalog, OpenRouterError>,
    pub(super) origin: String,
}

/// `GET /models` with onboarding's short timeouts and a single attempt.
pub async fn fetch_catalog(env: &Env, probes: &Probes) -> Fetched {
    let client = OpenRouterClient::from_env(env, None)
        .with_timeouts(probes.openrouter)
        .with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
    Fetched {
        result: client.models().await,
        origin: client.base_url().to_string(),
    }
}

/// Stores a fetched catalog; when the fetch failed (or cannot be stored), the stored catalog (or the
/// embedded snapshot) is used and the reason is said.
pub async fn apply_catalog(
    store: &Store,
    fetched: Fetched,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    let why = match fetched.result {
        Ok(parsed) => {
            let at = clock::to_db(clock.now());
            match catalog::save(store, &parsed, &at, &fetched.origin).await {
                Ok(()) => None,
                Err(e) => Some(format!("the fetched catalog could not be stored: {e}")),
            }
        }
        Err(e) => Some(e.to_string()),
    };
    let cat = catalog::load(store).await?;
    let live = why.is_none();
    let free_count = cat.models.iter().filter(|m| m.is_free()).count();
    let description = match why {
        None => format!(
            "catalog: live from OpenRouter ({} models, {free_count} free)",
            cat.models.len()
        ),
        Some(why) => format!(
            "{} ({} models, {free_count} free; a live refresh failed: {why})",
            cat.source.describe(),
            cat.models.len()
        ),
    };
    Ok(CatalogStep {
        source: cat.source.clone(),
        live,
        model_count: cat.models.len(),
        free_count,
        description,
    })
}

/// Refreshes the catalog (see [`fetch_catalog`], [`apply_catalog`]).
pub async fn load_catalog(
    env: &Env,
    store: &Store,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    apply_catalog(store, fetch_catalog(env, probes).await, clock).await
}

/// Step 3.
pub async fn step_catalog(
    env: &Env,
    store: &Store,
    probes: &Probes,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    in_progress(store, "catalog", "detect").await?;
    let fetched = fetch_catalog(env, probes).await;
    record_catalog(store, fetched, clock).await
}

pub(super) async fn record_catalog(
    store: &Store,
    fetched: Fetched,
    clock: &dyn Clock,
) -> Result<CatalogStep> {
    let rec = in_progress(store, "catalog", "detect").await?;
    let step = apply_catalog(store, fetched, clock).await?;
    advance(store, rec.id, "catalog", "", Vec::new()).await?;
    Ok(step)
}
