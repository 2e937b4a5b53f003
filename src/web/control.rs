//! `/notifications` (unread first, mark read / all read), `/budget` (the free-tier gauge, per-agent
//! usage, the projection as inline SVG, the rate-limit log, the per-day table) and `/budget.csv`, plus
//! their JSON: `/api/notifications/read` and `/api/budget/view` (the page's whole view model; `/api/budget` and
//! `/api/notifications` are `api_budget`'s). The view models come
//! from `domain::view`.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::budget::Level;
use crate::domain::clock::SystemClock;
use crate::domain::notifications;
use crate::domain::view::{self, BudgetView, NotificationsView};
use maud::{Markup, PreEscaped, html};

const LIMIT: u32 = 500;

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let post = req.method == "POST";
    Some(match req.path.as_str() {
        "/notifications" | "/notifications/" if get => notifications_page(ctx, req, None),
        "/notifications" | "/notifications/" => method_not_allowed("GET"),
        "/notifications/read" if post => {
            let (ok, msg) = mark(ctx, req);
            notifications_page(ctx, req, Some((ok, msg)))
        }
        "/notifications/read" => method_not_allowed("POST"),
        "/api/notifications/read" if post => {
            let (ok, msg) = mark(ctx, req);
            if ok {
                Resp::json(200, &serde_json::json!({ "ok": true, "message": msg }))
            } else {
                Resp::json_error(400, &msg)
            }
        }
        "/budget" | "/budget/" if get => budget_page(ctx),
        "/budget" | "/budget/" => method_not_allowed("GET"),
        "/budget.csv" if get => match load_budget(ctx) {
            Ok(v) => Resp {
                status: 200,
                content_type: "text/csv; charset=utf-8; header=present",
                headers: vec![(
                    "Content-Disposition".into(),
                    "attachment; filename=\"nxr-budget.csv\"".into(),
                )],
                body: crate::domain::budget_daily::to_csv(&v.daily).into_bytes(),
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
        "/api/notifications/read" => {
            Resp::json_error(405, "POST only").with_header("Allow", "POST")
        }
        _ => return None,
    })
}

fn load_notifications(ctx: &WebCtx) -> Result<NotificationsView, String> {
    ctx.rt
        .block_on(view::notifications_view(&ctx.store, LIMIT))
        .map_err(|e| format!("cannot read notifications: {e}"))
}

fn load_budget(ctx: &WebCtx) -> Result<BudgetView, String> {
    ctx.rt
        .block_on(view::budget_view(&ctx.store, &SystemClock))
        .map_err(|e| format!("cannot read usage: {e}"))
}

/// Form or JSON: `id=N` marks one read, `all=1` (or `{"all": true}`) marks every one read.
fn mark(ctx: &WebCtx, req: &Req) -> (bool, String) {
    let json: Option<serde_json::Value> = serde_json::from_slice(&req.body).ok();
    let form = req.form();
    let field = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
    let all = json
        .as_ref()
        .and_then(|j| j.get("all")?.as_bool())
        .unwrap_or(false)
        || field("all").is_some_and(|v| v == "1" || v == "true");
    if all {
        return match ctx
            .rt
            .block_on(notifications::mark_all_read(&ctx.store, &SystemClock))
        {
            Ok(n) => (true, format!("marked {n} notification(s) read")),
            Err(e) => (false, format!("cannot mark notifications read: {e}")),
        };
    }
    let id = json
        .as_ref()
        .and_then(|j| j.get("id")?.as_i64())
        .or_else(|| field("id").and_then(|v| v.trim().parse().ok()));
    let Some(id) = id else {
        return (
            false,
            "say which notification: id=<number>, or all=1 for every one".into(),
        );
    };
    match ctx
        .rt
        .block_on(notifications::mark_read(&ctx.store, id, &SystemClock))
    {
        Ok(true) => (true, format!("marked notification {id} read")),
        Ok(false) => (false, format!("no unread notification has id {id}")),
        Err(e) => (false, format!("cannot mark notification {id} read: {e}")),
    }
}

fn notifications_page(ctx: &WebCtx, req: &Req, result: Option<(bool, String)>) -> Resp {
    // Marking changed the count: the badge must show the new one.
    if result.is_some() {
        super::pages::set_nav(
            ctx.rt
                .block_on(view::nav_view(&ctx.store))
                .unwrap_or_default(),
        );
    }
    let v = load_notifications(ctx);
    let status = match (&v, &result) {
        (Err(_), _) => 500,
        (_, Some((false, _))) => 400,
        _ => 200,
    };
    let body = html! {
        h1 { "Notifications" }
        @if let Some((ok, msg)) = &result {
            @if *ok { p.notice role="status" { (shown(msg)) } } @else { p.bad role="alert" { (shown(msg)) } }
        }
        @match &v {
            Err(e) => { p.bad role="alert" { (shown(e)) } }
            Ok(v) if v.items.is_empty() => {
                section #notifications { p.muted { "No notifications yet. nxr adds one when a better free model appears, a model is about to expire, the free budget runs low, an upgrade is applied or a scan finishes." } }
            }
            Ok(v) => {
                section #notifications {
                    p { (v.unread) " unread."
                        @if v.unread > 0 {
                            form method="post" action="/notifications/read" style="display:inline; margin-left:1rem" {
                                (csrf_field(req)) input type="hidden" name="all" value="1";
                                button #mark-all-read type="submit" { "Mark all read" }
                            }
                        }
                    }
                    div.scroll { table {
                        tr { th { "When" } th { "Kind" } th { "What" } th { "" } }
                        @for n in &v.items {
                            tr class=(if n.is_unread() { "unread" } else { "read muted" }) {
                                td.num { (shown(&n.created_at)) }
                                td { code { (shown(&n.kind)) } }
                                td { strong { (shown(&n.title)) } br; (shown(&n.body))
                                    @if let Some(u) = n.upgrade() {
                                        br; span.muted { "Upgrade " (shown(&u.agent)) ": " (shown(u.from_model.as_deref().unwrap_or("—"))) " → " (shown(&u.to_model)) " — " a href="/agents/manage" { "act on it" } }
                                    }
                                }
                                td { @if n.is_unread() {
                                    form.mark-read method="post" action="/notifications/read" {
                                        (csrf_field(req)) input type="hidden" name="id" value=(n.id);
                                        button type="submit" { "Mark read" }
                                    }
                                } }
                            }
                        }
                    } }
                }
            }
        }
    };
    Resp::html(status, layout("Notifications", "/notifications", body))
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

fn budget_page(ctx: &WebCtx) -> Resp {
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
                        tr { th { "Agent" } th.num { "Today" } th.num { "7 days" } th.num { "30 days" } th { "Last request" } }
                        @for a in &b.per_agent { tr {
                            td { (shown(&a.agent)) } td.num { (a.today) } td.num { (a.last_7d) } td.num { (a.last_30d) }
                            td { (shown(a.last_at.as_deref().unwrap_or("—"))) }
                        } }
                    } } }
                }
                section.card {
                    h2 { "Rate-limit events" }
                    @if b.rate_limits.is_empty() { p.muted { "No rate-limited (429) requests recorded." } }
                    @else { div.scroll { table {
                        tr { th { "When" } th { "Model" } th { "Agent" } }
                        @for e in &b.rate_limits { tr { td { (shown(&e.at)) } td { code { (shown(&e.model)) } } td { (shown(e.agent.as_deref().unwrap_or("—"))) } } }
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
    Resp::html(status, layout("Budget", "/budget", body))
}
