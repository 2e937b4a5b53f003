//! `/notifications`: every notification, unread first; Mark read / Mark all read; a button on an
//! upgrade notification that carries out its switch (`upgrade::apply_notification`, the journaled
//! path of `nxr upgrade --agent … --to …`); and the Telegram forwarding toggles per kind
//! (`domain::notifications::telegram_forward`). JSON: `POST /api/notifications/read`, `POST /api/notifications/apply`,
//! `GET|POST /api/notifications/telegram`. Every decision is the domain's; this module only reads
//! forms and renders.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::notifications;
use crate::domain::notifications::telegram_forward::{self, Toggle};
use crate::domain::upgrade::UpgradeError;
use crate::domain::upgrade::{ApplyError, NotificationApplied};
use crate::domain::view::{self, NavView, NotificationsView};
use maud::{Markup, html};

const LIMIT: u32 = 500;

/// On a phone each notification is a block (time and kind above its text) instead of a table row.
const NARROW_CSS: &str = "@media (max-width: 40rem) { #notifications table, #notifications tbody, \
#notifications tr, #notifications td { display: block; width: 100%; } #notifications tr:first-child { display: none; } \
#notifications tr { border-bottom: 1px solid var(--line); padding: .4rem 0; } #notifications td { border: 0; padding: .1rem .6rem; } \
#notifications td.num { text-align: left; } }";

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let post = req.method == "POST";
    Some(match req.path.as_str() {
        "/notifications" | "/notifications/" if get => page(ctx, req, None),
        "/notifications" | "/notifications/" => method_not_allowed("GET"),
        "/notifications/read" if post => {
            let done = mark(ctx, req);
            page(ctx, req, Some(done))
        }
        "/notifications/apply" if post => {
            let done = match apply(ctx, req) {
                Ok(a) => Done::ok(applied_text(&a)),
                Err((status, msg)) => Done::err(status, msg),
            };
            page(ctx, req, Some(done))
        }
        "/notifications/telegram" if post => {
            let done = match set_toggles(ctx, req) {
                Ok(t) => Done::ok(toggles_text(&t)),
                Err(msg) => Done::err(400, msg),
            };
            page(ctx, req, Some(done))
        }
        "/notifications/read" | "/notifications/apply" | "/notifications/telegram" => {
            method_not_allowed("POST")
        }
        "/api/notifications/read" if post => {
            let done = mark(ctx, req);
            match done.error {
                None => Resp::json(
                    200,
                    &serde_json::json!({ "ok": true, "message": done.message }),
                ),
                Some(status) => Resp::json_error(status, &done.message),
            }
        }
        "/api/notifications/apply" if post => match apply(ctx, req) {
            Ok(a) => Resp::json(
                200,
                &serde_json::json!({ "ok": true, "message": applied_text(&a), "applied": a }),
            ),
            Err((status, msg)) => Resp::json_error(status, &msg),
        },
        "/api/notifications/telegram" if get => match load_toggles(ctx) {
            Ok(t) => Resp::json(200, &t),
            Err(e) => Resp::json_error(500, &e),
        },
        "/api/notifications/telegram" if post => match set_toggles(ctx, req) {
            Ok(t) => Resp::json(200, &t),
            Err(msg) => Resp::json_error(400, &msg),
        },
        "/api/notifications/read" | "/api/notifications/apply" => {
            Resp::json_error(405, "POST only").with_header("Allow", "POST")
        }
        "/api/notifications/telegram" => {
            Resp::json_error(405, "GET or POST only").with_header("Allow", "GET, POST")
        }
        _ => return None,
    })
}

/// The outcome of a form: a message, and the HTTP status when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub message: String,
    pub error: Option<u16>,
}

impl Done {
    fn ok(message: String) -> Done {
        Done {
            message,
            error: None,
        }
    }
    fn err(status: u16, message: String) -> Done {
        Done {
            message,
            error: Some(status),
        }
    }
}

/// `POST /api/notifications/read`: `{"id": N}` or `{"all": true}`, never both.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    id: Option<i64>,
    all: Option<bool>,
}

/// `POST /api/notifications/apply`: `{"id": N}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    id: i64,
}

