//! Tab 3 Agents: every agent with its current and recommended model, whether an upgrade is available,
//! and its skills. `u` upgrades (to the best paid model when a key is stored, else the best free one),
//! `r` reverts (a paid agent to the last free model it had), `U` opens the bulk upgrade dialog (the
//! plan of `nxr upgrade`), `e` edits skills (skill selector).

use crate::app::action::Action;
use crate::app::draw::{agent_name_cell, check_cell, check_column_width, empty_state};
use crate::app::keys::{Binding, Key};
use crate::app::state::{AppData, Effect, State};
use crate::app::update::page_rows;
use crate::domain::agents::Agent;
use crate::domain::upgrade::Plan;
use crate::widgets::model_picker::elide_middle;
use crate::widgets::skill_selector::SkillSelector;
use crate::widgets::upgrade_dialog::NO_KEY;
use crate::widgets::upgrade_dialog::UpgradeDialog;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

pub fn commands(state: &State) -> Vec<Binding> {
    use Key::*;
    if state.agents.upgrade.is_some() {
        return vec![
            Binding::new(&[Enter, Char('y')], "upgrade all shown", Action::Confirm),
            Binding::new(&[Esc, Char('n')], "cancel", Action::Back),
        ];
    }
    if state.agents.skills.is_some() {
        return vec![
            Binding::new(&[Space], "toggle skill", Action::ToggleItem),
            Binding::new(&[Enter], "save skills", Action::Confirm),
            Binding::new(&[Esc], "cancel", Action::Back),
        ];
    }
    // No agent, nothing to upgrade, revert or edit.
    if state.data.agents.is_empty() {
        return Vec::new();
    }
    vec![
        Binding::new(&[Char('u')], "upgrade", Action::Upgrade),
        Binding::new(&[Char('r')], "revert", Action::Revert),
        Binding::new(&[Char('U')], "bulk upgrade", Action::BulkUpgrade),
        Binding::new(&[Char('e')], "edit skills", Action::EditSkills),
    ]
}

/// The plan for the bulk upgrade dialog arrived (ignored when the dialog was closed meanwhile).
pub fn plan_loaded(state: &mut State, result: Result<Plan, String>) {
    if let Some(d) = &mut state.agents.upgrade {
        match result {
            Ok(plan) => d.plan = Some(plan),
            Err(e) => d.error = Some(e),
        }
    }
}

