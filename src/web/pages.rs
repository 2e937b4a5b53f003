//! Page layout and the dashboard. maud escapes every interpolated string, so names and ids from the
//! catalog, config.yaml or the DB cannot inject markup. Pages work without JavaScript.

use super::{Req, Resp, WebCtx};
use crate::domain::agents::Agent;
use crate::domain::base::roles::Role;
use crate::domain::catalog::Filter;
use crate::domain::scoring::rescore;
use crate::domain::view::{Dashboard, ModelsQuery, ModelsView, NavView, models_view, tokens_label};
use maud::{DOCTYPE, Markup, PreEscaped, html};

pub use super::agents_page::{agents_body, agents_view_body};

const CSS: &str = r#"
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #5f6670; --bg: #fbfbfc; --card: #fff; --line: #d9dce1; --accent: #2456c9; --ok: #1d7a3a; --bad: #b3261e; --warn: #8a5a00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3ad; --bg: #15171a; --card: #1d2024; --line: #343a41; --accent: #7aa2ff; --ok: #6cc48a; --bad: #ff8a80; --warn: #f0c060; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; align-items: baseline; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--card); }
header .brand { font-weight: 700; letter-spacing: .04em; }
nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; min-width: 0; }
nav a { color: var(--muted); text-decoration: none; }
nav a.badge { display: inline-block; min-width: 1.4rem; padding: 0 .4rem; border-radius: 999px; background: var(--bad); color: #fff; text-align: center; font-size: .8rem; font-weight: 700; }
nav a.here { color: var(--fg); font-weight: 600; border-bottom: 2px solid var(--accent); }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1.5rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.skills { min-width: 14rem; } td.skills button { padding: .1rem .4rem; margin: .1rem; } td.model { min-width: 12rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .9em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.25rem; margin: 1rem 0; }
.muted { color: var(--muted); }
.caveat { color: var(--warn); font-size: .85rem; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
button, input[type=submit] { max-width: 100%; overflow-wrap: anywhere; font: inherit; padding: .45rem 1rem; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
input[type=text], input[type=search], input[type=number], input[type=password], select { font: inherit; padding: .4rem; border: 1px solid var(--line); border-radius: 4px; max-width: 100%; background: var(--bg); color: var(--fg); }
input[type=text], input[type=password] { width: 24rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; }
form.filters input[type=search] { width: 16rem; } form.filters input[type=number] { width: 8rem; }
p.notice { border-left: 4px solid var(--ok); padding: .4rem .75rem; background: var(--card); }
p.bad[role=alert] { border-left: 4px solid var(--bad); padding: .4rem .75rem; background: var(--card); }
@media (max-width: 40rem) { main { padding: 0 .75rem; margin-top: 1rem; } header { padding: .5rem .75rem; } .card { padding: .75rem; } h1 { font-size: 1.6rem; } }
ol.steps li { margin: .2rem 0; } ol.steps li.done { color: var(--ok); } ol.steps li.current { font-weight: 600; }
"#;

/// The navigation entries: (path, label).
pub const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/models", "Models"),
    ("/agents", "Agents"),
    ("/agents/manage", "Manage"),
    ("/models/switch", "Switch models"),
    ("/hermes", "Hermes"),
    ("/budget", "Budget"),
    ("/notifications", "Notifications"),
    ("/setup", "Setup"),
];

/// The page frame every HTML page uses: the navigation (with `nav`'s unread badge), `current` the nav
/// path to highlight.
pub fn layout(nav: &NavView, title: &str, current: &str, body: Markup) -> Markup {
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
                        @let unread = nav.unread_notifications;
                        @if unread > 0 {
                            a.badge #unread-badge href="/notifications" title="unread notifications" { (unread) }
                        }
                    }
                }
                @if let Some(down) = &nav.database_down {
                    p.bad #database-down role="alert" { (down) }
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

/// The answer to a sign-in link followed from another site: sets no state itself (the server adds the
/// cookie) and moves on to `target` at once, with a link for browsers that do not refresh.
pub fn signed_in_page(target: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta http-equiv="refresh" content=(format!("0;url={target}"));
                title { "Signed in · nxr" }
                style { (PreEscaped(CSS)) }
            }
            body {
                main {
                    h1 { "Signed in" }
                    p { a #continue href=(target) { "Continue to nxr" } }
                }
            }
        }
    }
}

/// The hidden field every state-changing form must carry.
pub fn csrf_field(req: &Req) -> Markup {
    html! { input type="hidden" name=(super::server::CSRF_FIELD) value=(req.csrf_token); }
}

