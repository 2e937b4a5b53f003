//! `/doctor` (HTML) and `/api/doctor` (JSON): the same [`Doctor`] as `nxr doctor`, one line per check
//! with the fix. `?live=1` also asks OpenRouter about the key. Reading only.

use super::pages::{layout, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::setup::doctor::{self, Doctor, Mark, Options};
use maud::{Markup, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let path = req.path.trim_end_matches('/');
    if path != "/doctor" && path != "/api/doctor" {
        return None;
    }
    if !req.method.eq_ignore_ascii_case("GET") {
        let msg = format!("{} is not allowed on {}; use GET", req.method, req.path);
        let resp = if path == "/api/doctor" {
            Resp::json_error(405, &msg)
        } else {
            Resp::html(405, super::pages::message_page("Method not allowed", &msg))
        };
        return Some(resp.with_header("Allow", "GET"));
    }
    let live = matches!(req.query_param("live"), Some("1" | "true"));
    let report = ctx.rt.block_on(doctor::run(
        &ctx.env,
        Options {
            live,
            ..Options::default()
        },
    ));
    Some(if path == "/api/doctor" {
        Resp::json(200, &report)
    } else {
        Resp::html(
            200,
            layout(&req.nav, "Doctor", "/doctor", doctor_body(&report)),
        )
    })
}

/// The report as a page body (pure).
pub fn doctor_body(d: &Doctor) -> Markup {
    html! {
        h1 { "Doctor" }
        @if d.healthy() {
            p.ok #doctor-summary { "All checks passed." }
        } @else {
            p.bad role="alert" #doctor-summary { (d.failed) " of " (d.lines.len()) " check(s) failed; each ✗ line says what to fix." }
        }
        section.card {
            div.scroll { table #doctor {
                thead { tr { th { "" } th { "Check" } th { "Found" } th { "Fix" } } }
                tbody {
                    @for l in &d.lines {
                        tr {
                            td class=(match l.mark { Mark::Pass => "ok", Mark::Fail => "bad", Mark::Skipped => "muted" }) { (l.mark.symbol()) }
                            td { (l.topic.label()) @if let Some(s) = &l.subject { " " (shown(s)) } }
                            td { (shown(&l.detail)) }
                            td { @if let Some(f) = &l.fix { @if l.mark == Mark::Fail { (shown(f)) } @else { span.muted { (shown(f)) } } } }
                        }
                    }
                }
            } }
            @if !d.live {
                p { a href="/doctor?live=1" { "Also ask OpenRouter whether the key is valid" } " (one GET /key, no request from the free bucket)." }
            }
        }
    }
}
