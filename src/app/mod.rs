//! The TUI: state, actions, event loop, terminal lifecycle (DESIGN.md §6).
//!
//! - `state`: plain data + cursors; `action`: the one `Action` enum; `update`: the reducer;
//!   `draw`: a pure function of the state; `keys`: the key commands each tab lists once.
//! - The runtime here owns the terminal and a tokio runtime: terminal input arrives from a reader
//!   thread, background changes from a watcher task, domain work runs on an effect worker; all of
//!   them talk to the loop over channels. Ticks (1 s) and renders (≤ 30 fps, only when dirty) are
//!   separate timers.

pub mod action;
pub mod draw;
pub mod keys;
pub mod loader;
pub mod state;
pub mod update;

pub use action::{Action, BackgroundEvent};
pub use draw::draw;
pub use state::{AppData, Effect, State};
pub use update::update;

use crate::domain::clock::{self, SharedClock};
use crate::domain::env::Env;
use crate::domain::store::Store;
use crate::domain::{
    agents, gateway, hermes, model_switch, notifications, recommend, upgrade, watch,
};
use color_eyre::Result;
use loader::CatalogPart;
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
    let clock = clock::system();
    let catalog = loader::load_catalog(&store, clock.now()).await;
    let data = loader::load(&store, &env, &*clock, &catalog).await;
    let mut state = State::new(data);
    state.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());

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
    let result = event_loop(&mut terminal, &mut state, store, env, clock, catalog).await;
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

