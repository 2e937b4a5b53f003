//! `nxr service install|uninstall|status`, run as the built binary with a temporary HOME: the systemd
//! user unit passes `systemd-analyze verify`, carries no secret, and its ExecStart line run exactly as
//! written with its Environment gives a serving `nxr serve`; install is idempotent; uninstall leaves
//! no file behind. The launchd plist parses as a property list with the same command.

mod common;

use common::{FakeServer, Homes, Reply};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const KEY: &str = "sk-or-v1-service0000000000000000000000000000000000000000000000eeee";

struct Setup {
    homes: Homes,
    home: PathBuf,
    _fake: FakeServer,
    url: String,
}

impl Setup {
    fn new() -> Setup {
        let homes = Homes::new();
        let home = homes.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let fake = FakeServer::start();
        fake.always(
            "/api/v1/key",
            Reply::json(200, common::fixture("openrouter/key.json")),
        );
        fake.always(
            "/api/v1/models",
            Reply::json(200, common::fixture("openrouter/models.json")),
        );
        let url = format!("{}/api/v1", fake.base);
        let s = Setup {
            homes,
            home,
            _fake: fake,
            url,
        };
        let out = s.nxr(&["init", "--free"]);
        assert!(out.status.success(), "{}", text(&out));
        // init offers the service, and installs nothing by itself.
        assert!(
            text(&out).contains("`nxr service install` keeps it running as a user service"),
            "{}",
            text(&out)
        );
        assert!(!s.unit().exists());
        let out = s.nxr(&["config", "set", "openrouter-key", KEY]);
        assert!(out.status.success(), "{}", text(&out));
        s
    }

    fn nxr(&self, args: &[&str]) -> Output {
        self.homes
            .nxr()
            .env("HOME", &self.home)
            .env_remove("XDG_CONFIG_HOME")
            .env("NXR_OPENROUTER_URL", &self.url)
            .args(args)
            .output()
            .unwrap()
    }

