//! The TUI without a terminal: snapshots of every tab and every wizard step at 100×30 (TestBackend +
//! insta, stored in the top-level `snapshots/`), state-transition tests that need no rendering, key
//! handling, and the domain reads the TUI is built on (budget, notifications, recommendations) against a
//! real database in a temp dir.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use nxr::app::keys::{self, Key};
use nxr::app::loader::{Fresh, Parts};
use nxr::app::state::{AppData, Effect, GatewayOp, ModelsMode, State, Tab, WizardStep};
use nxr::app::theme::Theme;
use nxr::app::{Action, BackgroundEvent, EffectId, Outcome, Queued, draw, update};
use nxr::domain::agents::Agent;
use nxr::domain::agents::gateway::{GatewayState, GatewayStatus};
use nxr::domain::agents::hermes::Slot;
use nxr::domain::base::clock::{FixedClock, to_db};
use nxr::domain::base::roles::Role;
use nxr::domain::budget::{self, Budget, RateLimitEvent};
use nxr::domain::catalog::{self, Model};
use nxr::domain::notifications::{self, NewNotification, Notification};
use nxr::domain::watch::agent_check::{AgentCheck, CheckKind, CheckLine, CheckState};
use nxr::domain::{agents::skills, scoring};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 12, 30, 0).unwrap()
}

fn fixture_models() -> Vec<Model> {
    catalog::parse_catalog(&common::fixture("openrouter/models.json"))
        .expect("fixture catalog parses")
        .models
}

fn agent(id: i64, name: &str, role: Role, model: &str, skills: &[&str]) -> Agent {
    Agent {
        id,
        name: name.into(),
        role,
        model: model.into(),
        provider: "openrouter".into(),
        status: "active".into(),
        skillset: skills.iter().map(|s| s.to_string()).collect(),
        model_score: None,
        model_auto_assigned: true,
        workspace_id: "default".into(),
        is_default: true,
        hermes_profile: name.to_lowercase(),
        hermes_profile_path: format!("/tmp/hermes/profiles/{}", name.to_lowercase()),
        host: String::new(),
        created_at: to_db(now() - Duration::days(3)),
        updated_at: to_db(now() - Duration::hours(5)),
    }
}

/// An agent's check verdict as the domain hands it to the TUI; a failing line when `failing` is given
/// (kind, detail, fix).
fn check(agent: &Agent, state: CheckState, failing: Option<(CheckKind, &str, &str)>) -> AgentCheck {
    let checks: Vec<CheckLine> = failing
        .into_iter()
        .map(|(kind, detail, fix)| CheckLine {
            kind,
            ok: false,
            blocking: true,
            detail: detail.into(),
            fix: Some(fix.into()),
        })
        .collect();
    AgentCheck {
        agent: agent.name.clone(),
        role: agent.role,
        profile: agent.hermes_profile.clone(),
        model: agent.model.clone(),
        provider: agent.provider.clone(),
        state,
        reasons: checks.iter().map(|l| l.detail.clone()).collect(),
        checks,
    }
}

fn slot(name: &str, provider: Option<&str>, model: Option<&str>) -> Slot {
    Slot {
        name: name.into(),
        provider: provider.map(str::to_string),
        model: model.map(str::to_string),
        base_url: None,
    }
}

fn notification(
    id: i64,
    kind: &str,
    title: &str,
    body: &str,
    payload: Option<&str>,
    read: bool,
    mins_ago: i64,
) -> Notification {
    Notification {
        id,
        kind: kind.into(),
        title: title.into(),
        body: body.into(),
        agent_id: None,
        payload: payload.map(str::to_string),
        created_at: to_db(now() - Duration::minutes(mins_ago)),
        read_at: read.then(|| to_db(now())),
    }
}

/// A populated install: three agents (one on an old model), slots, a budget at 76 %, notifications,
/// a running gateway.
fn full_data() -> AppData {
    let mut d = AppData::empty(now(), fixture_models());
    d.catalog_source = "catalog: fixture (tests/fixtures/openrouter/models.json)".into();
    d.agents = vec![
        agent(
            1,
            "PM",
            Role::Pm,
            "openai/gpt-oss-120b:free",
            &skills::PM_SKILLS,
        ),
        agent(
            2,
            "Engineer",
            Role::Engineer,
            "meta-llama/llama-3.2-3b-instruct:free",
            &skills::ENGINEER_SKILLS,
        ),
        agent(
            3,
            "Hermes",
            Role::Hermes,
            "nvidia/nemotron-3-super-120b-a12b:free",
            &skills::HERMES_SKILLS,
        ),
    ];
    d.checks = vec![
        check(&d.agents[0], CheckState::Ready, None),
        check(
            &d.agents[1],
            CheckState::NeedsKey,
            Some((
                CheckKind::Credentials,
                "no OPENROUTER_API_KEY in /tmp/hermes/profiles/engineer/.env",
                "add a key: `nxr config set openrouter-key <key>`",
            )),
        ),
        check(
            &d.agents[2],
            CheckState::Broken,
            Some((
                CheckKind::Skills,
                "skill(s) missing: planning",
                "`nxr agents skills Hermes --sync …` writes them again",
            )),
        ),
    ];
    d.recompute_recommendations();
    d.paperclip_links = vec![
        (1, nxr::domain::paperclip::links::LinkState::Synced),
        (2, nxr::domain::paperclip::links::LinkState::Stale),
    ];
    d.config_path = "/home/me/.hermes/config.yaml".into();
    d.slots = vec![
        slot(
            "main",
            Some("openrouter"),
            Some("nvidia/nemotron-3-super-120b-a12b:free"),
        ),
        slot(
            "vision",
            Some("openrouter"),
            Some("google/gemma-3-27b-it:free"),
        ),
        slot("web_extract", None, None),
        slot(
            "compression",
            Some("openrouter"),
            Some("openai/gpt-oss-20b:free"),
        ),
        slot("session_search", None, None),
        slot("skills_hub", None, None),
        slot("approval", None, None),
        slot("mcp", None, None),
        slot(
            "title_generation",
            Some("openrouter"),
            Some("google/gemma-3-4b-it:free"),
        ),
    ];
    let used = 38;
    d.budget = Some(Budget {
        used_today: used,
        daily_limit: 50,
        resets_at: "2026-05-02T00:00:00Z".into(),
        projected_at_midnight: budget::project_to_midnight(used, now()),
        cumulative_by_hour: vec![0, 0, 1, 1, 3, 6, 10, 15, 20, 24, 29, 33, 38],
        hours_elapsed: 12.5,
        per_agent: vec![
            budget::AgentUsage {
                agent_id: Some(2),
                agent: "Engineer".into(),
                today: 24,
                last_7d: 140,
                last_30d: 410,
                last_at: Some(to_db(now() - Duration::minutes(3))),
                ..Default::default()
            },
            budget::AgentUsage {
                agent_id: Some(1),
                agent: "PM".into(),
                today: 10,
                last_7d: 61,
                last_30d: 230,
                last_at: Some(to_db(now() - Duration::minutes(40))),
                ..Default::default()
            },
            budget::AgentUsage {
                agent_id: Some(3),
                agent: "Hermes".into(),
                today: 4,
                last_7d: 30,
                last_30d: 95,
                last_at: Some(to_db(now() - Duration::hours(2))),
                ..Default::default()
            },
        ],
        rate_limits: vec![RateLimitEvent {
            at: to_db(now() - Duration::minutes(42)),
            model: "openai/gpt-oss-120b:free".into(),
            agent: Some("Engineer".into()),
            kind: Some("per_day".into()),
        }],
        no_data: false,
        ..Default::default()
    });
    d.notifications = vec![
        notification(
            3,
            "upgrade",
            "Engineer can move to a better free model",
            "nvidia/nemotron-3-super-120b-a12b:free scores 727 for engineer; the current model scores less.",
            Some(
                r#"{"agent":"Engineer","from_model":"meta-llama/llama-3.2-3b-instruct:free","to_model":"nvidia/nemotron-3-super-120b-a12b:free"}"#,
            ),
            false,
            12,
        ),
        notification(
            2,
            "scan",
            "Catalog scan finished: 3 new free models",
            "3 models joined the free tier.",
            None,
            false,
            65,
        ),
        notification(
            1,
            "budget",
            "Free budget at 70 %",
            "35 of 50 free requests used today.",
            None,
            true,
            190,
        ),
    ];
    d.gateway = GatewayStatus {
        state: GatewayState::Running,
        pid: Some(4242),
        started_at: Some(now() - Duration::minutes(192)),
        reported_state: Some("running".into()),
        model: Some("nvidia/nemotron-3-super-120b-a12b:free".into()),
        note: None,
    };
    d
}

fn render(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw(state, f)).unwrap();
    t
}

fn screen(state: &State, w: u16, h: u16) -> String {
    render(state, w, h).backend().to_string()
}

fn snap(name: &str, state: &State) {
    let t = render(state, 100, 30);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, t.backend());
    });
}

/// The effects queued so far, without their ids.
fn queued(s: &State) -> Vec<Effect> {
    s.effects.iter().map(|q| q.effect.clone()).collect()
}

/// Takes the queued effects, as the runtime does.
fn drain(s: &mut State) -> Vec<Effect> {
    s.effects.drain(..).map(|q| q.effect).collect()
}

/// The id of the last queued effect.
fn last_id(s: &State) -> EffectId {
    s.effects.last().expect("an effect was queued").id
}

/// The domain answers the newest pending effect.
fn answer(s: &mut State, outcome: Outcome) {
    let id = s.pending.last().expect("an effect is pending").id;
    apply(s, [Action::Finished { id, outcome }]);
}

/// Runs one effect through the domain as the effect worker does: its outcome, under its id.
async fn run_effect(
    st: &nxr::domain::store::Store,
    env: &nxr::domain::base::env::Env,
    clock: &FixedClock,
    effect: Effect,
) -> Outcome {
    let id = EffectId(7);
    match nxr::app::run_effect(st, env, clock, Queued { id, effect }).await {
        Action::Finished {
            id: answered,
            outcome,
        } => {
            assert_eq!(answered, id);
            outcome
        }
        other => panic!("not an effect answer: {other:?}"),
    }
}

fn apply(state: &mut State, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        let mut next = Some(a);
        while let Some(a) = next.take() {
            next = update(state, a);
            // Reloads go to the runtime; here there is none.
            if matches!(next, Some(Action::Refresh(_))) {
                next = None;
            }
        }
    }
}

fn typed(text: &str) -> Vec<Action> {
    text.chars().map(Action::InsertChar).collect()
}

