//! Page layout and the dashboard. maud escapes every interpolated string, so names and ids from the
//! catalog, config.yaml or the DB cannot inject markup. Pages work without JavaScript.

use super::{Req, Resp, WebCtx};
use crate::domain::agents::{self, Agent};
use crate::domain::rescore::{self, Roster};
use crate::domain::roles::Role;
use maud::{DOCTYPE, Markup, PreEscaped, html};

const CSS: &str = r#"
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #5f6670; --bg: #fbfbfc; --card: #fff; --line: #d9dce1; --accent: #2456c9; --ok: #1d7a3a; --bad: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3ad; --bg: #15171a; --card: #1d2024; --line: #343a41; --accent: #7aa2ff; --ok: #6cc48a; --bad: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--card); }
header .brand { font-weight: 700; letter-spacing: .04em; }
nav a { margin-right: 1rem; color: var(--muted); text-decoration: none; }
nav a.here { color: var(--fg); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1.5rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin: 1rem 0; }
.muted { color: var(--muted); }
.ok { color: var(--ok); } .bad { color: var(--bad); }
button, input[type=submit] { font: inherit; padding: .45rem 1rem; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
input[type=text], input[type=password] { font: inherit; padding: .4rem; border: 1px solid var(--line); border-radius: 4px; width: 24rem; max-width: 100%; background: var(--bg); color: var(--fg); }
ol.steps li { margin: .2rem 0; } ol.steps li.done { color: var(--ok); } ol.steps li.current { font-weight: 600; }
"#;

/// The navigation entries: (path, label).
pub const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/models", "Models"),
    ("/agents", "Agents"),
    ("/setup", "Setup"),
];

/// The page frame every HTML page uses. `current` is the nav path to highlight.
pub fn layout(title: &str, current: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · nxr" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    span.brand { "nxr" }
                    nav {
                        @for (path, label) in NAV {
                            @if *path == current {
                                a.here href=(path) { (label) }
                            } @else {
                                a href=(path) { (label) }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// Text as a page shows it: control characters (ESC, NUL, C1 controls…) and bidirectional overrides
/// from the catalog, config.yaml, the DB or a request are replaced with U+FFFD, and line breaks and
/// tabs with a space, so no terminal escape or invisible reordering reaches the browser. maud still
/// HTML-escapes the result. Display only: the stored data is left as it is.
pub fn shown(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                '\u{FFFD}'
            }
            c => c,
        })
        .collect()
}

/// The hidden field every state-changing form must carry.
pub fn csrf_field(req: &Req) -> Markup {
    html! { input type="hidden" name=(super::server::CSRF_FIELD) value=(req.csrf_token); }
}

/// A page with a heading and one message (errors, 401/403/413).
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(
        title,
        "",
        html! { h1 { (title) } p { (shown(message)) } p { a href="/" { "Back to the dashboard" } } },
    )
}

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    match req.path.as_str() {
        "/" | "/index.html" => Some(match req.method.as_str() {
            "GET" | "HEAD" => dashboard(ctx),
            _ => method_not_allowed("GET"),
        }),
        "/agents" | "/agents/" => Some(match req.method.as_str() {
            "GET" | "HEAD" => agents_page(ctx),
            _ => method_not_allowed("GET"),
        }),
        "/models" | "/models/" => Some(match req.method.as_str() {
            "GET" | "HEAD" => models_page(ctx, req),
            _ => method_not_allowed("GET"),
        }),
        _ => None,
    }
}

/// 405 with an Allow header, as an HTML page.
pub fn method_not_allowed(allow: &str) -> Resp {
    Resp::html(
        405,
        message_page(
            "Method not allowed",
            &format!("This page answers {allow} only."),
        ),
    )
    .with_header("Allow", allow)
}

pub fn not_found(req: &Req) -> Resp {
    Resp::html(
        404,
        layout(
            "Not found",
            "",
            html! {
                h1 { "Not found" }
                p { "Nothing lives at " code { (shown(&req.path)) } "." }
                p { a href="/" { "Back to the dashboard" } }
            },
        ),
    )
}

fn dashboard(ctx: &WebCtx) -> Resp {
    let agents = ctx
        .rt
        .block_on(agents::list(&ctx.store, &ctx.env))
        .map_err(|e| e.to_string());
    let catalog = catalog_source(ctx);
    let setup = match ctx
        .rt
        .block_on(crate::domain::onboarding::completed(&ctx.store))
    {
        Ok(Some(r)) => SetupStatus::Done(r.completed_at.unwrap_or_default()),
        Ok(None) => SetupStatus::NotYet,
        Err(e) => SetupStatus::Unknown(e.to_string()),
    };
    Resp::html(
        200,
        layout("Dashboard", "/", dashboard_body(&agents, &catalog, &setup)),
    )
}

/// Where the catalog nxr scores on came from, in words.
fn catalog_source(ctx: &WebCtx) -> String {
    match ctx.rt.block_on(crate::domain::catalog::load(&ctx.store)) {
        Ok(c) => format!("{} ({} models)", c.source.describe(), c.models.len()),
        Err(e) => format!("cannot read the stored catalog: {e}"),
    }
}

/// Whether onboarding has run (shown on the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStatus {
    /// Completed at this time.
    Done(String),
    NotYet,
    Unknown(String),
}

