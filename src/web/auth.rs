//! Who may use the web server: the access token file, the session cookie set from `?token=…`,
//! bearer tokens, and the CSRF token that cookie-driven forms carry.

use super::server::{CSRF_FIELD, Head, ServerError, TOKEN_FILE};
use super::{Req, Resp};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

const CSRF_LABEL: &[u8] = b"nxr web csrf v1";

/// The secrets of one server: its access token, the CSRF token derived from it, and the cookie name.
pub(super) struct Session {
    pub(super) token: String,
    pub(super) csrf: String,
    pub(super) cookie_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Auth {
    Cookie,
    Bearer,
}

pub(super) fn cookie_name(port: u16) -> String {
    format!("nxr_session_{port}")
}

/// The CSRF token for sessions of `token`: hex HMAC-SHA256 of a fixed label keyed by the token.
pub fn csrf_for(token: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(token.as_bytes()) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this branch cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(CSRF_LABEL);
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time string equality (lengths are not secret).
fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The path of the token file.
pub fn token_path(nxr_home: &Path) -> PathBuf {
    nxr_home.join(TOKEN_FILE)
}

fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Reads `$NXR_HOME/web_token`, or creates it (32 random bytes, hex, mode 0600, atomically).
pub fn load_or_create_token(nxr_home: &Path) -> Result<String, ServerError> {
    let path = token_path(nxr_home);
    let err = |source: std::io::Error| ServerError::Token {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(s) if valid_token(s.trim()) => {
            restrict_mode(&path).map_err(err)?;
            return Ok(s.trim().to_string());
        }
        Ok(_) => tracing::warn!(path = %path.display(), "web token file malformed; replacing it"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    std::fs::create_dir_all(nxr_home).map_err(err)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let token = hex(&bytes);
    crate::domain::base::fsutil::write_atomic(
        &path,
        token.as_bytes(),
        crate::domain::base::fsutil::FileMode::Exactly(0o600),
        false,
    )
    .map_err(|e| err(e.source))?;
    Ok(token)
}

#[cfg(unix)]
fn restrict_mode(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)?;
    if meta.permissions().mode() & 0o777 != 0o600 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_mode(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `?token=…`: checks it, sets the cookie and sends the browser to the same URL without it. `None`
/// when the URL carries no token.
pub(super) fn token_sign_in(shared: &Session, head: &Head) -> Option<Resp> {
    let raw_pairs: Vec<&str> = head
        .raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    let given = raw_pairs
        .iter()
        .find_map(|p| p.strip_prefix("token="))
        .map(super::url_decode)?;
    if !same(&given, &shared.token) {
        return Some(unauthorized(
            head.is_api(),
            "the token in the URL is not this server's token",
        ));
    }
    let path = &head.path;
    let rest: Vec<&str> = raw_pairs
        .iter()
        .copied()
        .filter(|p| !p.starts_with("token="))
        .collect();
    let target = if path.is_empty() {
        "/".to_string()
    } else if rest.is_empty() {
        path.clone()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    // Only ever a path on this server ("//host" would send the browser elsewhere).
    let target = if target.starts_with("//") || target.starts_with("/\\") {
        "/".to_string()
    } else {
        target
    };
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        shared.cookie_name, shared.token
    );
    // Followed from another site's page, the browser would not send a SameSite=Strict cookie on a
    // redirect (the navigation stays cross-site) and the user would land on "Sign-in needed". A
    // page of ours that moves on by itself makes the next request same-site, so the cookie goes.
    if head
        .header("sec-fetch-site")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("cross-site"))
    {
        return Some(
            Resp::html(200, super::pages::signed_in_page(&target))
                .with_header("Set-Cookie", &cookie),
        );
    }
    Some(Resp::redirect(&target).with_header("Set-Cookie", &cookie))
}

/// How the request proved it may use the server, or the 401 to answer.
pub(super) fn authenticate(shared: &Session, head: &Head) -> Result<Auth, Resp> {
    let bearer = head.header("authorization").and_then(|v| {
        let v = v.trim();
        v.get(..7)
            .filter(|p| p.eq_ignore_ascii_case("bearer "))
            .map(|_| v[7..].trim())
    });
    let cookie = head
        .header("cookie")
        .and_then(|c| super::cookie_value(c, &shared.cookie_name));
    if bearer.is_some_and(|b| same(b, &shared.token)) {
        Ok(Auth::Bearer)
    } else if cookie.is_some_and(|c| same(c, &shared.token)) {
        Ok(Auth::Cookie)
    } else if bearer.is_some() {
        Err(unauthorized(
            head.is_api(),
            "the bearer token is not this server's token",
        ))
    } else {
        Err(unauthorized(
            head.is_api(),
            "no session cookie and no bearer token",
        ))
    }
}

pub(super) fn csrf_ok(req: &Req, csrf: &str) -> bool {
    if req
        .header("x-csrf-token")
        .is_some_and(|h| same(h.trim(), csrf))
    {
        return true;
    }
    let is_form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    is_form
        && req
            .form()
            .iter()
            .any(|(k, v)| k == CSRF_FIELD && same(v, csrf))
}

pub(super) fn unauthorized(is_api: bool, why: &str) -> Resp {
    let help = "Open the URL that `nxr serve` printed when it started (it ends in ?token=…); it sets a session cookie. Scripts may send `Authorization: Bearer <token>` instead; the token is in the file web_token in nxr's data directory ($NXR_HOME).";
    if is_api {
        Resp::json_error(401, &format!("not authenticated: {why}. {help}"))
    } else {
        Resp::html(
            401,
            super::pages::message_page(
                "Sign-in needed",
                &format!("Not authenticated: {why}. {help}"),
            ),
        )
    }
}
