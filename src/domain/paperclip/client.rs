//! The Paperclip REST client (docs/design.md §5): companies, agents, an agent's skills, pause and resume.
//! A local Paperclip (`local_trusted`, loopback) needs no credentials. Every call has a connect and a
//! request timeout; errors name the Paperclip URL and what to do.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Paperclip's agent statuses that mean "gone" (never matched, never updated).
pub const STATUS_TERMINATED: &str = "terminated";
pub const STATUS_PAUSED: &str = "paused";

#[derive(Debug, thiserror::Error)]
pub enum PaperclipError {
    #[error("nxr is not connected to a Paperclip yet (it usually runs at http://127.0.0.1:3100)")]
    NotConnected,
    #[error(
        "{0:?} is not a Paperclip URL nxr can use; give its base URL, e.g. http://127.0.0.1:3100"
    )]
    BadUrl(String),
    #[error(
        "Paperclip at {url} is unreachable ({reason}); start it (`paperclipai run`), or connect to where it runs now"
    )]
    Unreachable { url: String, reason: String },
    #[error("Paperclip at {url} answered {method} {path} with HTTP {status}: {message}")]
    Http {
        url: String,
        method: &'static str,
        path: String,
        status: u16,
        message: String,
    },
    #[error(
        "Paperclip at {url} sent a response nxr cannot read ({what}); is that URL a Paperclip server?"
    )]
    Malformed { url: String, what: String },
}

/// A Paperclip company.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Company {
    pub id: String,
    pub name: String,
}

/// A Paperclip agent, with the fields nxr reads.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAgent {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub adapter_type: String,
    /// Env values come back redacted (`{"type":"plain","value":"***REDACTED***"}`); Paperclip restores
    /// redacted values that are sent back unchanged.
    #[serde(default)]
    pub adapter_config: Map<String, Value>,
    #[serde(default)]
    pub created_at: String,
}

impl RemoteAgent {
    pub fn model(&self) -> Option<&str> {
        self.adapter_config.get("model").and_then(Value::as_str)
    }
    pub fn is_terminated(&self) -> bool {
        self.status == STATUS_TERMINATED
    }
    pub fn is_paused(&self) -> bool {
        self.status == STATUS_PAUSED
    }
}

/// One entry of Paperclip's skill snapshot (`GET /api/agents/:id/skills`), the fields nxr reads.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSkillEntry {
    pub key: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub location_label: Option<String>,
}

/// Paperclip's `AdapterSkillSnapshot` for one agent.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSkills {
    #[serde(default)]
    pub desired_skills: Vec<String>,
    #[serde(default)]
    pub entries: Vec<RemoteSkillEntry>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// What an agent should look like in Paperclip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    pub name: String,
    pub role: &'static str,
    pub model: String,
    /// `adapterConfig.env.HOME`: `$HOME/.hermes` is the agent's Hermes profile.
    pub home: String,
}

/// A client for one Paperclip server.
#[derive(Debug, Clone)]
pub struct PaperclipClient {
    base: String,
    http: reqwest::Client,
}

