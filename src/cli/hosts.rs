//! Team mode on the command line: `nxr hosts` (every host sharing the database, with its last
//! heartbeat), `nxr agents move NAME --host H`, and `nxr config set host-name`.

use super::{Ctx, shown};
use color_eyre::Result;

/// `nxr hosts`.
pub async fn list(ctx: &Ctx) -> Result<()> {
    let store = ctx.store_read().await?;
    let background = crate::domain::view::background(&store, store.now()).await;
    if let Some(e) = &background.error {
        color_eyre::eyre::bail!("cannot read the hosts: {e}");
    }
    if ctx.json {
        return super::print_json(&background.hosts);
    }
    let me = crate::domain::base::host::this_host(&ctx.env);
    if background.hosts.is_empty() {
        outln!(
            "no host has registered yet: hosts register when nxr runs with NXR_DB_URL set to a shared libSQL server (this host is {me:?}; see docs/team.md)"
        );
        return Ok(());
    }
    for line in background.host_lines() {
        outln!("{}", shown(&line));
    }
    outln!("this host: {}", shown(&me));
    Ok(())
}

/// `nxr agents move NAME --host H`.
pub async fn move_agent(ctx: &Ctx, args: super::agents::MoveArgs) -> Result<()> {
    let store = ctx.store().await?;
    let moved =
        crate::domain::agents::reconcile::move_to(&store, &ctx.env, &args.name, &args.host).await?;
    let report = crate::domain::watch::team::reconcile(&store, &ctx.env).await?;
    let agent = crate::domain::agents::get(&store, &ctx.env, moved.id).await?;
    if ctx.json {
        return super::print_json(&serde_json::json!({ "agent": agent, "reconcile": report }));
    }
    for line in report.lines() {
        errln!("nxr: {line}");
    }
    let note = crate::domain::agents::reconcile::elsewhere_note(&store, &agent.host).await;
    if agent.is_here(&ctx.env) {
        outln!(
            "{} runs on this host ({}) now: Hermes profile {} at {}",
            shown(&agent.name),
            shown(&agent.host),
            agent.hermes_profile,
            agent.hermes_profile_path
        );
    } else {
        outln!("{} moved: {}", shown(&agent.name), shown(&note));
    }
    Ok(())
}

/// `nxr config set host-name NAME`.
pub async fn set_host_name(ctx: &Ctx, value: &str) -> Result<()> {
    let store = ctx.store().await?;
    let (old, new, moved) =
        crate::domain::agents::reconcile::rename_host(&store, &ctx.env, value).await?;
    if ctx.json {
        return super::print_json(
            &serde_json::json!({ "key": "host-name", "value": new, "was": old, "agents_moved": moved }),
        );
    }
    outln!(
        "host-name: {new} (was {old}; {moved} agent(s) assigned to it follow), kept in {}",
        crate::domain::base::host::file(&ctx.env).display()
    );
    if ctx.env.host_name.is_some() {
        errln!(
            "note: NXR_HOST_NAME is set in this shell and wins over the stored name; unset it for the new name to apply"
        );
    }
    Ok(())
}

/// `nxr config get host-name`.
pub fn get_host_name(ctx: &Ctx) -> Result<()> {
    let name = crate::domain::base::host::this_host(&ctx.env);
    if ctx.json {
        return super::print_json(&serde_json::json!({ "key": "host-name", "value": name }));
    }
    outln!("host-name: {}", shown(&name));
    Ok(())
}