/// Presses a key: maps it through the bindings and applies the action.
fn press(state: &mut State, code: KeyCode) {
    let a =
        keys::action_for_key(state, &key(code)).unwrap_or_else(|| panic!("{code:?} does nothing"));
    apply(state, [a]);
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

// ------------------------------------------------------------------------------------------------
// Snapshots: every tab, every wizard step, 100×30.
// ------------------------------------------------------------------------------------------------

#[test]
fn snapshot_every_tab() {
    let mut s = State::new(full_data());
    snap("tui_tab1_dashboard", &s);
    apply(&mut s, [Action::GoTab(Tab::Models)]);
    snap("tui_tab2_models", &s);
    apply(&mut s, [Action::FocusFilter]);
    apply(&mut s, typed("gemfree"));
    snap("tui_tab2_models_filtered", &s);
    apply(&mut s, [Action::Back, Action::ToggleSlots]);
    snap("tui_tab2_slot_editor", &s);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    snap("tui_tab3_agents", &s);
    apply(&mut s, [Action::Down]);
    snap("tui_tab3_agents_needs_key", &s);
    apply(&mut s, [Action::Up, Action::GoTab(Tab::Budget)]);
    snap("tui_tab4_budget", &s);
    apply(&mut s, [Action::GoTab(Tab::Create)]);
    snap("tui_tab5_create", &s);
    apply(&mut s, [Action::GoTab(Tab::Notifications)]);
    snap("tui_tab6_notifications", &s);
    apply(&mut s, [Action::ToggleHelp]);
    snap("tui_help_overlay", &s);
}

#[test]
fn tab1_says_whether_nxr_serve_runs_and_how_old_the_last_scan_is() {
    use nxr::domain::view::Background;
    let mut d = full_data();
    d.background = Some(Background {
        serve: Vec::new(),
        last_scan: Some(now() - chrono::Duration::hours(7)),
        scan_interval_secs: 6 * 3600,
        overdue: true,
        error: None,
        hosts: Vec::new(),
        database_down_since: None,
    });
    let text = screen(&State::new(d.clone()), 100, 30);
    assert!(
        text.contains("last scan 7h 0m ago: is `nxr serve` running?"),
        "{text}"
    );
    d.background = Some(Background {
        serve: vec!["host:1:ab".into()],
        last_scan: Some(now() - chrono::Duration::hours(2)),
        scan_interval_secs: 6 * 3600,
        overdue: false,
        error: None,
        hosts: vec![
            nxr::domain::store::hosts::Host {
                name: "laptop".into(),
                first_seen: "2026-05-01T09:00:00Z".into(),
                last_seen: "2026-05-01T12:00:03Z".into(),
                version: "0.1.0".into(),
                serving: true,
                up: true,
                reconciled_at: Some("2026-05-01T12:00:03Z".into()),
                last_error: None,
            },
            nxr::domain::store::hosts::Host {
                name: "build-box".into(),
                first_seen: "2026-05-01T09:00:00Z".into(),
                last_seen: "2026-05-01T10:00:00Z".into(),
                version: "0.1.0".into(),
                serving: true,
                up: false,
                reconciled_at: None,
                last_error: None,
            },
        ],
        database_down_since: None,
    });
    let text = screen(&State::new(d.clone()), 100, 30);
    // Team mode: a line per host with its last heartbeat.
    assert!(
        text.contains(
            "host laptop: up (nxr serve), last heartbeat 2026-05-01 12:00:03, profiles in step"
        ),
        "{text}"
    );
    assert!(
        text.contains("host build-box: down, last heartbeat 2026-05-01 10:00:00"),
        "{text}"
    );
    // The libSQL server stops answering: every tab's status line and Tab 1 say since when, and the
    // hosts read before stay on screen.
    let mut down = d.clone();
    if let Some(b) = down.background.as_mut() {
        b.database_down_since = Some(now() - chrono::Duration::minutes(5));
        b.error = Some("cannot open the database".into());
    }
    let since = (now() - chrono::Duration::minutes(5))
        .format("%H:%M")
        .to_string();
    for tab in [Tab::Dashboard, Tab::Agents] {
        let mut st = State::new(down.clone());
        st.tab = tab;
        let text = screen(&st, 140, 30);
        assert!(
            text.contains(&format!("database unreachable since {since} UTC")),
            "tab {tab:?}: {text}"
        );
    }
    let down_text = screen(&State::new(down), 140, 30);
    assert!(
        down_text.contains("host laptop: up (nxr serve)"),
        "{down_text}"
    );
    assert!(
        text.contains("nxr serve running; last scan 2h 0m ago (every 6h 0m)"),
        "{text}"
    );
}

#[test]
fn snapshot_empty_install() {
    // A fresh install: no agents, no usage, no notifications, gateway never started — honest empty states.
    let mut d = AppData::empty(now(), fixture_models());
    d.catalog_source = "catalog: fixture".into();
    let mut s = State::new(d);
    snap("tui_empty_dashboard", &s);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    snap("tui_empty_agents", &s);
    apply(&mut s, [Action::GoTab(Tab::Budget)]);
    snap("tui_empty_budget", &s);
    apply(&mut s, [Action::GoTab(Tab::Notifications)]);
    snap("tui_empty_notifications", &s);
}

#[test]
fn snapshot_every_wizard_step() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Create), Action::Down]);
    snap("tui_wizard_1_category", &s);
    apply(&mut s, [Action::Confirm]);
    snap("tui_wizard_2_model", &s);
    apply(&mut s, [Action::ChangeModel]);
    apply(&mut s, typed("qwen"));
    snap("tui_wizard_2_model_picker", &s);
    apply(&mut s, [Action::Confirm]);
    snap("tui_wizard_2_model_changed", &s);
    apply(&mut s, [Action::Confirm]);
    snap("tui_wizard_3_skills", &s);
    apply(&mut s, [Action::Confirm]);
    apply(&mut s, typed("engineer"));
    snap("tui_wizard_4_name_error", &s);
    apply(&mut s, std::iter::repeat_n(Action::Backspace, 8));
    apply(&mut s, typed("Ada"));
    snap("tui_wizard_4_name", &s);
    apply(&mut s, [Action::Confirm]);
    snap("tui_wizard_5_confirm", &s);
}

#[test]
fn every_tab_renders_at_80x24_and_after_resizes() {
    let mut s = State::new(full_data());
    for (w, h) in [(80, 24), (100, 30), (200, 60), (40, 10), (80, 24)] {
        apply(
            &mut s,
            [Action::Resize {
                width: w,
                height: h,
            }],
        );
        for t in Tab::ALL {
            apply(&mut s, [Action::GoTab(t)]);
            let text = screen(&s, w, h);
            if w >= 80 {
                // The whole tab bar fits from 80 columns up.
                assert!(
                    text.lines().next().unwrap().contains("6 Notifications"),
                    "{w}x{h} {t:?}:\n{text}"
                );
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The wizard, without rendering.
// ------------------------------------------------------------------------------------------------

#[test]
fn wizard_walks_to_a_create_effect_with_the_chosen_values() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Create)]);
    assert_eq!(s.create.step, WizardStep::Category);
    apply(&mut s, [Action::Down, Action::Confirm]); // Engineer
    assert_eq!(s.create.step, WizardStep::Model);
    // The same pick `nxr models best-free --role engineer` makes on this catalog.
    let models = fixture_models();
    let cfg = scoring::ScoringConfig::for_catalog(&models, now());
    let expected = scoring::best_free(
        &models,
        Role::Engineer,
        &scoring::Health::default(),
        &cfg,
        &[],
    );
    assert_eq!(s.create.model.as_deref(), Some(expected.model_id.as_str()));
    assert!(
        s.create.pick.as_ref().unwrap().score.is_some(),
        "a ranked pick has a score and reasons"
    );

    // Change the model through the picker.
    apply(&mut s, [Action::ChangeModel]);
    assert!(s.create.picking_model && s.text_input_active());
    apply(&mut s, typed("gpt-oss-20b"));
    apply(&mut s, [Action::Confirm]);
    assert!(!s.create.picking_model);
    assert_eq!(s.create.model.as_deref(), Some("openai/gpt-oss-20b:free"));

    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Skills);
    assert_eq!(
        s.create.skills.chosen(),
        skills::default_skills(Role::Engineer, None).unwrap()
    );
    apply(&mut s, [Action::ToggleItem]); // drop "coding"
    let mut expected_skills = skills::default_skills(Role::Engineer, None).unwrap();
    expected_skills.retain(|x| x != "coding");
    assert_eq!(s.create.skills.chosen(), expected_skills);

    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Name);
    // Empty name: stays, with an inline error.
    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Name);
    assert!(s.create.name_error.as_deref().unwrap().contains("empty"));
    // A taken name (case-insensitive) errors while typing.
    apply(&mut s, typed("hermes"));
    assert!(
        s.create
            .name_error
            .as_deref()
            .unwrap()
            .contains("already exists")
    );
    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Name);
    apply(&mut s, std::iter::repeat_n(Action::Backspace, 6));
    apply(&mut s, typed("a/b"));
    assert!(
        s.create
            .name_error
            .as_deref()
            .unwrap()
            .contains("path separator")
    );
    apply(&mut s, std::iter::repeat_n(Action::Backspace, 3));
    apply(&mut s, typed("Ada Lovelace"));
    assert_eq!(s.create.name_error, None);
    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Confirm);
    assert!(s.effects.is_empty(), "nothing is created before confirm");

    apply(&mut s, [Action::Confirm]);
    assert!(s.create.submitting);
    let Some(Effect::CreateAgent(spec)) = queued(&s).first().cloned() else {
        panic!("expected a CreateAgent effect, got {:?}", s.effects);
    };
    assert_eq!(spec.name, "Ada Lovelace");
    assert_eq!(spec.role, Role::Engineer);
    assert_eq!(spec.category, None);
    assert_eq!(spec.model.as_deref(), Some("openai/gpt-oss-20b:free"));
    assert_eq!(spec.skills.as_ref().unwrap(), &expected_skills);
    // Keys do nothing while the domain works.
    apply(&mut s, [Action::Back, Action::Confirm]);
    assert_eq!(s.effects.len(), 1);

    // The domain answers: the agent shows at once in Tab 3 (and Tab 1), the wizard starts over.
    let mut created = agent(
        9,
        "Ada Lovelace",
        Role::Engineer,
        "openai/gpt-oss-20b:free",
        &[],
    );
    created.skillset = expected_skills.clone();
    answer(&mut s, Outcome::AgentCreated(Box::new(created)));
    assert_eq!(s.tab, Tab::Agents);
    assert_eq!(s.data.agents.last().unwrap().name, "Ada Lovelace");
    assert_eq!(s.data.agents[s.agents.selected].name, "Ada Lovelace");
    assert!(s.data.recommendation_for("Ada Lovelace").is_some());
    assert_eq!(s.create.step, WizardStep::Category);
    assert!(!s.create.submitting);
    assert!(screen(&s, 100, 30).contains("Ada Lovelace"));
    apply(&mut s, [Action::GoTab(Tab::Dashboard)]);
    assert!(screen(&s, 100, 30).contains("Ada Lovelace"));
}

