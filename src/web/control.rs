//! `/budget` (the free-tier gauge, per-agent usage, the projection as inline SVG, the rate-limit log,
//! the per-day table) and `/budget.csv`, plus its JSON: `/api/budget/view` (the page's whole view
//! model; `/api/budget` is `api_budget`'s). The view models come from `domain::view`.

use super::pages::{layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::budget::Level;
use crate::domain::upgrade::usd;
use crate::domain::view::{self, BudgetView};
use maud::{Markup, PreEscaped, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    Some(match req.path.as_str() {
        "/budget" | "/budget/" if get => budget_page(ctx, req),
        "/budget" | "/budget/" => method_not_allowed("GET"),
        "/budget.csv" if get => match load_budget(ctx) {
            Ok(v) => Resp {
                status: 200,
                content_type: "text/csv; charset=utf-8; header=present",
                headers: vec![(
                    "Content-Disposition".into(),
                    "attachment; filename=\"nxr-budget.csv\"".into(),
                )],
                body: crate::domain::budget::daily::to_csv(&v.daily).into_bytes(),
            },
            Err(e) => Resp::html(
                500,
                super::pages::message_page("Budget", &format!("cannot read usage: {e}")),
            ),
        },
        "/budget.csv" => method_not_allowed("GET"),
        "/api/budget/view" if get => match load_budget(ctx) {
            Ok(v) => Resp::json(200, &v),
            Err(e) => Resp::json_error(500, &e),
        },
        "/api/budget/view" => Resp::json_error(405, "GET only").with_header("Allow", "GET"),
        _ => return None,
    })
}

fn load_budget(ctx: &WebCtx) -> Result<BudgetView, String> {
    ctx.rt
        .block_on(view::budget_view(&ctx.store, ctx.store.clock()))
        .map_err(|e| format!("cannot read usage: {e}"))
}

fn gauge_class(l: Level) -> &'static str {
    match l {
        Level::Ok => "ok",
        Level::Warn => "warn",
        Level::High | Level::Exhausted => "bad",
    }
}

/// The day's cumulative free requests by hour, the linear projection to midnight and the limit, as
/// inline SVG (no script, no external file).
fn projection_svg(v: &BudgetView) -> Markup {
    let b = &v.budget;
    let (w, h) = (480.0_f64, 160.0_f64);
    let top = (b.daily_limit.max(b.projected_at_midnight).max(1)) as f64;
    let x = |hour: f64| hour / 24.0 * w;
    let y = |n: f64| h - n / top * (h - 10.0);
    let mut pts = format!("0,{h}");
    for (i, n) in b.cumulative_by_hour.iter().enumerate() {
        pts.push_str(&format!(" {:.1},{:.1}", x(i as f64 + 1.0), y(*n as f64)));
    }
    html! {
        svg #projection viewBox=(format!("0 0 {w} {h}")) width="100%" style="max-width:30rem; height:auto" role="img" aria-label="requests today and the projection to midnight" {
            line x1="0" x2=(w) y1=(format!("{:.1}", y(b.daily_limit as f64))) y2=(format!("{:.1}", y(b.daily_limit as f64))) stroke="currentColor" stroke-dasharray="4 4" {}
            polyline points=(pts) fill="none" stroke="#2456c9" stroke-width="2" {}
            line x1=(format!("{:.1}", x(b.hours_elapsed))) y1=(format!("{:.1}", y(b.used_today as f64))) x2=(w) y2=(format!("{:.1}", y(b.projected_at_midnight as f64))) stroke="#8a5a00" stroke-dasharray="2 3" stroke-width="2" {}
        }
    }
}

const GAUGE_SCRIPT: &str = r#"
(function(){var g=document.getElementById('gauge');if(!g||!window.fetch)return;
setInterval(function(){fetch('/api/budget',{credentials:'same-origin'}).then(function(r){return r.ok?r.json():null}).then(function(v){
if(!v)return;g.value=v.used_today;g.max=v.daily_limit;var p=v.daily_limit?Math.floor(v.used_today*100/v.daily_limit):100;
document.getElementById('gauge-text').textContent=v.used_today+' of '+v.daily_limit+' free requests today ('+p+' %)';}).catch(function(){});},5000);})();
"#;

