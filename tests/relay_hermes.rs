//! The relay with the real Hermes: three agents made by `nxr init`, their profiles pointed at the
//! relay, each sending 10 prompts at once against a loopback OpenRouter that answers 20 free
//! requests per 6-second "minute" and 429 above it. Through the relay every prompt is answered, the
//! server sees no window over its limit and no agent waits more than its fair share; with the
//! profiles pointed straight at the server, the same burst meets the limit.
//!
//! "At once" needs help on a small machine: a Hermes prompt spends about 3 s of CPU starting before
//! it sends its one request, so 30 of them on 2 cores send over some 45 s, never near 20 in 6 s. A
//! [`Gate`] in front of the relay (and, relay off, in front of the server) holds each chat request
//! until all 30 have come, then lets them go together.

mod common;

use common::{FakeServer, Homes, Reply};
use nxr::domain::budget::pacer::Limits;
use nxr::web::relay::{self, RelayConfig};
use serde_json::Value;
use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "sk-or-v1-relay-hermes-test";
const PROMPTS_PER_AGENT: usize = 10;
/// OpenRouter's free limit, 20 a minute, with the minute scaled down to 6 s.
const PER_WINDOW: usize = 20;
const WINDOW: Duration = Duration::from_secs(6);

/// A loopback OpenRouter answering at most `limit` chat requests per `window` (sliding), 429 above.
struct Upstream {
    fake: FakeServer,
    /// When each chat request arrived, answered or not.
    arrivals: Arc<Mutex<Vec<Instant>>>,
    refused: Arc<AtomicUsize>,
}

fn limited_openrouter(limit: usize, window: Duration) -> Upstream {
    let fake = FakeServer::start();
    let refused = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let recent = Arc::new(Mutex::new(VecDeque::<Instant>::new()));
    let (r, n, seen) = (recent.clone(), refused.clone(), arrivals.clone());
    let recorded: Value =
        serde_json::from_str(&common::fixture("openrouter/errors.json")).expect("errors.json");
    let per_minute = recorded["free_models_per_min"]["body"].to_string();
    fake.always(
        "/api/v1/key",
        Reply::json(200, common::fixture("openrouter/key.json")),
    );
    fake.respond_with("/api/v1/chat/completions", move |_| {
        let now = Instant::now();
        seen.lock().expect("lock").push(now);
        let mut recent = r.lock().expect("lock");
        while recent.front().is_some_and(|t| now - *t >= window) {
            recent.pop_front();
        }
        if recent.len() >= limit {
            n.fetch_add(1, Ordering::SeqCst);
            return Reply::json(429, per_minute.clone());
        }
        recent.push_back(now);
        common::chat_sse("pong")
    });
    Upstream {
        fake,
        arrivals,
        refused,
    }
}

impl Upstream {
    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().expect("lock").clone()
    }
}

/// The most requests among `arrivals` within any `window` (a request a whole window after another
/// is in the next one, as the server counts).
fn busiest_window(arrivals: &[Instant], window: Duration) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    let mut start = 0;
    let mut most = 0;
    for (i, t) in sorted.iter().enumerate() {
        while *t - sorted[start] >= window {
            start += 1;
        }
        most = most.max(i + 1 - start);
    }
    most
}

#[derive(Default)]
struct GateState {
    /// Chat requests held now.
    held: usize,
    /// Agents whose chat requests go (`/agents/NAME/…`).
    let_go: BTreeSet<String>,
    /// Everything goes.
    open: bool,
    /// The chat requests answered 2xx through the gate: whose (see [`agent_of`]) and when.
    answered: Vec<(String, Instant)>,
}