#[test]
fn wizard_template_category_makes_a_custom_agent_with_the_template() {
    let mut s = State::new(full_data());
    apply(
        &mut s,
        [Action::GoTab(Tab::Create), Action::Bottom, Action::Confirm],
    );
    let cat = s.create.category();
    assert_eq!(cat.role(), Role::Custom);
    assert_eq!(cat.template(), Some("personal"));
    apply(&mut s, [Action::Confirm]);
    assert_eq!(
        s.create.skills.chosen(),
        skills::default_skills(Role::Custom, Some("personal")).unwrap()
    );
    apply(&mut s, [Action::Confirm]);
    apply(&mut s, typed("diary"));
    apply(&mut s, [Action::Confirm, Action::Confirm]);
    let q = queued(&s);
    let Some(Effect::CreateAgent(spec)) = q.first() else {
        panic!("no create effect");
    };
    assert_eq!(spec.role, Role::Custom);
    assert_eq!(spec.category.as_deref(), Some("personal"));
}

#[test]
fn wizard_back_steps_and_a_failed_create_keeps_the_answers() {
    let mut s = State::new(full_data());
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Create),
            Action::Confirm,
            Action::Confirm,
            Action::Confirm,
        ],
    );
    assert_eq!(s.create.step, WizardStep::Name);
    apply(&mut s, typed("x1"));
    apply(&mut s, [Action::Back]);
    assert_eq!(s.create.step, WizardStep::Skills);
    apply(&mut s, [Action::Back]);
    assert_eq!(s.create.step, WizardStep::Model);
    apply(&mut s, [Action::Back]);
    assert_eq!(s.create.step, WizardStep::Category);
    // Esc at the first step quits (nothing left to back out of).
    apply(&mut s, [Action::Back]);
    assert!(s.should_quit);

    let mut s = State::new(full_data());
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Create),
            Action::Confirm,
            Action::Confirm,
            Action::Confirm,
        ],
    );
    apply(&mut s, typed("x1"));
    apply(&mut s, [Action::Confirm, Action::Confirm]);
    assert!(s.create.submitting);
    answer(
        &mut s,
        Outcome::Failed("cannot write /ro/profiles/x1: read-only file system".into()),
    );
    assert!(!s.create.submitting);
    assert_eq!(s.create.step, WizardStep::Confirm);
    assert_eq!(s.create.name_text(), "x1");
    let m = s.message.clone().unwrap();
    assert!(m.is_error && m.text.contains("read-only"));
    assert!(screen(&s, 100, 30).contains("read-only"));
}

// ------------------------------------------------------------------------------------------------
// Shell: keys, tabs, mouse, help, background events.
// ------------------------------------------------------------------------------------------------

#[test]
fn digits_tab_keys_and_mouse_switch_tabs() {
    let mut s = State::new(full_data());
    for (i, t) in Tab::ALL.iter().enumerate() {
        let digit = char::from(b'1' + i as u8);
        let a = keys::action_for_key(&s, &key(KeyCode::Char(digit))).unwrap();
        apply(&mut s, [a]);
        assert_eq!(s.tab, *t);
    }
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.tab, Tab::Dashboard);
    press(&mut s, KeyCode::BackTab);
    assert_eq!(s.tab, Tab::Notifications);
    // Click on each tab's label in the rendered bar.
    for t in Tab::ALL {
        let bar = screen(&s, 100, 30).lines().next().unwrap().to_string();
        let label = format!(
            "{} {}",
            t.index() + 1,
            if t == Tab::Create {
                "Create"
            } else {
                t.title()
            }
        );
        let col = bar
            .find(&label)
            .unwrap_or_else(|| panic!("{label} in {bar}"));
        let col = bar[..col].chars().count() as u16 + 1;
        apply(
            &mut s,
            [Action::Click {
                column: col,
                row: 0,
            }],
        );
        assert_eq!(s.tab, t);
    }
    // A click below the bar does not switch.
    apply(&mut s, [Action::Click { column: 10, row: 5 }]);
    assert_eq!(s.tab, Tab::Notifications);
}

#[test]
fn key_releases_are_ignored_and_ctrl_c_quits() {
    let s = State::new(full_data());
    let mut release = key(KeyCode::Char('2'));
    release.kind = KeyEventKind::Release;
    assert!(keys::action_for_key(&s, &release).is_none());
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(matches!(
        keys::action_for_key(&s, &ctrl_c),
        Some(Action::Quit)
    ));
    assert!(matches!(
        keys::action_for_key(&s, &key(KeyCode::Char('q'))),
        Some(Action::Quit)
    ));
}

#[test]
fn footer_and_help_come_from_the_bindings_that_handle_keys() {
    let mut s = State::new(full_data());
    for t in Tab::ALL {
        apply(&mut s, [Action::GoTab(t)]);
        let footer = nxr::app::draw::hint_line(&s).to_string();
        for b in keys::tab_bindings(&s)
            .into_iter()
            .chain(keys::global_bindings())
        {
            if b.footer {
                assert!(
                    footer.contains(b.desc),
                    "{t:?}: footer lacks {:?}: {footer}",
                    b.desc
                );
            }
            // Pressing the binding's first key gives the binding's action (no drift).
            let k = match b.keys[0] {
                Key::Char(c) => KeyCode::Char(c),
                Key::Enter => KeyCode::Enter,
                Key::Esc => KeyCode::Esc,
                Key::Tab => KeyCode::Tab,
                Key::BackTab => KeyCode::BackTab,
                Key::Up => KeyCode::Up,
                Key::Down => KeyCode::Down,
                Key::Left => KeyCode::Left,
                Key::Right => KeyCode::Right,
                Key::PageUp => KeyCode::PageUp,
                Key::PageDown => KeyCode::PageDown,
                Key::Home => KeyCode::Home,
                Key::End => KeyCode::End,
                Key::Backspace => KeyCode::Backspace,
                Key::Space => KeyCode::Char(' '),
            };
            let got = keys::action_for_key(&s, &key(k));
            assert_eq!(
                format!("{got:?}"),
                format!("{:?}", Some(b.action.clone())),
                "{t:?}: key {} should send {:?}",
                b.keys_label(),
                b.action
            );
        }
        // The help overlay lists every binding of the tab.
        apply(&mut s, [Action::ToggleHelp]);
        let help = screen(&s, 100, 40);
        for b in keys::tab_bindings(&s) {
            assert!(help.contains(b.desc), "{t:?}: help lacks {:?}", b.desc);
        }
        press(&mut s, KeyCode::Esc);
        assert!(
            !s.show_help && !s.should_quit,
            "Esc closes help without quitting"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Tabs 2, 3 and 6 without rendering.
// ------------------------------------------------------------------------------------------------

#[test]
fn models_filter_is_live_and_esc_leaves_it() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Models)]);
    let total = s.models.picker.matched_count();
    assert_eq!(total, s.data.models.len());
    // `/` focuses the filter; digits are typed, not tab switches.
    press(&mut s, KeyCode::Char('/'));
    assert!(s.models.filter_focused);
    for c in "gemma3".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    assert_eq!(s.tab, Tab::Models);
    assert_eq!(s.models.picker.query, "gemma3");
    let n = s.models.picker.matched_count();
    assert!(n > 0 && n < total);
    let text = screen(&s, 100, 30);
    assert!(text.contains(&format!("{n}/{total}")), "{text}");
    assert!(text.contains("google/gemma-3"));
    press(&mut s, KeyCode::Esc);
    assert!(!s.models.filter_focused && !s.should_quit);
    assert_eq!(
        s.models.picker.query, "gemma3",
        "leaving the filter keeps it"
    );
    // Toggles.
    apply(&mut s, [Action::ToggleFree, Action::ToggleVision]);
    let p = &s.models.picker;
    assert!(p.matched().iter().all(|&i| {
        let m = &s.data.models.rows()[i as usize];
        m.is_free() && m.supports_vision()
    }));
    // Esc at the top level of the tab quits.
    apply(&mut s, [Action::Back]);
    assert!(s.should_quit);
}

#[test]
fn match_highlight_marks_the_matched_characters() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Models), Action::FocusFilter]);
    // "/" only occurs in ids, so the match lies in the id column.
    apply(&mut s, typed("ai/gpt-oss-12"));
    let t = render(&s, 100, 30);
    let buf = t.backend().buffer();
    let row_text = |y: u16| {
        (0..100)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    let row = (3..30)
        .find(|y| row_text(*y).contains("openai/gpt-oss-120b"))
        .expect("the matching row is shown");
    let line = row_text(row);
    let start = line[..line.find("openai/").unwrap()].chars().count() as u16;
    let o = &buf[(start, row)]; // 'o' of openai: not part of the match
    let a = &buf[(start + 4, row)]; // 'a' of "ai/": matched
    assert_eq!(a.symbol(), "a");
    assert_eq!(
        a.fg,
        ratatui::style::Color::Yellow,
        "matched characters are highlighted"
    );
    assert_ne!(
        o.fg,
        ratatui::style::Color::Yellow,
        "unmatched characters are not"
    );
}

#[test]
fn slot_editor_queues_a_slot_write_for_the_chosen_model() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Models), Action::ToggleSlots]);
    assert_eq!(s.models.mode, ModelsMode::Slots);
    apply(&mut s, [Action::Down, Action::Down, Action::Confirm]); // web_extract
    assert_eq!(s.models.mode, ModelsMode::PickForSlot);
    apply(&mut s, typed("gemma-3-12b"));
    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.models.mode, ModelsMode::Slots);
    match queued(&s).as_slice() {
        [Effect::SetSlot { slot, model }] => {
            assert_eq!(slot, "web_extract");
            assert_eq!(model, "google/gemma-3-12b-it:free");
        }
        other => panic!("expected one SetSlot, got {other:?}"),
    }
}

