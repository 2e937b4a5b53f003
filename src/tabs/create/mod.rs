//! Tab 5 Create Agent: category → recommended free model (change it with the picker) → skills (the
//! template pre-filled, editable) → name (validated as you type) → confirm. Confirm queues
//! `Effect::CreateAgent`, which the runtime sends to `domain::agents::create` — the call
//! `nxr agents create` makes.

pub mod wizard;

use crate::app::action::Action;
use crate::app::keys::{Binding, Key};
use crate::app::state::{Effect, NewAgentSpec, State, Tab};
use crate::app::update::page_rows;
use crate::domain::agents::skills;
use crate::domain::agents::{self, Agent};
use crate::domain::base::roles::Role;
use crate::domain::scoring::PickSource;
use crate::widgets::model_picker::{PickerView, RoleCheck, failure};
use crate::widgets::skill_selector::SkillSelector;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use wizard::{Wizard, WizardStep, new_name_area};

pub fn commands(state: &State) -> Vec<Binding> {
    use Key::*;
    let w = &state.create;
    if w.submitting {
        return Vec::new();
    }
    if w.picking_model {
        return vec![
            Binding::new(&[Enter], "use this model", Action::Confirm),
            Binding::new(&[Esc], "keep recommended", Action::Back),
            Binding::new(&[Backspace], "delete", Action::Backspace),
        ];
    }
    match w.step {
        WizardStep::Category => vec![Binding::new(&[Enter], "choose", Action::Confirm)],
        WizardStep::Model => vec![
            Binding::new(&[Enter], "next", Action::Confirm),
            Binding::new(&[Char('c')], "change model", Action::ChangeModel),
            Binding::new(&[Esc], "back", Action::Back),
        ],
        WizardStep::Skills => vec![
            Binding::new(&[Space], "toggle", Action::ToggleItem),
            Binding::new(&[Enter], "next", Action::Confirm),
            Binding::new(&[Esc], "back", Action::Back),
        ],
        WizardStep::Name => vec![
            Binding::new(&[Enter], "next", Action::Confirm),
            Binding::new(&[Esc], "back", Action::Back),
            Binding::new(&[Backspace], "delete", Action::Backspace),
        ],
        WizardStep::Confirm if w.create_error.is_some() => vec![
            Binding::new(&[Enter], "try again", Action::Confirm),
            Binding::new(&[Char('c')], "change model", Action::ChangeModel),
            Binding::new(&[Esc], "back", Action::Back),
        ],
        WizardStep::Confirm => {
            let mut b = vec![
                Binding::new(&[Enter], "create agent", Action::Confirm),
                Binding::new(&[Esc], "back", Action::Back),
            ];
            // Team mode: which host the agent runs on.
            if !hosts(state).is_empty() {
                b.push(Binding::new(&[Char('o')], "host", Action::ToggleItem));
            }
            b
        }
    }
}

/// The hosts sharing the database (team mode; empty otherwise), as the dashboard read them.
fn hosts(state: &State) -> Vec<String> {
    state
        .data
        .background
        .as_ref()
        .map(|b| b.hosts.iter().map(|h| h.name.clone()).collect())
        .unwrap_or_default()
}

/// The wizard's role and the catalog: what the picker checks every model against.
pub fn role_check(state: &State) -> RoleCheck<'_> {
    RoleCheck {
        role: state.create.category().role(),
        models: &state.data.models,
    }
}

/// Why `domain::agents::create` would refuse `id` for the wizard's role (the domain's own scoring:
/// `scoring::score(..).passes`), or None when it would take it. A fallback recommendation (router,
/// local model) is resolved by the domain itself and never refused.
pub fn model_refusal(state: &State, id: &str) -> Option<String> {
    let w = &state.create;
    if w.pick
        .as_ref()
        .is_some_and(|p| p.source != PickSource::Ranked && p.model_id == id)
    {
        return None;
    }
    let check = role_check(state);
    let Some(score) = check.score(id) else {
        return Some("not in the catalog any more".to_string());
    };
    failure(score).map(|why| format!("not for the {} role: {why}", check.role))
}

/// Opens the model picker on the current choice.
fn open_picker(state: &mut State) {
    let models = &state.data.models;
    let w = &mut state.create;
    w.picker.set_query("", models);
    if let Some(id) = w.model.clone() {
        w.picker.select_id(models, &id);
    }
    w.model_error = None;
    w.create_error = None;
    w.step = WizardStep::Model;
    w.picking_model = true;
}

/// The inline error for a name, or None when `domain::agents::create` would accept it (the
/// domain's own rule: [`agents::check_new_name`]).
pub fn name_error(name: &str, role: Role, existing: &[Agent]) -> Option<String> {
    agents::check_new_name(name, role, existing)
        .err()
        .map(|e| e.to_string())
}