    fn unit(&self) -> PathBuf {
        self.home.join(".config/systemd/user/nxr.service")
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file and directory under `root` with the bytes of each file, the log files left out
/// (every nxr command appends to its log).
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.components().any(|c| c.as_os_str() == "logs") {
                continue;
            }
            if p.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                out.insert(p.clone(), Some(std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out
}

/// The paths of [`tree`], without SQLite's `-wal`/`-shm` companions (there only while a database
/// is open).
fn files_of(t: &BTreeMap<PathBuf, Option<Vec<u8>>>) -> Vec<PathBuf> {
    t.keys()
        .filter(|p| {
            let n = p.to_string_lossy();
            !n.ends_with("-wal") && !n.ends_with("-shm")
        })
        .cloned()
        .collect()
}

fn files(root: &Path) -> Vec<PathBuf> {
    files_of(&tree(root))
}

/// Splits a systemd command line or `Environment=` value into words: double quotes group, `\\` and
/// `\"` escape, `%%` is `%` and (in ExecStart) `$$` is `$`.
fn systemd_words(line: &str, dollar: bool) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut started) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            '\\' if quoted => cur.extend(chars.next()),
            '%' if chars.peek() == Some(&'%') => {
                chars.next();
                cur.push('%');
            }
            '$' if dollar && chars.peek() == Some(&'$') => {
                chars.next();
                cur.push('$');
            }
            ' ' if !quoted => {
                if started || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `GET path` with a bearer token over plain HTTP/1.0; the whole answer as text.
fn http_get(port: u16, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = write!(
        c,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_systemd_unit_verifies_runs_nxr_serve_and_uninstall_leaves_nothing() {
    let s = Setup::new();
    let before = (tree(&s.home), tree(&s.homes.nxr_home()));
    let port = free_port();
    let port_arg = port.to_string();
    let out = s.nxr(&["service", "install", "--no-start", "--port", &port_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let unit = std::fs::read_to_string(s.unit()).unwrap();
    assert!(
        text(&out).contains(&format!("wrote {}:", s.unit().display()))
            && text(&out).contains(&unit),
        "install shows what it wrote: {}",
        text(&out)
    );
    assert!(
        !unit.contains(KEY) && !unit.contains("sk-or-"),
        "no secret in the unit:\n{unit}"
    );
    for want in [
        "Restart=on-failure",
        "WantedBy=default.target",
        "logs/serve.log",
    ] {
        assert!(unit.contains(want), "{want} missing from\n{unit}");
    }

    // Idempotent: the same bytes, said to be unchanged.
    let out = s.nxr(&["service", "install", "--no-start", "--port", &port_arg]);
    assert!(out.status.success());
    assert!(
        text(&out).contains("already says this (unchanged)"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(s.unit()).unwrap(), unit);

    // Installed but not running: the doctor's fix points at the service and its log.
    let out = s.nxr(&["doctor"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("✗ nxr serve: no `nxr serve` is running")
            && text(&out)
                .contains("fix: the service is installed but its `nxr serve` does not run"),
        "{}",
        text(&out)
    );

    // systemd's own check.
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(s.unit())
        .output()
        .expect("systemd-analyze (Debian's systemd package) is installed");
    assert!(
        out.status.success(),
        "systemd-analyze verify: {}",
        text(&out)
    );
    assert!(
        !text(&out).contains("nxr.service:"),
        "systemd-analyze has remarks about the unit: {}",
        text(&out)
    );

    // Uninstall removes exactly what install wrote: both homes are as before, byte for byte.
    let out = s.nxr(&["service", "uninstall", "--no-stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("removed {}", s.unit().display())));
    assert!(
        (tree(&s.home), tree(&s.homes.nxr_home())) == before,
        "uninstall left {:?} / {:?}, before install {:?} / {:?}",
        files(&s.home),
        files(&s.homes.nxr_home()),
        files_of(&before.0),
        files_of(&before.1)
    );
    let out = s.nxr(&["service", "install", "--no-start", "--port", &port_arg]);
    assert!(out.status.success(), "{}", text(&out));

    // The ExecStart line exactly as written, with the unit's Environment and nothing else.
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let argv = systemd_words(exec, true);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear();
    for l in unit.lines().filter_map(|l| l.strip_prefix("Environment=")) {
        for word in systemd_words(l, false) {
            let (k, v) = word.split_once('=').unwrap();
            cmd.env(k, v);
        }
    }
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until(
        "nxr serve answers on the unit's port",
        Duration::from_secs(30),
        || {
            use std::io::{Read, Write};
            let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                return false;
            };
            let _ = c.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut head = [0u8; 12];
            c.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
        },
    );
    // The running service is what `nxr service status` and `nxr doctor` call `nxr serve`.
    common::wait_until(
        "service status sees nxr serve",
        Duration::from_secs(30),
        || text(&s.nxr(&["service", "status"])).contains("✓ nxr serve: running"),
    );
    // The web dashboard says so too (with the token `nxr serve` keeps in NXR_HOME).
    let token = std::fs::read_to_string(s.homes.nxr_home().join("web_token")).unwrap();
    common::wait_until(
        "the dashboard names the last scan",
        Duration::from_secs(60),
        || {
            let page = http_get(port, "/", token.trim());
            page.contains("Background (nxr serve)")
                && page.contains("nxr serve running; last scan ")
        },
    );
    // A clean stop (SIGTERM, as systemd stops it) gives the heartbeat up at once.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "nxr serve stops cleanly on SIGTERM: {exit:?}"
    );
    let out = s.nxr(&["service", "status"]);
    assert!(
        text(&out).contains("✗ nxr serve: no `nxr serve` is running"),
        "{}",
        text(&out)
    );

    let out = s.nxr(&["service", "uninstall", "--no-stop"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("removed {}", s.unit().display())));
    assert!(!s.unit().exists());
    let out = s.nxr(&["service", "uninstall", "--no-stop"]);
    assert!(out.status.success());
    assert!(text(&out).contains("nothing to remove"), "{}", text(&out));
}

#[test]
fn install_refuses_a_unit_it_did_not_write() {
    let s = Setup::new();
    std::fs::create_dir_all(s.unit().parent().unwrap()).unwrap();
    std::fs::write(s.unit(), "[Service]\nExecStart=/bin/true\n").unwrap();
    let out = s.nxr(&["service", "install", "--no-start"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("was not written by nxr; move it aside"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(s.unit()).unwrap(),
        "[Service]\nExecStart=/bin/true\n"
    );
}

#[test]
fn the_launchd_plist_parses_with_the_same_command_and_no_secret() {
    use nxr::domain::setup::service::{self, Manager};
    let homes = Homes::new();
    let mut env = homes.env();
    env.db_url = Some("libsql://db.example.test".into());
    let spec = |env: &nxr::domain::base::env::Env| {
        service::spec(
            env,
            Manager::Launchd,
            PathBuf::from("/opt/nxr & co/bin/nxr"),
            7979,
            Some("/usr/bin:/bin".into()),
        )
    };
    // plutil is macOS only; here the property-list parser is the check.
    let text = service::render(&spec(&env).unwrap());
    let v: plist::Value =
        plist::from_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["Label"].as_string(), Some("dev.nxr.serve"));
    let args: Vec<&str> = d["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_string())
        .collect();
    assert_eq!(args, ["/opt/nxr & co/bin/nxr", "serve", "--port", "7979"]);
    let vars = d["EnvironmentVariables"].as_dictionary().unwrap();
    assert_eq!(
        vars["NXR_HOME"].as_string(),
        Some(homes.nxr_home().to_str().unwrap())
    );
    assert_eq!(
        vars["NXR_DB_URL"].as_string(),
        Some("libsql://db.example.test")
    );
    assert_eq!(
        d["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(),
        Some(false)
    );
    // A token never goes into the plist: launchd is refused with the way out.
    env.db_token = Some("secret-token".into());
    let err = spec(&env).unwrap_err().to_string();
    assert!(
        err.contains("never writes a secret into the plist"),
        "{err}"
    );
}