#[test]
fn agents_tab_upgrade_revert_and_skills() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Agents), Action::Down]); // Engineer on a 3B model
    let rec = s.data.recommendation_for("Engineer").unwrap().clone();
    assert!(rec.upgrade_available, "{rec:?}");
    apply(&mut s, [Action::Upgrade]);
    assert!(
        matches!(queued(&s).last(), Some(Effect::SetAgentModel { agent, model, .. })
        if agent == "Engineer" && *model == rec.recommended_model)
    );
    apply(&mut s, [Action::Revert]);
    assert!(
        matches!(queued(&s).last(), Some(Effect::RevertAgentModel { agent }) if agent == "Engineer")
    );
    apply(&mut s, [Action::EditSkills]);
    assert!(s.agents.skills.is_some());
    apply(&mut s, [Action::ToggleItem, Action::Confirm]); // drop the first skill
    let q = queued(&s);
    let Some(Effect::SetAgentSkills {
        agent,
        skills: chosen,
    }) = q.last()
    else {
        panic!("no skills effect");
    };
    assert_eq!(agent, "Engineer");
    assert_eq!(chosen.len(), 7);
    assert!(!chosen.contains(&"coding".to_string()));
}

#[test]
fn notifications_mark_read_all_read_and_apply_an_upgrade() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Notifications)]);
    assert_eq!(s.data.unread_count(), 2);
    assert!(screen(&s, 100, 30).contains("6 Notifications (2)"));
    apply(&mut s, [Action::Upgrade]);
    // Marked read by the domain once the switch succeeded, not before.
    assert_eq!(s.data.unread_count(), 2);
    assert!(matches!(&queued(&s)[..], [Effect::ApplyNotification(3)]));
    assert!(screen(&s, 100, 30).contains("nvidia/nemotron-3-super-120b-a12b:free"));
    apply(&mut s, [Action::Down, Action::MarkRead]);
    assert_eq!(s.data.unread_count(), 1);
    assert!(matches!(queued(&s).last(), Some(Effect::MarkRead(2))));
    apply(&mut s, [Action::MarkAllRead]);
    assert_eq!(s.data.unread_count(), 0);
    assert!(matches!(queued(&s).last(), Some(Effect::MarkAllRead)));
    apply(&mut s, [Action::MarkAllRead]);
    assert_eq!(s.effects.len(), 3, "nothing unread: no write");
}

// ------------------------------------------------------------------------------------------------
// The domain reads behind the tabs, on a real database.
// ------------------------------------------------------------------------------------------------

async fn store(h: &common::Homes) -> nxr::domain::store::Store {
    nxr::domain::store::Store::open(&h.env()).await.unwrap()
}

#[tokio::test]
async fn budget_counts_free_requests_today_per_agent_and_rate_limits() {
    let h = common::Homes::new();
    let st = store(&h).await;
    let clock = FixedClock(now());
    let empty = budget::load(&st, &clock).await.unwrap();
    assert!(empty.no_data);
    assert_eq!((empty.used_today, empty.daily_limit), (0, 50));
    st.conn()
        .execute(
            "INSERT INTO agents (name, model, created_at, updated_at) VALUES ('eng', 'm:free', ?1, ?1)",
            [to_db(now())],
        )
        .await
        .unwrap();
    let ins = |agent: Option<i64>, free: i64, n: i64, status: &str, at: DateTime<Utc>| {
        let st = &st;
        let status = status.to_string();
        async move {
            st.conn()
                .execute(
                    "INSERT INTO usage_events (agent_id, model, is_free, requests, status, occurred_at) VALUES (?1, 'm:free', ?2, ?3, ?4, ?5)",
                    libsql::params![agent, free, n, status, to_db(at)],
                )
                .await
                .unwrap();
        }
    };
    ins(Some(1), 1, 5, "ok", now() - Duration::hours(2)).await; // today 10:30
    ins(Some(1), 1, 7, "ok", now() - Duration::minutes(1)).await; // today 12:29
    ins(None, 1, 3, "rate_limited", now() - Duration::hours(1)).await; // today, rate limited
    ins(Some(1), 0, 100, "ok", now() - Duration::hours(1)).await; // paid: not in the free count
    ins(Some(1), 1, 11, "ok", now() - Duration::hours(13)).await; // yesterday
    ins(Some(1), 1, 13, "ok", now() - Duration::days(10)).await; // 10 days ago
    let b = budget::load(&st, &clock).await.unwrap();
    assert_eq!(b.used_today, 15);
    assert_eq!(b.level(), budget::Level::Ok);
    assert_eq!(b.resets_at, "2026-05-02T00:00:00Z");
    // The last three hours (09:30–12:30) hold all 15 free requests: 5 an hour, for the 11.5 hours
    // left: 15 + 57 (57.5 rounded down).
    assert_eq!(b.projected_at_midnight, 72);
    assert_eq!(b.cumulative_by_hour.len(), 13);
    assert_eq!(b.cumulative_by_hour[10], 5);
    assert_eq!(b.cumulative_by_hour[12], 15);
    let eng = b.per_agent.iter().find(|u| u.agent == "eng").unwrap();
    assert_eq!((eng.today, eng.last_7d, eng.last_30d), (112, 123, 136));
    assert!(
        b.per_agent
            .iter()
            .any(|u| u.agent == "(no agent)" && u.today == 3)
    );
    assert_eq!(b.rate_limits.len(), 1);
    // ≥ 10 credits purchased lifts the limit to 1000.
    st.set_setting(budget::SETTING_CREDITS_PURCHASED, "10")
        .await
        .unwrap();
    assert_eq!(budget::load(&st, &clock).await.unwrap().daily_limit, 1000);
}

#[tokio::test]
async fn notifications_list_unread_and_mark_read() {
    let h = common::Homes::new();
    let st = store(&h).await;
    let clock = FixedClock(now());
    assert!(notifications::list(&st, 10).await.unwrap().is_empty());
    let new = |t: &str| NewNotification {
        kind: "scan".into(),
        title: t.into(),
        body: String::new(),
        agent_id: None,
        payload: None,
    };
    let a = notifications::add(&st, new("first"), &FixedClock(now() - Duration::minutes(5)))
        .await
        .unwrap();
    let b = notifications::add(&st, new("second"), &clock)
        .await
        .unwrap();
    let list = notifications::list(&st, 10).await.unwrap();
    assert_eq!(
        list.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(),
        ["second", "first"]
    );
    assert_eq!(notifications::unread_count(&st).await.unwrap(), 2);
    assert!(notifications::mark_read(&st, a, &clock).await.unwrap());
    assert!(
        !notifications::mark_read(&st, a, &clock).await.unwrap(),
        "already read"
    );
    assert_eq!(notifications::unread_count(&st).await.unwrap(), 1);
    assert_eq!(notifications::mark_all_read(&st, &clock).await.unwrap(), 1);
    assert_eq!(notifications::unread_count(&st).await.unwrap(), 0);
    let list = notifications::list(&st, 10).await.unwrap();
    assert!(
        list.iter()
            .all(|n| n.read_at.as_deref() == Some("2026-05-01T12:30:00Z"))
    );
    let _ = b;
}

// ------------------------------------------------------------------------------------------------
// The loader and the effects against the real domain (temp homes, no network).
// ------------------------------------------------------------------------------------------------

fn offline_env(h: &common::Homes) -> nxr::domain::base::env::Env {
    let mut env = h.env();
    env.openrouter_url = "http://127.0.0.1:9/api/v1".into();
    env.ollama_url = "http://127.0.0.1:9".into();
    env.telegram_api_url = "http://127.0.0.1:9".into();
    env
}

fn new_agent(name: &str, role: Role, model: Option<&str>) -> nxr::domain::agents::NewAgent {
    nxr::domain::agents::NewAgent {
        name: name.into(),
        role,
        category: None,
        model: model.map(str::to_string),
        skills: None,
        is_default: false,
        host: None,
    }
}

#[tokio::test]
async fn loader_fills_every_tab_from_the_domain() {
    use nxr::app::loader;
    let h = common::Homes::new();
    let env = offline_env(&h);
    std::fs::create_dir_all(&env.hermes_home).unwrap();
    std::fs::write(
        env.hermes_home.join("config.yaml"),
        "model:\n  default: openai/gpt-oss-20b:free\n  provider: openrouter\nauxiliary:\n  vision:\n    provider: openrouter\n    model: google/gemma-3-27b-it:free\n  curator:\n    provider: openrouter\n    model: openai/gpt-oss-20b:free\n",
    )
    .unwrap();
    std::fs::write(
        env.hermes_home.join("gateway_state.json"),
        format!(
            r#"{{"pid": {}, "kind": "hermes-gateway", "gateway_state": "running"}}"#,
            std::process::id()
        ),
    )
    .unwrap();
    let st = store(&h).await;
    // A weak model the engineer role would refuse: forced, as `--force` does.
    nxr::domain::agents::create_with(
        &st,
        &env,
        new_agent(
            "eng",
            Role::Engineer,
            Some("meta-llama/llama-3.2-3b-instruct:free"),
        ),
        nxr::domain::agents::CreateOptions {
            force: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let clock = FixedClock(Utc::now());
    notifications::add(
        &st,
        NewNotification {
            kind: "scan".into(),
            title: "scan done".into(),
            body: String::new(),
            agent_id: None,
            payload: None,
        },
        &clock,
    )
    .await
    .unwrap();
    let catalog = loader::load_catalog(&st, clock.0).await;
    assert!(catalog.source.contains("embedded"), "{}", catalog.source);
    let d = loader::load(&st, &env, &clock, &catalog).await;
    assert_eq!(d.agents.len(), 1);
    assert_eq!(d.agents_error, None);
    let rec = d.recommendation_for("eng").unwrap();
    assert!(rec.upgrade_available && !rec.current_passes);
    // Its check: the profile is there but has no key; the weak model is said but does not stop it.
    let check = d.check_for("eng").unwrap();
    assert_eq!(check.state, CheckState::NeedsKey, "{check:?}");
    let role = check
        .checks
        .iter()
        .find(|l| l.kind == CheckKind::Role)
        .unwrap();
    assert!(!role.ok && !role.blocking, "{role:?}");
    nxr::domain::agents::credentials::set_openrouter_key(
        &env,
        &st,
        "sk-or-v1-tui0000000000000000abcd",
    )
    .await
    .unwrap();
    let d = loader::load(&st, &env, &clock, &catalog).await;
    assert_eq!(d.check_for("eng").unwrap().state, CheckState::Ready);
    // The loader's check carries the agent's fallback chain; Tab 3's detail shows it.
    let chain = d
        .check_for("eng")
        .unwrap()
        .checks
        .iter()
        .find(|l| l.kind == CheckKind::Fallbacks)
        .expect("a fallback-chain line")
        .detail
        .clone();
    assert!(chain.starts_with("fallback chain: "), "{chain}");
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    let shown = screen(&s, 160, 40);
    assert!(shown.contains("ready"));
    let first = chain
        .trim_start_matches("fallback chain: ")
        .split(" → ")
        .next()
        .unwrap()
        .to_string();
    assert!(
        shown.contains("fallback chain: ") && shown.contains(&first),
        "{shown}"
    );
    let d = loader::load(&st, &env, &clock, &catalog).await;
    // Slots: main + the 7 standard ones + the file's extra `curator`.
    let names: Vec<&str> = d.slots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "main",
            "vision",
            "web_extract",
            "compression",
            "session_search",
            "skills_hub",
            "approval",
            "mcp",
            "curator"
        ]
    );
    assert_eq!(
        d.slots[1].model.as_deref(),
        Some("google/gemma-3-27b-it:free")
    );
    assert_eq!(d.gateway.state, GatewayState::Running);
    assert_eq!(d.gateway.pid, Some(std::process::id()));
    assert_eq!(d.gateway.model.as_deref(), Some("openai/gpt-oss-20b:free"));
    assert_eq!(d.notifications.len(), 1);
    assert_eq!(d.budget.as_ref().unwrap().daily_limit, 50);
    // A broken config.yaml is shown as an error in the slot editor, not a crash, and the rest loads.
    std::fs::write(env.hermes_home.join("config.yaml"), "model: [unclosed\n").unwrap();
    let d = loader::load(&st, &env, &clock, &catalog).await;
    assert!(d.slots_error.as_deref().unwrap().contains("not valid YAML"));
    assert_eq!(d.agents.len(), 1);
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Models), Action::ToggleSlots]);
    assert!(screen(&s, 100, 30).contains("not valid YAML"));
}

