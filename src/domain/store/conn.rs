//! The store's connection: every call to a libSQL server has a deadline, and the connection
//! remembers since when the server has been unreachable (every surface says so).

use chrono::{DateTime, Utc};
use libsql::Connection;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one call to a libSQL server may take (connecting included) before it fails with an
/// error naming the server.
pub const REMOTE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the store. On a libSQL server every call has a deadline
/// ([`REMOTE_CALL_TIMEOUT`], connecting included): a server that accepts but never answers gives an
/// error naming it instead of a hang. Other `Connection` methods are reached through `Deref`.
#[derive(Clone)]
pub struct Conn {
    inner: Connection,
    /// The server when remote.
    remote: Option<Arc<Remote>>,
}

/// A libSQL server: its redacted URL (for errors) and since when it has not answered.
struct Remote {
    location: String,
    down_since: Mutex<Option<DateTime<Utc>>>,
}

/// True for an error that says the server was not reached (rather than a refused statement).
fn unreachable(e: &libsql::Error) -> bool {
    if matches!(e, libsql::Error::ConnectionFailed(_)) {
        return true;
    }
    let text = e.to_string().to_ascii_lowercase();
    [
        "connect",
        "http error",
        "timed out",
        "broken pipe",
        "connection reset",
        "stream closed",
    ]
    .iter()
    .any(|w| text.contains(w))
}

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.inner
    }
}

impl Conn {
    /// A connection to the libSQL server at `location` (a redacted URL, for errors).
    pub(super) fn remote(inner: Connection, location: &str) -> Conn {
        Conn {
            inner,
            remote: Some(Arc::new(Remote {
                location: location.to_string(),
                down_since: Mutex::new(None),
            })),
        }
    }

    /// Since when the libSQL server has not answered (the first failed call of the current outage);
    /// `None` when its last call answered, and always for a local file.
    pub fn unreachable_since(&self) -> Option<DateTime<Utc>> {
        let remote = self.remote.as_ref()?;
        *remote.down_since.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn local(inner: Connection) -> Conn {
        Conn {
            inner,
            remote: None,
        }
    }

    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, libsql::Error>>,
    ) -> Result<T, libsql::Error> {
        let Some(remote) = &self.remote else {
            return call.await;
        };
        let result = match tokio::time::timeout(REMOTE_CALL_TIMEOUT, call).await {
            Ok(r) => r,
            Err(_) => Err(libsql::Error::ConnectionFailed(format!(
                "no answer from the libSQL server at {} within {} s; check that it is running and that NXR_DB_URL points at it",
                remote.location,
                REMOTE_CALL_TIMEOUT.as_secs()
            ))),
        };
        let mut down = remote.down_since.lock().unwrap_or_else(|p| p.into_inner());
        match &result {
            Err(e) if unreachable(e) => {
                down.get_or_insert_with(Utc::now);
            }
            _ => *down = None,
        }
        result
    }

    pub async fn query(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<libsql::Rows, libsql::Error> {
        self.bounded(self.inner.query(sql, params)).await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<u64, libsql::Error> {
        self.bounded(self.inner.execute(sql, params)).await
    }

    pub async fn execute_batch(&self, sql: &str) -> Result<libsql::BatchRows, libsql::Error> {
        self.bounded(self.inner.execute_batch(sql)).await
    }
}
