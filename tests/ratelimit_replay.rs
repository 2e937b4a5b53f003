//! A day of an account's usage replayed hour by hour through the same paths nxr takes: Hermes'
//! usage rows through the ingest, and OpenRouter's recorded 429 / 402 bodies through the classifier
//! and the rate-limit log. At the end of the day the budget counts only the answered requests (a
//! rate-limited request is not a used free request: 50 of 50, never 53 of 50) and lists the
//! rate limits by kind with the models they hit; yesterday's events are not today's.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::Homes;
use nxr::domain::agents::{self, Agent, NewAgent};
use nxr::domain::base::clock::FixedClock;
use nxr::domain::base::roles::Role;
use nxr::domain::budget::usage::{self, HermesUsage};
use nxr::domain::budget::{self, Level};
use nxr::domain::catalog::ratelimit::{self, RateLimitKind};
use nxr::domain::store::Store;
use serde_json::Value;

const CODER: &str = "qwen/qwen3-coder:free";
const GPT: &str = "openai/gpt-oss-120b:free";

fn day_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 20, 0, 0, 0).unwrap()
}

/// A recorded error body by name: (status, body).
fn recorded(name: &str) -> (u16, String) {
    let all: Value = serde_json::from_str(&common::fixture("openrouter/errors.json")).unwrap();
    let e = &all[name];
    assert!(e.is_object(), "no recorded body {name}");
    (e["status"].as_u64().unwrap() as u16, e["body"].to_string())
}