/// A page with a heading and one message (errors, 401/403/413). It shows no badge: it answers
/// requests that may not be signed in, before any view is read.
pub fn message_page(title: &str, message: &str) -> Markup {
    layout(
        &NavView::default(),
        title,
        "",
        html! { h1 { (title) } p { (shown(message)) } p { a href="/" { "Back to the dashboard" } } },
    )
}

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    match req.path.as_str() {
        "/" | "/index.html" => Some(match req.method.as_str() {
            "GET" | "HEAD" => dashboard(ctx, req),
            _ => method_not_allowed("GET"),
        }),
        "/agents" | "/agents/" => Some(match req.method.as_str() {
            "GET" | "HEAD" => super::agents_page::page(ctx, req),
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
            &req.nav,
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

fn dashboard(ctx: &WebCtx, req: &Req) -> Resp {
    let dash = ctx.rt.block_on(crate::domain::view::dashboard(
        &ctx.store,
        &ctx.env,
        ctx.store.clock(),
        crate::domain::view::NEWEST_NOTIFICATIONS,
    ));
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
        layout(&req.nav, "Dashboard", "/", dashboard_page(&dash, &setup)),
    )
}

/// The whole dashboard from the one [`Dashboard`] view (the one Tab 1 and `nxr status` show): the
/// setup line, the agents and the catalog, the gateway, today's budget and the newest notifications.
pub fn dashboard_page(dash: &Dashboard, setup: &SetupStatus) -> Markup {
    let agents = match &dash.agents_error {
        Some(e) => Err(e.clone()),
        None => Ok(dash.agents.agents()),
    };
    let budget = match (&dash.budget, &dash.budget_error) {
        (Some(b), _) => Ok(b.clone()),
        (None, e) => Err(e.clone().unwrap_or_else(|| "not read".into())),
    };
    let notes = match &dash.notifications_error {
        Some(e) => Err(e.clone()),
        None => Ok(dash.notifications.clone()),
    };
    let g = &dash.gateway;
    html! {
        (dashboard_body(&agents, &dash.catalog_line(), setup))
        section.card #gateway {
            h2 { "Hermes gateway" }
            p { strong { (g.state.label()) }
                @if let Some(pid) = g.pid { " · pid " (pid) }
                @if let Some(m) = &g.model { " · model " code.id { (shown(m)) } }
                " · " a href="/hermes" { "Start, stop, restart" } }
            @if let Some(n) = &g.note { p.muted { (shown(n)) } }
        }
        section.card #background {
            h2 { "Background (nxr serve)" }
            @let line = dash.background.line(dash.now);
            @if dash.background.overdue || dash.background.error.is_some() {
                p.bad { (shown(&line)) }
            } @else {
                p { (shown(&line)) }
            }
            @for h in dash.background.host_lines() { p.host { (shown(&h)) } }
            p { a href="/doctor" { "Check the whole setup" } " (the same checks as " code { "nxr doctor" } ")" }
        }
        (crate::web::api_budget::alerts_body(&budget, &notes, dash.unread_notifications))
    }
}

/// Where the catalog nxr scores on came from, in words (the stored rows counted, not read).
pub(super) fn catalog_source(ctx: &WebCtx) -> String {
    match ctx
        .rt
        .block_on(crate::domain::view::catalog_summary(&ctx.store))
    {
        Ok((source, n)) => format!("{} ({n} models)", source.describe()),
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
                    div.scroll { table #agents-list {
                        thead { tr { th { "Name" } th { "Role" } th { "Model" } th { "Skills" } th { "Status" } } }
                        tbody {
                            @for a in list {
                                tr {
                                    td { (shown(&a.name)) @if a.is_default { " " span.muted { "(default)" } } }
                                    td { (a.role.title()) }
                                    td.model { code.id { (shown(&a.model)) } @if a.model_auto_assigned { " " span.muted { "auto" } } }
                                    td.skills { (shown(&a.skillset.join(", "))) }
                                    td { (shown(&a.status)) }
                                }
                            }
                        }
                    } }
                    p.muted { a href="/agents" { "Agent details" } " · " a href="/models" { "Compare models" } }
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

/// The form marks its submissions with this field, so an unticked "free only" box means "all
/// models" while a bare `/models` still opens on the free ones.
const SUBMITTED_FIELD: &str = "f";

/// Parses `/models?…`: the query without its unusable parts, and what was wrong with those (each
/// naming the parameter and the fix), so the form can be shown again with the rest kept.
pub fn models_query_from_req(req: &Req) -> (ModelsQuery, Vec<String>) {
    let mut problems = Vec::new();
    let on = |name: &str| {
        req.query_param(name)
            .is_some_and(|v| matches!(v, "1" | "on" | "true" | "yes"))
    };
    let submitted = req.query_param(SUBMITTED_FIELD).is_some();
    let role = match req
        .query_param("role")
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => None,
        Some(r) => r
            .parse::<Role>()
            .map_err(|e| problems.push(e.to_string()))
            .ok(),
    };
    let min_context = match req
        .query_param("min_context")
        .map(|v| v.trim().replace(['_', ','], ""))
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| {
                problems.push(format!(
                    "min context {:?} is not a whole number of tokens; enter e.g. 32000, or leave it empty for any",
                    v.chars().take(40).collect::<String>()
                ))
            })
            .ok(),
    };
    let query = ModelsQuery {
        filter: Filter {
            free: if submitted { on("free") } else { true },
            tools: on("tools"),
            vision: on("vision"),
            min_context,
        },
        text: req
            .query_param("q")
            .map(|q| q.trim().chars().take(200).collect())
            .unwrap_or_default(),
        role,
    };
    (query, problems)
}

