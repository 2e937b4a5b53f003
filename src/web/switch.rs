//! `/models/switch`: the slot editor, of the root profile's config.yaml or (`?agent=`, chosen in
//! the page's agent selector) an agent's; an agent whose profile is on another host shows its main
//! model, which the database carries to that host. The slot list, then (with `?slot=`) a model picker with the
//! server-side fuzzy search and the free / tools / vision / min-context toggles, a price panel for
//! the picked candidate (`&candidate=`) and a confirm form that writes config.yaml. A small script
//! refreshes the results while typing (fetching this same page); without it the Search button does.
//! `/api/models/switch` answers the same view model as JSON (GET) and applies a choice (POST
//! `{"slot": …, "model": …}`). Everything comes from `domain::view::model_switch`.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx, url_with_query};
use crate::domain::agents::AgentError;
use crate::domain::catalog::Filter;
use crate::domain::view::model_switch::{self, SwitchError, SwitchQuery, SwitchView};
use maud::{Markup, PreEscaped, html};

/// `POST /api/models/switch`: `{"slot": …, "model": …}` and optionally `"agent"` (name or id: that
/// agent's config.yaml instead of the root profile's, as `nxr slots set --agent`); any other field
/// is refused.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBody {
    slot: String,
    model: String,
    agent: Option<String>,
    /// As `nxr slots set --force`.
    #[serde(default)]
    force: bool,
}

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    Some(match req.path.as_str() {
        "/models/switch" | "/models/switch/" if get => page(ctx, req, None),
        "/models/switch" | "/models/switch/" if req.method == "POST" => {
            let f = |k: &str| req.field(k).unwrap_or_default();
            let (slot, model) = (f("slot"), f("model"));
            let agent = Some(f("agent")).filter(|a| !a.is_empty());
            let force = matches!(f("force").as_str(), "1" | "on" | "true");
            let r = ctx.rt.block_on(model_switch::apply_for(
                &ctx.store,
                &ctx.env,
                agent.as_deref(),
                &slot,
                &model,
                force,
            ));
            let forceable = matches!(
                r,
                Err(SwitchError::NoImageInput { .. } | SwitchError::OwnEndpoint { .. })
            );
            let result = match r {
                Ok(a) => (true, a.summary()),
                Err(e) => (false, super::hints::explain(&e)),
            };
            let retry = forceable.then_some((slot, model));
            page_with(ctx, req, Some(result), retry)
        }
        "/models/switch" | "/models/switch/" => method_not_allowed("GET, POST"),
        "/api/models/switch" if get => match load(ctx, &query(req)) {
            Ok(v) => Resp::json(200, &v),
            Err(e) => Resp::json_error(500, &e),
        },
        "/api/models/switch" if req.method == "POST" => {
            const SEND: &str = "{\"slot\": \"vision\", \"model\": \"<model id>\"}";
            let body = match super::json_body::<SwitchBody>(req, SEND) {
                Some(Ok(b)) => b,
                Some(Err(e)) => return Some(Resp::json_error(400, &e)),
                None => {
                    return Some(Resp::json_error(
                        400,
                        &format!("the body is not JSON; nothing was changed. Send {SEND}"),
                    ));
                }
            };
            match ctx.rt.block_on(model_switch::apply_for(
                &ctx.store,
                &ctx.env,
                body.agent.as_deref(),
                &body.slot,
                &body.model,
                body.force,
            )) {
                Ok(applied) => {
                    Resp::json(200, &serde_json::json!({ "ok": true, "applied": applied }))
                }
                Err(SwitchError::Agent(AgentError::NotFound(name))) => Resp::json_error(
                    404,
                    &format!(
                        "no agent is called {name:?}; nothing was changed. Drop \"agent\" for the root profile's config.yaml, or name one from GET /api/agents"
                    ),
                ),
                Err(e) => Resp::json_error(400, &super::hints::explain(&e)),
            }
        }
        "/api/models/switch" => {
            Resp::json_error(405, "GET or POST").with_header("Allow", "GET, POST")
        }
        _ => return None,
    })
}

/// The agent whose config.yaml the page edits: `?agent=`, or the form's field on a POST.
fn agent_param(req: &Req) -> Option<String> {
    req.query_param("agent")
        .map(str::to_string)
        .or_else(|| req.field("agent"))
        .filter(|a| !a.is_empty())
}

fn query(req: &Req) -> SwitchQuery {
    let on = |k: &str| req.query_param(k).is_some_and(|v| v == "1" || v == "on");
    SwitchQuery {
        agent: agent_param(req),
        slot: req.query_param("slot").map(str::to_string),
        text: req.query_param("q").unwrap_or_default().to_string(),
        filter: Filter {
            free: on("free"),
            tools: on("tools"),
            vision: on("vision"),
            min_context: req
                .query_param("min_context")
                .and_then(|v| v.trim().parse().ok())
                .filter(|n| *n > 0),
        },
        candidate: req
            .query_param("candidate")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    }
}

