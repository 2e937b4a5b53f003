//! The store's connection: every call to a libSQL server has a deadline.

use libsql::Connection;
use std::sync::Arc;
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
    /// The server (redacted URL) when remote.
    remote: Option<Arc<str>>,
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
            remote: Some(Arc::from(location)),
        }
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
        let Some(location) = &self.remote else {
            return call.await;
        };
        match tokio::time::timeout(REMOTE_CALL_TIMEOUT, call).await {
            Ok(r) => r,
            Err(_) => Err(libsql::Error::ConnectionFailed(format!(
                "no answer from the libSQL server at {location} within {} s; check that it is running and that NXR_DB_URL points at it",
                REMOTE_CALL_TIMEOUT.as_secs()
            ))),
        }
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