/// `POST /api/notifications/telegram`: `{"kind": …, "on": …}` or `{"toggles": {…}}`, never both.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TelegramBody {
    kind: Option<String>,
    on: Option<bool>,
    toggles: Option<std::collections::BTreeMap<String, bool>>,
}

/// A form's `id` field as a number; `Ok(None)` when the form has none.
fn form_id(req: &Req) -> Result<Option<i64>, String> {
    match req.field("id") {
        None => Ok(None),
        Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
            format!("id must be a notification's number, not {v:?}; nothing was changed")
        }),
    }
}

/// What to mark read, from a JSON body or a form (`id=N`, `all=1`).
fn read_request(req: &Req) -> Result<ReadBody, String> {
    if let Some(body) = super::json_body::<ReadBody>(req, "{\"id\": <number>} or {\"all\": true}") {
        return body;
    }
    let all = match req.field("all").as_deref().map(str::trim) {
        None | Some("0" | "false" | "") => None,
        Some("1" | "true" | "on") => Some(true),
        Some(other) => {
            return Err(format!(
                "all must be 1 or true, not {other:?}; nothing was changed"
            ));
        }
    };
    Ok(ReadBody {
        id: form_id(req)?,
        all,
    })
}

/// `id=N` marks one read, `all=1` (or `{"all": true}`) every one; both at once is refused, as
/// `nxr notifications read` refuses an ID with `--all`.
fn mark(ctx: &WebCtx, req: &Req) -> Done {
    let body = match read_request(req) {
        Ok(b) => b,
        Err(e) => return Done::err(400, e),
    };
    let all = body.all == Some(true);
    if all && body.id.is_some() {
        return Done::err(
            400,
            "give either an id or all, not both; nothing was marked read".into(),
        );
    }
    if all {
        return match ctx
            .rt
            .block_on(notifications::mark_all_read(&ctx.store, ctx.store.clock()))
        {
            Ok(n) => Done::ok(format!("marked {n} notification(s) read")),
            Err(e) => Done::err(500, format!("cannot mark notifications read: {e}")),
        };
    }
    let Some(id) = body.id else {
        return Done::err(
            400,
            "say which notification: id=<number>, or all=1 for every one".into(),
        );
    };
    match ctx
        .rt
        .block_on(notifications::mark_read(&ctx.store, id, ctx.store.clock()))
    {
        Ok(true) => Done::ok(format!("marked notification {id} read")),
        Ok(false) => Done::err(400, format!("no unread notification has id {id}")),
        Err(e) => Done::err(500, format!("cannot mark notification {id} read: {e}")),
    }
}

fn apply_status(e: &ApplyError) -> u16 {
    match e {
        ApplyError::NotFound(_) => 404,
        ApplyError::NotAnUpgrade(_) | ApplyError::Upgrade(UpgradeError::NoKey) => 400,
        ApplyError::Upgrade(UpgradeError::Agents(crate::domain::agents::AgentError::NotFound(
            _,
        ))) => 404,
        ApplyError::Store(_) | ApplyError::Upgrade(UpgradeError::Store(_)) => 500,
        ApplyError::Upgrade(_) => 409,
    }
}

/// `id=N`: carries out that upgrade notification's switch.
fn apply(ctx: &WebCtx, req: &Req) -> Result<NotificationApplied, (u16, String)> {
    let id = match super::json_body::<ApplyBody>(req, "{\"id\": <number>}") {
        Some(body) => body.map_err(|e| (400, e))?.id,
        None => form_id(req)
            .map_err(|e| (400, e))?
            .ok_or((400, "say which notification: id=<number>".to_string()))?,
    };
    ctx.rt
        .block_on(crate::domain::upgrade::apply_notification(
            &ctx.store,
            &ctx.env,
            id,
            ctx.store.clock(),
        ))
        .map_err(|e| (apply_status(&e), super::hints::explain(&e)))
}

fn applied_text(a: &NotificationApplied) -> String {
    let moved: Vec<String> = a
        .outcome
        .switched
        .iter()
        .map(|s| format!("{} now runs {} (was {})", s.agent, s.to, s.from))
        .collect();
    format!(
        "{}; notification {} marked read",
        if moved.is_empty() {
            "nothing to change".to_string()
        } else {
            moved.join(", ")
        },
        a.id
    )
}

