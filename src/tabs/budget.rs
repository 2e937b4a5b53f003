//! Tab 4 Budget: the free-request gauge, per-agent usage (today / 7 days / 30 days), the projection to
//! UTC midnight as a chart, and the rate-limit event log.

use crate::app::action::Action;
use crate::app::draw::{ago, empty_state};
use crate::app::keys::{Binding, Key};
use crate::app::state::State;
use crate::domain::budget::Budget;
use crate::widgets::budget_gauge;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols;
use ratatui::text::Line;
use ratatui::widgets::{
    Axis, Block, Borders, Chart, Dataset, GraphType, LegendPosition, Paragraph, Row, Table,
};

pub fn commands(_state: &State) -> Vec<Binding> {
    vec![Binding::new(&[Key::Char('r')], "reload", Action::Reload)]
}

pub fn update(_state: &mut State, _action: Action) -> Option<Action> {
    None
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    let [gauge, rest] = Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(area);
    budget_gauge::render(
        &state.theme,
        d.budget.as_ref(),
        d.budget_error.as_deref(),
        gauge,
        frame.buffer_mut(),
    );
    let Some(b) = &d.budget else {
        empty_state(
            &state.theme,
            frame,
            rest,
            "Budget",
            "No budget data: nxr has not recorded any request yet.",
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(rest);
    let [agents_area, log_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(left);
    draw_per_agent(state, b, frame, agents_area);
    draw_rate_limits(state, b, frame, log_area);
    if b.relay.is_empty() {
        draw_projection(state, b, frame, right);
    } else {
        let [chart, relay] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(right);
        draw_projection(state, b, frame, chart);
        frame.render_widget(
            Paragraph::new(b.relay.summary())
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" Relay today "),
                ),
            relay,
        );
    }
}

/// Requests and cost per agent: today, the last 7 and the last 30 days.
fn draw_per_agent(state: &State, b: &Budget, frame: &mut Frame, area: Rect) {
    if b.per_agent.is_empty() {
        empty_state(
            &state.theme,
            frame,
            area,
            "Per agent",
            "No requests in the last 30 days.",
        );
        return;
    }
    let rows = b.per_agent.iter().map(|u| {
        Row::new(vec![
            u.agent.clone(),
            format!("{:>5}", u.today),
            format!("{:>5}", u.last_7d),
            format!("{:>5}", u.last_30d),
            format!("{:>6}", dollars(u.cost_today)),
            format!("{:>6}", dollars(u.cost_7d)),
            format!("{:>6}", dollars(u.cost_30d)),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(6),
            ],
        )
        .header(
            Row::new(vec![
                "agent", "today", "   7d", "  30d", "  $ 1d", "  $ 7d", " $ 30d",
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(match b.outside_agents {
                    Some(n) => format!(" Requests per agent · {n} today outside nxr's agents "),
                    None => " Requests per agent ".to_string(),
                }),
        ),
        area,
    );
}

/// The rate-limit event log: when, which agent, which model and the limit's kind.
fn draw_rate_limits(state: &State, b: &Budget, frame: &mut Frame, area: Rect) {
    if b.rate_limits.is_empty() {
        empty_state(
            &state.theme,
            frame,
            area,
            "Rate-limit events",
            "No 429 so far: nothing was rate limited.",
        );
        return;
    }
    // The model id gets what the time and agent leave, cut in the middle so its end stays visible.
    let inner_w = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = b
        .rate_limits
        .iter()
        .map(|e| {
            let head = format!(
                "{} · {} · ",
                ago(state.data.now, &e.at),
                e.agent.as_deref().unwrap_or("(no agent)")
            );
            let room = inner_w.saturating_sub(head.chars().count());
            // The limit's kind after the model, when both fit; else the model alone.
            let kind = e
                .kind
                .as_deref()
                .map(|k| format!(" · {k}"))
                .unwrap_or_default();
            if e.model.chars().count() + kind.chars().count() <= room {
                return Line::from(format!("{head}{}{kind}", e.model));
            }
            Line::from(format!(
                "{head}{}",
                crate::widgets::model_picker::elide_middle(&e.model, room.max(12)).0
            ))
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(events_title(b)),
        ),
        area,
    );
}

/// The chart: used so far (by hour), the projection to midnight, the limit.
fn draw_projection(state: &State, b: &Budget, frame: &mut Frame, area: Rect) {
    let mut used: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    for (h, v) in b.cumulative_by_hour.iter().enumerate() {
        let x = ((h + 1) as f64).min(b.hours_elapsed.max(0.0));
        used.push((x, *v as f64));
    }
    let projection = vec![
        (b.hours_elapsed, b.used_today as f64),
        (24.0, b.projected_at_midnight as f64),
    ];
    let limit = vec![(0.0, b.daily_limit as f64), (24.0, b.daily_limit as f64)];
    let top = (b.daily_limit.max(b.projected_at_midnight) as f64 * 1.1).max(1.0);
    let projected_style = state.theme.level(crate::domain::budget::level(
        b.projected_at_midnight,
        b.daily_limit,
    ));
    let datasets = vec![
        Dataset::default()
            .name("used")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(state.theme.accent)
            .data(&used),
        Dataset::default()
            .name("projected")
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(projected_style)
            .data(&projection),
        Dataset::default()
            .name("limit")
            .marker(symbols::Marker::Dot)
            .graph_type(GraphType::Line)
            .style(state.theme.danger)
            .data(&limit),
    ];
    let chart = Chart::new(datasets)
        .legend_position(Some(LegendPosition::TopLeft))
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Projection to midnight UTC: {} of {}{} ",
            b.projected_at_midnight,
            b.daily_limit,
            b.hits_limit_at
                .as_deref()
                .and_then(|t| t.get(11..16))
                .map(|t| format!(" · limit at {t} UTC"))
                .unwrap_or_default()
        )))
        .x_axis(
            Axis::default()
                .bounds([0.0, 24.0])
                .labels(["00h", "12h", "24h"])
                .style(state.theme.muted),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels(["0".to_string(), format!("{}", top.round() as u64)])
                .style(state.theme.muted),
        );
    frame.render_widget(chart, area);
}

/// Dollars in at most 6 columns: cents below $100, whole dollars above.
fn dollars(v: f64) -> String {
    if v < 100.0 {
        format!("${v:.2}")
    } else {
        format!("${v:.0}")
    }
}

/// The event log's title: the count, and today's events by kind ("today: per_day 3 · high_demand 2").
fn events_title(b: &Budget) -> String {
    let kinds: Vec<String> = b
        .rate_limits_today
        .iter()
        .map(|t| format!("{} {}", t.kind.as_str(), t.count))
        .collect();
    if kinds.is_empty() {
        format!(" Rate-limit events ({}) ", b.rate_limits.len())
    } else {
        format!(
            " Rate-limit events ({}) · today: {} ",
            b.rate_limits.len(),
            kinds.join(" · ")
        )
    }
}