/// Runs effects one at a time, in order, through the domain; answers with actions.
fn spawn_effect_worker(
    store: Arc<Store>,
    env: Env,
    clock: SharedClock,
    mut rx: mpsc::UnboundedReceiver<Effect>,
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

/// Executes one effect (the same domain calls the CLI makes).
pub async fn run_effect(
    store: &Store,
    env: &Env,
    clock: &dyn clock::Clock,
    effect: Effect,
) -> Action {
    let failed = |e: &dyn std::fmt::Display| Action::EffectFailed(e.to_string());
    match effect {
        Effect::CreateAgent(spec) => match agents::create(store, env, spec.into()).await {
            Ok(a) => Action::AgentCreated(Box::new(a)),
            Err(e) => failed(&e),
        },
        Effect::Gateway(op) => {
            use crate::domain::gateway_control::{self, DEFAULT_TIMEOUT};
            let env = env.clone();
            let r = tokio::task::spawn_blocking(move || match op {
                "start" => gateway_control::start(&env, DEFAULT_TIMEOUT)
                    .map(|o| format!("gateway started (pid {})", o.pid)),
                "stop" => gateway_control::stop(&env, DEFAULT_TIMEOUT).map(|o| o.describe()),
                _ => gateway_control::restart(&env, DEFAULT_TIMEOUT).map(|o| {
                    format!(
                        "{}; started again (pid {})",
                        o.stopped.describe(),
                        o.started.pid
                    )
                }),
            })
            .await;
            match r {
                Ok(Ok(msg)) => Action::EffectDone(msg),
                Ok(Err(e)) => failed(&e),
                Err(e) => failed(&e),
            }
        }
        Effect::SetSlot {
            slot,
            provider,
            model,
        } => {
            let path = env.hermes_home.join("config.yaml");
            // A catalog model goes through the slot editor's one rule (the main slot moves the
            // agent living in this profile together with its row).
            let written = if provider == "openrouter" {
                model_switch::apply(store, env, &slot, &model)
                    .await
                    .map_err(|e| e.to_string())
            } else {
                hermes::set_slot(&path, &slot, &provider, &model, None).map_err(|e| e.to_string())
            };
            match written {
                Ok(()) => Action::EffectDone(format!(
                    "slot {slot} → {model} ({provider}) written to {}",
                    path.display()
                )),
                Err(e) => failed(&e),
            }
        }
        Effect::SetAgentModel {
            agent,
            model,
            reason,
        } => match agents::set_model(store, env, &agent, &model, &reason).await {
            Ok(a) => Action::EffectDone(format!("{} now runs {}", a.name, a.model)),
            Err(e) => failed(&e),
        },
        Effect::RevertAgentModel { agent } => match recommend::revert(store, env, &agent).await {
            Ok(a) => Action::EffectDone(format!("{} is back on {}", a.name, a.model)),
            Err(e) => failed(&e),
        },
        Effect::SetAgentSkills { agent, skills } => {
            match agents::set_skills(store, env, &agent, &skills).await {
                Ok(a) => Action::EffectDone(format!(
                    "{} has {} skills: {}",
                    a.name,
                    a.skillset.len(),
                    a.skillset.join(", ")
                )),
                Err(e) => failed(&e),
            }
        }
        Effect::MarkRead(id) => match notifications::mark_read(store, id, clock).await {
            Ok(_) => Action::EffectDone("marked read".into()),
            Err(e) => failed(&e),
        },
        Effect::MarkAllRead => match notifications::mark_all_read(store, clock).await {
            Ok(n) => Action::EffectDone(format!("marked {n} notifications read")),
            Err(e) => failed(&e),
        },
        Effect::LoadUpgradePlan => Action::UpgradePlanLoaded(Box::new(
            upgrade::plan_upgrade(store, env, None, None, false, clock.now())
                .await
                .map_err(|e| e.to_string()),
        )),
        Effect::ApplyUpgradePlan(plan) => {
            let out = upgrade::apply(store, env, &plan).await;
            match out.failed.first() {
                Some(f) => Action::EffectFailed(format!(
                    "{} of {} switches failed; {} could not move to {}: {}",
                    out.failed.len(),
                    out.failed.len() + out.switched.len(),
                    f.agent,
                    f.to,
                    f.error
                )),
                None => Action::EffectDone(switched_line(&out)),
            }
        }
        Effect::UpgradeAgentPaid { agent } => {
            match upgrade::upgrade_agent(store, env, &agent).await {
                Ok(out) => Action::EffectDone(switched_line(&out)),
                Err(e) => failed(&e),
            }
        }
        Effect::RevertAgentToFree { agent } => {
            match upgrade::revert_agent(store, env, &agent).await {
                Ok(out) => Action::EffectDone(switched_line(&out)),
                Err(e) => failed(&e),
            }
        }
    }
}

/// "PM now runs a, Engineer now runs b" for the status bar.
fn switched_line(out: &upgrade::Outcome) -> String {
    if out.switched.is_empty() {
        return "nothing to change".into();
    }
    out.switched
        .iter()
        .map(|s| format!("{} now runs {}", s.agent, s.to))
        .collect::<Vec<_>>()
        .join(", ")
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
    catalog: CatalogPart,
    catalog_stale: bool,
    reloading: bool,
    reload_again: bool,
    actions: mpsc::UnboundedSender<Action>,
    effects: mpsc::UnboundedSender<Effect>,
}

impl Loop {
    fn dispatch(&mut self, state: &mut State, action: Action) {
        let mut next = Some(action);
        while let Some(a) = next.take() {
            match &a {
                Action::Reload => self.reload(),
                Action::Background(BackgroundEvent::ScanFinished) => self.catalog_stale = true,
                Action::Loaded(_) => {
                    self.reloading = false;
                    if std::mem::take(&mut self.reload_again) {
                        self.reload();
                    }
                }
                _ => {}
            }
            next = update(state, a);
            for e in state.effects.drain(..) {
                let _ = self.effects.send(e);
            }
        }
    }

    /// Re-reads everything on a task; coalesces reloads asked for while one runs.
    fn reload(&mut self) {
        if self.reloading {
            self.reload_again = true;
            return;
        }
        self.reloading = true;
        let (store, env, clock, tx) = (
            self.store.clone(),
            self.env.clone(),
            self.clock.clone(),
            self.actions.clone(),
        );
        let stale = std::mem::take(&mut self.catalog_stale);
        let catalog = self.catalog.clone();
        tokio::spawn(async move {
            let catalog = if stale {
                loader::load_catalog(&store, clock.now()).await
            } else {
                catalog
            };
            let data = loader::load(&store, &env, &*clock, &catalog).await;
            let _ = tx.send(Action::Loaded(Box::new(data)));
        });
    }
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    store: Arc<Store>,
    env: Env,
    clock: SharedClock,
    catalog: CatalogPart,
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
    let mut lp = Loop {
        store,
        env,
        clock: clock.clone(),
        catalog,
        catalog_stale: false,
        reloading: false,
        reload_again: false,
        actions: act_tx,
        effects: eff_tx,
    };
    let mut tick = tokio::time::interval(TICK);
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
            _ = tick.tick() => {
                state.data.now = clock.now();
                // The gateway may stop without touching its files: look at the process every tick.
                state.data.gateway =
                    gateway::status(&lp.env.hermes_home, state.data.gateway.model.clone());
                lp.dispatch(state, Action::Tick);
                // Relative times and uptime move once a second.
                state.dirty = true;
            }
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
    result
}
