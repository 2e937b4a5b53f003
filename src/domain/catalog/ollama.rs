//! Ollama (docs/design.md §5): `GET {ollama_url}/api/tags` lists the locally pulled models. Used by the
//! scoring fallback (a local Qwen when no free model qualifies) and by onboarding (detection).
//! The URL comes from `Env::ollama_url` (`NXR_OLLAMA_URL`, default `http://127.0.0.1:11434`).

use serde::Deserialize;
use std::time::Duration;

/// Short: Ollama is local, and a missing Ollama must not slow the CLI down.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Debug, thiserror::Error)]
pub enum OllamaError {
    #[error(
        "cannot reach Ollama at {url}: {message}; start it with `ollama serve`, or set NXR_OLLAMA_URL to where it runs"
    )]
    Unreachable { url: String, message: String },
    #[error(
        "Ollama at {url} did not answer within {millis} ms; check that it is running (`ollama serve`) or set NXR_OLLAMA_URL"
    )]
    Timeout { url: String, millis: u128 },
    #[error(
        "Ollama at {url} answered HTTP {status}; check that NXR_OLLAMA_URL points at Ollama itself (e.g. http://127.0.0.1:11434)"
    )]
    Status { url: String, status: u16 },
    #[error(
        "Ollama at {url} sent a reply nxr cannot read ({message}); check that NXR_OLLAMA_URL points at Ollama"
    )]
    BadReply { url: String, message: String },
}

#[derive(Debug, Deserialize)]
struct Tags {
    models: Vec<TagEntry>,
}

#[derive(Debug, Deserialize)]
struct TagEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    model: Option<String>,
}

/// The OpenAI-compatible base URL of an Ollama (`{base}/v1`), for agents that run a local model.
pub fn openai_base_url(ollama_url: &str) -> String {
    format!("{}/v1", ollama_url.trim_end_matches('/'))
}

/// Parses a `/api/tags` body into model names (sorted, deduplicated; hostile names dropped).
pub fn parse_tags(url: &str, body: &[u8]) -> Result<Vec<String>, OllamaError> {
    let tags: Tags = serde_json::from_slice(body).map_err(|e| OllamaError::BadReply {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    let mut names: Vec<String> = tags
        .models
        .into_iter()
        .filter_map(|t| t.name.or(t.model))
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty() && n.len() <= 200 && !n.chars().any(char::is_control))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// `GET {ollama_url}/api/tags` → the names of the pulled models (e.g. `qwen3:8b`).
pub async fn list_models(ollama_url: &str, timeout: Duration) -> Result<Vec<String>, OllamaError> {
    let url = format!("{}/api/tags", ollama_url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| OllamaError::Unreachable {
            url: url.clone(),
            message: e.to_string(),
        })?;
    let resp = client.get(&url).send().await.map_err(|e| {
        if e.is_timeout() {
            OllamaError::Timeout {
                url: url.clone(),
                millis: timeout.as_millis(),
            }
        } else {
            OllamaError::Unreachable {
                url: url.clone(),
                message: e.to_string(),
            }
        }
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(OllamaError::Status {
            url,
            status: status.as_u16(),
        });
    }
    let body = resp.bytes().await.map_err(|e| {
        if e.is_timeout() {
            OllamaError::Timeout {
                url: url.clone(),
                millis: timeout.as_millis(),
            }
        } else {
            OllamaError::BadReply {
                url: url.clone(),
                message: e.to_string(),
            }
        }
    })?;
    parse_tags(&url, &body)
}

/// What the Hermes page's Ollama card shows: the version (`GET /api/version`, when it answers) and
/// the pulled models.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OllamaStatus {
    pub url: String,
    pub version: Option<String>,
    pub models: Vec<String>,
}

/// Asks Ollama for its models and version; `Err` when it does not answer `/api/tags`.
pub async fn status(ollama_url: &str, timeout: Duration) -> Result<OllamaStatus, OllamaError> {
    let models = list_models(ollama_url, timeout).await?;
    let url = format!("{}/api/version", ollama_url.trim_end_matches('/'));
    let version = async {
        let client = reqwest::Client::builder().timeout(timeout).build().ok()?;
        let resp = client.get(&url).send().await.ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let v: serde_json::Value = resp.json().await.ok()?;
        v.get("version")?
            .as_str()
            .filter(|s| s.len() <= 64 && !s.chars().any(char::is_control))
            .map(str::to_string)
    }
    .await;
    Ok(OllamaStatus {
        url: ollama_url.to_string(),
        version,
        models,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_names_and_drop_junk() {
        let body = br#"{"models":[{"name":"qwen3:8b","model":"qwen3:8b","size":1},{"model":"llama3.2:3b"},{"name":"bad\u0007name"},{}]}"#;
        assert_eq!(
            parse_tags("u", body).unwrap(),
            vec!["llama3.2:3b".to_string(), "qwen3:8b".to_string()]
        );
        assert!(matches!(
            parse_tags("u", b"not json"),
            Err(OllamaError::BadReply { .. })
        ));
    }
}