fn dialog_update(state: &mut State, action: Action) {
    match action {
        Action::Back => state.agents.upgrade = None,
        Action::Confirm => {
            let Some(plan) = state.agents.upgrade.as_ref().and_then(|d| d.plan.clone()) else {
                return;
            };
            if !state.data.has_key {
                state.error(NO_KEY.to_string());
                return;
            }
            state.agents.upgrade = None;
            if plan.switch_count() == 0 {
                state.info("every agent is already on its paid pick".to_string());
                return;
            }
            state.info(format!(
                "moving {} agents to paid models …",
                plan.switch_count()
            ));
            state.queue(Effect::ApplyUpgradePlan(Box::new(plan)));
        }
        _ => {}
    }
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    if state.agents.upgrade.is_some() {
        dialog_update(state, action);
        return None;
    }
    let page = page_rows(state);
    if let Some(sel) = &mut state.agents.skills {
        match action {
            Action::Up => sel.up(1),
            Action::Down => sel.down(1),
            Action::PageUp => sel.up(page),
            Action::PageDown => sel.down(page),
            Action::Top => sel.top(),
            Action::Bottom => sel.bottom(),
            Action::ToggleItem => sel.toggle(),
            Action::Back => state.agents.skills = None,
            Action::Confirm => {
                let skills = sel.chosen();
                state.agents.skills = None;
                if let Some(a) = state.data.agents.get(state.agents.selected) {
                    let agent = a.name.clone();
                    state.info(format!("saving {} skills for {agent} …", skills.len()));
                    state.queue(Effect::SetAgentSkills { agent, skills });
                }
            }
            _ => {}
        }
        return None;
    }
    let len = state.data.agents.len();
    let sel = &mut state.agents.selected;
    match action {
        Action::Up => *sel = sel.saturating_sub(1),
        Action::Down => *sel = (*sel + 1).min(len.saturating_sub(1)),
        Action::PageUp => *sel = sel.saturating_sub(page),
        Action::PageDown => *sel = (*sel + page).min(len.saturating_sub(1)),
        Action::Top => *sel = 0,
        Action::Bottom => *sel = len.saturating_sub(1),
        Action::EditSkills => {
            if let Some(a) = state.data.agents.get(*sel) {
                state.agents.skills = Some(SkillSelector::new(a.skillset.clone()));
            }
        }
        Action::BulkUpgrade => {
            state.agents.upgrade = Some(UpgradeDialog::default());
            state.queue(Effect::LoadUpgradePlan);
        }
        Action::Upgrade if state.data.has_key => {
            let agent = state.data.agents.get(*sel)?.name.clone();
            state.info(format!(
                "moving {agent} to the best paid model for its role …"
            ));
            state.queue(Effect::UpgradeAgentPaid { agent });
        }
        Action::Revert
            if state
                .data
                .agents
                .get(*sel)
                .and_then(|a| state.data.model(&a.model))
                .is_some_and(|m| !m.is_free()) =>
        {
            let agent = state.data.agents.get(*sel)?.name.clone();
            state.info(format!("moving {agent} back to its last free model …"));
            state.queue(Effect::RevertAgentToFree { agent });
        }
        Action::Upgrade => {
            let a = state.data.agents.get(*sel)?;
            let agent = a.name.clone();
            match state.data.recommendation_for(&agent) {
                Some(r) if r.upgrade_available => {
                    let model = r.recommended_model.clone();
                    state.info(format!("moving {agent} to {model} …"));
                    state.queue(Effect::SetAgentModel {
                        agent,
                        model,
                        reason: "upgrade from the TUI".into(),
                    });
                }
                Some(r) => state.info(format!(
                    "{agent} is already on the best model for its role ({})",
                    r.current_model
                )),
                None => state.error(format!(
                    "no recommendation for {agent}: the catalog has no model for its role"
                )),
            }
        }
        Action::Revert => {
            if let Some(a) = state.data.agents.get(*sel) {
                let agent = a.name.clone();
                state.info(format!("reverting {agent} to its previous model …"));
                state.queue(Effect::RevertAgentModel { agent });
            }
        }
        _ => {}
    }
    None
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    if d.agents.is_empty() {
        let text = match &d.agents_error {
            Some(e) => format!("Cannot read the agents: {e}"),
            None => "No agents yet. Press 5 to create one.".into(),
        };
        empty_state(&state.theme, frame, area, "Agents", &text);
        return;
    }
    let [table_area, detail] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(11)]).areas(area);
    draw_table(state, frame, table_area);
    let Some(agent) = d.agents.get(state.agents.selected) else {
        return;
    };
    if let Some(sel) = &state.agents.skills {
        sel.render(
            detail,
            frame.buffer_mut(),
            &format!("Skills of {}", agent.name),
            true,
            &state.theme,
        );
        return;
    }
    draw_detail(state, agent, frame, detail);
    if let Some(dialog) = &state.agents.upgrade {
        crate::widgets::upgrade_dialog::render(&state.theme, dialog, d.has_key, frame, area);
    }
}

/// The recommended model column's text: the model, `(same)` when the agent is already on it, `—` without
/// a recommendation.
fn recommended(d: &AppData, a: &Agent) -> String {
    match d.recommendation_for(&a.name) {
        Some(r) if r.recommended_model == a.model => "(same)".to_string(),
        Some(r) => r.recommended_model.clone(),
        None => "—".into(),
    }
}

/// The widths of the current and recommended model columns for a table `width` wide whose state column
/// is `state_w` wide.
fn model_widths(d: &AppData, width: u16, state_w: u16) -> (usize, usize) {
    // The two model columns share what the fixed columns leave; ids that still do not fit are cut in the
    // middle, so the provider and the `:free` suffix stay visible.
    let room = (width.saturating_sub(2 + 14 + 9 + state_w + 2 + 6 + 6)) as usize;
    let longest = |f: &dyn Fn(&Agent) -> usize| d.agents.iter().map(f).max().unwrap_or(0);
    let cur_need = longest(&|a| a.model.chars().count()).max(13);
    let rec_need = longest(&|a| recommended(d, a).chars().count()).max(11);
    if cur_need + rec_need <= room {
        (cur_need, room - cur_need)
    } else {
        let cur = cur_need.min(room.saturating_sub(rec_need.min(room / 2)));
        (cur, room.saturating_sub(cur))
    }
}