/// Chooses the category under the cursor: the scorer's pick and the skill template.
fn choose_category(state: &mut State) {
    let d = &state.data;
    let w = &mut state.create;
    let cat = w.category();
    let pick = d.pick(cat.role()).cloned();
    w.model = pick.as_ref().map(|p| p.model_id.clone());
    w.pick = pick;
    let template = skills::default_skills(cat.role(), cat.template()).unwrap_or_default();
    w.skills = SkillSelector::new(template);
    w.model_error = None;
    w.step = WizardStep::Model;
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    let page = page_rows(state);
    if state.create.submitting {
        return None;
    }
    if state.create.picking_model {
        update_picker(state, action, page);
        return None;
    }
    if matches!(action, Action::ChangeModel)
        && (state.create.step == WizardStep::Model
            || (state.create.step == WizardStep::Confirm && state.create.create_error.is_some()))
    {
        open_picker(state);
        return None;
    }
    if state.create.step == WizardStep::Model && matches!(action, Action::Confirm) {
        confirm_model(state);
        return None;
    }
    update_step(state, action, page);
    None
}

/// Keys while the model picker is open. Only a model the domain will accept for the role can be
/// chosen: the refusal shows inline.
fn update_picker(state: &mut State, action: Action, page: usize) {
    let refusal = if matches!(action, Action::Confirm) {
        let w = &state.create;
        w.picker
            .selected_model(&state.data.models)
            .map(|m| m.id().into_owned())
            .map(|id| (model_refusal(state, &id), id))
    } else {
        None
    };
    let models = &state.data.models;
    let w = &mut state.create;
    w.model_error = None;
    match action {
        Action::InsertChar(c) => w.picker.push_char(c, models),
        Action::Backspace => w.picker.pop_char(models),
        Action::Up => w.picker.up(1),
        Action::Down => w.picker.down(1),
        Action::PageUp => w.picker.up(page),
        Action::PageDown => w.picker.down(page),
        Action::Back => w.picking_model = false,
        Action::Confirm => match refusal {
            Some((Some(why), _)) => w.model_error = Some(format!("{why}; pick a ✓ model")),
            Some((None, id)) => {
                w.model = Some(id);
                w.picking_model = false;
            }
            None => w.picking_model = false,
        },
        _ => {}
    }
}

/// Confirm on the model step: on to the skills unless the domain refuses the model for the role.
fn confirm_model(state: &mut State) {
    let refusal = state
        .create
        .model
        .as_deref()
        .and_then(|id| model_refusal(state, id));
    let w = &mut state.create;
    w.model_error = refusal.map(|why| {
        format!(
            "{} is {why}; press c to choose another model",
            w.model.as_deref().unwrap_or_default()
        )
    });
    if w.model_error.is_none() {
        w.step = WizardStep::Skills;
    }
}

/// The steps' own keys: category, model (back), skills, name and confirm.
fn update_step(state: &mut State, action: Action, page: usize) {
    let w = &mut state.create;
    match (w.step, action) {
        (WizardStep::Category, Action::Up) => w.category_index = w.category_index.saturating_sub(1),
        (WizardStep::Category, Action::Down) => {
            w.category_index = (w.category_index + 1).min(w.categories.len().saturating_sub(1))
        }
        (WizardStep::Category, Action::Top) => w.category_index = 0,
        (WizardStep::Category, Action::Bottom) => {
            w.category_index = w.categories.len().saturating_sub(1)
        }
        (WizardStep::Category, Action::Confirm) => choose_category(state),
        (WizardStep::Model, Action::Back) => {
            w.model_error = None;
            w.step = WizardStep::Category
        }
        (WizardStep::Skills, Action::Up) => w.skills.up(1),
        (WizardStep::Skills, Action::Down) => w.skills.down(1),
        (WizardStep::Skills, Action::PageUp) => w.skills.up(page),
        (WizardStep::Skills, Action::PageDown) => w.skills.down(page),
        (WizardStep::Skills, Action::Top) => w.skills.top(),
        (WizardStep::Skills, Action::Bottom) => w.skills.bottom(),
        (WizardStep::Skills, Action::ToggleItem) => w.skills.toggle(),
        (WizardStep::Skills, Action::Confirm) => w.step = WizardStep::Name,
        (WizardStep::Skills, Action::Back) => w.step = WizardStep::Model,
        (WizardStep::Name, Action::InsertChar(c)) => {
            w.name.insert_char(c);
            w.name_error = name_error(&w.name_text(), w.category().role(), &state.data.agents)
                .filter(|_| !w.name_text().is_empty());
        }
        (WizardStep::Name, Action::Backspace) => {
            w.name.delete_char();
            w.name_error = name_error(&w.name_text(), w.category().role(), &state.data.agents)
                .filter(|_| !w.name_text().is_empty());
        }
        (WizardStep::Name, Action::Confirm) => {
            w.name_error = name_error(&w.name_text(), w.category().role(), &state.data.agents);
            if w.name_error.is_none() {
                w.step = WizardStep::Confirm;
            }
        }
        (WizardStep::Name, Action::Back) => w.step = WizardStep::Skills,
        (WizardStep::Confirm, Action::Confirm) => {
            let spec = spec(w);
            w.create_error = None;
            w.submitting = true;
            state.info(format!("creating {} …", spec.name));
            state.queue(Effect::CreateAgent(spec));
        }
        (WizardStep::Confirm, Action::ToggleItem) if !w.submitting => {
            // This host, then each host of the team in turn.
            let hosts = hosts(state);
            let w = &mut state.create;
            let next = match &w.host {
                None => 0,
                Some(h) => hosts.iter().position(|x| x == h).map_or(0, |i| i + 1),
            };
            w.host = hosts.get(next).cloned();
        }
        (WizardStep::Confirm, Action::Back) => {
            w.create_error = None;
            w.step = WizardStep::Name
        }
        _ => {}
    }
}