#[tokio::test]
async fn effects_go_through_the_domain() {
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    let clock = FixedClock(Utc::now());
    // A weak model the engineer role would refuse: forced, as `--force` does.
    nxr::domain::agents::create_with(
        &st,
        &env,
        new_agent(
            "eng",
            Role::Engineer,
            Some("meta-llama/llama-3.2-3b-instruct:free"),
        ),
        nxr::domain::agents::CreateOptions {
            force: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Upgrade, then revert to the previous model.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::SetAgentModel {
            agent: "eng".into(),
            model: "openai/gpt-oss-120b:free".into(),
            reason: "upgrade from the TUI".into(),
        },
    )
    .await;
    assert!(
        matches!(&a, Outcome::Done(t) if t.contains("openai/gpt-oss-120b:free")),
        "{a:?}"
    );
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::RevertAgentModel {
            agent: "eng".into(),
        },
    )
    .await;
    assert!(
        matches!(&a, Outcome::Done(t) if t.contains("meta-llama/llama-3.2-3b-instruct:free")),
        "{a:?}"
    );
    let eng = nxr::domain::agents::get_by_name(&st, &env, "eng")
        .await
        .unwrap();
    assert_eq!(eng.model, "meta-llama/llama-3.2-3b-instruct:free");
    // A model that is not in the catalog: a clear error, nothing changed.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::SetAgentModel {
            agent: "eng".into(),
            model: "nope/not-a-model".into(),
            reason: "x".into(),
        },
    )
    .await;
    assert!(
        matches!(&a, Outcome::Failed(t) if t.contains("not in the catalog")),
        "{a:?}"
    );
    assert_eq!(
        nxr::domain::agents::get_by_name(&st, &env, "eng")
            .await
            .unwrap()
            .model,
        eng.model
    );
    // Skills.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::SetAgentSkills {
            agent: "eng".into(),
            skills: vec!["coding".into(), "testing".into()],
        },
    )
    .await;
    assert!(matches!(a, Outcome::Done(_)), "{a:?}");
    let eng = nxr::domain::agents::get_by_name(&st, &env, "eng")
        .await
        .unwrap();
    assert_eq!(eng.skillset, ["coding", "testing"]);
    // Create, as the wizard does.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::CreateAgent(nxr::app::state::NewAgentSpec {
            name: "Ada".into(),
            role: Role::Custom,
            category: Some("media".into()),
            model: None,
            skills: Some(vec!["brainstorming".into()]),
            host: None,
        }),
    )
    .await;
    let Outcome::AgentCreated(ada) = a else {
        panic!("{a:?}")
    };
    assert_eq!(ada.skillset, ["brainstorming"]);
    // A duplicate name is refused with the reason.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::CreateAgent(nxr::app::state::NewAgentSpec {
            name: "Ada".into(),
            role: Role::Pm,
            category: None,
            model: None,
            skills: None,
            host: None,
        }),
    )
    .await;
    assert!(
        matches!(&a, Outcome::Failed(t) if t.contains("already exists")),
        "{a:?}"
    );
    // Notifications.
    let id = notifications::add(
        &st,
        NewNotification {
            kind: "scan".into(),
            title: "t".into(),
            body: String::new(),
            agent_id: None,
            payload: None,
        },
        &clock,
    )
    .await
    .unwrap();
    run_effect(&st, &env, &clock, Effect::MarkRead(id)).await;
    assert_eq!(notifications::unread_count(&st).await.unwrap(), 0);
}

#[test]
fn cli_agents_recommend_and_rescore() {
    let h = common::Homes::new();
    let run = |args: &[&str]| {
        let out = h.nxr().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "nxr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // No agents: an empty JSON list and a hint in text.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&run(&["agents", "recommend", "--json"]))
            .unwrap(),
        serde_json::json!([])
    );
    assert!(run(&["agents", "recommend"]).contains("no agents yet"));
    run(&[
        "agents",
        "create",
        "--role",
        "engineer",
        "--name",
        "eng",
        "--model",
        "meta-llama/llama-3.2-3b-instruct:free",
        "--force",
    ]);
    run(&["agents", "create", "--role", "pm", "--name", "pm1"]);
    let best_eng: serde_json::Value = serde_json::from_str(&run(&[
        "models",
        "best-free",
        "--role",
        "engineer",
        "--json",
    ]))
    .unwrap();
    let best_eng = best_eng["pick"]["model_id"]
        .as_str()
        .expect("best-free pick")
        .to_string();
    let recs: serde_json::Value =
        serde_json::from_str(&run(&["agents", "recommend", "--json"])).unwrap();
    let eng = recs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "eng")
        .unwrap();
    assert_eq!(eng["role"], "engineer");
    assert_eq!(
        eng["current_model"],
        "meta-llama/llama-3.2-3b-instruct:free"
    );
    assert_eq!(
        eng["recommended_model"],
        best_eng.as_str(),
        "the same pick as `nxr models best-free`"
    );
    assert_eq!(eng["upgrade_available"], true);
    let pm = recs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "pm1")
        .unwrap();
    assert_eq!(
        pm["upgrade_available"], false,
        "pm1 was created on the best free model"
    );
    let text = run(&["agents", "recommend"]);
    assert!(
        text.contains("eng")
            && text.contains("upgrade available")
            && text.contains("fails the role"),
        "{text}"
    );

    // First rescore: both agents' recommendations are new; the upgradable one gets a notification.
    let r1: serde_json::Value =
        serde_json::from_str(&run(&["agents", "rescore", "--json"])).unwrap();
    assert!(r1["rows_written"].as_u64().unwrap() > 0);
    let changed: Vec<&str> = r1["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["agent"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["eng", "pm1"]);
    // Same catalog again: nothing changed.
    let r2: serde_json::Value =
        serde_json::from_str(&run(&["agents", "rescore", "--json"])).unwrap();
    assert_eq!(r2["changed"], serde_json::json!([]));
    assert_eq!(r2["previous_scored_at"], r1["scored_at"]);
    assert!(run(&["agents", "rescore"]).contains("no agent's recommendation changed"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let notes = rt.block_on(async {
        let st = nxr::domain::store::Store::open(&h.env()).await.unwrap();
        notifications::list(&st, 10).await.unwrap()
    });
    assert_eq!(notes.len(), 1, "{notes:?}");
    let up = notes[0].upgrade().expect("an upgrade notification");
    assert_eq!(
        (up.agent.as_str(), up.to_model.as_str()),
        ("eng", best_eng.as_str())
    );

    // A database nxr cannot open: a clear error, non-zero exit.
    let bad = common::Homes::new();
    std::fs::write(bad.dir.path().join("nxr"), "a file, not a directory").unwrap();
    let out = bad
        .nxr()
        .args(["agents", "recommend", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NXR_HOME"), "{err}");
}

#[test]
fn no_color_draws_without_colours_but_keeps_the_selection_visible() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Models)]);
    let coloured = render(&s, 100, 30);
    assert!(
        coloured
            .backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset)
    );
    s.theme = Theme::for_no_color(Some(std::ffi::OsStr::new("1")));
    assert_eq!(s.theme, Theme::plain());
    let plain = render(&s, 100, 30);
    let buf = plain.backend().buffer();
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset)
    );
    assert!(
        buf.content
            .iter()
            .any(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
    );
    assert!(
        buf.content
            .iter()
            .any(|c| c.modifier.contains(ratatui::style::Modifier::BOLD))
    );
    assert_eq!(
        plain.backend().to_string(),
        coloured.backend().to_string(),
        "same text"
    );
}

#[test]
fn no_color_picks_the_plain_theme_only_when_set_and_non_empty() {
    use std::ffi::OsStr;
    assert_eq!(Theme::for_no_color(Some(OsStr::new("1"))), Theme::plain());
    assert_eq!(Theme::for_no_color(Some(OsStr::new(""))), Theme::colour());
    assert_eq!(Theme::for_no_color(None), Theme::colour());
    // Every tab and every wizard step draws without colour under the plain theme.
    let mut s = State::new(full_data());
    s.theme = Theme::plain();
    let mut screens = Vec::new();
    for t in Tab::ALL {
        apply(&mut s, [Action::GoTab(t)]);
        screens.push(render(&s, 100, 30));
    }
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Create),
            Action::Confirm,
            Action::ChangeModel,
        ],
    );
    screens.push(render(&s, 100, 30));
    for t in &screens {
        assert!(t.backend().buffer().content.iter().all(|c| {
            c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset
        }));
    }
}

