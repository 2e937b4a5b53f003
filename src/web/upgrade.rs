//! The upgrade flow on the web (the same domain calls as `nxr upgrade`):
//! - `GET /agents/upgrade` → the bulk upgrade plan (per agent: current model, paid pick, price,
//!   estimated monthly cost; the total) with a confirm form;
//! - `POST /agents/upgrade` → checks the key (a key typed in the form is validated and stored) and
//!   applies the plan;
//! - `POST /agents/id/{id}/upgrade`, `POST /agents/id/{id}/revert` → one agent (by its id, as the
//!   agents page's forms post) to its paid pick, or back to the last free model it had;
//!   `POST /agents/{name}/upgrade|revert` does the same by percent-encoded name.
//!
//! Every POST carries the CSRF token (the server refuses it otherwise). No logic here.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx, path_decode};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::catalog::openrouter::Timeouts;
use crate::domain::upgrade::{self, Plan, PlanOutcome, UpgradeError};
use maud::{Markup, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let path = req.path.trim_end_matches('/');
    let rest = path.strip_prefix("/agents/")?;
    let post = |f: &dyn Fn() -> Resp| {
        if req.method == "POST" {
            f()
        } else {
            method_not_allowed("POST")
        }
    };
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["upgrade"] => Some(match req.method.as_str() {
            "GET" | "HEAD" => plan_page(ctx, req),
            "POST" => apply_plan(ctx, req),
            _ => method_not_allowed("GET, POST"),
        }),
        ["id", id, action @ ("upgrade" | "revert")] => Some(post(&|| {
            let agent = match id.parse::<i64>() {
                Ok(id) => ctx.rt.block_on(agents::get(&ctx.store, &ctx.env, id)),
                Err(_) => Err(AgentError::NotFound(path_decode(id))),
            };
            match agent {
                Ok(a) => result_page(req, run(ctx, action, &a.name)),
                Err(e) => {
                    let e = UpgradeError::from(e);
                    error_page(req, status_of(&e), &super::hints::explain(&e))
                }
            }
        })),
        [name, action @ ("upgrade" | "revert")] => Some(post(&|| {
            result_page(req, run(ctx, action, &path_decode(name)))
        })),
        _ => None,
    }
}

/// Upgrades (`action` "upgrade") or reverts one agent, by name.
fn run(ctx: &WebCtx, action: &str, name: &str) -> Result<PlanOutcome, UpgradeError> {
    if action == "upgrade" {
        ctx.rt
            .block_on(upgrade::upgrade_agent(&ctx.store, &ctx.env, name))
    } else {
        ctx.rt
            .block_on(upgrade::revert_agent(&ctx.store, &ctx.env, name))
    }
}

fn status_of(e: &UpgradeError) -> u16 {
    match e {
        UpgradeError::NoKey | UpgradeError::EmptyKey | UpgradeError::InvalidKey(_) => 400,
        UpgradeError::KeyCheck { .. } => 502,
        UpgradeError::Agents(crate::domain::agents::AgentError::NotFound(_)) => 404,
        UpgradeError::Agents(crate::domain::agents::AgentError::ModelFailsRole { .. }) => 400,
        UpgradeError::Other(_) => 409,
        _ => 500,
    }
}

/// `include_chosen=1` (the form's checkbox, or the page's query): agents on a model the user chose
/// are switched too.
fn include_chosen(req: &Req) -> bool {
    req.field("include_chosen")
        .or_else(|| req.query_param("include_chosen").map(str::to_string))
        .is_some_and(|v| matches!(v.as_str(), "1" | "on" | "true"))
}

fn plan_page(ctx: &WebCtx, req: &Req) -> Resp {
    let plan = ctx.rt.block_on(upgrade::plan_upgrade(
        &ctx.store,
        &ctx.env,
        None,
        None,
        false,
        include_chosen(req),
        ctx.store.now(),
    ));
    let has_key = upgrade::has_stored_key(&ctx.env);
    match plan {
        Ok(plan) => Resp::html(
            200,
            layout(
                &req.nav,
                "Bulk upgrade",
                "/agents",
                plan_body(&plan, has_key, &csrf_field(req)),
            ),
        ),
        Err(e) => error_page(req, status_of(&e), &super::hints::explain(&e)),
    }
}

