//! Tab 1 Dashboard: Hermes gateway status, whether `nxr serve` runs (the last scan's age), the agents,
//! the free-tier budget, the newest notifications.

use crate::app::action::Action;
use crate::app::draw::{
    agent_name_cell, ago, check_cell, check_column_width, empty_state, human_duration,
};
use crate::app::keys::{Binding, Key};
use crate::app::state::State;
use crate::domain::agents::gateway::GatewayState;
use crate::widgets::budget_gauge;
use crate::widgets::model_picker::elide_middle;
use crate::widgets::notification_row;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

pub fn commands(_state: &State) -> Vec<Binding> {
    vec![
        Binding::new(&[Key::Char('r')], "reload", Action::Reload),
        Binding::new(&[Key::Char('s')], "start gateway", Action::GatewayStart),
        Binding::new(&[Key::Char('x')], "stop gateway", Action::GatewayStop),
        Binding::new(&[Key::Char('R')], "restart gateway", Action::GatewayRestart),
    ]
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    use crate::app::state::GatewayOp;
    let op = match action {
        Action::GatewayStart => GatewayOp::Start,
        Action::GatewayStop => GatewayOp::Stop,
        Action::GatewayRestart => GatewayOp::Restart,
        _ => return None,
    };
    state.queue(crate::app::state::Effect::Gateway(op));
    None
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    // The background line, then (team mode) a line per host.
    let host_lines = state
        .data
        .background
        .as_ref()
        .map(|b| b.host_lines())
        .unwrap_or_default();
    let background_rows =
        u16::from(state.data.background.is_some()) + host_lines.len().min(4) as u16;
    let [top, background, agents, notes] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Length(background_rows),
        Constraint::Fill(1),
        Constraint::Length(7),
    ])
    .areas(area);
    if let Some(b) = &state.data.background {
        let style = if b.overdue || b.error.is_some() {
            state.theme.warn
        } else {
            state.theme.muted
        };
        let mut lines = vec![Line::styled(format!(" {}", b.line(state.data.now)), style)];
        lines.extend(
            host_lines
                .iter()
                .take(4)
                .map(|h| Line::styled(format!(" {h}"), state.theme.muted)),
        );
        frame.render_widget(Paragraph::new(lines), background);
    }
    let [gw, budget] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    draw_gateway(state, frame, gw);
    let [gauge, budget_text] =
        Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(budget);
    budget_gauge::render(
        &state.theme,
        state.data.budget.as_ref(),
        state.data.budget_error.as_deref(),
        gauge,
        frame.buffer_mut(),
    );
    if let Some(b) = &state.data.budget {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from(format!(
                    " projected by midnight UTC: {}",
                    b.projected_at_midnight
                )),
                Line::from(format!(
                    " resets {} UTC",
                    b.resets_at.get(11..16).unwrap_or("00:00")
                )),
                Line::from(format!(" rate-limit events: {}", b.rate_limits.len())),
            ]),
            budget_text,
        );
    }
    draw_agents(state, frame, agents);
    draw_notifications(state, frame, notes);
}

fn draw_gateway(state: &State, frame: &mut Frame, area: Rect) {
    let g = &state.data.gateway;
    let label = match g.state {
        GatewayState::Running => "● running",
        GatewayState::Stopped => "○ stopped",
        GatewayState::NeverStarted => "○ not started",
    };
    let mut lines = vec![Line::from(vec![
        Span::raw(" status  "),
        Span::styled(
            label,
            state.theme.gateway(g.state).add_modifier(Modifier::BOLD),
        ),
    ])];
    lines.push(Line::from(format!(
        " pid     {}",
        g.pid.map(|p| p.to_string()).unwrap_or_else(|| "—".into())
    )));
    let uptime = g
        .started_at
        .map(|t| human_duration((state.data.now - t).num_seconds()))
        .unwrap_or_else(|| "—".into());
    lines.push(Line::from(format!(" uptime  {uptime}")));
    // The id cut in the middle when the box is narrow, so its `:free` end stays visible.
    let room = (area.width as usize).saturating_sub(2 + 9);
    lines.push(Line::from(format!(
        " model   {}",
        g.model
            .as_deref()
            .map(|m| elide_middle(m, room).0)
            .unwrap_or_else(|| "(not set in config.yaml)".into())
    )));
    if g.state == GatewayState::NeverStarted {
        lines[1] = Line::styled(" press s to start the gateway", state.theme.muted);
    } else if let Some(n) = &g.note {
        lines[1] = Line::styled(format!(" {n}"), state.theme.warn);
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Hermes gateway "),
        ),
        area,
    );
}

