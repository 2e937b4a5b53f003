//! The store's connection. On a libSQL server every call has a deadline, the connection remembers
//! since when the server has been unreachable (every surface says so), and a stream the server lost
//! (it restarted, or was away) is replaced by a fresh one on the next call — never in the middle of
//! a transaction, whose remaining statements fail instead, so nothing commits half.

use chrono::{DateTime, Utc};
use libsql::{Connection, Database};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one call to a libSQL server may take (connecting included) before it fails with an
/// error naming the server.
pub const REMOTE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the store. On a libSQL server every call has a deadline
/// ([`REMOTE_CALL_TIMEOUT`], connecting included): a server that accepts but never answers gives an
/// error naming it instead of a hang.
#[derive(Clone)]
pub struct Conn {
    /// The connection of a local file (for a server, the one in `remote`).
    inner: Connection,
    /// The server when remote.
    remote: Option<Arc<Remote>>,
    /// Inside a transaction: the stream it began on. A call after that stream was replaced fails.
    pinned: Option<u64>,
}

/// A libSQL server: its redacted URL (for errors), the stream in use, and since when it has not
/// answered.
struct Remote {
    location: String,
    db: Arc<Database>,
    /// The stream's number (counts replacements) and the stream.
    stream: Mutex<(u64, Connection)>,
    /// The last call says the stream is gone: the next call outside a transaction replaces it.
    broken: std::sync::atomic::AtomicBool,
    down_since: Mutex<Option<DateTime<Utc>>>,
    /// One call at a time on the stream, and none from outside while a transaction holds it: with
    /// calls of other tasks in flight on the stream during a transaction, its COMMIT was seen to
    /// find "no transaction is active" on sqld, and a plain write run inside another caller's
    /// transaction would be rolled back with it.
    gate: tokio::sync::Mutex<()>,
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

/// True for an error after which the stream cannot be used again (the server forgot it).
fn stream_lost(e: &libsql::Error) -> bool {
    unreachable(e) || {
        let text = e.to_string().to_ascii_lowercase();
        text.contains("baton")
            || text.contains("stream not found")
            || text.contains("stream expired")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Conn {
    /// A connection to the libSQL server at `location` (a redacted URL, for errors) of `db`.
    pub(super) fn remote(inner: Connection, db: Arc<Database>, location: &str) -> Conn {
        Conn {
            inner: inner.clone(),
            remote: Some(Arc::new(Remote {
                location: location.to_string(),
                db,
                stream: Mutex::new((0, inner)),
                broken: std::sync::atomic::AtomicBool::new(false),
                down_since: Mutex::new(None),
                gate: tokio::sync::Mutex::new(()),
            })),
            pinned: None,
        }
    }

    pub(super) fn local(inner: Connection) -> Conn {
        Conn {
            inner,
            remote: None,
            pinned: None,
        }
    }

    /// Since when the libSQL server has not answered (the first failed call of the current outage);
    /// `None` when its last call answered, and always for a local file.
    pub fn unreachable_since(&self) -> Option<DateTime<Utc>> {
        let remote = self.remote.as_ref()?;
        *lock(&remote.down_since)
    }

    /// This connection held to the stream in use now (a lost one replaced first), for a
    /// transaction: every call through it runs on that stream or fails.
    pub(super) fn pin(&self) -> Result<Conn, libsql::Error> {
        let mut pinned = self.clone();
        if let Some(remote) = &self.remote {
            let (number, _) = self.current(remote, None)?;
            pinned.pinned = Some(number);
        }
        Ok(pinned)
    }

    /// On a server: the stream to this caller alone until the guard drops (a transaction holds it
    /// throughout; its own calls, pinned, do not wait for it). `None` for a local file.
    pub(super) async fn gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.remote {
            Some(remote) => Some(remote.gate.lock().await),
            None => None,
        }
    }

    /// The stream to use: a lost one is replaced unless the caller is pinned to it.
    fn current(
        &self,
        remote: &Remote,
        pinned: Option<u64>,
    ) -> Result<(u64, Connection), libsql::Error> {
        use std::sync::atomic::Ordering;
        let mut stream = lock(&remote.stream);
        if let Some(p) = pinned {
            if p != stream.0 || remote.broken.load(Ordering::SeqCst) {
                return Err(libsql::Error::ConnectionFailed(format!(
                    "the connection to the libSQL server at {} was lost during the transaction; nothing of it was committed",
                    remote.location
                )));
            }
        } else if remote.broken.swap(false, Ordering::SeqCst) {
            let fresh = remote.db.connect()?;
            *stream = (stream.0 + 1, fresh);
        }
        Ok((stream.0, stream.1.clone()))
    }

    /// The connection calls go to now.
    fn connection(&self) -> Result<Connection, libsql::Error> {
        match &self.remote {
            None => Ok(self.inner.clone()),
            Some(remote) => self.current(remote, self.pinned).map(|(_, c)| c),
        }
    }

    async fn bounded<T, F, Fut>(&self, call: F) -> Result<T, libsql::Error>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: std::future::Future<Output = Result<T, libsql::Error>>,
    {
        let Some(remote) = &self.remote else {
            return call(self.inner.clone()).await;
        };
        let pinned = self.pinned.is_some();
        let gated = async {
            // A transaction's own calls run under the gate its caller holds.
            let _turn = if pinned {
                None
            } else {
                Some(remote.gate.lock().await)
            };
            call(self.connection()?).await
        };
        let result = match tokio::time::timeout(REMOTE_CALL_TIMEOUT, gated).await {
            Ok(r) => r,
            Err(_) => Err(libsql::Error::ConnectionFailed(format!(
                "no answer from the libSQL server at {} within {} s; check that it is running and that NXR_DB_URL points at it",
                remote.location,
                REMOTE_CALL_TIMEOUT.as_secs()
            ))),
        };
        let mut down = lock(&remote.down_since);
        match &result {
            Err(e) if unreachable(e) => {
                down.get_or_insert_with(Utc::now);
            }
            _ => *down = None,
        }
        if let Err(e) = &result
            && stream_lost(e)
        {
            remote
                .broken
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        result
    }

    pub async fn query(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<libsql::Rows, libsql::Error> {
        self.bounded(|c| async move { c.query(sql, params).await })
            .await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: impl libsql::params::IntoParams,
    ) -> Result<u64, libsql::Error> {
        self.bounded(|c| async move { c.execute(sql, params).await })
            .await
    }

    pub async fn execute_batch(&self, sql: &str) -> Result<libsql::BatchRows, libsql::Error> {
        self.bounded(|c| async move { c.execute_batch(sql).await })
            .await
    }

    /// The rowid of this connection's last INSERT.
    pub fn last_insert_rowid(&self) -> i64 {
        self.connection()
            .map(|c| c.last_insert_rowid())
            .unwrap_or(0)
    }

    /// True outside a transaction.
    pub fn is_autocommit(&self) -> bool {
        self.connection().map(|c| c.is_autocommit()).unwrap_or(true)
    }

    /// Rows changed by this connection since it opened.
    pub fn total_changes(&self) -> u64 {
        self.connection().map(|c| c.total_changes()).unwrap_or(0)
    }

    /// How long a local file's statements wait for another writer's lock.
    pub fn busy_timeout(&self, timeout: Duration) -> Result<(), libsql::Error> {
        self.connection()?.busy_timeout(timeout)
    }
}
