//! The budget and the notifications over HTTP (`GET` only; the same JSON as `nxr budget --json` and
//! `nxr notifications --json`), and the dashboard's card of both:
//! - `GET /api/budget` → today's free requests, the limit, the projection, per agent;
//! - `GET /api/notifications` (`?unread=1` for the unread ones) → newest first.

use super::{Req, Resp, WebCtx};
use crate::domain::budget::{self, Budget};
use crate::domain::notifications::{self, Notification};
use crate::web::pages::shown;
use maud::{Markup, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let path = req.path.trim_end_matches('/');
    if path != "/api/budget" && path != "/api/notifications" {
        return None;
    }
    if !req.method.eq_ignore_ascii_case("GET") {
        return Some(
            Resp::json_error(
                405,
                &format!("{} is not allowed on {}; use GET", req.method, req.path),
            )
            .with_header("Allow", "GET"),
        );
    }
    Some(if path == "/api/budget" {
        match ctx.rt.block_on(budget::load(&ctx.store, ctx.store.clock())) {
            Ok(b) => Resp::json(200, &b),
            Err(e) => Resp::json_error(500, &e.to_string()),
        }
    } else {
        let unread = req
            .query
            .iter()
            .any(|(k, v)| k == "unread" && (v == "1" || v == "true"));
        match ctx
            .rt
            .block_on(notifications::list_where(&ctx.store, 200, unread))
        {
            Ok(list) => Resp::json(200, &list),
            Err(e) => Resp::json_error(500, &e.to_string()),
        }
    })
}

/// The dashboard's budget line and newest notifications, unread ones marked (pure).
pub fn alerts_body(
    b: &Result<Budget, String>,
    notes: &Result<Vec<Notification>, String>,
    unread: u64,
) -> Markup {
    html! {
        section.card #budget {
            h2 { "Free budget today" }
            @match b {
                Ok(b) => {
                    p { strong { (b.used_today) " / " (b.daily_limit) } " free requests (" (b.percent()) " %), resets " (shown(&b.resets_at)) }
                    p.muted {
                        "Projected by 00:00 UTC: " (b.projected_at_midnight)
                        @if let Some(at) = &b.hits_limit_at { " · on track to hit the limit at " (shown(at.get(11..16).unwrap_or(at))) " UTC" }
                        @if let Some(n) = b.outside_agents { " · " (n) " outside nxr's agents" }
                    }
                }
                Err(e) => p.bad { "Cannot read the budget: " (shown(e)) }
            }
        }
        section.card #notifications {
            h2 { "Newest notifications" }
            p.muted { (unread) " unread · " a href="/notifications" { "All notifications" } }
            @match notes {
                Ok(list) if list.is_empty() => p.muted { "Nothing yet." }
                Ok(list) => ul {
                    @for n in list {
                        li {
                            @if n.is_unread() { strong.warn title="unread" { "new" } " " }
                            strong { (shown(&n.title)) } " " span.muted { (shown(&n.created_at)) }
                            br; (shown(&n.body))
                        }
                    }
                }
                Err(e) => p.bad { "Cannot read the notifications: " (shown(e)) }
            }
        }
    }
}
