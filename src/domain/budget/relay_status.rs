//! A relay's state as its `GET /status` answers it, and asking a relay on loopback for it (which
//! also tells whether one runs on a port).

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// No relay answered on a port.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no relay answers on 127.0.0.1:{port} ({message}); start the relay on that port")]
pub struct RelayDown {
    pub port: u16,
    pub message: String,
}

/// A relay's counts, as `GET /status` answers them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RelayStatus {
    pub free_today: u32,
    pub waiting: usize,
    pub per_minute: u32,
    pub per_day: u32,
    pub agents: BTreeMap<String, BTreeMap<String, Counts>>,
}

/// Asks the relay on 127.0.0.1:`port` for its counts, waiting at most `timeout`.
pub async fn fetch_status(port: u16, timeout: Duration) -> Result<RelayStatus, RelayDown> {
    let fail = |message: String| RelayDown { port, message };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = client
        .get(format!("http://127.0.0.1:{port}/status"))
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    resp.json::<RelayStatus>()
        .await
        .map_err(|e| fail(format!("its answer is not a relay status: {e}")))
}

/// Per agent and model: what happened to its requests.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Requests forwarded upstream.
    pub forwarded: u64,
    /// Answered 2xx by OpenRouter.
    pub answered: u64,
    /// Held for a slot of the minute before going.
    pub held: u64,
    /// Total time held, in milliseconds.
    pub held_ms: u64,
    /// Refused by the relay (daily count used, or held past its bound): never sent.
    pub refused: u64,
    /// Answered 429 or 402 by OpenRouter, by kind (per_minute, per_day, high_demand, funding, …).
    pub limited: BTreeMap<String, u64>,
    /// Other non-2xx answers by status.
    pub upstream_errors: BTreeMap<u16, u64>,
    /// Answers the client stopped reading before their end.
    pub client_closed: u64,
}
