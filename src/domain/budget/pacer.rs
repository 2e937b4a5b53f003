//! Account-wide pacing of free-model requests: OpenRouter's free limits belong to the account
//! (N requests a minute across every free model, M a day), so requests from every agent share one
//! budget. A request beyond the minute's share is *held* — first in, first out per agent, and
//! round-robin between agents so a busy agent cannot starve the others — until the oldest request
//! of the window leaves it, or until its wait bound runs out. At the daily count it is refused at
//! once, with the reset (00:00 UTC).
//!
//! [`Schedule`] is the pure state (times are passed in); [`Pacer`] wraps it for threads that block.

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// OpenRouter's default free limits: 20 requests a minute; 50 a day without credits bought.
pub const DEFAULT_PER_MINUTE: u32 = 20;
pub const DEFAULT_PER_DAY: u32 = 50;
/// How long a held request waits for a slot before it is answered with the per-minute limit.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);

/// The budget one account's free requests share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
    pub per_day: u32,
    /// The window the per-minute count runs over (60 s; shorter in tests).
    pub minute: Duration,
    pub max_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_minute: DEFAULT_PER_MINUTE,
            per_day: DEFAULT_PER_DAY,
            minute: Duration::from_secs(60),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

/// A place in the queue.
pub type Ticket = u64;

/// Why a request was not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The day's free requests are used up; they come back at `reset`.
    Daily { limit: u32, reset: DateTime<Utc> },
    /// The request waited its whole bound for a slot of the minute.
    Waited { limit: u32, waited: Duration },
}

impl Refusal {
    /// Seconds until trying again makes sense (the `Retry-After` of a 429).
    pub fn retry_after(&self, now: DateTime<Utc>) -> u64 {
        match self {
            Refusal::Daily { reset, .. } => (*reset - now).num_seconds().max(1) as u64,
            Refusal::Waited { .. } => 1,
        }
    }

    /// The message a client sees: which limit, and when it resets.
    pub fn message(&self) -> String {
        match self {
            Refusal::Daily { limit, reset } => format!(
                "free-models-per-day: the account's {limit} free requests for today are used; \
                 they reset at {} (00:00 UTC)",
                reset.format("%Y-%m-%d %H:%M UTC")
            ),
            Refusal::Waited { limit, waited } => format!(
                "free-models-per-min: held {} s for one of the account's {limit} free requests a \
                 minute without getting one; try again shortly",
                waited.as_secs()
            ),
        }
    }
}

/// The next 00:00 UTC after `now`.
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = now.date_naive() + ChronoDuration::days(1);
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The queue and the counts, with time passed in.
#[derive(Debug)]
pub struct Schedule {
    limits: Limits,
    /// The requests of the current window: when each was let through (or, once settled, when its
    /// answer arrived), oldest first.
    window: BTreeSet<(Instant, Ticket)>,
    day: Option<NaiveDate>,
    used_today: u32,
    queues: BTreeMap<String, VecDeque<Ticket>>,
    /// Agents with waiting requests, in turn order.
    ring: VecDeque<String>,
    /// Tickets let through and not yet taken, with when.
    granted: HashMap<Ticket, Instant>,
    next: Ticket,
}