#[test]
fn budget_gauge_turns_yellow_at_70_and_red_at_90_and_100_percent() {
    let gauge_fg = |used: u64| {
        let mut d = full_data();
        let b = d.budget.as_mut().unwrap();
        b.used_today = used;
        let mut s = State::new(d);
        apply(&mut s, [Action::GoTab(Tab::Budget)]);
        let t = render(&s, 100, 30);
        // The first cell inside the gauge (row 2, column 1) is part of the filled bar.
        let cell = t.backend().buffer()[(1, 2)].clone();
        (cell.fg, t.backend().to_string())
    };
    use ratatui::style::Color;
    assert_eq!(gauge_fg(34).0, Color::Green);
    assert_eq!(gauge_fg(35).0, Color::Yellow);
    assert_eq!(gauge_fg(45).0, Color::Red);
    let (fg, text) = gauge_fg(50);
    assert_eq!(fg, Color::Red);
    assert!(text.contains("limit reached, resets 00:00"), "{text}");
}

#[test]
fn hostile_model_names_cannot_inject_terminal_escapes() {
    let mut models = fixture_models();
    models[0].name = "Evil \u{1b}]0;pwned\u{7} \u{1b}[2J model".into();
    models[1].description = "\u{1b}[31mred".into();
    let mut s = State::new(AppData::empty(now(), models));
    apply(&mut s, [Action::GoTab(Tab::Models)]);
    for (w, h) in [(100, 30), (200, 60)] {
        let t = render(&s, w, h);
        let buf = t.backend().buffer();
        assert!(
            buf.content
                .iter()
                .all(|c| !c.symbol().chars().any(char::is_control))
        );
        assert!(t.backend().to_string().contains("Evil"));
    }
}

#[test]
fn wizard_leaves_a_fallback_pick_to_the_domain() {
    // A catalog where no free model qualifies for the engineer role: the pick is a fallback.
    let models: Vec<Model> = fixture_models()
        .into_iter()
        .filter(|m| !m.is_free())
        .collect();
    let mut s = State::new(AppData::empty(now(), models));
    apply(
        &mut s,
        [Action::GoTab(Tab::Create), Action::Down, Action::Confirm],
    );
    let pick = s.create.pick.clone().unwrap();
    assert_ne!(pick.source, scoring::PickSource::Ranked, "{pick:?}");
    assert!(screen(&s, 100, 30).contains(&pick.model_id));
    apply(&mut s, [Action::Confirm, Action::Confirm]);
    apply(&mut s, typed("fallback"));
    apply(&mut s, [Action::Confirm, Action::Confirm]);
    let q = queued(&s);
    let Some(Effect::CreateAgent(spec)) = q.first() else {
        panic!("no create")
    };
    assert_eq!(spec.model, None, "the domain resolves the fallback chain");
}

// ------------------------------------------------------------------------------------------------
// Polish: the wizard only lets through models the domain accepts; legends and ids that read right.
// ------------------------------------------------------------------------------------------------

/// The engineer role's verdict on a model, straight from `domain::scoring`.
fn engineer_verdict(s: &State, id: &str) -> scoring::ModelScore {
    let m = s.data.model(id).unwrap().to_model();
    scoring::score(&m, Role::Engineer, &s.data.health, &s.data.cfg)
}

#[test]
fn wizard_picker_marks_and_refuses_models_that_fail_the_role() {
    let weak = "meta-llama/llama-3.2-3b-instruct:free";
    let strong = "openai/gpt-oss-120b:free";
    let mut s = State::new(full_data());
    apply(
        &mut s,
        [Action::GoTab(Tab::Create), Action::Down, Action::Confirm],
    );
    assert_eq!(s.create.category().role(), Role::Engineer);
    assert!(!engineer_verdict(&s, weak).passes);
    assert!(engineer_verdict(&s, strong).passes);
    let recommended = s.create.model.clone();
    press(&mut s, KeyCode::Char('c'));
    assert!(s.create.picking_model);
    apply(&mut s, typed("llama-3.2-3b"));
    let selected = s
        .create
        .picker
        .selected_model(&s.data.models)
        .unwrap()
        .id()
        .into_owned();
    assert_eq!(selected, weak);
    // The row says why, and so does the line under the table.
    let text = screen(&s, 100, 30);
    let row = text.lines().find(|l| l.contains(weak)).unwrap();
    assert!(row.contains("✗ no tool support "), "{row}");
    assert!(
        text.contains("✗ fails engineer: no tool support (engineer needs tools)"),
        "{text}"
    );
    // Enter refuses it inline: still picking, the choice unchanged.
    press(&mut s, KeyCode::Enter);
    assert!(s.create.picking_model, "a failing model cannot be chosen");
    assert_eq!(s.create.model, recommended);
    let err = s.create.model_error.clone().unwrap();
    assert!(
        err.contains("not for the engineer role: no tool support"),
        "{err}"
    );
    assert!(!err.contains("--force"));
    snap("tui_wizard_2_model_refused", &s);
    assert!(screen(&s, 80, 24).contains("not for the engineer role"));
    // Typing again clears the refusal; a passing model is taken and marked ✓.
    apply(&mut s, std::iter::repeat_n(Action::Backspace, 12));
    assert_eq!(s.create.model_error, None);
    apply(&mut s, typed("gpt-oss-120b"));
    let text = screen(&s, 100, 30);
    assert!(
        text.contains("✓ meets the engineer role's requirements"),
        "{text}"
    );
    press(&mut s, KeyCode::Enter);
    assert!(!s.create.picking_model);
    assert_eq!(s.create.model.as_deref(), Some(strong));

    // Even a failing model that got in some other way (a catalog reload) cannot pass the Model step.
    s.create.model = Some(weak.into());
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.create.step, WizardStep::Model);
    assert!(
        screen(&s, 100, 30).contains("is not for the engineer role: no tool support"),
        "{}",
        screen(&s, 100, 30)
    );
    s.create.model = Some(strong.into());
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.create.step, WizardStep::Skills);
}

#[tokio::test]
async fn a_refused_create_shows_the_domain_reason_on_confirm_without_cli_advice() {
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    let clock = FixedClock(Utc::now());
    // The domain's refusal, in the TUI's words: the reason and the wizard's own way past it.
    let a = run_effect(
        &st,
        &env,
        &clock,
        Effect::CreateAgent(nxr::app::state::NewAgentSpec {
            name: "weak".into(),
            role: Role::Engineer,
            category: None,
            model: Some("meta-llama/llama-3.2-3b-instruct:free".into()),
            skills: None,
            host: None,
        }),
    )
    .await;
    let Outcome::Failed(refusal) = a else {
        panic!("{a:?}")
    };
    assert!(
        refusal.contains("fails engineer: no tool support"),
        "{refusal}"
    );
    assert!(
        refusal.contains("press c to choose another model"),
        "{refusal}"
    );
    assert!(
        !refusal.contains("--force") && !refusal.contains("`nxr "),
        "{refusal}"
    );

    let mut s = State::new(full_data());
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Create),
            Action::Down,
            Action::Confirm,
            Action::Confirm,
            Action::Confirm,
        ],
    );
    apply(&mut s, typed("weak"));
    apply(&mut s, [Action::Confirm]);
    assert_eq!(s.create.step, WizardStep::Confirm);
    // Something the TUI could not know (another process, a newer catalog) makes the domain refuse the
    // model at the last moment.
    s.create.model = Some("meta-llama/llama-3.2-3b-instruct:free".into());
    apply(&mut s, [Action::Confirm]);
    assert!(s.create.submitting);
    answer(&mut s, Outcome::Failed(refusal));
    assert_eq!(s.create.step, WizardStep::Confirm);
    let err = s.create.create_error.clone().unwrap();
    assert!(err.contains("no tool support"), "{err}");
    assert!(
        !err.contains("--force") && !err.contains("nxr models"),
        "{err}"
    );
    let text = screen(&s, 100, 30);
    assert!(text.contains("✗ Not created:"), "{text}");
    assert!(!text.contains("--force"), "{text}");
    assert!(text.contains("c change model"), "{text}");
    snap("tui_wizard_5_confirm_refused", &s);
    // c goes straight to the picker; the stale error is gone.
    press(&mut s, KeyCode::Char('c'));
    assert!(s.create.picking_model);
    assert_eq!(s.create.step, WizardStep::Model);
    assert_eq!(s.create.create_error, None);
}

#[test]
fn agents_title_shows_the_upgrade_legend_only_when_an_upgrade_is_available() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    assert!(s.data.recommendations.iter().any(|r| r.upgrade_available));
    let title = screen(&s, 100, 30).lines().nth(1).unwrap().to_string();
    assert!(title.contains("▲ = upgrade available"), "{title}");

    // Every agent on its recommended model: no legend, no ▲.
    let mut d = full_data();
    let recs = d.recommendations.clone();
    for a in &mut d.agents {
        a.model = recs
            .iter()
            .find(|r| r.agent == a.name)
            .unwrap()
            .recommended_model
            .clone();
    }
    d.recompute_recommendations();
    assert!(d.recommendations.iter().all(|r| !r.upgrade_available));
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    let text = screen(&s, 100, 30);
    assert!(!text.contains("upgrade available"), "{text}");
    assert!(!text.contains('▲'), "{text}");
}

