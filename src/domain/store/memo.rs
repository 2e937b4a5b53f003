//! Results computed from the database, kept in memory between calls (the web server answers the
//! same roster or budget many times a second).
//!
//! A kept result is reused only while nothing it was computed from can have changed: the same
//! database data version and the same second of the caller's clock.
//! - The data version is SQLite's `PRAGMA data_version` on the store's main connection (it moves
//!   when any other connection commits: the store's transaction connection, another nxr process)
//!   together with that connection's own change counter (`total_changes`). Reading it is one
//!   statement that touches no table.
//! - The second: every result here depends on the time only through whole seconds (timestamps are
//!   stored to the second; expiry and recency compare seconds), so a result is computed at most
//!   once per second per key.
//! - On a libSQL server there is no such version to read cheaply, so nothing is kept: every call
//!   computes.
//!
//! The version is read before computing, so a write that lands during a computation makes the next
//! call compute again: a result is never served after a write it does not show.

use crate::domain::store::Store;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Identifies the database contents as one connection sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataVersion {
    /// `PRAGMA data_version`: changes when another connection commits.
    others: i64,
    /// `total_changes()` of the main connection: its own writes.
    own: u64,
}

/// The store's current data version; `None` on a libSQL server (nothing is kept there).
pub async fn data_version(store: &Store) -> Result<Option<DataVersion>, libsql::Error> {
    if store.is_remote() {
        return Ok(None);
    }
    let conn = store.conn();
    let own_before = conn.total_changes();
    let mut rows = conn.query("PRAGMA data_version", ()).await?;
    let others = match rows.next().await? {
        Some(row) => row.get::<i64>(0)?,
        None => return Ok(None),
    };
    // A write on this connection while the pragma ran: no stable version to key on.
    if conn.total_changes() != own_before {
        return Ok(None);
    }
    Ok(Some(DataVersion {
        others,
        own: own_before,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    version: DataVersion,
    second: i64,
}

/// One kind of result, per key (e.g. the roster per role filter).
pub struct Memo<K, V> {
    entries: Mutex<HashMap<K, (Stamp, Arc<V>)>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    /// The kept result for `key` if the data and the second of `now` are unchanged since it was
    /// computed; otherwise `compute()`, kept for the next call.
    pub async fn get_or_try<E, F, Fut>(
        &self,
        store: &Store,
        key: K,
        now: DateTime<Utc>,
        compute: F,
    ) -> Result<Arc<V>, E>
    where
        E: From<libsql::Error>,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        let Some(version) = data_version(store).await? else {
            return compute().await.map(Arc::new);
        };
        let stamp = Stamp {
            version,
            second: now.timestamp(),
        };
        if let Some((_, value)) = self.lock().get(&key).filter(|(s, _)| *s == stamp) {
            return Ok(value.clone());
        }
        let value = Arc::new(compute().await?);
        self.lock().insert(key, (stamp, value.clone()));
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Stamp, Arc<V>)>> {
        // A panic while holding the lock cannot leave a half-written entry: take the map as is.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The results a store keeps (see the module documentation): one [`Memo`] per result type, made on
/// first use, so the store needs to know nothing of what is kept.
#[derive(Default)]
pub struct Memos {
    slots: Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
}

impl Memos {
    /// The memo of `V` results per key `K`.
    pub fn of<K, V>(&self) -> Arc<Memo<K, V>>
    where
        K: Eq + Hash + Clone + Send + Sync + 'static,
        V: Send + Sync + 'static,
    {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slot = slots
            .entry(std::any::TypeId::of::<Memo<K, V>>())
            .or_insert_with(|| Arc::new(Memo::<K, V>::default()))
            .clone();
        // The slot was made under this very type's id, so the downcast holds; a fresh memo otherwise.
        slot.downcast::<Memo<K, V>>().unwrap_or_default()
    }
}