fn models_page(ctx: &WebCtx, req: &Req) -> Resp {
    let (q, problems) = models_query_from_req(req);
    if !problems.is_empty() {
        let body = models_body(&Err(problems.join("; ")), &q);
        return Resp::html(400, layout(&req.nav, "Models", "/models", body));
    }
    let view = ctx
        .rt
        .block_on(rescore::inputs(&ctx.store, ctx.store.now()))
        .map(|inputs| models_view(&inputs, &q))
        .map_err(|e| format!("cannot score the catalog: {e}"));
    Resp::html(
        200,
        layout(&req.nav, "Models", "/models", models_body(&view, &q)),
    )
}

/// The models page's content (pure): the filter form, the best free model per role, and the models the
/// filters keep, with each free model's score per role.
pub fn models_body(view: &Result<ModelsView, String>, q: &ModelsQuery) -> Markup {
    html! {
        h1 { "Models" }
        form.filters #filters method="get" action="/models" {
            input type="hidden" name=(SUBMITTED_FIELD) value="1";
            label for="q" { "Search" }
            input #q type="search" name="q" value=(shown(&q.text)) placeholder="id or name, e.g. qwen coder";
            label { input #free type="checkbox" name="free" value="1" checked[q.filter.free]; " Free only" }
            label { input #tools type="checkbox" name="tools" value="1" checked[q.filter.tools]; " Tools" }
            label { input #vision type="checkbox" name="vision" value="1" checked[q.filter.vision]; " Vision" }
            label for="min_context" { "Min context" }
            input #min_context type="number" name="min_context" min="0" step="1000" placeholder="tokens"
                value=[q.filter.min_context];
            label for="role" { "Role" }
            select #role name="role" {
                option value="" selected[q.role.is_none()] { "all roles" }
                @for r in Role::ALL {
                    option value=(r.as_str()) selected[q.role == Some(r)] { (r.title()) }
                }
            }
            button type="submit" { "Show" }
            a href="/models?f=1" { "Clear filters" }
        }
        @match view {
            Err(e) => { p.bad #error role="alert" { (shown(e)) } }
            Ok(v) => {
                p.muted #catalog { (shown(&v.catalog.describe())) " · "
                    strong #count { (v.rows.len()) } " of " (v.total) " models match" }
                section.card {
                    h2 { "Best free model per role" }
                    div.scroll { table #best {
                        tbody {
                            @for role in &v.roles {
                                tr {
                                    th { (role.title()) }
                                    td { @match v.best.get(role) {
                                        Some(id) => code.id { (shown(id)) },
                                        None => span.muted { "no free model qualifies (a fallback applies)" },
                                    } }
                                }
                            }
                        }
                    } }
                }
                @if v.rows.is_empty() {
                    p #empty { "No model matches these filters. Untick some boxes, lower the minimum context or shorten the search — or "
                        a href="/models?f=1" { "clear the filters" } "." }
                } @else {
                    div.scroll { table #roster {
                        thead { tr {
                            th { "Model" } th.num { "Context" } th { "Tools" } th { "Vision" } th { "USD / 1M in / out" }
                            @for role in &v.roles { th.num { (role.title()) } }
                        } }
                        tbody {
                            @for r in &v.rows {
                                tr data-model=(shown(&r.model.id)) {
                                    td.model { code.id { (shown(&r.model.id)) } br; span.muted { (shown(&r.model.name)) }
                                        @if !r.caveats.is_empty() { br; span.caveat title=(crate::domain::scoring::caveats::describe(&r.caveats)) { (crate::domain::scoring::caveats::labels(&r.caveats)) } } }
                                    td.num title=(r.model.context_length) { (tokens_label(r.model.context_length)) }
                                    td { @if r.model.supports_tools() { "yes" } @else { span.muted { "—" } } }
                                    td { @if r.model.supports_vision() { "yes" } @else { span.muted { "—" } } }
                                    td { (r.model.price_label()) }
                                    @for role in &v.roles {
                                        td.num { @match r.scores.as_ref().and_then(|s| s.scores.get(role)) {
                                            Some(s) if s.passes => { (s.total) @if let Some(rank) = s.rank { span.muted { " #" (rank) } }
                                                @if let Some(f) = r.main_figures.get(role) { br; span.muted.figure title="main published figure for this role" { (f) } } }
                                            Some(_) => span.muted title="fails the role's requirements" { "fails" },
                                            None => span.muted title="scores are for free models only" { "" },
                                        } }
                                    }
                                }
                            }
                        }
                    } }
                    p.muted { "Scores rank free models per role (higher is better, #n = place); “fails” = misses the role's requirements. "
                        "Under a score: the role's main published figure (none: capability is estimated from size). "
                        code { "nxr models explain MODEL --role R" } " shows why, with each figure's source and date." }
                }
            }
        }
    }
}