/// The dashboard's content (pure, for tests and snapshots).
pub fn dashboard_body(
    agents: &Result<Vec<Agent>, String>,
    catalog: &str,
    setup: &SetupStatus,
) -> Markup {
    html! {
        h1 { "Dashboard" }
        @match setup {
            SetupStatus::Done(at) => p.muted #setup-status { "Set up " (shown(at)) ". " a href="/setup" { "Setup summary" } }
            SetupStatus::NotYet => p #setup-status { strong { "Not set up yet. " } a href="/setup" { "Run the setup" } " — three agents on free models, no key needed." }
            SetupStatus::Unknown(e) => p.bad #setup-status { "Cannot read the setup state: " (shown(e)) }
        }
        section.card {
            h2 { "Agents" }
            @match agents {
                Ok(list) if list.is_empty() => {
                    p { "No agents yet. " a href="/setup" { "Run the setup" } " (or " code { "nxr init" } ") to create a PM, an Engineer and a Hermes agent on free models." }
                }
                Ok(list) => {
                    table {
                        thead { tr { th { "Name" } th { "Role" } th { "Model" } th { "Skills" } th { "Status" } } }
                        tbody {
                            @for a in list {
                                tr {
                                    td { (shown(&a.name)) @if a.is_default { " " span.muted { "(default)" } } }
                                    td { (a.role.title()) }
                                    td { code { (shown(&a.model)) } @if a.model_auto_assigned { " " span.muted { "auto" } } }
                                    td { (shown(&a.skillset.join(", "))) }
                                    td { (shown(&a.status)) }
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    p.bad { "Cannot list the agents: " (shown(e)) }
                    p { a href="/setup" { "Open the setup" } " or run " code { "nxr init" } "." }
                }
            }
        }
        section.card {
            h2 { "Catalog" }
            p { (shown(catalog)) }
        }
    }
}

fn agents_page(ctx: &WebCtx) -> Resp {
    let agents = ctx
        .rt
        .block_on(agents::list(&ctx.store, &ctx.env))
        .map_err(|e| e.to_string());
    Resp::html(200, layout("Agents", "/agents", agents_body(&agents)))
}

/// The agents page's content (pure).
pub fn agents_body(agents: &Result<Vec<Agent>, String>) -> Markup {
    html! {
        h1 { "Agents" }
        @match agents {
            Ok(list) if list.is_empty() => {
                p { "No agents yet. " a href="/setup" { "Run the setup" } " for the three defaults, or " code { "nxr agents create" } "." }
            }
            Ok(list) => {
                table #agents-list {
                    thead { tr { th { "Name" } th { "Role" } th { "Model" } th { "Provider" } th { "Hermes profile" } th { "Skills" } th { "Status" } } }
                    tbody {
                        @for a in list {
                            tr {
                                td { (shown(&a.name)) @if a.is_default { " " span.muted { "(default)" } } }
                                td { (a.role.title()) }
                                td { code { (shown(&a.model)) } @if a.model_auto_assigned { " " span.muted { "auto" } } }
                                td { (shown(&a.provider)) }
                                td { code { (shown(&a.hermes_profile)) } }
                                td { (shown(&a.skillset.join(", "))) }
                                td { (shown(&a.status)) }
                            }
                        }
                    }
                }
                p.muted { "Create and change agents with " code { "nxr agents" } " or in the TUI (" code { "nxr" } ")." }
            }
            Err(e) => { p.bad { "Cannot list the agents: " (shown(e)) } }
        }
    }
}

fn models_page(ctx: &WebCtx, req: &Req) -> Resp {
    let role = match req.query_param("role").filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse::<Role>() {
            Ok(role) => Some(role),
            Err(e) => {
                return Resp::html(400, message_page("Models", &e.to_string()));
            }
        },
    };
    let roster = ctx
        .rt
        .block_on(rescore::roster(&ctx.store, role, chrono::Utc::now()))
        .map_err(|e| e.to_string());
    Resp::html(200, layout("Models", "/models", models_body(&roster, role)))
}

/// The models page's content (pure): the best free model per role and every free model's scores.
pub fn models_body(roster: &Result<Roster, String>, role: Option<Role>) -> Markup {
    html! {
        h1 { "Free models" }
        form method="get" action="/models" {
            label { "Role: "
                select name="role" {
                    option value="" selected[role.is_none()] { "all roles" }
                    @for r in Role::ALL {
                        option value=(r.as_str()) selected[role == Some(r)] { (r.title()) }
                    }
                }
            }
            " "
            button type="submit" { "Show" }
        }
        @match roster {
            Err(e) => { p.bad { "Cannot score the catalog: " (shown(e)) } }
            Ok(r) => {
                p.muted { (shown(&r.catalog.describe())) " · " (r.models.len()) " free models" }
                section.card {
                    h2 { "Best free model per role" }
                    table #best {
                        tbody {
                            @for role in &r.roles {
                                tr {
                                    th { (role.title()) }
                                    td { @match r.best.get(role) {
                                        Some(id) => code { (shown(id)) },
                                        None => span.muted { "no free model qualifies (a fallback applies)" },
                                    } }
                                }
                            }
                        }
                    }
                }
                table #roster {
                    thead { tr {
                        th { "Model" } th { "Context" }
                        @for role in &r.roles { th { (role.title()) } }
                    } }
                    tbody {
                        @for m in &r.models {
                            tr {
                                td { code { (shown(&m.model_id)) } br; span.muted { (shown(&m.name)) } }
                                td { (m.context_length) }
                                @for role in &r.roles {
                                    td { @match m.scores.get(role) {
                                        Some(s) if s.passes => { (s.total) @if let Some(rank) = s.rank { span.muted { " #" (rank) } } }
                                        Some(_) => span.muted { "—" },
                                        None => "",
                                    } }
                                }
                            }
                        }
                    }
                }
                p.muted { "“—” = fails the role's requirements. " code { "nxr models explain MODEL --role R" } " shows why." }
            }
        }
    }
}