/// Form: one `kind` field per kind the form showed, and `on` for each ticked one. JSON:
/// `{"kind": "budget", "on": false}` or `{"toggles": {"budget": false, …}}`.
fn set_toggles(ctx: &WebCtx, req: &Req) -> Result<Vec<Toggle>, String> {
    const SEND: &str =
        "{\"kind\": \"<kind>\", \"on\": true|false} or {\"toggles\": {\"<kind>\": true|false}}";
    let changes: Vec<(String, bool)> = match super::json_body::<TelegramBody>(req, SEND) {
        Some(body) => match body? {
            TelegramBody {
                toggles: Some(map),
                kind: None,
                on: None,
            } => map.into_iter().collect(),
            TelegramBody {
                toggles: None,
                kind: Some(kind),
                on: Some(on),
            } => vec![(kind, on)],
            TelegramBody {
                toggles: Some(_), ..
            } => {
                return Err(format!(
                    "give either toggles or kind and on, not both; nothing was changed. Send {SEND}"
                ));
            }
            TelegramBody { kind: None, .. } => {
                return Err(format!("kind is missing; nothing was changed. Send {SEND}"));
            }
            TelegramBody { on: None, .. } => {
                return Err(format!(
                    "\"on\" must be true or false; nothing was changed. Send {SEND}"
                ));
            }
        },
        None => {
            let form = req.form();
            let ticked: Vec<&str> = form
                .iter()
                .filter(|(k, _)| k == "on")
                .map(|(_, v)| v.as_str())
                .collect();
            form.iter()
                .filter(|(k, _)| k == "kind")
                .map(|(_, kind)| (kind.clone(), ticked.contains(&kind.as_str())))
                .collect()
        }
    };
    if changes.is_empty() {
        return Err("no kind given; nothing was changed".into());
    }
    ctx.rt
        .block_on(telegram_forward::set_toggles(
            &ctx.store,
            &changes,
            ctx.store.clock(),
        ))
        .map_err(|e| format!("{e}; nothing was changed"))
}

fn toggles_text(t: &[Toggle]) -> String {
    let on: Vec<&str> = t.iter().filter(|t| t.on).map(|t| t.kind.as_str()).collect();
    if on.is_empty() {
        "saved: nothing is forwarded to Telegram".into()
    } else {
        format!("saved: forwarded to Telegram: {}", on.join(", "))
    }
}

fn load_toggles(ctx: &WebCtx) -> Result<Vec<Toggle>, String> {
    ctx.rt
        .block_on(telegram_forward::toggles(&ctx.store))
        .map_err(|e| format!("cannot read the Telegram settings: {e}"))
}

/// Whether Telegram is set up, in words.
fn telegram_state(ctx: &WebCtx) -> Result<bool, String> {
    ctx.rt
        .block_on(crate::domain::notifications::telegram::gateway(
            &ctx.env, &ctx.store,
        ))
        .map(|g| g.is_some())
        .map_err(|e| format!("cannot read the Telegram settings: {e}"))
}

fn page(ctx: &WebCtx, req: &Req, done: Option<Done>) -> Resp {
    // A form may have changed the unread count: the badge shows the count after it.
    let nav = if done.is_some() {
        ctx.rt
            .block_on(view::nav_view(&ctx.store))
            .unwrap_or_else(|_| req.nav.clone())
    } else {
        req.nav.clone()
    };
    let v = ctx
        .rt
        .block_on(view::notifications_view(&ctx.store, LIMIT))
        .map_err(|e| format!("cannot read notifications: {e}"));
    let toggles = load_toggles(ctx);
    let configured = telegram_state(ctx);
    let status = match (&v, &done) {
        (Err(_), _) => 500,
        (
            _,
            Some(Done {
                error: Some(status),
                ..
            }),
        ) => *status,
        _ => 200,
    };
    let body = body(&csrf_field(req), &v, &toggles, &configured, done.as_ref());
    page_resp(status, &nav, body)
}

fn page_resp(status: u16, nav: &NavView, body: Markup) -> Resp {
    Resp::html(status, layout(nav, "Notifications", "/notifications", body))
}

