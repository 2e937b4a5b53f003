//! `nxr models …`. `list` lives here; the scoring commands live in `cli::scoring`.

use super::Ctx;
use crate::domain::catalog::{self, Model};
use crate::domain::scoring::caveats;
use clap::{Args, Subcommand};
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// List models from the stored catalog (or the embedded snapshot).
    List(ListArgs),
    /// The best free model for a role.
    BestFree(super::scoring::BestFreeArgs),
    /// All free models with their score per role.
    Roster(super::scoring::RosterArgs),
    /// Score the catalog for every role, store the scores, and show what changed.
    Rescore,
    /// Explain a model's score for a role, sub-score by sub-score.
    Explain(super::scoring::ExplainArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only free models.
    #[arg(long)]
    pub free: bool,
    /// Only models with tool calling.
    #[arg(long)]
    pub tools: bool,
    /// Only models that take images.
    #[arg(long)]
    pub vision: bool,
    /// Only models with at least this context length (tokens).
    #[arg(long, value_name = "N")]
    pub min_context: Option<u64>,
    /// Fuzzy search over id and name, best match first (the same search as the TUI's `/` filter
    /// and the web models page).
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
}

pub async fn run(ctx: &Ctx, cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::List(args) => list(ctx, args).await,
        ModelsCmd::BestFree(args) => super::scoring::best_free(ctx, args).await,
        ModelsCmd::Roster(args) => super::scoring::roster(ctx, args).await,
        ModelsCmd::Rescore => super::scoring::models_rescore(ctx).await,
        ModelsCmd::Explain(args) => super::scoring::explain(ctx, args).await,
    }
}

/// One model in `models list --json`: the catalog fields plus what nxr derives from them.
#[derive(serde::Serialize)]
struct ListedModel<'a> {
    #[serde(flatten)]
    model: &'a Model,
    is_free: bool,
    is_router: bool,
    supports_tools: bool,
    supports_vision: bool,
    prompt_per_million: Option<f64>,
    completion_per_million: Option<f64>,
    /// Logs prompts, stealth, expires in N days (empty when none).
    caveats: Vec<crate::domain::scoring::caveats::Caveat>,
}

#[derive(serde::Serialize)]
struct Listing<'a> {
    source: &'a catalog::CatalogSource,
    count: usize,
    models: Vec<ListedModel<'a>>,
}

async fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let store = ctx.store_read().await?;
    let catalog = catalog::load(&store).await?;
    let filter = catalog::Filter {
        free: args.free,
        tools: args.tools,
        vision: args.vision,
        min_context: args.min_context,
    };
    let models: Vec<&Model> = match args.query.as_deref() {
        Some(q) => crate::domain::view::ModelList::for_search(&catalog.models)
            .search(q, &filter)
            .into_iter()
            .filter_map(|i| catalog.models.get(i as usize))
            .collect(),
        None => catalog.filter(&filter),
    };
    errln!("{}", catalog.source.describe());
    let now = store.now().timestamp();
    if ctx.json {
        return super::print_json(&Listing {
            source: &catalog.source,
            count: models.len(),
            models: models
                .iter()
                .map(|m| ListedModel {
                    model: m,
                    is_free: m.is_free(),
                    is_router: m.is_router(),
                    supports_tools: m.supports_tools(),
                    supports_vision: m.supports_vision(),
                    prompt_per_million: m.prompt_per_million(),
                    completion_per_million: m.completion_per_million(),
                    caveats: caveats::caveats(m, Some(now)),
                })
                .collect(),
        });
    }
    if models.is_empty() {
        errln!(
            "no model matches these filters; try fewer of --free, --tools, --vision, --min-context, or a shorter --query"
        );
        return Ok(());
    }
    let width = models
        .iter()
        .map(|m| m.id.chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    let header = format!(
        "{:<width$}  {:>9}  {:<5}  {:<6}  {:<26}  {}",
        "ID", "CONTEXT", "TOOLS", "VISION", "USD / 1M TOKENS (IN / OUT)", "NOTE"
    );
    let mut out = if super::color_enabled() {
        format!("\x1b[1m{header}\x1b[0m\n")
    } else {
        format!("{header}\n")
    };
    for m in &models {
        let line = format!(
            "{:<width$}  {:>9}  {:<5}  {:<6}  {:<26}  {}",
            m.id,
            m.context_length,
            yes_no(m.supports_tools()),
            yes_no(m.supports_vision()),
            m.price_label(),
            caveats::labels(&caveats::caveats(m, Some(now)))
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    super::write_stdout(&out)?;
    errln!("{} models", models.len());
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "-" }
}