/// The agents table: name, role, state, current and recommended model, upgrade mark, skill count.
fn draw_table(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    let state_w = check_column_width(area.width);
    let (cur_w, rec_w) = model_widths(d, area.width, state_w);
    let any_upgrade = d.agents.iter().any(|a| {
        d.recommendation_for(&a.name)
            .is_some_and(|r| r.upgrade_available)
    });
    let rows = d.agents.iter().enumerate().map(|(i, a)| {
        let rec = d.recommendation_for(&a.name);
        let upgrade = rec.is_some_and(|r| r.upgrade_available);
        let mut row = Row::new(vec![
            agent_name_cell(&state.theme, &a.name, d.check_for(&a.name), state_w > 0),
            Cell::from(a.role.as_str()),
            if state_w > 0 {
                check_cell(&state.theme, d.check_for(&a.name))
            } else {
                Cell::from("")
            },
            Cell::from(elide_middle(&a.model, cur_w).0),
            Cell::from(elide_middle(&recommended(d, a), rec_w).0),
            Cell::from(if upgrade { "▲" } else { "✓" }).style(if upgrade {
                state.theme.warn
            } else {
                state.theme.ok
            }),
            Cell::from(Line::from(a.skillset.len().to_string()).right_aligned()),
        ]);
        if i == state.agents.selected {
            row = row.style(state.theme.selected);
        }
        row
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Length(9),
                Constraint::Length(state_w),
                Constraint::Length(cur_w as u16),
                Constraint::Length(rec_w as u16),
                Constraint::Length(2),
                Constraint::Length(6),
            ],
        )
        .header(
            Row::new(vec![
                "name",
                "role",
                "state",
                "current model",
                "recommended",
                "",
                "skills",
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(if any_upgrade {
                    format!(" Agents ({}) · ▲ = upgrade available (u) ", d.agents.len())
                } else {
                    format!(" Agents ({}) ", d.agents.len())
                }),
        ),
        area,
    );
}

/// The selected agent's detail pane: profile, provider, status and Paperclip link, the scores, the
/// skills, its usage (when it made requests), whether it can run (with its fallback chain) and the recommendation's reasons.
fn draw_detail(state: &State, agent: &Agent, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    let rec = d.recommendation_for(&agent.name);
    let mut lines = vec![
        Line::from(format!(
            "profile {}{} · provider {} · status {} · Paperclip: {}",
            agent.hermes_profile,
            if agent.host.is_empty() {
                String::new()
            } else {
                format!(" on host {}", agent.host)
            },
            agent.provider,
            agent.status,
            d.paperclip_link(agent.id).map_or("—", |s| s.label())
        )),
        Line::from(format!(
            "score now {} · recommended {} ({})",
            rec.and_then(|r| r.current_score)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into()),
            rec.and_then(|r| r.recommended_score)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into()),
            rec.map(|r| r.recommended_model.as_str()).unwrap_or("—"),
        )),
        Line::from(format!("skills: {}", agent.skillset.join(", "))),
    ];
    if let Some(usage) = d.usage_for(agent.id).and_then(|u| u.summary()) {
        lines.push(Line::from(format!("usage: {usage}")));
    }
    check_lines(state, agent, &mut lines);
    if let Some(r) = rec {
        lines.extend(
            r.reasons
                .iter()
                .take(4)
                .map(|x| Line::styled(format!("· {x}"), state.theme.muted)),
        );
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", agent.name)),
        ),
        area,
    );
}

/// Whether the agent can run (with the reasons and the first fix) and its fallback chain, when it was
/// checked.
fn check_lines(state: &State, agent: &Agent, lines: &mut Vec<Line<'_>>) {
    let Some(c) = state.data.check_for(&agent.name) else {
        return;
    };
    let mut text = format!("can run: {}", c.state.label());
    if !c.reasons.is_empty() {
        text.push_str(&format!(" — {}", c.reasons.join("; ")));
    }
    if let Some(fix) = c.first_fix() {
        text.push_str(&format!(" — fix: {fix}"));
    }
    lines.push(Line::styled(text, state.theme.check(c.state)));
    if let Some(chain) = c
        .checks
        .iter()
        .find(|l| l.kind == crate::domain::watch::agent_check::CheckKind::Fallbacks)
    {
        lines.push(Line::styled(
            chain.detail.clone(),
            if chain.ok {
                state.theme.muted
            } else {
                state.theme.warn
            },
        ));
    }
}

/// Tab 3's own state: the selected agent, the skill editor and the bulk upgrade dialog.
#[derive(Debug, Clone, Default)]
pub struct AgentsTab {
    pub selected: usize,
    /// Editing the selected agent's skills.
    pub skills: Option<SkillSelector>,
    /// The bulk upgrade dialog (`U`).
    pub upgrade: Option<UpgradeDialog>,
}
