//! `nxr doctor [--live]`: the domain's [`Doctor`], one ✓/✗/– line per check with the fix after a ✗;
//! a non-zero exit when any check fails. It changes nothing (not even the log file).

use super::{Ctx, shown};
use crate::domain::setup::doctor::{self, Doctor, Mark, Options};
use clap::Args;
use color_eyre::Result;
use color_eyre::eyre::bail;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also ask OpenRouter whether the key is valid and what tier it is on (one `GET /key`, no
    /// request from the free bucket).
    #[arg(long)]
    pub live: bool,
}

pub async fn run(ctx: &Ctx, args: DoctorArgs) -> Result<()> {
    let report = doctor::run(
        &ctx.env,
        Options {
            live: args.live,
            ..Options::default()
        },
    )
    .await;
    if ctx.json {
        super::print_json(&report)?;
    } else {
        super::write_stdout(&text(&report))?;
    }
    if !report.healthy() {
        bail!(
            "{} of {} check(s) failed; each ✗ line above says what to fix",
            report.failed,
            report.lines.len()
        );
    }
    Ok(())
}

/// The report as text (pure): `✓ topic: detail`, and after a ✗ (or a skipped line's how-to) the fix.
pub fn text(d: &Doctor) -> String {
    let mut out = String::new();
    for l in &d.lines {
        let topic = match &l.subject {
            Some(s) => format!("{} {}", l.topic.label(), shown(s)),
            None => l.topic.label().to_string(),
        };
        out.push_str(&format!(
            "{} {topic}: {}\n",
            l.mark.symbol(),
            shown(&l.detail)
        ));
        if let (Some(fix), Mark::Fail) = (&l.fix, l.mark) {
            out.push_str(&format!("    fix: {fix}\n"));
        }
    }
    if d.healthy() {
        out.push_str("All checks passed.\n");
    }
    out
}