/// The page's content (pure, for tests and snapshots).
pub fn body(
    csrf: &Markup,
    v: &Result<NotificationsView, String>,
    toggles: &Result<Vec<Toggle>, String>,
    configured: &Result<bool, String>,
    done: Option<&Done>,
) -> Markup {
    html! {
        h1 { "Notifications" }
        @if let Some(d) = done {
            @if d.error.is_none() { p.notice #result role="status" { (shown(&d.message)) } }
            @else { p.bad #result role="alert" { (shown(&d.message)) } }
        }
        @match v {
            Err(e) => { p.bad role="alert" { (shown(e)) } }
            Ok(v) if v.items.is_empty() => {
                section #notifications { p.muted { "No notifications yet. nxr adds one when a better free model appears, a model is about to expire, the free budget runs low, an upgrade is applied or a scan finishes." } }
            }
            Ok(v) => { (list(csrf, v)) }
        }
        (telegram_card(csrf, toggles, configured))
    }
}

fn list(csrf: &Markup, v: &NotificationsView) -> Markup {
    html! {
        style { (maud::PreEscaped(NARROW_CSS)) }
        section #notifications {
            p { (v.unread) " unread."
                @if v.unread > 0 {
                    form method="post" action="/notifications/read" style="display:inline; margin-left:1rem" {
                        (csrf) input type="hidden" name="all" value="1";
                        button #mark-all-read type="submit" { "Mark all read" }
                    }
                }
            }
            div.scroll { table {
                tr { th { "When" } th { "Kind" } th { "What" } th { "" } }
                @for n in &v.items {
                    tr id=(format!("n-{}", n.id)) class=(if n.is_unread() { "unread" } else { "read muted" }) {
                        td.num { (shown(&n.created_at)) }
                        td { code { (shown(&n.kind)) } }
                        td { strong { (shown(&n.title)) } br; (shown(&n.body))
                            @if let Some(u) = n.upgrade() {
                                br; span.muted { "Upgrade " (shown(&u.agent)) ": " (shown(u.from_model.as_deref().unwrap_or("—"))) " → " (shown(&u.to_model)) }
                                @if n.is_unread() {
                                    form.apply-upgrade method="post" action="/notifications/apply" {
                                        (csrf) input type="hidden" name="id" value=(n.id);
                                        button id=(format!("apply-{}", n.id)) type="submit" {
                                            "Switch " (shown(&u.agent)) " to " (shown(&u.to_model))
                                        }
                                    }
                                }
                            }
                        }
                        td { @if n.is_unread() {
                            form.mark-read method="post" action="/notifications/read" {
                                (csrf) input type="hidden" name="id" value=(n.id);
                                button type="submit" { "Mark read" }
                            }
                        } }
                    }
                }
            } }
        }
    }
}

fn telegram_card(
    csrf: &Markup,
    toggles: &Result<Vec<Toggle>, String>,
    configured: &Result<bool, String>,
) -> Markup {
    html! {
        section.card #telegram {
            h2 { "Telegram forwarding" }
            @match configured {
                Ok(true) => p.muted { "Ticked kinds are also sent to Hermes' Telegram chat when nxr records them." }
                Ok(false) => p.muted { "No Telegram bot is configured: set " code { "TELEGRAM_BOT_TOKEN" } " and " code { "TELEGRAM_HOME_CHANNEL" }
                    " in Hermes' .env (or " code { "nxr config set telegram-chat-id ID" } "). The choices below apply once it is." }
                Err(e) => p.bad { (shown(e)) }
            }
            @match toggles {
                Err(e) => { p.bad role="alert" { (shown(e)) } }
                Ok(list) => {
                    form #telegram-form method="post" action="/notifications/telegram" {
                        (csrf)
                        ul style="list-style:none; padding-left:0" {
                            @for t in list {
                                li {
                                    input type="hidden" name="kind" value=(t.kind);
                                    label {
                                        input id=(format!("tg-{}", t.kind)) type="checkbox" name="on" value=(t.kind) checked[t.on];
                                        " " (t.label) " " span.muted { "(" code { (t.kind) } ")" }
                                    }
                                }
                            }
                        }
                        button #save-telegram type="submit" { "Save" }
                    }
                }
            }
        }
    }
}
