//! The agents page (`/agents`): every agent with its model, fallback chain, profile (and host, once
//! the agents run on more than one), skills, usage, whether it can run and its Paperclip link, from the
//! agents view.

use super::pages::{catalog_source, csrf_field, layout, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::agents::Agent;
use crate::domain::paperclip::links::LinkState;
use crate::domain::view::{Agents, Checks};
use crate::domain::watch::agent_check::{AgentCheck, CheckState};
use maud::{Markup, html};

pub(super) fn page(ctx: &WebCtx, req: &Req) -> Resp {
    let view = ctx
        .rt
        .block_on(crate::domain::view::agents(
            &ctx.store,
            &ctx.env,
            ctx.store.clock(),
            Checks::Stored,
        ))
        .map_err(|e| e.to_string());
    let catalog = catalog_source(ctx);
    let controls = match &view {
        Ok(v) if !v.is_empty() => super::upgrade::agent_controls(&v.agents(), &csrf_field(req)),
        _ => html! {},
    };
    Resp::html(
        200,
        layout(
            &req.nav,
            "Agents",
            "/agents",
            html! { (agents_view_body(&view, &catalog)) (controls) },
        ),
    )
}

/// An agent's check state: the label (in the state's colour), why, and the first fix.
fn check_cell(check: Option<&AgentCheck>) -> Markup {
    html! {
        @match check {
            None => { span.muted { "not checked" } }
            Some(c) => {
                @let class = match c.state {
                    CheckState::Ready => "ok",
                    CheckState::NeedsKey => "warn",
                    CheckState::Broken => "bad",
                };
                strong class=(class) { (c.state.label()) }
                @for why in &c.reasons { br; span.muted { (shown(why)) } }
                @if c.state != CheckState::Ready { @if let Some(fix) = c.first_fix() { br; span { "Fix: " (shown(fix)) } } }
            }
        }
    }
}

/// The agents page's content from facts read apart (pure): `links`, each agent's Paperclip link
/// state by agent id; `checks`, whether each agent can run, matched by name.
pub fn agents_body(
    agents: &Result<Vec<Agent>, String>,
    catalog: &str,
    links: &[(i64, LinkState)],
    checks: &[AgentCheck],
) -> Markup {
    let view = agents
        .as_ref()
        .map(|list| Agents::from_parts(list.clone(), checks, links, &[]))
        .map_err(Clone::clone);
    agents_view_body(&view, catalog)
}

/// The agents page's content from the agents view (pure): each row's agent, check, fallback chain,
/// usage and Paperclip link.
pub fn agents_view_body(view: &Result<Agents, String>, catalog: &str) -> Markup {
    // Team mode: each agent's host, once the agents run on more than one.
    let several_hosts = view.as_ref().is_ok_and(|v| {
        let mut hosts = v.iter().map(|r| r.agent.host.as_str());
        let first = hosts.next();
        hosts.any(|h| Some(h) != first)
    });
    html! {
        h1 { "Agents" }
        p.muted #catalog { (shown(catalog)) " · " a href="/models" { "Compare models" } }
        @match view {
            Ok(v) if v.is_empty() => {
                p { "No agents yet. " a href="/setup" { "Run the setup" } " for the three defaults, or " code { "nxr agents create" } "." }
            }
            Ok(v) => {
                div.scroll { table #agents-list {
                    thead { tr { th { "Name" } th { "Role" } th { "Model" } th { "Provider" } th { "Hermes profile" } th { "Skills" } th { "Status" } th { "Can run" } th { "Paperclip" } } }
                    tbody {
                        @for r in v {
                            @let a = &r.agent;
                            tr {
                                td { (shown(&a.name)) @if a.is_default { " " span.muted { "(default)" } } }
                                td { (a.role.title()) }
                                td.model { code.id { (shown(&a.model)) } @if a.model_auto_assigned { " " span.muted { "auto" } }
                                    @if !r.fallbacks.is_empty() {
                                        br; span.muted.fallbacks { "then " (shown(&r.fallbacks.join(" → "))) }
                                    }
                                }
                                td { (shown(&a.provider)) }
                                td { code { (shown(&a.hermes_profile)) }
                                    @if several_hosts { br; span.muted.host { "on " (shown(&a.host)) } } }
                                td.skills { (shown(&a.skillset.join(", "))) }
                                td { (shown(&a.status))
                                    @if let Some(line) = r.usage.summary() { br; span.muted.usage { (line) } }
                                }
                                td.check { (check_cell(r.check.as_ref())) }
                                td.paperclip { (r.paperclip.map_or("—", |s| s.label())) }
                            }
                        }
                    }
                } }
                p.muted { "Create and change agents with " code { "nxr agents" } " or in the TUI (" code { "nxr" } ")." }
            }
            Err(e) => { p.bad { "Cannot list the agents: " (shown(e)) } }
        }
    }
}
