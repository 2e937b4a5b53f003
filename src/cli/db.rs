//! `nxr db status|migrate`.

use super::Ctx;
use crate::domain::store::Store;
use clap::Subcommand;
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Where the database is and which migrations are applied.
    Status,
    /// Apply pending migrations (every command that opens the store does this too).
    Migrate,
}

pub async fn run(ctx: &Ctx, cmd: DbCmd) -> Result<()> {
    match cmd {
        DbCmd::Status => status(ctx).await,
        DbCmd::Migrate => migrate(ctx).await,
    }
}

async fn status(ctx: &Ctx) -> Result<()> {
    // Not migrated: status shows what is pending.
    let store = Store::open_unmigrated_for_reading(&ctx.env).await?;
    let status = store.status().await?;
    if ctx.json {
        return super::print_json(&status);
    }
    let mut out = format!(
        "database: {} ({})\napplied migrations:\n",
        status.location, status.kind
    );
    if status.applied.is_empty() {
        out.push_str("  none\n");
    }
    for m in &status.applied {
        out.push_str(&format!(
            "  {:>4}  {:<24}  {}\n",
            m.version, m.name, m.applied_at
        ));
    }
    if status.pending.is_empty() {
        out.push_str("pending: none\n");
    } else {
        out.push_str(&format!(
            "pending: {} (run `nxr db migrate`, or any nxr command, to apply)\n",
            status.pending.join(", ")
        ));
    }
    super::write_stdout(&out)?;
    if status.newer_than_known {
        errln!(
            "warning: this database was written by a newer nxr (this nxr knows schema version {}); upgrade nxr",
            status.latest_known
        );
    }
    Ok(())
}

async fn migrate(ctx: &Ctx) -> Result<()> {
    let store = Store::open_unmigrated(&ctx.env).await?;
    let applied = store.migrate().await?;
    let status = store.status().await?;
    if ctx.json {
        return super::print_json(&serde_json::json!({
            "applied_now": applied,
            "status": status,
        }));
    }
    if applied.is_empty() {
        outln!(
            "nothing to apply: {} is up to date (schema version {})",
            status.location,
            status.latest_known
        );
    } else {
        outln!("applied {} to {}", applied.join(", "), status.location);
    }
    Ok(())
}