/// The bulk upgrade page's content (pure): the plan, the total, and the confirm form.
pub fn plan_body(plan: &Plan, has_key: bool, csrf: &Markup) -> Markup {
    html! {
        h1 { "Bulk upgrade" }
        p.muted { "Every agent on the best paid model for its role. " (shown(&plan.catalog)) }
        div.scroll { table #upgrade-plan {
            thead { tr { th { "Agent" } th { "Role" } th { "Current" } th { "Paid pick" } th { "$/1M prompt / completion" } th { "Est. $/month" } } }
            tbody {
                @for r in &plan.rows {
                    tr {
                        td { (shown(&r.agent)) }
                        td { (r.role.title()) }
                        td.model { code.id { (shown(&r.current.id)) } }
                        td.model {
                            @match &r.switch {
                                Some(s) => { code.id { (shown(&s.to.id)) } }
                                None if r.kept_choice => { span.muted.kept-choice { (upgrade::KEPT_CHOICE) } }
                                None => { span.muted { "keeps: " (shown(r.note.as_deref().unwrap_or(""))) } }
                            }
                        }
                        td { (r.switch.as_ref().map(|s| &s.to).unwrap_or(&r.current).price_label()) }
                        td { (upgrade::monthly_label(r)) }
                    }
                }
            }
        } }
        p #upgrade-total { strong { "Total estimated: " (upgrade::usd(plan.total_monthly_usd)) " a month" } " · " (plan.switch_count()) " of " (plan.rows.len()) " agents switch" }
        @if plan.uses_assumption {
            p.muted { "* no usage observed yet: estimated at " (plan.assumption) "." }
        }
        form method="post" action="/agents/upgrade" {
            (csrf)
            @if !has_key {
                p { label for="key" { "OpenRouter key (checked with OpenRouter, then stored in $HERMES_HOME/.env, mode 0600)" } }
                p { input #key type="password" name="key" autocomplete="off" required; }
            }
            @let kept = plan.kept_choice_count();
            @if kept > 0 {
                p { label { input #include-chosen type="checkbox" name="include_chosen" value="1"; " Also switch the " (kept) " agent(s) on a model you chose" } }
            }
            button #confirm-upgrade type="submit" { "Confirm: upgrade " (plan.switch_count()) " agents" }
            " " a #cancel-upgrade href="/agents" { "Cancel" }
        }
    }
}

fn apply_plan(ctx: &WebCtx, req: &Req) -> Resp {
    let key = req.field("key").filter(|v| !v.trim().is_empty());
    let done = ctx.rt.block_on(async {
        upgrade::check_key(
            &ctx.store,
            &ctx.env,
            key.as_deref(),
            true,
            Timeouts::default(),
        )
        .await?;
        let plan = upgrade::plan_upgrade(
            &ctx.store,
            &ctx.env,
            None,
            None,
            false,
            include_chosen(req),
            ctx.store.now(),
        )
        .await?;
        let out = upgrade::apply(&ctx.store, &ctx.env, &plan).await;
        match out.first_failure() {
            Some(f) => Err(UpgradeError::Other(format!(
                "{f} (the agents listed below as switched did)"
            ))),
            None => Ok(out),
        }
    });
    result_page(req, done)
}

fn result_page(req: &Req, done: Result<PlanOutcome, UpgradeError>) -> Resp {
    match done {
        Ok(out) => Resp::html(
            200,
            layout(&req.nav, "Agents changed", "/agents", outcome_body(&out)),
        ),
        Err(e) => error_page(req, status_of(&e), &super::hints::explain(&e)),
    }
}

fn outcome_body(out: &PlanOutcome) -> Markup {
    html! {
        h1 { "Agents changed" }
        ul #upgrade-result {
            @for s in &out.switched {
                li { (shown(&s.agent)) ": " code.id { (shown(&s.from)) } " → " code.id { (shown(&s.to)) } }
            }
            @if out.switched.is_empty() { li { "Nothing to change." } }
        }
        p { a href="/agents" { "Back to the agents" } }
    }
}

fn error_page(req: &Req, status: u16, message: &str) -> Resp {
    Resp::html(
        status,
        layout(
            &req.nav,
            "Nothing was changed",
            "/agents",
            html! {
                h1 { "Nothing was changed" }
                p.bad #upgrade-error { (shown(message)) }
                p { a href="/agents" { "Back to the agents" } }
            },
        ),
    )
}

/// The agents page's upgrade controls: the "Bulk upgrade" button and, per agent, upgrade and revert
/// forms (CSRF-protected).
pub fn agent_controls(agents: &[Agent], csrf: &Markup) -> Markup {
    html! {
        h2 { "Models" }
        p { a #bulk-upgrade href="/agents/upgrade" { "Bulk upgrade" } " — move every agent to the best paid model for its role, with the plan and its cost first." }
        div.scroll { table #agent-controls {
            thead { tr { th { "Agent" } th { "Model" } th { "" } } }
            tbody {
                @for a in agents {
                    @let path = format!("/agents/id/{}", a.id);
                    tr {
                        td { (shown(&a.name)) }
                        td.model { code.id { (shown(&a.model)) } }
                        td {
                            form method="post" style="display:inline" action=(format!("{path}/upgrade")) {
                                (csrf) button.upgrade type="submit" { "Upgrade to paid" }
                            }
                            " "
                            form method="post" style="display:inline" action=(format!("{path}/revert")) {
                                (csrf) button.revert type="submit" { "Revert to free" }
                            }
                        }
                    }
                }
            }
        } }
    }
}
