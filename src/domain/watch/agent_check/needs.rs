//! What an agent needs around its profile: the provider's key in the profile's own `.env`, and each
//! local endpoint (Ollama) a slot uses, answering and holding the slot's model.

use super::{CheckKind, CheckLine, Shared};
use crate::domain::agents::hermes::{Profile, Slot};
use crate::domain::agents::{credentials, relay_route};
use crate::domain::base::env::Env;
use crate::domain::budget::relay_status;
use crate::domain::catalog::ollama;
use crate::domain::store::secrets;
use std::collections::BTreeMap;

/// The key variable a provider needs (`None`: no key, e.g. a local endpoint).
fn key_var(provider: &str) -> Option<&'static str> {
    match provider {
        "openrouter" => Some(secrets::OPENROUTER_KEY_VAR),
        "anthropic" => Some("ANTHROPIC_API_KEY"),
        "openai" => Some("OPENAI_API_KEY"),
        _ => None,
    }
}

/// Providers that need no key of their own: a local endpoint (`custom`), or Hermes' choice (`auto`,
/// which follows the main model's provider).
const KEYLESS_PROVIDERS: [&str; 3] = ["custom", "auto", ""];

pub(super) fn credentials_line(env: &Env, profile: &Profile, slots: &[Slot]) -> CheckLine {
    let mut needed: Vec<&'static str> = slots
        .iter()
        .filter_map(|s| s.provider.as_deref())
        .filter_map(key_var)
        .collect();
    needed.sort();
    needed.dedup();
    let mut unknown: Vec<&str> = slots
        .iter()
        .filter_map(|s| s.provider.as_deref())
        .filter(|p| key_var(p).is_none() && !KEYLESS_PROVIDERS.contains(p))
        .collect();
    unknown.sort();
    unknown.dedup();
    if needed.is_empty() {
        return CheckLine::pass(
            CheckKind::Credentials,
            if unknown.is_empty() {
                "no provider key needed".to_string()
            } else {
                format!(
                    "no key nxr manages is needed (not checked: {}'s credentials)",
                    unknown.join(", ")
                )
            },
        );
    }
    let file = credentials::profile_env_file(profile);
    let mut missing = Vec::new();
    for var in &needed {
        match secrets::read_var(&file, var) {
            Ok(Some(_)) => {}
            Ok(None) => missing.push(*var),
            Err(e) => {
                return CheckLine::fail(
                    CheckKind::Credentials,
                    format!("{} cannot be read", file.display()),
                    e.to_string(),
                );
            }
        }
    }
    if missing.is_empty() {
        return CheckLine::pass(
            CheckKind::Credentials,
            format!("{} set in {}", needed.join(", "), file.display()),
        );
    }
    let fix = if missing.contains(&secrets::OPENROUTER_KEY_VAR) {
        let stored = secrets::openrouter_key(env).ok().flatten().is_some();
        if stored && !profile.is_root() {
            "the key is stored but has not reached this profile: `nxr agents check --fix` copies it to every agent".to_string()
        } else {
            "add a key: `nxr config set openrouter-key <key>` (a free account key from https://openrouter.ai/keys is enough for free models)".to_string()
        }
    } else {
        format!("add {} to {}", missing.join(", "), file.display())
    };
    CheckLine::fail(
        CheckKind::Credentials,
        format!("no {} in {}", missing.join(", "), file.display()),
        fix,
    )
}

/// The Ollama base of a slot's OpenAI-compatible URL (`http://h:11434/v1` → `http://h:11434`).
fn ollama_base(base_url: &str) -> String {
    let u = base_url.trim_end_matches('/');
    u.strip_suffix("/v1").unwrap_or(u).to_string()
}

pub(super) async fn endpoint_lines(slots: &[Slot], shared: &mut Shared<'_>) -> Vec<CheckLine> {
    // (endpoint, model) → the slots that use it, in slot order.
    let mut uses: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut relays: BTreeMap<u16, Vec<String>> = BTreeMap::new();
    for s in slots {
        if let Some(port) = s.base_url.as_deref().and_then(relay_route::relay_port) {
            relays.entry(port).or_default().push(s.name.clone());
            continue;
        }
        if let (Some(url), Some(model)) = (&s.base_url, &s.model)
            && s.provider.as_deref() == Some("custom")
        {
            uses.entry((ollama_base(url), model.clone()))
                .or_default()
                .push(s.name.clone());
        }
    }
    let mut out = Vec::new();
    for (port, names) in relays {
        out.push(relay_line(port, &names.join(", "), shared).await);
    }
    for ((base, model), names) in uses {
        if !shared.endpoints.contains_key(&base) {
            let answer = ollama::list_models(&base, shared.probe_timeout)
                .await
                .map_err(|e| e.to_string());
            shared.endpoints.insert(base.clone(), answer);
        }
        let slots = names.join(", ");
        out.push(match &shared.endpoints[&base] {
            Ok(models) if models.iter().any(|m| m == &model) => CheckLine::pass(
                CheckKind::LocalEndpoint,
                format!("{base} answers and has {model} ({slots})"),
            ),
            Ok(_) => CheckLine::fail(
                CheckKind::LocalEndpoint,
                format!("{base} answers but has no {model} ({slots})"),
                format!("`ollama pull {model}`"),
            ),
            Err(e) => CheckLine::fail(
                CheckKind::LocalEndpoint,
                format!("the local endpoint for {slots} does not answer"),
                e.clone(),
            ),
        });
    }
    out
}

/// Whether the relay on `port` that `slots` go through runs.
async fn relay_line(port: u16, slots: &str, shared: &mut Shared<'_>) -> CheckLine {
    let key = format!("relay:{port}");
    if !shared.endpoints.contains_key(&key) {
        let answer = relay_status::fetch_status(port, shared.probe_timeout)
            .await
            .map(|_| Vec::new())
            .map_err(|e| e.message);
        shared.endpoints.insert(key.clone(), answer);
    }
    match &shared.endpoints[&key] {
        Ok(_) => CheckLine::pass(
            CheckKind::Relay,
            format!("the relay on 127.0.0.1:{port} runs ({slots})"),
        ),
        Err(e) => CheckLine::fail(
            CheckKind::Relay,
            format!(
                "the profile points at the relay on 127.0.0.1:{port}, which does not run ({slots}: {e})"
            ),
            format!(
                "start it: `nxr serve` (it starts the relay) or `nxr relay run --port {port}`; or take the agents off it: `nxr relay disable`"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_base_drops_the_openai_suffix() {
        assert_eq!(
            ollama_base("http://127.0.0.1:11434/v1"),
            "http://127.0.0.1:11434"
        );
        assert_eq!(ollama_base("http://h:1/v1/"), "http://h:1");
        assert_eq!(ollama_base("http://h:1"), "http://h:1");
    }
}
