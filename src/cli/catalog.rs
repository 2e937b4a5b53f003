//! `nxr catalog refresh`.

use super::Ctx;
use crate::domain::catalog::openrouter::OpenRouterClient;
use crate::domain::{catalog, scoring::health};
use clap::Subcommand;
use color_eyre::Result;
use color_eyre::eyre::eyre;

#[derive(Debug, Subcommand)]
pub enum CatalogCmd {
    /// Fetch the catalog from OpenRouter and store it (the last good one is kept on any error).
    Refresh,
}

pub async fn run(ctx: &Ctx, cmd: CatalogCmd) -> Result<()> {
    match cmd {
        CatalogCmd::Refresh => refresh(ctx).await,
    }
}

#[derive(serde::Serialize)]
struct Refreshed<'a> {
    count: usize,
    skipped: usize,
    source: &'a catalog::CatalogSource,
    /// Endpoint uptime of the top candidates per role (checks that failed are listed as skipped).
    health: &'a health::HealthReport,
}

async fn refresh(ctx: &Ctx) -> Result<()> {
    let store = ctx.store().await?;
    // GET /models needs no key.
    let client = OpenRouterClient::from_env(&ctx.env, None);
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!(
        "fetching the model catalog from {}",
        client.base_url()
    ));
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let result = catalog::refresh_with_report(&store, &client, store.clock()).await;
    spinner.finish_and_clear();
    // One line: the error says what happened and what to do; the stored catalog is untouched.
    let report = result.map_err(|e| eyre!("{e}"))?;
    // Health of the top candidates per role, from the endpoints data (no chat request is spent).
    spinner.reset();
    spinner.set_message("checking endpoint uptime of the top candidates per role");
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    let checks = health::check_top_candidates(&store, &client, store.now())
        .await
        .unwrap_or_else(|e| health::HealthReport {
            checked: Vec::new(),
            skipped: vec![health::Skipped {
                model_id: "*".into(),
                reason: e.to_string(),
            }],
        });
    spinner.finish_and_clear();
    if ctx.json {
        return super::print_json(&Refreshed {
            count: report.catalog.models.len(),
            skipped: report.skipped,
            source: &report.catalog.source,
            health: &checks,
        });
    }
    let skipped = match report.skipped {
        0 => String::new(),
        1 => " (1 unusable entry skipped)".to_string(),
        n => format!(" ({n} unusable entries skipped)"),
    };
    outln!(
        "stored {} models{skipped}; {}",
        report.catalog.models.len(),
        report.catalog.source.describe()
    );
    outln!(
        "endpoint health: {} models checked{}",
        checks.checked.len(),
        match checks.skipped.len() {
            0 => String::new(),
            n => format!(
                "; {n} skipped (nothing changed for them): {}",
                checks
                    .skipped
                    .iter()
                    .map(|s| format!("{} ({})", s.model_id, s.reason))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    );
    Ok(())
}
