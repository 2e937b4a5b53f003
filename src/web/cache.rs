//! Answers to the read pages and the JSON API, kept between requests while nothing they were built
//! from can have changed, and compressed once for the clients that accept gzip.
//!
//! An answer is kept under a stamp of everything it reads:
//! - the database's data version (`store::memo::data_version`: moves with any commit, from this or
//!   another process; on a libSQL server there is none, so nothing is kept there);
//! - the second of the store's clock (pages show times and ages to the second);
//! - a generation of `$HERMES_HOME`'s files, moved by the kernel's file notifications (inotify):
//!   the notifications a write queued are read before each answer, so a profile edited by another
//!   process (or by hand) shows in the next answer. Hermes' own busy files (logs, sessions,
//!   `state.db`) do not move it. Where inotify is not available, nothing is kept.
//!
//! While the libSQL server does not answer (team mode), a read page or API answer is the last one
//! built while it did, kept per path and query: pages gain the "database unreachable since" banner
//! with the time they were read, JSON answers an `X-Nxr-Database-Down` header. Nothing is kept of an
//! answer built while the server was away.
//!
//! The stamp is read before the answer is built, so a change made while building it makes the next
//! request build again: a kept answer never hides a change it does not show. When only the second
//! has moved, one request builds the new answer while the others get the previous second's (so a
//! page that takes long to build does not hold every client at each new second).

use super::Resp;
use crate::domain::store::Store;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Paths whose GET answers are kept (with any query).
pub const CACHED: [&str; 6] = [
    "/",
    "/agents",
    "/agents/manage",
    "/models",
    "/budget",
    "/notifications",
];

/// The JSON answers the read pages' figures come from (kept like every `/api/` path but the doctor).
pub const API_READS: [&str; 4] = [
    "/api/agents",
    "/api/models/roster",
    "/api/budget",
    "/api/notifications",
];

/// Most answers kept; past it the cache starts again (queries are the client's to vary).
const MAX_ENTRIES: usize = 256;
/// Most bytes of last-read answers kept for while the database is away; past it they start again.
const MAX_LAST_READ_BYTES: usize = 16 * 1024 * 1024;
/// Smallest body worth compressing.
const GZIP_MIN_BYTES: usize = 1024;

/// Whether a GET of `path` may be answered from the cache.
pub fn cacheable(path: &str) -> bool {
    CACHED.contains(&path) || (path.starts_with("/api/") && path != "/api/doctor")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    data: crate::domain::store::memo::DataVersion,
    second: i64,
    files: u64,
}

struct Entry {
    stamp: Stamp,
    resp: Resp,
    gzip: Option<Arc<Vec<u8>>>,
    /// A request is building this answer for a later second.
    rebuilding: bool,
}

impl Stamp {
    /// Nothing but the clock's second moved between the two.
    fn same_data(&self, other: &Stamp) -> bool {
        self.data == other.data && self.files == other.files
    }
}

/// The kept answers (one per path and query) and the file generation.
pub struct PageCache {
    entries: Mutex<HashMap<String, Entry>>,
    files: Mutex<FileWatch>,
    /// The last 200 answer per path and query built while the database answered, with when.
    last_read: Mutex<HashMap<String, (Resp, DateTime<Utc>)>>,
}

impl PageCache {
    pub fn new(hermes_home: PathBuf) -> PageCache {
        PageCache {
            entries: Mutex::new(HashMap::new()),
            files: Mutex::new(FileWatch::new(hermes_home)),
            last_read: Mutex::new(HashMap::new()),
        }
    }

