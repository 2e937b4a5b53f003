//! The TUI: state, actions, event loop, terminal lifecycle (docs/design.md §6).
//!
//! - `state`: plain data + cursors; `action`: the one `Action` enum; `update`: the reducer;
//!   `draw`: a pure function of the state; `keys`: the key commands each tab lists once.
//! - The runtime here owns the terminal and a tokio runtime: terminal input arrives from a reader
//!   thread, background changes from a watcher task, ticks (the time and the gateway status, 1 s)
//!   from a ticker task, domain work runs on an effect worker (`effects`), re-reads on refresh
//!   tasks (`loader::refresh`); all of them talk to the loop over channels and every state change
//!   goes through `update`. Renders (≤ 30 fps, only when dirty) have their own timer.

pub mod action;
pub mod draw;
pub mod effects;
pub mod hints;
pub mod keys;
pub mod loader;
pub mod state;
pub mod theme;
pub mod update;

pub use action::{Action, BackgroundEvent, Outcome};
pub use draw::draw;
pub use effects::{EffectId, Queued, run_effect};
pub use state::{AppData, Effect, State};
pub use update::update;

use crate::domain::base::clock::{self, SharedClock};
use crate::domain::base::env::Env;
use crate::domain::store::Store;
use crate::domain::{agents::gateway, watch};
use color_eyre::Result;
use loader::Parts;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, MouseButton, MouseEventKind,
};
use ratatui::crossterm::execute;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub const TICK: Duration = Duration::from_secs(1);
pub const FRAME: Duration = Duration::from_millis(33);
pub const WATCH: Duration = Duration::from_millis(750);

/// Runs the TUI until the user quits. Called from a sync context; owns its tokio runtime.
pub fn run(env: Env) -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        color_eyre::eyre::bail!(
            "`nxr` without a command opens the TUI, which needs a terminal; run it in one, or use a command such as `nxr agents list --json` (see `nxr --help`)"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(env))
}

async fn run_async(env: Env) -> Result<()> {
    // Everything that can fail for a reason the user must fix happens before the terminal changes.
    let store = Arc::new(Store::open(&env).await?);
    if env.db_url.is_some() {
        // Team mode: this host's profiles agree with the database before the first screen; what
        // could not be done is in the log (the screen is not up yet to say it).
        match crate::domain::watch::team::reconcile(&store, &env).await {
            Ok(r) => r.lines().iter().for_each(|l| tracing::info!("{l}")),
            Err(e) => tracing::warn!("cannot bring this host's profiles in step: {e}"),
        }
    }
    let clock = clock::system();
    let catalog = loader::load_catalog(&store, clock.now()).await;
    let data = loader::load(&store, &env, &*clock, &catalog).await;
    let mut state = State::new(data);
    state.theme = theme::Theme::from_env();

    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            color_eyre::eyre::bail!(
                "cannot take over the terminal ({e}); run `nxr` in an interactive terminal, or use a command (`nxr --help`)"
            );
        }
    };
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        prev_hook(info);
    }));
    if let Ok(size) = terminal.size() {
        update(
            &mut state,
            Action::Resize {
                width: size.width,
                height: size.height,
            },
        );
    }
    let result = event_loop(&mut terminal, &mut state, store, env, clock).await;
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

/// Reads terminal events on a plain thread (crossterm's reader blocks) until `stop`.
fn spawn_input_reader(tx: mpsc::UnboundedSender<Event>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(ev).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                },
                Ok(false) => {}
                Err(_) => break,
            }
        }
    });
}

/// Polls the change marks and reports what moved.
fn spawn_watcher(
    store: Arc<Store>,
    env: Env,
    tx: mpsc::UnboundedSender<Action>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = watch::marks(&store, &env.hermes_home).await.ok();
        let mut every = tokio::time::interval(WATCH);
        loop {
            every.tick().await;
            let Ok(now) = watch::marks(&store, &env.hermes_home).await else {
                continue;
            };
            if let Some(prev) = &last {
                let mut events = Vec::new();
                if prev.scans != now.scans {
                    events.push(BackgroundEvent::ScanFinished);
                }
                if prev.usage != now.usage {
                    events.push(BackgroundEvent::BudgetChanged);
                }
                if prev.notifications != now.notifications {
                    events.push(BackgroundEvent::Notification);
                }
                if prev.agents != now.agents {
                    events.push(BackgroundEvent::AgentsChanged);
                }
                if prev.files != now.files {
                    events.push(BackgroundEvent::ConfigChanged);
                }
                for e in events {
                    if tx.send(Action::Background(e)).is_err() {
                        return;
                    }
                }
            }
            last = Some(now);
        }
    })
}