fn load(ctx: &WebCtx, q: &SwitchQuery) -> Result<SwitchView, String> {
    ctx.rt
        .block_on(model_switch::load(
            &ctx.store,
            &ctx.env,
            ctx.store.clock(),
            q,
        ))
        .map_err(|e| super::hints::explain(&e))
}

fn page(ctx: &WebCtx, req: &Req, result: Option<(bool, String)>) -> Resp {
    page_with(ctx, req, result, None)
}

/// The page; `retry` (slot, model) adds the "use it anyway" form after a refusal `force` overrides.
fn page_with(
    ctx: &WebCtx,
    req: &Req,
    result: Option<(bool, String)>,
    retry: Option<(String, String)>,
) -> Resp {
    let q = query(req);
    let v = load(ctx, &q);
    let status = match (&v, &result) {
        (Err(_), _) => 500,
        (_, Some((false, _))) => 400,
        _ => 200,
    };
    let body = html! {
        h1 { "Switch models" }
        @if let Some((ok, msg)) = &result {
            @if *ok { p.notice role="status" #result { (shown(msg)) } } @else { p.bad role="alert" #result { (shown(msg)) } }
        }
        @if let Some((slot, model)) = &retry {
            form #force-form method="post" action=(here(q.agent.as_deref(), &[("slot", slot)])) {
                (csrf_field(req))
                @if let Some(a) = &q.agent { input type="hidden" name="agent" value=(a); }
                input type="hidden" name="slot" value=(slot);
                input type="hidden" name="model" value=(model);
                input type="hidden" name="force" value="1";
                button #force-confirm type="submit" { "Use " (shown(model)) " for " (shown(slot)) " anyway" }
            }
        }
        @match &v {
            Err(e) => { p.bad role="alert" { (shown(e)) } }
            Ok(v) => { (agent_selector(v)) (slots_table(v)) @if v.slot.is_some() { (picker(req, &q, v)) } }
        }
    };
    Resp::html(
        status,
        layout(&req.nav, "Switch models", "/models/switch", body),
    )
}

fn money(v: Option<f64>) -> String {
    match v {
        Some(0.0) => "free".into(),
        Some(x) => format!("${x:.2}"),
        None => "—".into(),
    }
}

/// `/models/switch` with `pairs`, after `agent=` when an agent's config.yaml is edited.
fn here(agent: Option<&str>, pairs: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = agent.map(|a| ("agent", a)).into_iter().collect();
    all.extend_from_slice(pairs);
    url_with_query("/models/switch", &all)
}

/// Whose config.yaml: the root profile's or an agent's (with its host in team mode).
fn agent_selector(v: &SwitchView) -> Markup {
    let hosts = v.agents.iter().any(|a| !a.here);
    html! {
        form.filters #agent-form method="get" action="/models/switch" {
            label for="agent" { "Config of " }
            select #agent name="agent" {
                option value="" selected[v.agent.is_none()] { "the root profile ($HERMES_HOME)" }
                @for a in &v.agents {
                    option value=(a.name) selected[v.agent.as_deref() == Some(a.name.as_str())] {
                        "agent " (shown(&a.name))
                        @if hosts { " (host " (shown(&a.host)) ")" }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if let (Some(a), Some(h)) = (&v.agent, &v.elsewhere) {
            p.notice #elsewhere { "Agent " (shown(a)) " runs on host " (shown(h)) ": its slots are shown as host " (shown(h)) " last read them from its config.yaml, and a change made here is written there by host " (shown(h)) " at its next reconcile." }
            @if !v.requests.is_empty() {
                div.scroll { table #requests {
                    tr { th { "Asked" } th { "On host" } th { "Slot" } th { "Model" } th { "State" } }
                    @for r in &v.requests {
                        tr {
                            td { (shown(&r.asked_at)) } td { (shown(&r.asked_on)) }
                            td { code { (shown(&r.slot)) } } td { code { (shown(&r.model)) } }
                            td { (r.state()) @if let Some(e) = &r.error { ": " (shown(e)) } }
                        }
                    }
                } }
            }
        }
    }
}

fn slots_table(v: &SwitchView) -> Markup {
    let agent = v.agent.as_deref();
    html! {
        p.muted { "Routing slots in " code { (shown(&v.config_path)) } "." }
        div.scroll { table #slots {
            tr { th { "Slot" } th { "Model" } th { "Provider" } th { "" } }
            @for s in &v.slots {
                tr id=(format!("slot-{}", s.name)) {
                    td { code { (shown(&s.name)) } }
                    td.model { code { (shown(s.model.as_deref().unwrap_or("(not set)"))) } }
                    td { (shown(s.provider.as_deref().unwrap_or("—"))) }
                    td { a href=(here(agent, &[("slot", &s.name)])) { "Change" } }
                }
            }
        } }
    }
}