    /// The kept answer for `key` when its stamp still holds; else `build()`, kept when it is a 200.
    pub fn get_or_build(
        &self,
        store: &Store,
        rt: &tokio::runtime::Handle,
        key: &str,
        build: impl FnOnce() -> Resp,
    ) -> Answer {
        let stamp = self.stamp(store, rt);
        if let Some(stamp) = stamp
            && let Some(e) = lock(&self.entries).get_mut(key)
        {
            let kept = || Answer {
                resp: e.resp.clone(),
                gzip: e.gzip.clone(),
            };
            if e.stamp == stamp || (e.rebuilding && e.stamp.same_data(&stamp)) {
                return kept();
            }
            if e.stamp.same_data(&stamp) {
                e.rebuilding = true;
            }
        }
        let resp = self.or_last_read(store, key, build());
        let gzip = compress(&resp).map(Arc::new);
        if let Some(stamp) = stamp
            && resp.status == 200
        {
            let mut entries = lock(&self.entries);
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
                entries.clear();
            }
            entries.insert(
                key.to_string(),
                Entry {
                    stamp,
                    resp: resp.clone(),
                    gzip: gzip.clone(),
                    rebuilding: false,
                },
            );
        } else if let Some(e) = lock(&self.entries).get_mut(key) {
            e.rebuilding = false;
        }
        Answer { resp, gzip }
    }

    /// `resp`, kept as the last read when the database answered while it was built; when it did
    /// not, the last read answer (marked as such) if there is one.
    fn or_last_read(&self, store: &Store, key: &str, resp: Resp) -> Resp {
        if !store.is_remote() {
            return resp;
        }
        let mut kept = lock(&self.last_read);
        let Some(since) = store.unreachable_since() else {
            if resp.status == 200 {
                let held: usize = kept.values().map(|(r, _)| r.body.len()).sum();
                if (kept.len() >= MAX_ENTRIES || held + resp.body.len() > MAX_LAST_READ_BYTES)
                    && !kept.contains_key(key)
                {
                    kept.clear();
                }
                kept.insert(key.to_string(), (resp.clone(), store.now()));
            }
            return resp;
        };
        match kept.get(key) {
            Some((last, read_at)) => marked_down(last.clone(), since, *read_at),
            None => resp,
        }
    }

    fn stamp(&self, store: &Store, rt: &tokio::runtime::Handle) -> Option<Stamp> {
        let files = lock(&self.files).generation()?;
        let data = rt
            .block_on(crate::domain::store::memo::data_version(store))
            .ok()??;
        Some(Stamp {
            data,
            second: store.now().timestamp(),
            files,
        })
    }
}

/// `resp` (read at `read_at`) as shown while the database is away since `since`: a page with the
/// banner before its main part, JSON with the line in a header.
fn marked_down(mut resp: Resp, since: DateTime<Utc>, read_at: DateTime<Utc>) -> Resp {
    let line = crate::domain::view::database_down_kept_line(since, read_at);
    if resp.content_type.starts_with("text/html") {
        let banner = maud::html! { p.bad #database-down role="alert" { (line) } }.into_string();
        if let Some(at) = resp.body.windows(6).position(|w| w == b"<main>") {
            resp.body.splice(at..at, banner.into_bytes());
        }
        resp
    } else {
        resp.with_header("X-Nxr-Database-Down", &line)
    }
}

/// An answer, with its gzip form when it is worth compressing.
pub struct Answer {
    pub resp: Resp,
    pub gzip: Option<Arc<Vec<u8>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves whole entries only: take the map as is.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `resp`'s body gzip-compressed, when it is text or JSON and big enough to gain from it.
pub fn compress(resp: &Resp) -> Option<Vec<u8>> {
    let textual =
        resp.content_type.starts_with("text/") || resp.content_type.starts_with("application/json");
    if !textual || resp.body.len() < GZIP_MIN_BYTES {
        return None;
    }
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(resp.body.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(&resp.body).ok()?;
    enc.finish().ok()
}

/// Whether the client accepts a gzip body (`Accept-Encoding: gzip`, not refused with `q=0`).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|v| {
        v.split(',').any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
    })
}

/// Names under `$HERMES_HOME` that Hermes writes while it works and no page reads.
fn busy(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    n == "logs" || n == "sessions" || n.starts_with("state.db")
}

/// The generation of `$HERMES_HOME`'s files: moves whenever a file or folder there changes.
struct FileWatch {
    home: PathBuf,
    generation: u64,
    #[cfg(target_os = "linux")]
    watch: Option<linux::Watch>,
}

impl FileWatch {
    fn new(home: PathBuf) -> FileWatch {
        FileWatch {
            home,
            generation: 0,
            #[cfg(target_os = "linux")]
            watch: None,
        }
    }

    /// The current generation, after reading every notification queued so far; `None` when the
    /// files cannot be watched (nothing may then be kept).
    #[cfg(target_os = "linux")]
    fn generation(&mut self) -> Option<u64> {
        if self.watch.is_none() {
            if !self.home.is_dir() {
                return None;
            }
            self.watch = linux::Watch::start(&self.home);
            // Anything may have changed while nothing was watched.
            self.generation += 1;
        }
        let w = self.watch.as_mut()?;
        match w.drain() {
            Some(0) => {}
            Some(_) => self.generation += 1,
            None => {
                self.watch = None;
                return None;
            }
        }
        Some(self.generation)
    }

