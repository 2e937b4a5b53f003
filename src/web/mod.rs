//! `nxr serve`: a tiny_http control plane. HTML pages with working forms and a JSON API, both calling
//! the same domain functions as the CLI. No logic of its own. docs/design.md §7 rules apply to every route.
//!
//! The modules: `server` (listener, auth, CSRF, limits), `pages` (layout + dashboard),
//! `notifications` (/notifications: mark read, apply an upgrade, Telegram forwarding toggles),
//! `api_models` (scoring API), `api_agents` (agents + Paperclip skills API), `setup` (the /setup wizard),
//! `upgrade` (bulk and per-agent upgrade / revert), `doctor` (/doctor and /api/doctor: every check of
//! the setup).

pub mod agents_page;
pub mod api_agents;
pub mod api_budget;
pub mod api_models;
mod auth;
pub mod cache;
pub mod control;
pub mod doctor;
pub mod hermes;
pub mod hints;
pub mod manage;
pub mod notifications;
pub mod pages;
pub mod relay;
pub mod server;
pub mod setup;
pub mod switch;
pub mod upgrade;

use crate::domain::base::env::Env;
use crate::domain::store::Store;
use crate::domain::view::NavView;
use std::sync::Arc;

/// Everything a handler may use. Shared by all worker threads.
pub struct WebCtx {
    pub env: Env,
    pub store: Arc<Store>,
    /// Runs the async domain functions from the server's threads.
    pub rt: tokio::runtime::Handle,
}

/// A request as handlers see it: already authenticated (the server checks the token first).
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The CSRF token that forms on pages for this session must carry.
    pub csrf_token: String,
    /// What the navigation bar shows (the unread badge); [`route`] fills it for page requests, and
    /// every page passes it to [`pages::layout`].
    pub nav: NavView,
}

impl Req {
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name`, if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie").and_then(|c| cookie_value(c, name))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Decoded `application/x-www-form-urlencoded` body pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url_decode_pairs(&String::from_utf8_lossy(&self.body))
    }

    /// The first value of form field `name`, if the form has it.
    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`).
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// A response as handlers build it.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Resp {
        match serde_json::to_vec_pretty(value) {
            Ok(body) => Resp {
                status,
                content_type: "application/json",
                headers: Vec::new(),
                body,
            },
            Err(e) => Resp::json_error(500, &format!("cannot encode the response: {e}")),
        }
    }

    /// `{"error": message}` with the given status.
    pub fn json_error(status: u16, message: &str) -> Resp {
        let body = serde_json::json!({ "error": message, "status": status });
        Resp {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    pub fn html(status: u16, markup: maud::Markup) -> Resp {
        Resp {
            status,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: markup.into_string().into_bytes(),
        }
    }

    /// 303 See Other, for POST-redirect-GET.
    pub fn redirect(location: &str) -> Resp {
        Resp {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Decodes `a=1&b=x%20y` into pairs ('+' is a space), as `application/x-www-form-urlencoded`.
pub fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Decodes one form-encoded value (`+` is a space, `%XX` a byte).
pub fn url_decode(s: &str) -> String {
    let plus_as_space = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8_lossy()
        .into_owned()
}

/// Decodes one URL path segment (`%XX` a byte; `+` stays `+`).
pub fn path_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Everything but the characters RFC 3986 leaves unreserved (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` as one URL path segment or query value: every byte outside the unreserved set is
/// percent-encoded, so `R&D`, `Q#1`, `a+b`, `a/b` or `Zoë` reach the handler as written.
pub fn url_part(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// `path?k=v&…` with every key and value encoded (see [`url_part`]).
pub fn url_with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = path.to_string();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&url_part(k));
        out.push('=');
        out.push_str(&url_part(v));
    }
    out
}

/// A JSON request body read as `T`, whose serde attributes refuse unknown fields. `None` when the
/// body is not JSON (no JSON content type and no leading `{`): the caller reads it as a form. A
/// JSON body that does not fit gives the reason and what to `send` instead.
pub fn json_body<T: serde::de::DeserializeOwned>(
    req: &Req,
    send: &str,
) -> Option<Result<T, String>> {
    let is_json = req
        .header("content-type")
        .is_some_and(|c| c.trim_start().starts_with("application/json"))
        || req.body.trim_ascii_start().first() == Some(&b'{');
    is_json.then(|| {
        serde_json::from_slice(&req.body).map_err(|e| {
            format!("the JSON body is refused ({e}); nothing was changed. Send {send}")
        })
    })
}

/// Routes an authenticated request. Each module answers `None` for paths it does not own. Page
/// requests get the navigation view model first (`req.nav`), so every page shows the same badge.
pub fn route(ctx: &WebCtx, mut req: Req) -> Resp {
    if !req.path.starts_with("/api/") {
        req.nav = ctx
            .rt
            .block_on(crate::domain::view::nav_view(&ctx.store))
            .unwrap_or_default();
    }
    let req = &req;
    let handlers: [fn(&WebCtx, &Req) -> Option<Resp>; 12] = [
        hermes::handle,
        doctor::handle,
        manage::handle,
        switch::handle,
        api_budget::handle,
        notifications::handle,
        control::handle,
        api_models::handle,
        api_agents::handle,
        setup::handle,
        upgrade::handle,
        pages::handle,
    ];
    for handler in handlers {
        if let Some(resp) = handler(ctx, req) {
            return resp;
        }
    }
    if req.path.starts_with("/api/") {
        Resp::json_error(404, &format!("no such API path: {}", req.path))
    } else {
        pages::not_found(req)
    }
}