/// A loopback pass-through to `target` (same path and body) that holds chat requests until the
/// test lets their agent, or everything, go: it stands in for "the prompts are sent at once".
/// Other requests, and every request once let go, pass at once.
struct Gate {
    base: String,
    state: Arc<(Mutex<GateState>, Condvar)>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The agent of a relay path (`/agents/NAME/v1/…`); "" for any other path.
fn agent_of(url: &str) -> String {
    url.strip_prefix("/agents/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(agent, _)| agent.to_string())
        .unwrap_or_default()
}

impl Gate {
    fn start(target: String, rt: tokio::runtime::Handle) -> Gate {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let state = Arc::new((Mutex::new(GateState::default()), Condvar::new()));
        let client = reqwest::Client::new();
        let (srv, st) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            for mut req in srv.incoming_requests() {
                let (st, rt, client, target) =
                    (st.clone(), rt.clone(), client.clone(), target.clone());
                std::thread::spawn(move || {
                    let mut body = Vec::new();
                    let _ = req.as_reader().read_to_end(&mut body);
                    let url = req.url().to_string();
                    let agent = agent_of(&url);
                    let chat = req.method() == &tiny_http::Method::Post
                        && url.ends_with("/chat/completions");
                    if chat {
                        let (lock, changed) = &*st;
                        let mut s = lock.lock().expect("gate lock");
                        s.held += 1;
                        changed.notify_all();
                        while !(s.open || s.let_go.contains(&agent)) {
                            s = changed.wait(s).expect("gate lock");
                        }
                        s.held -= 1;
                    }
                    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes())
                        .expect("an HTTP method");
                    let content_type = req
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("Content-Type"))
                        .map(|h| h.value.to_string());
                    let answer = rt.block_on(async {
                        let mut out = client.request(method, format!("{target}{url}")).body(body);
                        if let Some(ct) = content_type {
                            out = out.header("Content-Type", ct);
                        }
                        let resp = out.send().await?;
                        let status = resp.status().as_u16();
                        let headers: Vec<(String, String)> = ["content-type", "retry-after"]
                            .iter()
                            .filter_map(|k| {
                                let v = resp.headers().get(*k)?.to_str().ok()?;
                                Some((k.to_string(), v.to_string()))
                            })
                            .collect();
                        let bytes = resp.bytes().await?;
                        Ok::<_, reqwest::Error>((status, headers, bytes.to_vec()))
                    });
                    let response = match answer {
                        Ok((status, headers, bytes)) => {
                            if chat && (200..300).contains(&status) {
                                let at = Instant::now();
                                st.0.lock().expect("gate lock").answered.push((agent, at));
                            }
                            let mut r =
                                tiny_http::Response::from_data(bytes).with_status_code(status);
                            for (k, v) in headers {
                                if let Ok(h) =
                                    tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes())
                                {
                                    r.add_header(h);
                                }
                            }
                            r
                        }
                        Err(e) => tiny_http::Response::from_data(
                            format!("the gate's target failed: {e}").into_bytes(),
                        )
                        .with_status_code(502),
                    };
                    let _ = req.respond(response);
                });
            }
        });
        Gate {
            base: format!("http://127.0.0.1:{port}"),
            state,
            server,
            thread: Some(thread),
        }
    }

    fn port(&self) -> String {
        self.base.rsplit(':').next().unwrap_or_default().to_string()
    }

    fn held(&self) -> usize {
        self.state.0.lock().expect("gate lock").held
    }

    fn change(&self, f: impl FnOnce(&mut GateState)) {
        let (lock, changed) = &*self.state;
        f(&mut lock.lock().expect("gate lock"));
        changed.notify_all();
    }

    /// Lets `agent`'s chat requests go, held and to come.
    fn let_go(&self, agent: &str) {
        self.change(|s| {
            s.let_go.insert(agent.to_string());
        });
    }

    /// The chat requests answered so far, in the order their answers came.
    fn answered(&self) -> Vec<(String, Instant)> {
        self.state.0.lock().expect("gate lock").answered.clone()
    }

    /// Lets everything go, held and to come.
    fn open(&self) {
        self.change(|s| s.open = true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn nxr(homes: &Homes, fake: &FakeServer, args: &[&str]) -> String {
    let out = homes
        .nxr()
        .env("NXR_OPENROUTER_URL", format!("{}/api/v1", fake.base))
        .env("NXR_HERMES_BIN", common::hermes_bin())
        .env("HOME", homes.user_home())
        .env_remove("OPENROUTER_API_KEY")
        .args(args)
        .output()
        .expect("nxr runs");
    assert!(
        out.status.success(),
        "nxr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn hermes(homes: &Homes, upstream: &str, profile: &str) -> Output {
    let mut cmd = Command::new(common::hermes_bin());
    if profile != "default" {
        cmd.args(["-p", profile]);
    }
    cmd.args(["-z", "ping"])
        .env("HERMES_HOME", homes.hermes_home())
        .env("HOME", homes.user_home())
        .env("NO_COLOR", "1")
        .env("OPENROUTER_BASE_URL", upstream)
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("hermes runs")
}

/// Every agent's prompts at once (started all of the first agent's, then the next agent's): each
/// run's profile and output. `meanwhile` runs while they go; `gate` opens after it, even when it
/// fails, so that no run is left held.
fn burst(
    homes: &Homes,
    upstream: &str,
    profiles: &[String],
    gate: &Gate,
    meanwhile: impl FnOnce(),
) -> Vec<(String, Output)> {
    let (runs, outcome) = std::thread::scope(|s| {
        let runs: Vec<_> = profiles
            .iter()
            .flat_map(|p| (0..PROMPTS_PER_AGENT).map(move |_| p))
            .map(|p| s.spawn(move || (p.clone(), hermes(homes, upstream, p))))
            .collect();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(meanwhile));
        gate.open();
        let runs: Vec<_> = runs
            .into_iter()
            .map(|r| r.join().expect("a hermes run"))
            .collect();
        (runs, outcome)
    });
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    runs
}

/// How many of `profile`'s runs answered "pong".
fn answered(runs: &[(String, Output)], profile: &str) -> usize {
    runs.iter()
        .filter(|(p, out)| p == profile && String::from_utf8_lossy(&out.stdout).contains("pong"))
        .count()
}

/// Sends `n` free-model requests of another client through the relay at once and waits for their
/// answers: the account's minute is then used up for one window.
fn use_the_minute(rt: &tokio::runtime::Runtime, relay: &relay::RelayHandle, n: usize) {
    let url = format!("{}/chat/completions", relay.agent_url("another-client"));
    let client = reqwest::Client::new();
    let statuses = rt.block_on(async {
        let sends: Vec<_> = (0..n)
            .map(|_| {
                let request = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .body(r#"{"model":"another/model:free","messages":[{"role":"user","content":"hi"}]}"#);
                tokio::spawn(async move {
                    let resp = request.send().await?;
                    let status = resp.status().as_u16();
                    resp.bytes().await?;
                    Ok::<u16, reqwest::Error>(status)
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for send in sends {
            statuses.push(send.await.expect("a request task").expect("the relay answers"));
        }
        statuses
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

/// The config.yaml of `profile` (`default`: the root profile).
fn config_path(homes: &Homes, profile: &str) -> PathBuf {
    match profile {
        "default" => homes.hermes_home().join("config.yaml"),
        p => homes
            .hermes_home()
            .join("profiles")
            .join(p)
            .join("config.yaml"),
    }
}

#[test]
fn ten_prompts_from_each_of_three_hermes_agents_at_once_are_answered_through_the_relay_in_turn() {
    let homes = Homes::new();
    let up = limited_openrouter(PER_WINDOW, WINDOW);
    let fake = &up.fake;
    nxr(&homes, fake, &["init", "--free"]);
    nxr(&homes, fake, &["config", "set", "openrouter-key", KEY]);
    let list: Value = serde_json::from_str(&nxr(&homes, fake, &["agents", "list", "--json"]))
        .expect("agents list --json");
    let agents: Vec<(String, String)> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| {
            Some((
                a["hermes_profile"].as_str()?.to_string(),
                a["model"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert_eq!(agents.len(), 3, "{list}");
    let profiles: Vec<String> = agents.iter().map(|(p, _)| p.clone()).collect();
    let total = profiles.len() * PROMPTS_PER_AGENT;
    let before: Vec<Vec<u8>> = profiles
        .iter()
        .map(|p| std::fs::read(config_path(&homes, p)).expect("config.yaml"))
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let upstream = format!("{}/api/v1", fake.base);
    let relay = relay::start(
        RelayConfig {
            upstream: upstream.clone(),
            key: Some(KEY.into()),
            limits: Limits {
                per_minute: PER_WINDOW as u32,
                per_day: 1000,
                minute: WINDOW,
                max_wait: Duration::from_secs(120),
            },
            store: None,
        },
        rt.handle().clone(),
        0,
    )
    .expect("the relay starts");
    // The profiles point at the gate, which passes everything on to the relay.
    let gate = Gate::start(relay.base_url(), rt.handle().clone());
    nxr(&homes, fake, &["relay", "enable", "--port", &gate.port()]);
    for p in &profiles {
        let text = std::fs::read_to_string(config_path(&homes, p)).expect("config.yaml");
        assert!(
            text.contains(&format!("{}/agents/{p}/v1", gate.base)),
            "{p}: {text}"
        );
    }
    let port = relay.addr.port();
    let waiting = || {
        rt.block_on(relay::fetch_status(port))
            .expect("the relay's status")
            .waiting
    };
    let mut let_go = None;
    let mut sent_in = None;
    let started = Instant::now();
    let runs = burst(&homes, &upstream, &profiles, &gate, || {
        common::wait_until(
            "every prompt's request at the gate",
            Duration::from_secs(600),
            || gate.held() == total,
        );
        sent_in = Some(started.elapsed());
        // The account's minute is in use (another client's 20 requests, just answered) when the
        // burst comes, so the relay holds all 30 and it alone decides their order. They come in
        // the greediest order: all of the first agent's, then the second's, then the third's.
        use_the_minute(&rt, &relay, PER_WINDOW);
        for (i, p) in profiles.iter().enumerate() {
            gate.let_go(p);
            common::wait_until(
                &format!("{p}'s requests waiting at the relay before the minute frees"),
                WINDOW,
                || waiting() == (i + 1) * PROMPTS_PER_AGENT,
            );
        }
        let_go = Some(Instant::now());
    });
    let took = let_go.expect("the burst was let go").elapsed();
    let sent_in = sent_in.expect("every request came");

    for p in &profiles {
        assert_eq!(
            answered(&runs, p),
            PROMPTS_PER_AGENT,
            "every prompt of {p} answered through the relay"
        );
    }
    // The server refused none and never saw more than its limit in any window.
    assert_eq!(
        up.refused.load(Ordering::SeqCst),
        0,
        "the server refused none"
    );
    let arrivals = up.arrivals();
    assert_eq!(arrivals.len(), PER_WINDOW + total, "one request per prompt");
    let busiest = busiest_window(&arrivals, WINDOW);
    assert!(
        busiest <= PER_WINDOW,
        "{busiest} requests within {WINDOW:?}"
    );
    let stats = relay.stats.snapshot();
    for (p, model) in &agents {
        let own = stats
            .get(p)
            .and_then(|m| m.get(model))
            .cloned()
            .unwrap_or_default();
        assert_eq!(own.answered, PROMPTS_PER_AGENT as u64, "{p}: {stats:?}");
        // Every one of them waited: the 30 were held together.
        assert_eq!(own.held, PROMPTS_PER_AGENT as u64, "{p}: {stats:?}");
        for c in stats.get(p).into_iter().flat_map(|m| m.values()) {
            assert!(c.limited.is_empty() && c.refused == 0, "{p}: {c:?}");
        }
    }
    // Fair share: while all 30 wait together, each agent is owed an equal part of every window's
    // slots. Taking turns gives each of the 3 agents 6 or 7 of the first window's 20 (7, 7, 6),
    // so none has more than 4 requests waiting a second window. First come, first served (the
    // order they reached the relay: the first agent's 10, then the second's) would give 10, 10, 0:
    // the third agent's 10 would all wait the second window. The first window's answers are the
    // first 20 the gate passed back (the next come a window later).
    let mut answers = gate.answered();
    answers.sort_by_key(|(_, at)| *at);
    let first_window: Vec<&str> = answers[..PER_WINDOW]
        .iter()
        .map(|(a, _)| a.as_str())
        .collect();
    let fair = PER_WINDOW / profiles.len();
    for p in &profiles {
        let got = first_window.iter().filter(|a| **a == p.as_str()).count();
        assert!(
            got >= fair,
            "{p} got {got} of the first window's {PER_WINDOW} slots, below its share of {fair}: {first_window:?}"
        );
    }
    // The stored key went upstream for every request.
    for seen in fake.seen().iter().filter(|s| s.method == "POST") {
        let auth = seen
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some(format!("Bearer {KEY}").as_str()));
    }
    let held: Vec<String> = profiles
        .iter()
        .map(|p| {
            let ms: u64 = stats
                .get(p)
                .into_iter()
                .flat_map(|m| m.values())
                .map(|c| c.held_ms)
                .sum();
            let got = first_window.iter().filter(|a| **a == p.as_str()).count();
            format!(
                "{p} {got} slots of the first window, held {:.1} s in all",
                ms as f64 / 1000.0
            )
        })
        .collect();
    common::figures(
        "relay-hermes",
        &format!(
            "{total} Hermes prompts from {} agents at once (the {total} processes took {:.0} s to send on {} CPUs), {PER_WINDOW} per {} s, the minute already used: all answered through the relay {:.1} s after they were let go, 0 refused upstream, busiest window {busiest}; {}",
            profiles.len(),
            sent_in.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            WINDOW.as_secs(),
            took.as_secs_f64(),
            held.join("; ")
        ),
    );

    // Disabled: every profile is byte for byte what it was; the same burst straight at the server
    // meets its limit: of 30 requests at once, 10 are over it.
    nxr(&homes, fake, &["relay", "disable"]);
    for (p, bytes) in profiles.iter().zip(&before) {
        let now = std::fs::read(config_path(&homes, p)).expect("config.yaml");
        assert!(
            &now == bytes,
            "{p}'s config.yaml differs after enable + disable"
        );
    }
    let straight = Gate::start(fake.base.clone(), rt.handle().clone());
    let runs = burst(
        &homes,
        &format!("{}/api/v1", straight.base),
        &profiles,
        &straight,
        || {
            common::wait_until(
                "every prompt's request at the gate",
                Duration::from_secs(600),
                || straight.held() == total,
            );
        },
    );
    let refused = up.refused.load(Ordering::SeqCst);
    assert!(
        refused >= total - PER_WINDOW,
        "without the relay the server answered 429 to at least {}: {refused}",
        total - PER_WINDOW
    );
    let unanswered = total - profiles.iter().map(|p| answered(&runs, p)).sum::<usize>();
    common::figures(
        "relay-hermes",
        &format!(
            "the same burst without the relay: {refused} answered 429 upstream, {unanswered} of {total} prompts unanswered"
        ),
    );
}
