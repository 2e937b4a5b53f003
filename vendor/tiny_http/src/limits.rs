//! Connection limits (nxr patch, see PATCHES.md): what one slow or hostile client may hold.
//!
//! - every socket read and write times out (`read_timeout`, `write_timeout`);
//! - a request head must arrive within `head_deadline` of the connection becoming ready for it
//!   (this is also the keep-alive idle timeout) and be at most `max_head_bytes` long;
//! - a request body must arrive within `body_deadline`; bodies up to `max_body_bytes` are read in
//!   the connection's own thread before the request is handed to `recv()`, so a dripping body never
//!   holds the caller's worker threads; a larger declared body is not read at all (the request gets
//!   an empty body and its `body_length()`, and the connection closes after the answer);
//! - at most `max_connections` connections are open at once. When a new one arrives at the cap, a
//!   connection the server is waiting on is closed to make room: first the one that has waited
//!   longest in the middle of a request (part of a head or body read: a slow client), then the
//!   longest idle between requests, then the oldest from which nothing was read yet, unless a whole
//!   request head waits in its socket (its thread has just not read it yet) or nothing has arrived
//!   and it is younger than 100 ms; when there is none of these, the new connection gets `503`.

use std::collections::HashMap;
use std::io::{Error as IoError, ErrorKind, Result as IoResult};
use std::net::Shutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::connection::Connection;

/// What one connection may hold. `Default` is generous; servers facing untrusted clients should
/// pick tighter values.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest wait for any single read from a client.
    pub read_timeout: Duration,
    /// Longest wait for any single write to a client.
    pub write_timeout: Duration,
    /// Time a client has to send a complete request head (request line and headers).
    pub head_deadline: Duration,
    /// Time a client has to send a request body.
    pub body_deadline: Duration,
    /// Largest request head; bigger gets `431` and the connection closes.
    pub max_head_bytes: usize,
    /// Largest body read ahead for the handler; see the module documentation.
    pub max_body_bytes: usize,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            head_deadline: Duration::from_secs(60),
            body_deadline: Duration::from_secs(120),
            max_head_bytes: 64 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
            max_connections: 1024,
        }
    }
}

/// How long a connection with nothing sent yet is kept from eviction (its request may be on its way).
const FRESH_GRACE: Duration = Duration::from_millis(100);

/// Whether a connection nothing was read from may be closed to admit another: not when a whole
/// request head waits in its socket (its thread just has not read it yet), nor when nothing has
/// arrived yet and it is younger than [`FRESH_GRACE`]. Looks without reading (`MSG_PEEK`).
fn fresh_evictable(socket: &Connection, age: Duration) -> bool {
    match pending(socket) {
        Some(bytes) if bytes.windows(4).any(|w| w == b"\r\n\r\n") => false,
        Some(bytes) if !bytes.is_empty() => true,
        _ => age >= FRESH_GRACE,
    }
}