/// Checks and normalises a Paperclip base URL (`http(s)://host[:port]`, no trailing slash, no `/api`).
pub fn normalize_url(url: &str) -> Result<String, PaperclipError> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    let ok = (trimmed.starts_with("http://") || trimmed.starts_with("https://"))
        && trimmed.split("://").nth(1).is_some_and(|rest| {
            !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        && reqwest::Url::parse(trimmed).is_ok();
    if !ok || trimmed.len() > 2048 {
        return Err(PaperclipError::BadUrl(crate::domain::agents::echo(url)));
    }
    Ok(trimmed.to_string())
}

impl PaperclipClient {
    pub fn new(url: &str) -> Result<PaperclipClient, PaperclipError> {
        let base = normalize_url(url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| PaperclipError::Unreachable {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(PaperclipClient { base, http })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, PaperclipError> {
        let url = format!("{}/api{path}", self.base);
        let m = match method {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            "PATCH" => reqwest::Method::PATCH,
            _ => reqwest::Method::DELETE,
        };
        let mut req = self.http.request(m, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| PaperclipError::Unreachable {
            url: self.base.clone(),
            reason: describe(&e),
        })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| PaperclipError::Unreachable {
            url: self.base.clone(),
            reason: describe(&e),
        })?;
        if !(200..300).contains(&status) {
            return Err(PaperclipError::Http {
                url: self.base.clone(),
                method,
                path: path.to_string(),
                status,
                message: error_message(&text),
            });
        }
        serde_json::from_str(&text).map_err(|e| PaperclipError::Malformed {
            url: self.base.clone(),
            what: format!("{method} {path}: {e}"),
        })
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        v: Value,
    ) -> Result<T, PaperclipError> {
        serde_json::from_value(v).map_err(|e| PaperclipError::Malformed {
            url: self.base.clone(),
            what: format!("{what}: {e}"),
        })
    }

    /// `GET /api/health`: Ok when the server answers with a status.
    pub async fn health(&self) -> Result<(), PaperclipError> {
        let v = self.call("GET", "/health", None).await?;
        if v.get("status").and_then(Value::as_str).is_none() {
            return Err(PaperclipError::Malformed {
                url: self.base.clone(),
                what: "GET /health has no status".into(),
            });
        }
        Ok(())
    }

    pub async fn companies(&self) -> Result<Vec<Company>, PaperclipError> {
        let v = self.call("GET", "/companies", None).await?;
        self.parse("the company list", v)
    }

    pub async fn create_company(&self, name: &str) -> Result<Company, PaperclipError> {
        let v = self
            .call("POST", "/companies", Some(json!({ "name": name })))
            .await?;
        self.parse("the new company", v)
    }

    pub async fn agents(&self, company_id: &str) -> Result<Vec<RemoteAgent>, PaperclipError> {
        let v = self
            .call("GET", &format!("/companies/{company_id}/agents"), None)
            .await?;
        self.parse("the agent list", v)
    }

    pub async fn create_agent(
        &self,
        company_id: &str,
        spec: &AgentSpec,
    ) -> Result<RemoteAgent, PaperclipError> {
        let body = json!({
            "name": spec.name,
            "role": spec.role,
            "adapterType": crate::domain::paperclip::ADAPTER_TYPE,
            "adapterConfig": { "model": spec.model, "env": { "HOME": spec.home } },
        });
        let v = self
            .call(
                "POST",
                &format!("/companies/{company_id}/agents"),
                Some(body),
            )
            .await?;
        self.parse("the new agent", v)
    }

    /// Sets name, role, adapter, model and HOME; every other adapterConfig key (and every other env
    /// variable) stays as Paperclip has it.
    pub async fn update_agent(
        &self,
        existing: &RemoteAgent,
        spec: &AgentSpec,
    ) -> Result<RemoteAgent, PaperclipError> {
        let mut env = existing
            .adapter_config
            .get("env")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        env.insert("HOME".into(), Value::String(spec.home.clone()));
        let body = json!({
            "name": spec.name,
            "role": spec.role,
            "adapterType": crate::domain::paperclip::ADAPTER_TYPE,
            "adapterConfig": { "model": spec.model, "env": env },
        });
        let v = self
            .call("PATCH", &format!("/agents/{}", existing.id), Some(body))
            .await?;
        self.parse("the updated agent", v)
    }

    pub async fn delete_agent(&self, id: &str) -> Result<(), PaperclipError> {
        self.call("DELETE", &format!("/agents/{id}"), None)
            .await
            .map(|_| ())
    }

    pub async fn pause_agent(&self, id: &str) -> Result<RemoteAgent, PaperclipError> {
        let v = self
            .call("POST", &format!("/agents/{id}/pause"), Some(json!({})))
            .await?;
        self.parse("the paused agent", v)
    }

    pub async fn resume_agent(&self, id: &str) -> Result<RemoteAgent, PaperclipError> {
        let v = self
            .call("POST", &format!("/agents/{id}/resume"), Some(json!({})))
            .await?;
        self.parse("the resumed agent", v)
    }

    pub async fn skills(&self, agent_id: &str) -> Result<RemoteSkills, PaperclipError> {
        let v = self
            .call("GET", &format!("/agents/{agent_id}/skills"), None)
            .await?;
        self.parse("the agent's skills", v)
    }

    /// `POST /api/agents/:id/skills/sync` with `mode` `add` or `remove`.
    pub async fn sync_skills(
        &self,
        agent_id: &str,
        mode: &str,
        skills: &[String],
    ) -> Result<RemoteSkills, PaperclipError> {
        let v = self
            .call(
                "POST",
                &format!("/agents/{agent_id}/skills/sync"),
                Some(json!({ "mode": mode, "desiredSkills": skills })),
            )
            .await?;
        self.parse("the agent's skills", v)
    }
}

/// The error text of a Paperclip error body (`{"error": "…"}`), cut to a readable length.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("error").map(|e| match e {
            Value::String(s) => s.clone(),
            other => other
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string()),
        })
    });
    let text = from_json.unwrap_or_else(|| body.trim().to_string());
    let text = if text.is_empty() {
        "no message".to_string()
    } else {
        text
    };
    crate::domain::agents::echo(&text.replace(['\n', '\r'], " "))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection refused or no route".into()
    } else {
        e.to_string()
    }
}

impl crate::domain::base::hint::Hinted for PaperclipError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            PaperclipError::NotConnected | PaperclipError::Unreachable { .. } => {
                vec![Hint::ConnectPaperclip]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            normalize_url(" http://127.0.0.1:3100/ ").unwrap(),
            "http://127.0.0.1:3100"
        );
        assert_eq!(
            normalize_url("http://127.0.0.1:3100/api").unwrap(),
            "http://127.0.0.1:3100"
        );
        for bad in ["", "127.0.0.1:3100", "ftp://x", "http://", "http://a b"] {
            assert!(normalize_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn error_bodies_are_read() {
        assert_eq!(
            error_message(r#"{"error":"Agent not found"}"#),
            "Agent not found"
        );
        assert_eq!(error_message(""), "no message");
        assert!(error_message(&"x".repeat(5000)).chars().count() <= 61);
    }
}