impl Schedule {
    pub fn new(limits: Limits) -> Schedule {
        Schedule {
            limits,
            window: BTreeSet::new(),
            day: None,
            used_today: 0,
            queues: BTreeMap::new(),
            ring: VecDeque::new(),
            granted: HashMap::new(),
            next: 0,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Free requests let through today (UTC).
    pub fn used_today(&self) -> u32 {
        self.used_today
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    fn roll_day(&mut self, today: NaiveDate) {
        if self.day != Some(today) {
            self.day = Some(today);
            self.used_today = 0;
        }
    }

    /// Queues a request of `agent`, or refuses it at once when the day's count is used up
    /// (counting the requests already waiting).
    pub fn enqueue(&mut self, agent: &str, now: DateTime<Utc>) -> Result<Ticket, Refusal> {
        self.roll_day(now.date_naive());
        let promised = self.used_today as usize + self.waiting();
        if promised >= self.limits.per_day as usize {
            return Err(Refusal::Daily {
                limit: self.limits.per_day,
                reset: next_reset(now),
            });
        }
        let ticket = self.next;
        self.next += 1;
        let queue = self.queues.entry(agent.to_string()).or_default();
        if queue.is_empty() {
            self.ring.push_back(agent.to_string());
        }
        queue.push_back(ticket);
        Ok(ticket)
    }

    /// Lets through as many waiting requests as the window has room for, one agent's turn at a
    /// time. Returns the tickets let through.
    pub fn dispatch(&mut self, at: Instant) -> Vec<Ticket> {
        while self
            .window
            .first()
            .is_some_and(|(t, _)| at.saturating_duration_since(*t) >= self.limits.minute)
        {
            self.window.pop_first();
        }
        let mut out = Vec::new();
        while self.window.len() < self.limits.per_minute as usize {
            let Some(agent) = self.ring.pop_front() else {
                break;
            };
            let Some(queue) = self.queues.get_mut(&agent) else {
                continue;
            };
            let Some(ticket) = queue.pop_front() else {
                continue;
            };
            if queue.is_empty() {
                self.queues.remove(&agent);
            } else {
                self.ring.push_back(agent);
            }
            self.window.insert((at, ticket));
            self.used_today += 1;
            self.granted.insert(ticket, at);
            out.push(ticket);
        }
        out
    }

    /// When `ticket` was let through, if it was (and takes it: a ticket is let through once).
    pub fn take_granted(&mut self, ticket: Ticket) -> Option<Instant> {
        self.granted.remove(&ticket)
    }

    /// Takes a ticket out of its queue (its wait ran out).
    pub fn cancel(&mut self, ticket: Ticket) {
        let mut emptied = None;
        for (agent, queue) in self.queues.iter_mut() {
            if let Some(i) = queue.iter().position(|t| *t == ticket) {
                queue.remove(i);
                if queue.is_empty() {
                    emptied = Some(agent.clone());
                }
                break;
            }
        }
        if let Some(agent) = emptied {
            self.queues.remove(&agent);
            self.ring.retain(|a| *a != agent);
        }
    }

    /// When the oldest request of a full window leaves it (the next chance for a waiting one).
    pub fn next_slot(&self, at: Instant) -> Option<Instant> {
        if self.window.len() < self.limits.per_minute as usize {
            return Some(at);
        }
        self.window.first().map(|(t, _)| *t + self.limits.minute)
    }

    /// Starts the day's count at no less than `used`: the requests made before the relay started,
    /// as the budget counts them.
    pub fn seed_today(&mut self, used: u32, now: DateTime<Utc>) {
        self.roll_day(now.date_naive());
        self.used_today = self.used_today.max(used);
    }

    /// A let-through request that never reached the server: its place in the window and its
    /// slot of the day come back.
    pub fn release(&mut self, ticket: Ticket, sent: Instant) {
        if self.window.remove(&(sent, ticket)) {
            self.used_today = self.used_today.saturating_sub(1);
        }
    }

    /// Moves a let-through request's place in the window from `sent` to `answered`: the server
    /// counts a request when it arrives, which is after it was let through, so the window keeps
    /// it until a minute after its answer came back.
    pub fn settle(&mut self, ticket: Ticket, sent: Instant, answered: Instant) {
        if self.window.remove(&(sent, ticket)) {
            self.window.insert((answered.max(sent), ticket));
        }
    }
}

/// A request let through: settle it with [`Pacer::settle`] when its answer arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// How long it was held.
    pub waited: Duration,
    ticket: Ticket,
    sent: Instant,
}

/// [`Schedule`] behind a lock, for request threads that block until let through.
#[derive(Debug)]
pub struct Pacer {
    schedule: Mutex<Schedule>,
    changed: Condvar,
    clock: fn() -> DateTime<Utc>,
}

impl Pacer {
    pub fn new(limits: Limits) -> Pacer {
        Pacer::with_clock(limits, Utc::now)
    }

    /// A pacer whose day boundary follows `clock` (the minute window follows the monotonic clock).
    pub fn with_clock(limits: Limits, clock: fn() -> DateTime<Utc>) -> Pacer {
        Pacer {
            schedule: Mutex::new(Schedule::new(limits)),
            changed: Condvar::new(),
            clock,
        }
    }

    pub fn limits(&self) -> Limits {
        self.lock().limits()
    }

    /// (let through today, waiting now).
    pub fn counts(&self) -> (u32, usize) {
        let s = self.lock();
        (s.used_today(), s.waiting())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // A panic while holding the lock leaves consistent data (every change is one statement).
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `a`'s request in the window until a minute after now (its answer arrived).
    pub fn settle(&self, a: &Admission) {
        self.lock().settle(a.ticket, a.sent, Instant::now());
        self.changed.notify_all();
    }

    /// Gives `a`'s place back: its request never reached the server.
    pub fn release(&self, a: &Admission) {
        self.lock().release(a.ticket, a.sent);
        self.changed.notify_all();
    }

    /// Starts the day's count at no less than `used` (see [`Schedule::seed_today`]).
    pub fn seed_today(&self, used: u32) {
        self.lock().seed_today(used, (self.clock)());
    }

    /// Blocks until `agent`'s request may go, or refuses it.
    pub fn admit(&self, agent: &str) -> Result<Admission, Refusal> {
        let start = Instant::now();
        let mut s = self.lock();
        let ticket = s.enqueue(agent, (self.clock)())?;
        let bound = s.limits().max_wait;
        loop {
            let now = Instant::now();
            if !s.dispatch(now).is_empty() {
                self.changed.notify_all();
            }
            if let Some(sent) = s.take_granted(ticket) {
                return Ok(Admission {
                    waited: now.duration_since(start),
                    ticket,
                    sent,
                });
            }
            let waited = now.duration_since(start);
            if waited >= bound {
                s.cancel(ticket);
                self.changed.notify_all();
                return Err(Refusal::Waited {
                    limit: s.limits().per_minute,
                    waited,
                });
            }
            let until = s
                .next_slot(now)
                .map(|t| t.saturating_duration_since(now))
                .unwrap_or(bound)
                .min(bound - waited)
                .max(Duration::from_millis(1));
            s = match self.changed.wait_timeout(s, until) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32, per_day: u32) -> Limits {
        Limits {
            per_minute,
            per_day,
            minute: Duration::from_secs(60),
            max_wait: Duration::from_secs(120),
        }
    }

    fn noon() -> DateTime<Utc> {
        "2026-12-05T12:00:00Z".parse().expect("a time")
    }

    #[test]
    fn the_minute_is_shared_round_robin_between_agents() {
        let mut s = Schedule::new(limits(4, 100));
        let t0 = Instant::now();
        let mut owner = BTreeMap::new();
        // `busy` queues 6 first, then `a` and `b` 2 each.
        for (agent, n) in [("busy", 6), ("a", 2), ("b", 2)] {
            for _ in 0..n {
                owner.insert(s.enqueue(agent, noon()).expect("queued"), agent);
            }
        }
        let first: Vec<&str> = s.dispatch(t0).iter().map(|t| owner[t]).collect();
        assert_eq!(first, ["busy", "a", "b", "busy"]);
        // Nothing more inside the minute.
        assert!(s.dispatch(t0 + Duration::from_secs(59)).is_empty());
        assert_eq!(s.next_slot(t0), Some(t0 + Duration::from_secs(60)));
        let second: Vec<&str> = s
            .dispatch(t0 + Duration::from_secs(60))
            .iter()
            .map(|t| owner[t])
            .collect();
        assert_eq!(second, ["a", "b", "busy", "busy"]);
        assert_eq!(s.waiting(), 2);
    }

    #[test]
    fn the_day_refuses_at_its_count_with_the_reset_and_rolls_over_at_midnight() {
        let mut s = Schedule::new(limits(100, 3));
        for _ in 0..3 {
            s.enqueue("a", noon()).expect("queued");
        }
        assert_eq!(s.dispatch(Instant::now()).len(), 3);
        let refused = s.enqueue("b", noon()).expect_err("the day is used");
        let reset: DateTime<Utc> = "2026-12-06T00:00:00Z".parse().expect("a time");
        assert_eq!(refused, Refusal::Daily { limit: 3, reset });
        assert_eq!(refused.retry_after(noon()), 12 * 3600);
        assert!(refused.message().contains("free-models-per-day"));
        assert!(refused.message().contains("2026-12-06 00:00 UTC"));
        assert!(
            s.enqueue("b", reset).is_ok(),
            "a new day has its count again"
        );
    }

    #[test]
    fn a_seeded_day_counts_the_earlier_requests_and_a_released_one_comes_back() {
        let mut s = Schedule::new(limits(100, 3));
        s.seed_today(2, noon());
        let t = s.enqueue("a", noon()).expect("one left");
        let now = Instant::now();
        assert_eq!(s.dispatch(now), vec![t]);
        let sent = s.take_granted(t).expect("let through");
        assert!(s.enqueue("a", noon()).is_err(), "2 earlier + 1 = the day");
        s.release(t, sent);
        assert_eq!(s.used_today(), 2);
        assert!(s.enqueue("a", noon()).is_ok(), "the unsent one came back");
        s.release(t, sent);
        assert_eq!(s.used_today(), 2, "released once");
    }

    #[test]
    fn a_cancelled_ticket_leaves_no_trace_in_the_turns() {
        let mut s = Schedule::new(limits(1, 100));
        let a = s.enqueue("a", noon()).expect("queued");
        let b = s.enqueue("b", noon()).expect("queued");
        s.cancel(a);
        assert_eq!(s.dispatch(Instant::now()), vec![b]);
        assert!(s.take_granted(b).is_some());
        assert!(s.take_granted(b).is_none(), "once");
        assert_eq!(s.waiting(), 0);
    }

    #[test]
    fn a_held_request_is_refused_when_its_wait_runs_out() {
        let pacer = Pacer::new(Limits {
            per_minute: 1,
            per_day: 100,
            minute: Duration::from_secs(3600),
            max_wait: Duration::from_millis(30),
        });
        assert!(pacer.admit("a").is_ok());
        let refused = pacer.admit("a").expect_err("no slot within the bound");
        assert!(matches!(refused, Refusal::Waited { limit: 1, .. }));
        assert_eq!(pacer.counts(), (1, 0));
    }
}