/// The bytes waiting in the socket (up to 8 KB), without taking them; `None` when unknown.
#[cfg(unix)]
#[allow(unsafe_code)]
fn pending(socket: &Connection) -> Option<Vec<u8>> {
    use std::os::unix::io::AsRawFd;
    let fd = match socket {
        Connection::Tcp(s) => s.as_raw_fd(),
        Connection::Unix(s) => s.as_raw_fd(),
    };
    let mut buf = vec![0u8; 8192];
    // SAFETY: `buf` is valid for `buf.len()` bytes; MSG_PEEK | MSG_DONTWAIT neither consumes the
    // data nor blocks, and leaves the socket's flags as they are.
    let n = unsafe {
        libc::recv(
            fd,
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n < 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(buf)
}

#[cfg(not(unix))]
fn pending(_socket: &Connection) -> Option<Vec<u8>> {
    None
}

/// What the server is doing with a connection, in the order connections are evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Reading a request that has begun (part of a head or a body): a slow client.
    Partial,
    /// Waiting for the next request after answering one.
    Idle,
    /// Nothing read yet since the connection opened.
    Fresh,
    /// Handling a request (never evicted).
    Busy,
}

struct Slot {
    /// A handle on the same socket, to close it when the connection is evicted.
    socket: Connection,
    phase: Phase,
    since: Instant,
}

/// The open connections.
#[derive(Default)]
pub(crate) struct Registry {
    slots: Mutex<HashMap<u64, Slot>>,
    next_id: AtomicU64,
}

/// Why a connection was not admitted.
pub(crate) enum Refused {
    /// Every connection is busy with a request.
    Full,
    /// The socket could not be copied (e.g. out of file descriptors).
    Io(IoError),
}

/// Logs accept errors at most every 10 s (running out of file descriptors can last).
#[derive(Default)]
pub(crate) struct ErrorLog {
    last: Option<Instant>,
}

impl ErrorLog {
    pub(crate) fn report(&mut self, e: &IoError) {
        if self
            .last
            .map_or(true, |t| t.elapsed() >= Duration::from_secs(10))
        {
            log::error!("Error accepting new client: {}", e);
            self.last = Some(Instant::now());
        }
    }
}

impl Registry {
    /// Registers `socket`, evicting the longest-waiting connection when at `max`.
    pub(crate) fn admit(
        self: &Arc<Self>,
        socket: &Connection,
        max: usize,
    ) -> Result<ConnGuard, Refused> {
        let handle = socket.try_clone().map_err(Refused::Io)?;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.len() >= max.max(1) {
            let now = Instant::now();
            let oldest = slots
                .iter()
                .filter(|(_, s)| match s.phase {
                    Phase::Busy => false,
                    Phase::Fresh => fresh_evictable(&s.socket, now.duration_since(s.since)),
                    Phase::Partial | Phase::Idle => true,
                })
                .map(|(id, s)| (s.phase, s.since, *id))
                .min()
                .map(|(_, _, id)| id);
            match oldest.and_then(|id| slots.remove(&id)) {
                Some(evicted) => {
                    log::debug!("connection cap reached: closing the longest-waiting connection");
                    evicted.socket.shutdown(Shutdown::Both).ok();
                }
                None => return Err(Refused::Full),
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        slots.insert(
            id,
            Slot {
                socket: handle,
                phase: Phase::Fresh,
                since: Instant::now(),
            },
        );
        Ok(ConnGuard {
            id,
            registry: self.clone(),
        })
    }

    fn set_phase(&self, id: u64, phase: Phase) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get_mut(&id) {
            if slot.phase != phase {
                slot.phase = phase;
                slot.since = Instant::now();
            }
        }
    }
}

/// One admitted connection; leaves the registry when dropped.
pub(crate) struct ConnGuard {
    id: u64,
    registry: Arc<Registry>,
}

impl ConnGuard {
    /// The server waits for the client (evictable; see [`Phase`]).
    pub(crate) fn set(&self, phase: Phase) {
        self.registry.set_phase(self.id, phase);
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut slots = self
            .registry
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        slots.remove(&self.id);
    }
}

/// The current read deadline of one connection, shared by its reader and its request loop.
#[derive(Clone, Default)]
pub(crate) struct Deadline(Arc<Mutex<Option<Instant>>>);

impl Deadline {
    pub(crate) fn set(&self, at: Option<Instant>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub(crate) fn get(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Applies the read timeout and the current deadline before each read of a socket.
pub(crate) struct ReadLimit {
    pub(crate) read_timeout: Duration,
    pub(crate) deadline: Deadline,
    /// The timeout currently set on the socket.
    pub(crate) applied: Option<Duration>,
}

impl ReadLimit {
    /// The timeout the next read must use, or `TimedOut` when the deadline has passed.
    pub(crate) fn next_timeout(&self) -> IoResult<Duration> {
        match self.deadline.get() {
            None => Ok(self.read_timeout),
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    return Err(IoError::new(
                        ErrorKind::TimedOut,
                        "the client did not send its request in time",
                    ));
                }
                Ok((at - now).min(self.read_timeout))
            }
        }
    }
}

/// A socket timeout surfaces as `WouldBlock` on Unix; callers look for `TimedOut`.
pub(crate) fn timed_out(e: IoError) -> IoError {
    if e.kind() == ErrorKind::WouldBlock {
        IoError::new(ErrorKind::TimedOut, "the client sent nothing in time")
    } else {
        e
    }
}
