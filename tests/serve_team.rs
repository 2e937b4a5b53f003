//! Team mode: two `nxr serve` on one real libSQL server (sqld, installed by scripts/test.sh) scan
//! once per interval between them — the scan lease in the database lets one of them scan and the
//! other skip — and the lease itself, taken by competing holders on that server.

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{FakeServer, Homes, Reply, Sqld};
use nxr::domain::store::Store;
use nxr::domain::watch::scheduler;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

struct Serve {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(homes: &Homes, sqld: &Sqld, fake: &FakeServer) -> Serve {
    let mut child = homes
        .nxr()
        .env("NXR_DB_URL", &sqld.url)
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .args(["serve", "--port", "0", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Serve { child, lines }
}

fn scan_line(s: &Serve) -> Option<String> {
    s.lines
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.starts_with("nxr serve: scan"))
        .cloned()
}

#[test]
fn two_serves_on_one_sqld_scan_once_between_them() {
    let sqld = Sqld::start();
    let fake = FakeServer::start();
    fake.always(
        "/api/v1/models",
        Reply::json(200, common::fixture("openrouter/models.json")),
    );
    // Both start at once, each in its own homes (two machines), on the same database.
    let (ha, hb) = (Homes::new(), Homes::new());
    let a = serve(&ha, &sqld, &fake);
    let b = serve(&hb, &sqld, &fake);
    common::wait_until(
        "both serves to decide about the scan",
        std::time::Duration::from_secs(120),
        || scan_line(&a).is_some() && scan_line(&b).is_some(),
    );
    let said = [scan_line(&a).unwrap(), scan_line(&b).unwrap()];
    let done = said.iter().filter(|l| l.contains("scan done")).count();
    let skipped = said.iter().filter(|l| l.contains("scan skipped")).count();
    assert_eq!((done, skipped), (1, 1), "{said:?}");
    assert_eq!(fake.hits("/api/v1/models"), 1, "one catalog fetch");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let scans: i64 = rt.block_on(async {
        let store = Store::open_remote(&sqld.url, "").await.unwrap();
        let mut rows = store
            .conn()
            .query("SELECT COUNT(*) FROM scans WHERE status = 'ok'", ())
            .await
            .unwrap();
        rows.next().await.unwrap().unwrap().get(0).unwrap()
    });
    assert_eq!(scans, 1);
}

#[tokio::test]
async fn the_scan_lease_has_one_holder_until_it_expires_or_is_released() {
    let sqld = Sqld::start();
    let store = Store::open(&sqld.env()).await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 6, 0, 0).unwrap();
    let ttl = Duration::minutes(10);
    let lease = |h: &'static str, t| {
        let store = &store;
        async move {
            scheduler::try_lease(store, scheduler::SCAN_LEASE, h, ttl, t)
                .await
                .unwrap()
        }
    };
    assert!(lease("a", t0).await);
    assert!(!lease("b", t0 + Duration::minutes(1)).await, "a holds it");
    assert!(lease("a", t0 + Duration::minutes(2)).await, "a renews");
    assert!(
        !lease("b", t0 + Duration::minutes(11)).await,
        "renewed until 6:12"
    );
    assert!(lease("b", t0 + Duration::minutes(12)).await, "expired");
    scheduler::release_lease(
        &store,
        scheduler::SCAN_LEASE,
        "a",
        t0 + Duration::minutes(13),
    )
    .await
    .unwrap();
    assert!(
        !lease("a", t0 + Duration::minutes(13)).await,
        "a cannot release b's lease"
    );
    scheduler::release_lease(
        &store,
        scheduler::SCAN_LEASE,
        "b",
        t0 + Duration::minutes(14),
    )
    .await
    .unwrap();
    assert!(lease("a", t0 + Duration::minutes(14)).await, "released");
}