/// One event of the replay.
enum Event {
    /// A request answered by `model` (one Hermes session, one API call).
    Answered(&'static str),
    /// OpenRouter refused a request for `model` with the recorded body `body`.
    Refused(&'static str, &'static str),
}

struct Replay {
    store: Store,
    sessions: usize,
}

impl Replay {
    /// Plays `event` for `agent` at `at`, as nxr sees it.
    async fn play(&mut self, agent: &Agent, at: DateTime<Utc>, event: Event) {
        let clock = FixedClock(at);
        match event {
            Event::Answered(model) => {
                self.sessions += 1;
                let row = HermesUsage {
                    key: format!("s{}|{model}|openrouter|||", self.sessions),
                    session_id: format!("s{}", self.sessions),
                    model: model.into(),
                    api_calls: 1,
                    input_tokens: 120,
                    output_tokens: 30,
                    cost_usd: 0.0,
                    last_seen: Some(at),
                    via_relay: false,
                };
                usage::ingest_agent(&self.store, agent, &[row], &[], &clock)
                    .await
                    .unwrap();
            }
            Event::Refused(model, body) => {
                let (status, body) = recorded(body);
                let kind = ratelimit::classify(status, &body).expect("a rate limit");
                ratelimit::record(&self.store, Some(agent.id), model, kind, None, &clock)
                    .await
                    .unwrap();
            }
        }
    }
}

async fn agent(store: &Store, homes: &Homes, name: &str, role: Role, model: &str) -> Agent {
    agents::create(
        store,
        &homes.env(),
        NewAgent {
            name: name.into(),
            role,
            category: None,
            model: Some(model.into()),
            skills: None,
            is_default: false,
            host: None,
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_day_with_429s_counts_answered_requests_only_and_tells_the_limits_apart() {
    let homes = Homes::new();
    let mut env = homes.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    let store = Store::open(&env).await.unwrap();
    let eng = agent(&store, &homes, "Engineer", Role::Engineer, CODER).await;
    let pm = agent(&store, &homes, "PM", Role::Pm, GPT).await;
    let mut r = Replay { store, sessions: 0 };

    // Yesterday evening: answered requests and the daily limit, none of it today's.
    let eve = day_start() - Duration::minutes(30);
    for i in 0..5 {
        r.play(&eng, eve + Duration::minutes(i), Event::Answered(CODER))
            .await;
    }
    r.play(
        &eng,
        eve + Duration::minutes(10),
        Event::Refused(CODER, "free_models_per_day_under_10_credits"),
    )
    .await;

    // Today: 50 answered requests spread over the day (every 25 minutes, the two agents in turn),
    // with the minute's limit, one model's high demand and an upstream provider's refusal along the
    // way; then the daily limit, and a negative balance.
    for i in 0..50i64 {
        let at = day_start() + Duration::minutes(5 + 25 * i);
        let (who, model) = if i % 2 == 0 {
            (&eng, CODER)
        } else {
            (&pm, GPT)
        };
        match i {
            3 | 4 => {
                r.play(
                    who,
                    at - Duration::seconds(20),
                    Event::Refused(model, "free_models_per_min"),
                )
                .await
            }
            10 | 12 | 14 => {
                r.play(
                    &eng,
                    at - Duration::seconds(30),
                    Event::Refused(CODER, "per_model_high_demand_rpm"),
                )
                .await
            }
            21 => {
                r.play(
                    &pm,
                    at - Duration::seconds(30),
                    Event::Refused(GPT, "per_model_high_demand_rpm"),
                )
                .await
            }
            30 => {
                r.play(
                    &eng,
                    at - Duration::seconds(30),
                    Event::Refused(CODER, "provider_returned_error_upstream"),
                )
                .await
            }
            _ => {}
        }
        r.play(who, at, Event::Answered(model)).await;
    }
    let late = day_start() + Duration::hours(22);
    for (i, (who, model)) in [(&eng, CODER), (&pm, GPT), (&eng, CODER)]
        .iter()
        .enumerate()
    {
        r.play(
            who,
            late + Duration::minutes(i as i64),
            Event::Refused(model, "free_models_per_day_under_10_credits"),
        )
        .await;
    }
    r.play(
        &pm,
        late + Duration::minutes(30),
        Event::Refused(GPT, "insufficient_credits_402"),
    )
    .await;

    let end = day_start() + Duration::hours(23) + Duration::minutes(59);
    let b = budget::load(&r.store, &FixedClock(end)).await.unwrap();
    assert_eq!(b.agents_today, 50, "answered requests only: {b:#?}");
    assert_eq!(b.used_today, 50, "50 of 50, not 53: {b:#?}");
    assert_eq!(b.level(), Level::Exhausted);
    let today = |name: &str| {
        b.per_agent
            .iter()
            .find(|u| u.agent == name)
            .map(|u| u.today)
            .unwrap_or(0)
    };
    assert_eq!((today("Engineer"), today("PM")), (25, 25));

    type Tally = (RateLimitKind, u64, Vec<(String, u64)>);
    let kinds: Vec<Tally> = b
        .rate_limits_today
        .iter()
        .map(|t| {
            (
                t.kind,
                t.count,
                t.models
                    .iter()
                    .map(|m| (m.model.clone(), m.count))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                RateLimitKind::PerMinute,
                2,
                // A tie: by model id.
                vec![(GPT.into(), 1), (CODER.into(), 1)]
            ),
            (
                RateLimitKind::PerDay,
                3,
                vec![(CODER.into(), 2), (GPT.into(), 1)]
            ),
            (
                RateLimitKind::HighDemand,
                4,
                vec![(CODER.into(), 3), (GPT.into(), 1)]
            ),
            (RateLimitKind::Upstream, 1, vec![(CODER.into(), 1)]),
            (RateLimitKind::Funding, 1, vec![(GPT.into(), 1)]),
        ],
    );
    // The event log holds every one of today's and yesterday's, newest first, each with its kind.
    assert_eq!(b.rate_limits.len(), 12);
    assert_eq!(b.rate_limits[0].kind.as_deref(), Some("funding"));

    // The day's table agrees: 50 requests, 11 rate limited today; yesterday 5 and 1.
    let days = nxr::domain::budget::daily::daily_table(&r.store, &FixedClock(end), 2)
        .await
        .unwrap();
    let sum = |day: &str| {
        days.iter()
            .filter(|d| d.day == day)
            .fold((0, 0), |(a, b), d| (a + d.requests, b + d.rate_limited))
    };
    assert_eq!(sum("2026-05-20"), (50, 11), "{days:#?}");
    assert_eq!(sum("2026-05-19"), (5, 1), "{days:#?}");
}