    #[cfg(not(target_os = "linux"))]
    fn generation(&mut self) -> Option<u64> {
        None
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// Most folders watched; a bigger `$HERMES_HOME` is not watched (nothing is kept).
    const MAX_DIRS: usize = 20_000;

    pub struct Watch {
        inotify: Inotify,
        dirs: HashMap<WatchDescriptor, PathBuf>,
    }

    fn mask() -> WatchMask {
        WatchMask::MODIFY
            | WatchMask::ATTRIB
            | WatchMask::CLOSE_WRITE
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::DELETE_SELF
            | WatchMask::MOVED_FROM
            | WatchMask::MOVED_TO
            | WatchMask::MOVE_SELF
    }

    impl Watch {
        pub fn start(home: &Path) -> Option<Watch> {
            let inotify = Inotify::init().ok()?;
            let mut w = Watch {
                inotify,
                dirs: HashMap::new(),
            };
            w.add_tree(home).then_some(w)
        }

        /// Watches `dir` and every folder under it (but Hermes' busy ones); false past the limit or
        /// when the root cannot be watched.
        fn add_tree(&mut self, dir: &Path) -> bool {
            let mut todo = vec![dir.to_path_buf()];
            let mut first = true;
            while let Some(d) = todo.pop() {
                if self.dirs.len() >= MAX_DIRS {
                    return false;
                }
                match self.inotify.watches().add(&d, mask()) {
                    Ok(wd) => {
                        self.dirs.insert(wd, d.clone());
                    }
                    Err(_) if first => return false,
                    // A folder removed meanwhile: its removal was a change already.
                    Err(_) => continue,
                }
                first = false;
                if let Ok(read) = std::fs::read_dir(&d) {
                    for e in read.flatten() {
                        if e.file_type().is_ok_and(|t| t.is_dir() && !t.is_symlink())
                            && !super::busy(&e.file_name())
                        {
                            todo.push(e.path());
                        }
                    }
                }
            }
            true
        }

        /// Reads the queued notifications without waiting: how many were about files a page may
        /// read; `None` when the watch broke (overflow, the root gone).
        pub fn drain(&mut self) -> Option<usize> {
            let mut buf = [0u8; 8192];
            let mut relevant = 0;
            loop {
                let events = match self.inotify.read_events(&mut buf) {
                    Ok(ev) => ev,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Some(relevant),
                    Err(_) => return None,
                };
                let mut new_dirs = Vec::new();
                let mut count = 0;
                for ev in events {
                    count += 1;
                    if ev.mask.contains(EventMask::Q_OVERFLOW) {
                        return None;
                    }
                    if ev
                        .mask
                        .intersects(EventMask::DELETE_SELF | EventMask::MOVE_SELF)
                        && self.dirs.len() == 1
                    {
                        return None;
                    }
                    if ev.name.is_some_and(super::busy) {
                        continue;
                    }
                    relevant += 1;
                    if ev.mask.contains(EventMask::ISDIR)
                        && ev.mask.intersects(EventMask::CREATE | EventMask::MOVED_TO)
                        && let (Some(parent), Some(name)) = (self.dirs.get(&ev.wd), ev.name)
                    {
                        new_dirs.push(parent.join(name));
                    }
                }
                for d in new_dirs {
                    if !self.add_tree(&d) {
                        return None;
                    }
                }
                if count == 0 {
                    return Some(relevant);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_when_accepted_and_not_refused() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn only_read_pages_and_the_api_are_kept() {
        assert!(cacheable("/agents/manage"));
        assert!(cacheable("/api/agents"));
        assert!(!cacheable("/api/doctor"));
        assert!(!cacheable("/doctor"));
        assert!(!cacheable("/setup"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_written_under_the_home_moves_the_generation_before_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profiles").join("pm");
        std::fs::create_dir_all(&profile).unwrap();
        let mut w = FileWatch::new(dir.path().to_path_buf());
        let g0 = w.generation().unwrap();
        assert_eq!(w.generation(), Some(g0), "nothing changed");
        std::fs::write(profile.join("config.yaml"), "model: x\n").unwrap();
        let g1 = w.generation().unwrap();
        assert!(g1 > g0);
        // Hermes' busy files do not count.
        std::fs::create_dir_all(profile.join("logs")).unwrap();
        let g2 = w.generation().unwrap();
        std::fs::write(profile.join("logs").join("agent.log"), "x").unwrap();
        std::fs::write(profile.join("state.db"), "x").unwrap();
        assert_eq!(w.generation(), Some(g2));
        // A folder made after the start is watched too.
        let skills = dir.path().join("profiles").join("eng").join("skills");
        std::fs::create_dir_all(&skills).unwrap();
        let g3 = w.generation().unwrap();
        std::fs::write(skills.join("SKILL.md"), "x").unwrap();
        assert!(w.generation().unwrap() > g3);
    }
}