/// Every [`TICK`]: the time and the gateway status (the gateway may stop without touching its files),
/// read off the UI thread and sent as a [`Action::Tick`].
fn spawn_ticker(
    env: Env,
    clock: SharedClock,
    tx: mpsc::UnboundedSender<Action>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        loop {
            every.tick().await;
            let (home, clock) = (env.hermes_home.clone(), clock.clone());
            let Ok(tick) = tokio::task::spawn_blocking(move || read_tick(&home, &*clock)).await
            else {
                continue;
            };
            if tx.send(tick).is_err() {
                return;
            }
        }
    })
}

/// One tick: the clock's time and the gateway status from the Hermes home's files and process.
pub fn read_tick(hermes_home: &std::path::Path, clock: &dyn clock::Clock) -> Action {
    Action::Tick {
        now: clock.now(),
        gateway: gateway::status(hermes_home, None),
    }
}

/// Runs effects one at a time, in order, through the domain; answers with actions.
fn spawn_effect_worker(
    store: Arc<Store>,
    env: Env,
    clock: SharedClock,
    mut rx: mpsc::UnboundedReceiver<Queued>,
    tx: mpsc::UnboundedSender<Action>,
) {
    tokio::spawn(async move {
        while let Some(effect) = rx.recv().await {
            let answer = run_effect(&store, &env, &*clock, effect).await;
            if tx.send(answer).is_err() {
                break;
            }
        }
    });
}

/// Turns a terminal event into an action for this state.
pub fn action_for_event(state: &State, ev: &Event) -> Option<Action> {
    match ev {
        Event::Key(k) => keys::action_for_key(state, k),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                column: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollDown => Some(Action::Down),
            MouseEventKind::ScrollUp => Some(Action::Up),
            _ => None,
        },
        Event::Resize(w, h) => Some(Action::Resize {
            width: *w,
            height: *h,
        }),
        _ => None,
    }
}

struct Loop {
    store: Arc<Store>,
    env: Env,
    clock: SharedClock,
    /// A refresh task is running.
    refreshing: bool,
    /// Parts asked for while one ran: re-read together when it is done.
    waiting: Parts,
    actions: mpsc::UnboundedSender<Action>,
    effects: mpsc::UnboundedSender<Queued>,
}

impl Loop {
    fn dispatch(&mut self, state: &mut State, action: Action) {
        let mut next = Some(action);
        while let Some(a) = next.take() {
            match &a {
                Action::Refresh(parts) => self.refresh(state, *parts),
                Action::Refreshed(_) => self.refreshing = false,
                _ => {}
            }
            next = update(state, a);
            for e in state.effects.drain(..) {
                let _ = self.effects.send(e);
            }
            if !self.refreshing && !self.waiting.is_empty() {
                let parts = std::mem::take(&mut self.waiting);
                self.refresh(state, parts);
            }
        }
    }

    /// Re-reads `parts` on a task; parts asked for while one runs wait for it and go together.
    fn refresh(&mut self, state: &State, parts: Parts) {
        if parts.is_empty() {
            return;
        }
        if self.refreshing {
            self.waiting = self.waiting.with(parts);
            return;
        }
        self.refreshing = true;
        let (store, env, clock, tx) = (
            self.store.clone(),
            self.env.clone(),
            self.clock.clone(),
            self.actions.clone(),
        );
        let base = state.data.clone();
        tokio::spawn(async move {
            let fresh = loader::refresh(&store, &env, &*clock, parts, &base).await;
            let _ = tx.send(Action::Refreshed(Box::new(fresh)));
        });
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    store: Arc<Store>,
    env: Env,
    clock: SharedClock,
) -> Result<()> {
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    spawn_input_reader(ev_tx, stop.clone());
    let (act_tx, mut act_rx) = mpsc::unbounded_channel();
    let (eff_tx, eff_rx) = mpsc::unbounded_channel();
    spawn_effect_worker(
        store.clone(),
        env.clone(),
        clock.clone(),
        eff_rx,
        act_tx.clone(),
    );
    let watcher = spawn_watcher(store.clone(), env.clone(), act_tx.clone());
    let ticker = spawn_ticker(env.clone(), clock.clone(), act_tx.clone());
    let mut lp = Loop {
        store,
        env,
        clock,
        refreshing: false,
        waiting: Parts::NONE,
        actions: act_tx,
        effects: eff_tx,
    };
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = loop {
        tokio::select! {
            Some(ev) = ev_rx.recv() => {
                if let Some(a) = action_for_event(state, &ev) {
                    lp.dispatch(state, a);
                }
            }
            Some(a) = act_rx.recv() => lp.dispatch(state, a),
            _ = frame.tick() => {
                if state.dirty {
                    if let Err(e) = terminal.draw(|f| draw(state, f)) {
                        break Err(e.into());
                    }
                    state.dirty = false;
                }
            }
        }
        if state.should_quit {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    watcher.abort();
    ticker.abort();
    result
}