/// What the wizard will ask the domain to create. A fallback recommendation (the `openrouter/free`
/// router or a local Ollama model) is left to the domain, which resolves the fallback chain itself.
pub fn spec(w: &Wizard) -> NewAgentSpec {
    let cat = w.category();
    let fallback = w.pick.as_ref().is_some_and(|p| {
        p.source != PickSource::Ranked && w.model.as_deref() == Some(p.model_id.as_str())
    });
    NewAgentSpec {
        name: w.name_text(),
        role: cat.role(),
        category: cat.template().map(str::to_string),
        model: if fallback { None } else { w.model.clone() },
        skills: Some(w.skills.chosen()),
        host: w.host.clone(),
    }
}

/// The domain created the agent: show it at once (Tab 3 and Tab 1), reset the wizard.
pub fn agent_created(state: &mut State, agent: Agent) {
    let name = agent.name.clone();
    if !state.data.agents.iter().any(|a| a.id == agent.id) {
        state.data.agents.push(agent);
    }
    state.data.recompute_recommendations();
    state.agents.selected = state
        .data
        .agents
        .iter()
        .position(|a| a.name == name)
        .unwrap_or(0);
    let mut fresh = Wizard::new(&state.data);
    fresh.name = new_name_area();
    state.create = fresh;
    state.tab = Tab::Agents;
    state.info(format!("created agent {name}"));
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let w = &state.create;
    let theme = &state.theme;
    let [steps, body] = Layout::vertical([Constraint::Length(1), Constraint::Fill(1)]).areas(area);
    draw_steps(state, frame, steps);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Create Agent · {} ", w.step.title()));
    if w.picking_model {
        w.picker.render(
            &state.data.models,
            body,
            frame.buffer_mut(),
            PickerView {
                title: &format!("Choose a model for {}", w.category().role()),
                focused: true,
                filter_focused: true,
                check: Some(role_check(state)),
                error: w.model_error.as_deref(),
                theme,
            },
        );
        return;
    }
    match w.step {
        WizardStep::Category => draw_category(state, frame, body, block),
        WizardStep::Model => draw_model(state, frame, body, block),
        WizardStep::Skills => {
            w.skills.render(
                body,
                frame.buffer_mut(),
                &format!("Skills for {}", w.category().label()),
                true,
                theme,
            );
        }
        WizardStep::Name => draw_name(state, frame, body, block),
        WizardStep::Confirm => draw_confirm(state, frame, body, block),
    }
}

/// The step bar: done steps, the current one, the ones to come.
fn draw_steps(state: &State, frame: &mut Frame, steps: Rect) {
    let w = &state.create;
    let theme = &state.theme;
    let mut spans = vec![Span::raw(" ")];
    for (i, s) in WizardStep::ALL.iter().enumerate() {
        let style = if *s == w.step {
            theme
                .accent
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else if *s < w.step {
            theme.ok
        } else {
            theme.muted
        };
        spans.push(Span::styled(format!(" {}. {} ", i + 1, s.title()), style));
        if i + 1 < WizardStep::ALL.len() {
            spans.push(Span::styled(" › ", theme.muted));
        }
    }
    frame.render_widget(Line::from(spans), steps);
}

/// Step 1: the categories, the chosen one highlighted.
fn draw_category(state: &State, frame: &mut Frame, body: Rect, block: Block) {
    let w = &state.create;
    let theme = &state.theme;
    let lines: Vec<Line> = w
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let marker = if i == w.category_index { "›" } else { " " };
            let mut l = Line::from(vec![
                Span::styled(
                    format!("{marker} {:<28}", c.label()),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(c.summary().to_string(), theme.subtle),
            ]);
            if i == w.category_index {
                l = l.style(theme.selected);
            }
            l
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block.title_bottom(" What will this agent do? ")),
        body,
    );
}