fn budget_page(ctx: &WebCtx, req: &Req) -> Resp {
    let v = load_budget(ctx);
    let body = html! {
        h1 { "Budget" }
        @match &v {
            Err(e) => { p.bad role="alert" { (shown(e)) } }
            Ok(v) => {
                @let b = &v.budget;
                section.card #budget {
                    h2 { "Free requests today (UTC)" }
                    progress #gauge class=(gauge_class(v.level)) value=(b.used_today) max=(b.daily_limit) style="width:100%; height:1.2rem" {}
                    p #gauge-text class=(gauge_class(v.level)) { (b.used_today) " of " (b.daily_limit) " free requests today (" (v.percent) " %)" }
                    p.muted { "Projected at midnight: " (b.projected_at_midnight) ". Resets " (shown(&b.resets_at)) "." }
                    (projection_svg(v))
                    @if b.no_data { p.muted { "No usage recorded yet: the numbers fill in as the agents make requests." } }
                }
                section.card {
                    h2 { "Per agent" }
                    @if b.per_agent.is_empty() { p.muted { "No requests in the last 30 days." } }
                    @else { div.scroll { table {
                        tr { th { "Agent" } th.num { "Requests today" } th.num { "7 days" } th.num { "30 days" }
                             th.num { "Cost today" } th.num { "Cost 7 d" } th.num { "Cost 30 d" } th { "Last request" } }
                        @for a in &b.per_agent { tr.per-agent {
                            td { (shown(&a.agent)) } td.num { (a.today) } td.num { (a.last_7d) } td.num { (a.last_30d) }
                            td.num.cost-today { (usd(a.cost_today)) } td.num.cost-7d { (usd(a.cost_7d)) } td.num.cost-30d { (usd(a.cost_30d)) }
                            td { (shown(a.last_at.as_deref().unwrap_or("—"))) }
                        } }
                    } } }
                    @for a in b.per_agent.iter().filter(|a| a.other_model_7d > 0) {
                        p.fallback-use { (shown(&a.agent)) " ran on another model than its own (its fallback chain): "
                            (a.other_model_today) " of " (a.today) " request(s) today, " (a.other_model_7d) " of " (a.last_7d) " in 7 days." }
                    }
                }
                @if !b.relay.is_empty() { section.card {
                    h2 { "Relay today" }
                    p.relay-today { (b.relay.summary()) }
                } }
                section.card {
                    h2 { "Rate-limit events" }
                    @if !b.rate_limits_today.is_empty() {
                        h3 { "Today, by kind (not counted as requests)" }
                        div.scroll { table.by-kind {
                            tr { th { "Kind" } th.num { "Count" } th { "Models hit" } th { "What to do" } }
                            @for t in &b.rate_limits_today { tr {
                                td { (t.kind.as_str()) } td.num { (t.count) }
                                td { @for (i, m) in t.models.iter().enumerate() { @if i > 0 { ", " } code { (shown(&m.model)) } " ×" (m.count) } }
                                td { (t.kind.hint()) }
                            } }
                        } }
                    }
                    @if b.rate_limits.is_empty() { p.muted { "No rate-limited (429) requests recorded." } }
                    @else { div.scroll { table {
                        tr { th { "When" } th { "Model" } th { "Agent" } th { "Kind" } }
                        @for e in &b.rate_limits { tr { td { (shown(&e.at)) } td { code { (shown(&e.model)) } } td { (shown(e.agent.as_deref().unwrap_or("—"))) } td { (shown(e.kind.as_deref().unwrap_or("429"))) } } }
                    } } }
                }
                section.card {
                    h2 { "Per agent per day (30 days)" }
                    p { a #csv href="/budget.csv" download="nxr-budget.csv" { "Download CSV" } }
                    @if v.daily.is_empty() { p.muted { "No usage in the last 30 days." } }
                    @else { div.scroll { table {
                        tr { th { "Day" } th { "Agent" } th.num { "Requests" } th.num { "Free" } th.num { "429s" } th.num { "Cost (USD)" } }
                        @for r in &v.daily { tr {
                            td { (shown(&r.day)) } td { (shown(&r.agent)) } td.num { (r.requests) } td.num { (r.free_requests) }
                            td.num { (r.rate_limited) } td.num { (format!("{:.4}", r.cost_usd)) }
                        } }
                    } } }
                }
                script { (PreEscaped(GAUGE_SCRIPT)) }
            }
        }
    };
    let status = if v.is_ok() { 200 } else { 500 };
    Resp::html(status, layout(&req.nav, "Budget", "/budget", body))
}