#[test]
fn long_model_ids_keep_their_ends_at_80_columns() {
    let mut s = State::new(full_data());
    apply(
        &mut s,
        [
            Action::Resize {
                width: 80,
                height: 24,
            },
            Action::GoTab(Tab::Agents),
        ],
    );
    let text = screen(&s, 80, 24);
    for a in &s.data.agents {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("│{:<14}", a.name)))
            .unwrap_or_else(|| panic!("no row for {}:\n{text}", a.name));
        let (provider, rest) = a.model.split_once('/').unwrap();
        let tail: String = rest
            .chars()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert!(
            line.contains(provider) && line.contains(&tail),
            "{} ({}) lost an end:\n{line}",
            a.name,
            a.model
        );
    }
    // The dashboard's agent table and gateway box.
    apply(&mut s, [Action::GoTab(Tab::Dashboard)]);
    let text = screen(&s, 80, 24);
    for a in &s.data.agents {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("│{:<14}", a.name)))
            .unwrap_or_else(|| panic!("no row for {}:\n{text}", a.name));
        assert!(line.contains(":free"), "{} ({}):\n{line}", a.name, a.model);
    }
    let gateway_model = s.data.gateway.model.clone().unwrap();
    let line = text.lines().find(|l| l.contains(" model   ")).unwrap();
    assert!(
        gateway_model.ends_with(":free") && line.contains(":free│"),
        "{line}"
    );
    // The budget's rate-limit log.
    apply(&mut s, [Action::GoTab(Tab::Budget)]);
    let text = screen(&s, 80, 24);
    let event = &s.data.budget.as_ref().unwrap().rate_limits[0];
    let tail: String = event
        .model
        .chars()
        .skip(event.model.chars().count() - 5)
        .collect();
    let line = text
        .lines()
        .find(|l| l.contains("ago · "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(&tail),
        "{} lost its end:\n{line}",
        event.model
    );
    apply(&mut s, [Action::GoTab(Tab::Models)]);
    let text = screen(&s, 80, 24);
    let line = text
        .lines()
        .find(|l| l.contains("cognitivecom"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("edition:free"), "{line}");
    // The slot editor.
    apply(&mut s, [Action::ToggleSlots]);
    let text = screen(&s, 80, 24);
    let main = s.data.slots.iter().find(|x| x.name == "main").unwrap();
    assert!(main.model.as_deref().unwrap().ends_with(":free"));
    let line = text.lines().find(|l| l.contains("│main ")).unwrap();
    assert!(line.contains(":free"), "{line}");
}

#[test]
fn footers_list_only_keys_that_do_something() {
    let mut d = full_data();
    assert!(d.notifications.iter().any(|n| n.is_unread()));
    let mut s = State::new(d.clone());
    apply(&mut s, [Action::GoTab(Tab::Notifications)]);
    assert!(screen(&s, 100, 30).contains("M all read"));
    for n in &mut d.notifications {
        n.read_at = Some(to_db(now()));
    }
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Notifications)]);
    let footer = screen(&s, 100, 30).lines().last().unwrap().to_string();
    assert!(
        !footer.contains("mark read") && !footer.contains("all read"),
        "{footer}"
    );
    assert!(keys::action_for_key(&s, &key(KeyCode::Char('M'))).is_none());
    // No agents: Tab 3 lists no upgrade / revert / edit keys.
    let mut s = State::new(AppData::empty(now(), fixture_models()));
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    let footer = screen(&s, 100, 30).lines().last().unwrap().to_string();
    assert!(
        !footer.contains("upgrade") && !footer.contains("revert") && !footer.contains("skills"),
        "{footer}"
    );
    assert!(keys::action_for_key(&s, &key(KeyCode::Char('u'))).is_none());
}

// ------------------------------------------------------------------------------------------------
// Tab 3: the bulk upgrade dialog (`U`) and the per-agent paid upgrade / revert.
// ------------------------------------------------------------------------------------------------

/// The plan `nxr upgrade` would show for these agents, from the domain (no database: PM has two days
/// of observed usage, the others are estimated at the stated assumption).
fn upgrade_plan(d: &AppData) -> nxr::domain::upgrade::Plan {
    let mut usage = std::collections::BTreeMap::new();
    usage.insert(
        1,
        nxr::domain::upgrade::UsageEstimate {
            basis: nxr::domain::upgrade::UsageBasis::Observed,
            requests_per_day: 40.0,
            prompt_tokens_per_day: 120_000.0,
            completion_tokens_per_day: 30_000.0,
            days: 2,
        },
    );
    nxr::domain::upgrade::upgrade_plan_from(
        &d.agents,
        &fixture_models(),
        &d.health,
        &d.cfg,
        &usage,
        "catalog: fixture".into(),
    )
}

#[test]
fn tab3_bulk_upgrade_dialog_shows_the_plan_and_confirms_only_with_a_key() {
    let mut d = full_data();
    d.has_key = true;
    let plan = upgrade_plan(&d);
    assert_eq!(plan.rows.len(), 3);
    assert!(plan.rows.iter().all(|r| r.switch.is_some()), "{plan:#?}");
    assert!(plan.total_monthly_usd > 0.0);
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    press(&mut s, KeyCode::Char('U'));
    assert_eq!(drain(&mut s), [Effect::LoadUpgradePlan]);
    assert!(screen(&s, 100, 30).contains("Reading the plan"));
    answer(&mut s, Outcome::PlanLoaded(Box::new(Ok(plan.clone()))));
    snap("tui_tab3_upgrade_dialog", &s);
    let text = screen(&s, 100, 30);
    for row in &plan.rows {
        assert!(text.contains(&row.agent), "{text}");
    }
    assert!(text.contains("Total estimated:"), "{text}");
    assert!(text.contains("100 requests/day"), "{text}");
    // Esc closes the dialog (and does not quit); U then Enter applies the plan shown.
    press(&mut s, KeyCode::Esc);
    assert!(s.agents.upgrade.is_none() && !s.should_quit);
    press(&mut s, KeyCode::Char('U'));
    answer(&mut s, Outcome::PlanLoaded(Box::new(Ok(plan.clone()))));
    s.effects.clear();
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        queued(&s),
        [Effect::ApplyUpgradePlan(Box::new(plan.clone()))]
    );
    assert!(s.agents.upgrade.is_none());

    // Without a key: the dialog says how to add one and Enter changes nothing.
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    press(&mut s, KeyCode::Char('U'));
    answer(&mut s, Outcome::PlanLoaded(Box::new(Ok(plan))));
    s.effects.clear();
    assert!(screen(&s, 120, 30).contains("no OpenRouter key is stored"));
    press(&mut s, KeyCode::Enter);
    assert!(s.effects.is_empty());
}

#[test]
fn tab3_bulk_upgrade_dialog_shows_a_chosen_model_as_kept() {
    let mut d = full_data();
    d.has_key = true;
    d.agents[0].model_auto_assigned = false;
    let mut plan = upgrade_plan(&d);
    plan.keep_chosen(&d.agents);
    let chosen = d.agents[0].name.clone();
    assert!(plan.row(&chosen).unwrap().switch.is_none());
    assert_eq!(plan.switch_count(), 2);
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    press(&mut s, KeyCode::Char('U'));
    answer(&mut s, Outcome::PlanLoaded(Box::new(Ok(plan))));
    let text = screen(&s, 120, 30);
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("│{chosen} ")) && l.contains("kept (your choice)")),
        "{text}"
    );
    assert!(text.contains("2 of 3 agents switch"), "{text}");
}

#[test]
fn tab3_u_goes_paid_with_a_key_and_r_reverts_a_paid_agent_to_free() {
    let mut d = full_data();
    d.has_key = true;
    d.agents[0].model = "openai/gpt-4o-mini".into();
    d.recompute_recommendations();
    let mut s = State::new(d);
    apply(&mut s, [Action::GoTab(Tab::Agents)]);
    press(&mut s, KeyCode::Char('u'));
    assert_eq!(
        drain(&mut s),
        [Effect::UpgradeAgentPaid { agent: "PM".into() }]
    );
    press(&mut s, KeyCode::Char('r'));
    assert_eq!(
        drain(&mut s),
        [Effect::RevertAgentToFree { agent: "PM".into() }]
    );
    // A free agent's `r` goes back to its previous model, as before.
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Char('r'));
    assert_eq!(
        drain(&mut s),
        [Effect::RevertAgentModel {
            agent: "Engineer".into()
        }]
    );
}

#[test]
fn tab1_keys_start_stop_and_restart_the_gateway() {
    let mut s = State::new(full_data());
    for (code, op) in [
        (KeyCode::Char('s'), GatewayOp::Start),
        (KeyCode::Char('x'), GatewayOp::Stop),
        (KeyCode::Char('R'), GatewayOp::Restart),
    ] {
        s.effects.clear();
        press(&mut s, code);
        assert_eq!(queued(&s), vec![Effect::Gateway(op)], "{code:?}");
    }
}

// ------------------------------------------------------------------------------------------------
// The loop: ticks, effect ids, targeted refreshes, what a key map may name.
// ------------------------------------------------------------------------------------------------

#[test]
fn a_tick_carries_the_time_and_the_gateway_status_into_the_state() {
    let mut s = State::new(full_data());
    let model = s.data.gateway.model.clone();
    assert!(model.is_some());
    s.dirty = false;
    let later = now() + Duration::seconds(90);
    let gateway = GatewayStatus {
        state: GatewayState::Stopped,
        pid: None,
        model: None,
        ..s.data.gateway.clone()
    };
    apply(
        &mut s,
        [Action::Tick {
            now: later,
            gateway,
        }],
    );
    assert_eq!(s.data.now, later);
    assert_eq!(s.data.gateway.state, GatewayState::Stopped);
    assert_eq!(s.data.gateway.pid, None);
    assert_eq!(
        s.data.gateway.model, model,
        "the model comes from config.yaml, not the tick"
    );
    assert!(s.dirty, "relative times moved: redraw");
    assert!(screen(&s, 100, 30).contains("stopped"));

    // The ticker reads the injected clock and the gateway files of the Hermes home.
    let home = tempfile::tempdir().unwrap();
    let clock = FixedClock(later);
    let Action::Tick { now: t, gateway } = nxr::app::read_tick(home.path(), &clock) else {
        panic!("read_tick answers a tick");
    };
    assert_eq!(t, later);
    assert_eq!(gateway.state, GatewayState::NeverStarted);
}

#[test]
fn a_failed_slot_write_while_the_wizard_submits_is_shown_at_the_slot_editor() {
    let mut s = State::new(full_data());
    apply(&mut s, [Action::GoTab(Tab::Create)]);
    apply(&mut s, [Action::Confirm, Action::Confirm, Action::Confirm]);
    apply(&mut s, typed("x1"));
    apply(&mut s, [Action::Confirm, Action::Confirm]);
    assert!(s.create.submitting);
    let create = last_id(&s);
    // While the domain creates the agent, the user writes a slot in Tab 2.
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Models),
            Action::ToggleSlots,
            Action::Confirm,
            Action::Confirm,
        ],
    );
    assert!(matches!(queued(&s).last(), Some(Effect::SetSlot { .. })));
    let slot = last_id(&s);
    assert_ne!(slot, create);
    let next = update(
        &mut s,
        Action::Finished {
            id: slot,
            outcome: Outcome::Failed("cannot write config.yaml: read-only file system".into()),
        },
    );
    assert!(s.create.submitting, "the create is still running");
    assert_eq!(s.create.create_error, None, "not a create error");
    assert!(
        s.models
            .slots
            .error
            .as_deref()
            .unwrap()
            .contains("read-only"),
        "{:?}",
        s.models.slots.error
    );
    assert!(
        screen(&s, 100, 30).contains("read-only"),
        "shown at the slot editor"
    );
    assert!(matches!(next, Some(Action::Refresh(p)) if p == Parts::CONFIG.with(Parts::AGENTS)));

    // The create's own failure goes to the wizard.
    update(
        &mut s,
        Action::Finished {
            id: create,
            outcome: Outcome::Failed("cannot write /ro/profiles/x1: read-only".into()),
        },
    );
    assert!(!s.create.submitting);
    assert!(
        s.create
            .create_error
            .as_deref()
            .unwrap()
            .contains("/ro/profiles/x1")
    );
    assert!(s.pending.is_empty(), "both effects answered");
}