fn draw_agents(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    if d.agents.is_empty() {
        let text = match &d.agents_error {
            Some(e) => format!("Cannot read the agents: {e}"),
            None => "No agents yet. Press 5 to create one, or run `nxr init` for the PM, Engineer and Hermes trio.".into(),
        };
        empty_state(&state.theme, frame, area, "Agents", &text);
        return;
    }
    let any_upgrade = d.agents.iter().any(|a| {
        d.recommendation_for(&a.name)
            .is_some_and(|r| r.upgrade_available)
    });
    // "▲ upgrade" from 100 columns, just "▲" below (the model id needs the room), nothing without one.
    let wide = area.width >= 100;
    let upgrade_w: u16 = match (any_upgrade, wide) {
        (false, _) => 0,
        (true, true) => 9,
        (true, false) => 1,
    };
    let state_w = check_column_width(area.width);
    // What the fixed columns and borders leave for the model id (cut in the middle if still too long).
    let model_w = area
        .width
        .saturating_sub(2 + 14 + 9 + 5 + upgrade_w + state_w + 15 + 6) as usize;
    let rows = d.agents.iter().map(|a| {
        let rec = d.recommendation_for(&a.name);
        let score = rec
            .and_then(|r| {
                r.current_score.map(|s| {
                    if r.current_passes {
                        s.to_string()
                    } else {
                        "✗".to_string()
                    }
                })
            })
            .or_else(|| a.model_score.map(|s| s.to_string()))
            .unwrap_or_else(|| "—".into());
        let upgrade = rec.is_some_and(|r| r.upgrade_available);
        Row::new(vec![
            agent_name_cell(&state.theme, &a.name, d.check_for(&a.name), state_w > 0),
            Cell::from(a.role.as_str()),
            Cell::from(elide_middle(&a.model, model_w).0),
            Cell::from(Line::from(score).right_aligned()),
            if state_w > 0 {
                check_cell(&state.theme, d.check_for(&a.name))
            } else {
                Cell::from("")
            },
            Cell::from(match (upgrade, wide) {
                (false, _) => "",
                (true, true) => "▲ upgrade",
                (true, false) => "▲",
            })
            .style(state.theme.warn),
            Cell::from(
                d.last_activity(a.id)
                    .map(|t| ago(d.now, t))
                    .unwrap_or_else(|| "no requests yet".into()),
            ),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(14),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(5),
                Constraint::Length(state_w),
                Constraint::Length(upgrade_w),
                Constraint::Length(15),
            ],
        )
        .header(
            Row::new(vec![
                "name",
                "role",
                "model",
                "score",
                "state",
                "",
                "last activity",
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Agents ({}) ", d.agents.len())),
        ),
        area,
    );
}

fn draw_notifications(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    let title = format!(" Newest notifications · {} unread ", d.unread_count());
    if d.notifications.is_empty() {
        let text = match &d.notifications_error {
            Some(e) => format!("Cannot read notifications: {e}"),
            None => "Nothing yet. Upgrades, scans and budget warnings will show up here.".into(),
        };
        empty_state(&state.theme, frame, area, title.trim(), &text);
        return;
    }
    let lines: Vec<Line> = d
        .notifications
        .iter()
        .take(area.height.saturating_sub(2) as usize)
        .map(|n| notification_row::line(&state.theme, n, d.now, false))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}