/// Step 2: the recommended free model with its reasons, the user's choice and a refusal.
fn draw_model(state: &State, frame: &mut Frame, body: Rect, block: Block) {
    let w = &state.create;
    let theme = &state.theme;
    let mut lines = vec![Line::from(format!("Category: {}", w.category().label()))];
    lines.push(Line::raw(""));
    if let Some(p) = &w.pick {
        let recommended = Some(&p.model_id) == w.model.as_ref();
        lines.push(Line::from(vec![
            Span::raw("Recommended free model: "),
            Span::styled(
                p.model_id.clone(),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(match (&p.score, &p.source) {
                (Some(s), _) => format!("  score {}", s.total),
                (None, PickSource::OpenRouterFree) => "  (router fallback)".into(),
                (None, _) => "  (local fallback)".into(),
            }),
        ]));
        if let Some(s) = &p.score {
            for r in &s.reasons {
                lines.push(Line::styled(format!("  · {r}"), theme.subtle));
            }
        }
        for warn in &p.warnings {
            lines.push(Line::styled(format!("  ! {warn}"), theme.warn));
        }
        if !recommended && let Some(m) = &w.model {
            lines.push(Line::raw(""));
            let detail = state
                .data
                .model(m)
                .map(|x| {
                    format!(
                        "  ctx {} · {} · score {}",
                        x.context_label(),
                        x.price_label(),
                        role_check(state).score(m).map_or(0, |s| s.total)
                    )
                })
                .unwrap_or_default();
            lines.push(Line::from(vec![
                Span::raw("Your choice: "),
                Span::styled(m.clone(), theme.accent.add_modifier(Modifier::BOLD)),
                Span::raw(detail),
            ]));
        }
    }
    if let Some(e) = &w.model_error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("✗ {e}"), theme.danger));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        body,
    );
}

/// Step 4: the name field and its error.
fn draw_name(state: &State, frame: &mut Frame, body: Rect, block: Block) {
    let w = &state.create;
    let theme = &state.theme;
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let [label, input, err, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Line::from("Name of the new agent:"), label);
    let mut area = w.name.clone();
    area.set_block(Block::default().borders(Borders::ALL).border_style(
        if w.name_error.is_some() {
            theme.danger
        } else {
            theme.accent
        },
    ));
    frame.render_widget(&area, input);
    if let Some(e) = &w.name_error {
        frame.render_widget(
            Paragraph::new(format!("✗ {e}"))
                .style(theme.danger)
                .wrap(Wrap { trim: true }),
            err,
        );
    }
    frame.render_widget(
        Paragraph::new(
            "The name becomes a Hermes profile (`hermes -p <name>`): letters, digits, spaces, - and _.",
        )
        .style(theme.muted)
        .wrap(Wrap { trim: true }),
        hint,
    );
}

/// Step 5: what will be created, and a refusal from the domain.
fn draw_confirm(state: &State, frame: &mut Frame, body: Rect, block: Block) {
    let w = &state.create;
    let theme = &state.theme;
    let s = spec(w);
    let skills = s.skills.clone().unwrap_or_default();
    let mut lines = vec![
        Line::from(format!("Name      {}", s.name)),
        Line::from(format!(
            "Role      {}{}",
            s.role,
            s.category
                .as_deref()
                .map(|c| format!(" ({c} template)"))
                .unwrap_or_default()
        )),
        Line::from(format!(
            "Model     {}",
            s.model
                .as_deref()
                .or(w.model.as_deref())
                .unwrap_or("(best free for the role)")
        )),
        Line::from(format!(
            "Skills    {} · {}",
            skills.len(),
            skills.join(", ")
        )),
    ];
    if !hosts(state).is_empty() {
        lines.push(Line::from(format!(
            "Host      {} (o: another host; its nxr makes the profile there)",
            s.host.as_deref().unwrap_or("this host")
        )));
    }
    lines.extend([
        Line::raw(""),
        Line::styled(
            if w.submitting {
                "Creating the agent and its Hermes profile …"
            } else {
                "Enter creates the agent and its Hermes profile."
            },
            theme.warn,
        ),
    ]);
    if let Some(e) = &w.create_error {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("✗ Not created: {e}"), theme.danger));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        body,
    );
}