#[test]
fn background_events_refresh_only_the_part_they_concern() {
    let mut s = State::new(full_data());
    for (e, parts) in [
        (BackgroundEvent::ScanFinished, Parts::CATALOG),
        (BackgroundEvent::BudgetChanged, Parts::BUDGET),
        (BackgroundEvent::Notification, Parts::NOTIFICATIONS),
        (BackgroundEvent::AgentsChanged, Parts::AGENTS),
        (BackgroundEvent::ConfigChanged, Parts::CONFIG),
    ] {
        assert!(matches!(
            update(&mut s, Action::Background(e)),
            Some(Action::Refresh(p)) if p == parts
        ));
    }
    assert!(matches!(update(&mut s, Action::Reload), Some(Action::Refresh(p)) if p == Parts::DATA));
    let agents_before = s.data.agents.clone();
    let mut notes = s.data.notifications.clone();
    notes.insert(
        0,
        notification(4, "scan", "A brand-new notification", "", None, false, 0),
    );
    let fresh = Fresh {
        notifications: Some(Ok(notes)),
        ..Fresh::default()
    };
    apply(
        &mut s,
        [
            Action::GoTab(Tab::Notifications),
            Action::Refreshed(Box::new(fresh)),
        ],
    );
    assert!(s.dirty);
    assert_eq!(s.data.agents, agents_before, "agents untouched");
    assert!(s.data.budget.is_some(), "budget untouched");
    assert!(screen(&s, 100, 30).contains("A brand-new notification"));
}

#[tokio::test]
async fn a_targeted_refresh_reads_only_its_part_from_the_domain() {
    use nxr::app::loader;
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    let clock = FixedClock(Utc::now());
    let catalog = loader::load_catalog(&st, clock.0).await;
    let mut s = State::new(loader::load(&st, &env, &clock, &catalog).await);
    assert!(s.data.notifications.is_empty() && s.data.agents.is_empty());
    // Another process adds a notification and an agent.
    notifications::add(
        &st,
        NewNotification {
            kind: "scan".into(),
            title: "scan done".into(),
            body: String::new(),
            agent_id: None,
            payload: None,
        },
        &clock,
    )
    .await
    .unwrap();
    nxr::domain::agents::create_with(
        &st,
        &env,
        new_agent("eng", Role::Engineer, Some("openai/gpt-oss-120b:free")),
        nxr::domain::agents::CreateOptions {
            force: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A budget change re-reads the budget only.
    let fresh = loader::refresh(&st, &env, &clock, Parts::BUDGET, &s.data).await;
    assert!(fresh.budget.is_some());
    assert!(fresh.notifications.is_none() && fresh.agents.is_none() && fresh.checks.is_none());
    apply(&mut s, [Action::Refreshed(Box::new(fresh))]);
    assert!(s.data.notifications.is_empty() && s.data.agents.is_empty());
    // The notification event brings the notification, not the agent.
    let fresh = loader::refresh(&st, &env, &clock, Parts::NOTIFICATIONS, &s.data).await;
    apply(&mut s, [Action::Refreshed(Box::new(fresh))]);
    assert_eq!(s.data.notifications.len(), 1);
    assert!(s.data.agents.is_empty());
    // The agents event brings the agent with its check and recommendation.
    let fresh = loader::refresh(&st, &env, &clock, Parts::AGENTS, &s.data).await;
    assert!(fresh.checks.is_some() && fresh.budget.is_none());
    apply(&mut s, [Action::Refreshed(Box::new(fresh))]);
    assert_eq!(s.data.agents.len(), 1);
    assert!(s.data.check_for("eng").is_some());
    assert!(s.data.recommendation_for("eng").is_some());
}

#[tokio::test]
async fn tab6_applies_an_upgrade_notification_through_the_domain_and_a_failure_changes_nothing() {
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    let clock = FixedClock(Utc::now());
    let (eng, _) = nxr::domain::agents::create_with(
        &st,
        &env,
        new_agent(
            "eng",
            Role::Engineer,
            Some("meta-llama/llama-3.2-3b-instruct:free"),
        ),
        nxr::domain::agents::CreateOptions {
            force: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let propose = |to: &str| NewNotification {
        kind: notifications::KIND_UPGRADE.into(),
        title: "eng can move to a better free model".into(),
        body: format!("{to} is now the best free model."),
        agent_id: Some(eng.id),
        payload: Some(
            serde_json::json!({"agent": "eng", "from_model": eng.model, "to_model": to})
                .to_string(),
        ),
    };
    // A proposal for a model that left the catalog: the error, the agent and the notification as they were.
    let gone = notifications::add(&st, propose("nope/gone-model:free"), &clock)
        .await
        .unwrap();
    let a = run_effect(&st, &env, &clock, Effect::ApplyNotification(gone)).await;
    assert!(
        matches!(&a, Outcome::Failed(t) if t.contains("nope/gone-model:free")),
        "{a:?}"
    );
    let n = notifications::get(&st, gone).await.unwrap().unwrap();
    assert!(
        n.is_unread(),
        "a failed apply must leave the notification unread"
    );
    let now = nxr::domain::agents::get_by_name(&st, &env, "eng")
        .await
        .unwrap();
    assert_eq!(now.model, "meta-llama/llama-3.2-3b-instruct:free");
    // A good one: the agent moves (its config.yaml too), then the notification is read.
    let good = notifications::add(&st, propose("openai/gpt-oss-120b:free"), &clock)
        .await
        .unwrap();
    let a = run_effect(&st, &env, &clock, Effect::ApplyNotification(good)).await;
    assert!(
        matches!(&a, Outcome::Done(t) if t.contains("openai/gpt-oss-120b:free")),
        "{a:?}"
    );
    assert!(
        !notifications::get(&st, good)
            .await
            .unwrap()
            .unwrap()
            .is_unread()
    );
    let now = nxr::domain::agents::get_by_name(&st, &env, "eng")
        .await
        .unwrap();
    assert_eq!(now.model, "openai/gpt-oss-120b:free");
    let yaml = std::fs::read_to_string(env.hermes_home.join("profiles/eng/config.yaml")).unwrap();
    assert!(yaml.contains("openai/gpt-oss-120b:free"), "{yaml}");
}

#[tokio::test]
async fn the_slot_editor_refuses_a_text_only_model_for_vision_through_the_domain() {
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    let clock = FixedClock(Utc::now());
    std::fs::create_dir_all(&env.hermes_home).unwrap();
    let cfg = env.hermes_home.join("config.yaml");
    std::fs::write(&cfg, "model:\n  default: a/b\n").unwrap();
    let set = |model: &str| Effect::SetSlot {
        slot: "vision".into(),
        model: model.into(),
    };
    let a = run_effect(&st, &env, &clock, set("qwen/qwen3-coder:free")).await;
    assert!(
        matches!(&a, Outcome::Failed(t) if t.contains("does not take images")),
        "{a:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "model:\n  default: a/b\n"
    );
    let a = run_effect(&st, &env, &clock, set("google/gemma-3-27b-it:free")).await;
    assert!(matches!(&a, Outcome::Done(_)), "{a:?}");
}

#[tokio::test]
async fn the_wizard_refuses_a_name_by_the_domains_own_rule() {
    let h = common::Homes::new();
    let env = offline_env(&h);
    let st = store(&h).await;
    nxr::domain::agents::create_with(
        &st,
        &env,
        new_agent("Q#1", Role::Pm, Some("openai/gpt-oss-120b:free")),
        Default::default(),
    )
    .await
    .unwrap();
    let existing = nxr::domain::agents::list(&st, &env).await.unwrap();
    // Taken (letters without case), sharing a profile, not a name at all, and a free one: the wizard
    // says what creating would say.
    for (name, role) in [
        ("q#1", Role::Pm),
        ("Q-1", Role::Engineer),
        ("   ", Role::Pm),
        ("Scout", Role::Research),
    ] {
        let wizard = nxr::tabs::create::name_error(name, role, &existing);
        let created = nxr::domain::agents::create_with(
            &st,
            &env,
            new_agent(name, role, Some("openai/gpt-oss-120b:free")),
            Default::default(),
        )
        .await;
        match (&wizard, &created) {
            (Some(w), Err(e)) => assert_eq!(w, &e.to_string(), "{name:?}"),
            (None, Ok(_)) => {}
            _ => panic!("{name:?}: the wizard said {wizard:?}, creating gave {created:?}"),
        }
    }
}

#[test]
fn in_team_mode_the_wizard_chooses_the_host_the_agent_runs_on() {
    let host = |name: &str| nxr::domain::store::hosts::Host {
        name: name.into(),
        first_seen: "2026-05-01T09:00:00Z".into(),
        last_seen: "2026-05-01T12:00:00Z".into(),
        version: "0.1.0".into(),
        serving: true,
        up: true,
        reconciled_at: None,
        last_error: None,
    };
    let mut d = full_data();
    // Without a team there is no host to choose.
    let mut s = State::new(d.clone());
    s.tab = Tab::Create;
    s.create.step = WizardStep::Confirm;
    apply(&mut s, [Action::ToggleItem]);
    assert_eq!(s.create.host, None);
    assert!(!screen(&s, 100, 30).contains("Host "));

    d.background = Some(nxr::domain::view::Background {
        hosts: vec![host("laptop"), host("build-box")],
        ..Default::default()
    });
    let mut s = State::new(d);
    s.tab = Tab::Create;
    s.create.step = WizardStep::Confirm;
    assert!(screen(&s, 100, 30).contains("Host      this host"));
    apply(&mut s, [Action::ToggleItem, Action::ToggleItem]);
    assert_eq!(s.create.host.as_deref(), Some("build-box"));
    assert!(screen(&s, 100, 30).contains("Host      build-box"));
    apply(&mut s, [Action::ToggleItem]);
    assert_eq!(s.create.host, None, "round to this host again");
    apply(&mut s, [Action::ToggleItem, Action::Confirm]);
    let Some(Effect::CreateAgent(spec)) = queued(&s).first().cloned() else {
        panic!("expected a CreateAgent effect, got {:?}", s.effects);
    };
    assert_eq!(spec.host.as_deref(), Some("laptop"));
}