const LIVE_SCRIPT: &str = r#"
(function(){var f=document.getElementById('picker-form');if(!f||!window.fetch||!window.DOMParser)return;var t=null;
function go(){var u='/models/switch?'+new URLSearchParams(new FormData(f)).toString();
fetch(u,{credentials:'same-origin'}).then(function(r){return r.text()}).then(function(h){var d=new DOMParser().parseFromString(h,'text/html');
var n=d.getElementById('results'),o=document.getElementById('results');if(n&&o){o.replaceWith(n);}}).catch(function(){});}
f.addEventListener('input',function(){clearTimeout(t);t=setTimeout(go,150);});})();
"#;

fn picker(req: &Req, q: &SwitchQuery, v: &SwitchView) -> Markup {
    let Some(slot) = &v.slot else {
        return html! {};
    };
    let agent = v.agent.as_deref();
    let keep = |candidate: &str| {
        let min_context = q.filter.min_context.map(|n| n.to_string());
        let mut pairs: Vec<(&str, &str)> = vec![("slot", &slot.name), ("q", &q.text)];
        for (k, on) in [
            ("free", q.filter.free),
            ("tools", q.filter.tools),
            ("vision", q.filter.vision),
        ] {
            if on {
                pairs.push((k, "1"));
            }
        }
        if let Some(n) = &min_context {
            pairs.push(("min_context", n));
        }
        pairs.push(("candidate", candidate));
        here(agent, &pairs)
    };
    html! {
        section.card #picker {
            h2 { "Pick a model for " code { (shown(&slot.name)) } }
            form.filters #picker-form method="get" action="/models/switch" {
                @if let Some(a) = agent { input type="hidden" name="agent" value=(a); }
                input type="hidden" name="slot" value=(slot.name);
                input #q type="search" name="q" value=(q.text) placeholder="fuzzy search: id or name" aria-label="search";
                label { input type="checkbox" name="free" value="1" checked[q.filter.free]; " free" }
                label { input type="checkbox" name="tools" value="1" checked[q.filter.tools]; " tools" }
                label { input type="checkbox" name="vision" value="1" checked[q.filter.vision]; " vision" }
                label { "min context " input type="number" name="min_context" min="0" step="1000" value=(q.filter.min_context.unwrap_or(0)); }
                button type="submit" { "Search" }
            }
            div #results {
                p.muted { (v.matched) " model" @if v.matched != 1 { "s" } " match"
                    @if v.matched > v.results.len() { ", showing the best " (v.results.len()) } "." }
                div.scroll { table {
                    tr { th { "Model" } th.num { "Context" } th.num { "$/1M in" } th.num { "$/1M out" } th { "" } }
                    @for m in &v.results {
                        tr {
                            td.model { code { (shown(&m.id)) } br; span.muted { (shown(&m.name)) } }
                            td.num { (crate::domain::view::tokens_label(m.context_length)) }
                            td.num { (money(m.prompt_per_m)) } td.num { (money(m.completion_per_m)) }
                            td { a.pick href=(keep(&m.id)) data-model=(m.id) { "Pick" } }
                        }
                    }
                } }
            }
        }
        @if let Some(p) = &v.price {
            section.card #price {
                h2 { "Price" }
                @match &p.assumption {
                    Some(a) => { p.muted #price-basis { "No usage observed in the last 30 days: monthly figures are estimated at " (shown(a)) "." } }
                    None => { p.muted #price-basis { "Observed in the last 30 days: " (p.observed_prompt_tokens_30d) " prompt and " (p.observed_completion_tokens_30d) " completion tokens." } }
                }
                div.scroll { table {
                    tr { th { "" } th { "Model" } th.num { "$/1M in" } th.num { "$/1M out" } th.num { "Monthly at that usage" } }
                    @if let Some(c) = &p.current {
                        tr { td { "Current" } td { code { (shown(&c.model)) } } td.num { (money(c.prompt_per_m)) } td.num { (money(c.completion_per_m)) } td.num { (money(c.monthly_usd)) } }
                    } @else {
                        tr { td { "Current" } td { code { (shown(slot.model.as_deref().unwrap_or("(not set)"))) } } td.num { "—" } td.num { "—" } td.num { "—" } }
                    }
                    @let c = &p.candidate;
                    tr { td { "Candidate" } td { code { (shown(&c.model)) } } td.num { (money(c.prompt_per_m)) } td.num { (money(c.completion_per_m)) } td.num { (money(c.monthly_usd)) } }
                } }
                form method="post" action=(here(agent, &[("slot", &slot.name)])) {
                    (csrf_field(req))
                    @if let Some(a) = agent { input type="hidden" name="agent" value=(a); }
                    input type="hidden" name="slot" value=(slot.name);
                    input type="hidden" name="model" value=(c.model);
                    button #confirm type="submit" { "Use " (shown(&c.model)) " for " (shown(&slot.name)) }
                }
            }
        }
        script { (PreEscaped(LIVE_SCRIPT)) }
    }
}
