//! `draw(&State, &mut Frame)`: a pure function of the state. Layout: the tab bar, the tab, a status
//! line, the key hints; the `?` overlay on top.

use crate::app::keys::{self, Binding};
use crate::app::state::{State, Tab};
use crate::app::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table};

const BRAND: &str = " nxr ";

/// The tab bar's labels with their x ranges: (tab, x, width).
pub fn tab_spans(state: &State) -> Vec<(Tab, u16, u16, String)> {
    let mut x = BRAND.chars().count() as u16;
    Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let title = match t {
                Tab::Create => "Create",
                other => other.title(),
            };
            let label = match t {
                Tab::Notifications if state.data.unread_count() > 0 => {
                    format!(" {} {} ({}) ", i + 1, title, state.data.unread_count())
                }
                _ => format!(" {} {} ", i + 1, title),
            };
            let w = label.chars().count() as u16;
            let span = (*t, x, w, label);
            x += w;
            span
        })
        .collect()
}

/// Which tab a click at (column, row) hits.
pub fn tab_at(state: &State, column: u16, row: u16) -> Option<Tab> {
    if row != 0 {
        return None;
    }
    tab_spans(state)
        .into_iter()
        .find(|(_, x, w, _)| column >= *x && column < x + w)
        .map(|(t, ..)| t)
}

pub fn draw(state: &State, frame: &mut Frame) {
    let area = frame.area();
    let [bar, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tab_bar(state, frame, bar);
    match state.tab {
        Tab::Dashboard => crate::tabs::dashboard::draw(state, frame, body),
        Tab::Models => crate::tabs::models::draw(state, frame, body),
        Tab::Agents => crate::tabs::agents::draw(state, frame, body),
        Tab::Budget => crate::tabs::budget::draw(state, frame, body),
        Tab::Create => crate::tabs::create::draw(state, frame, body),
        Tab::Notifications => crate::tabs::notifications::draw(state, frame, body),
    }
    draw_status(state, frame, status);
    draw_hints(state, frame, hints);
    if state.show_help {
        draw_help(state, frame, area);
    }
    // Text from the catalog, config.yaml or the database never reaches the terminal as control
    // characters (no escape-sequence injection through a hostile model name).
    for cell in frame.buffer_mut().content.iter_mut() {
        if cell.symbol().chars().any(char::is_control) {
            cell.set_symbol("�");
        }
    }
}

fn draw_tab_bar(state: &State, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::styled(BRAND, state.theme.brand)];
    for (t, _, _, label) in tab_spans(state) {
        spans.push(if t == state.tab {
            Span::styled(
                label,
                Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            Span::raw(label)
        });
    }
    frame.render_widget(Line::from(spans), area);
}

fn draw_status(state: &State, frame: &mut Frame, area: Rect) {
    let line = match &state.message {
        Some(m) if m.is_error => Line::styled(format!(" ✗ {}", m.text), state.theme.danger),
        Some(m) => Line::styled(format!(" ✓ {}", m.text), state.theme.ok),
        None => match state
            .data
            .background
            .as_ref()
            .and_then(|b| b.database_down_since)
        {
            Some(since) => Line::styled(
                format!(" {}", crate::domain::view::database_down_line(since)),
                state.theme.danger,
            ),
            None => Line::styled(format!(" {}", state.data.catalog_source), state.theme.muted),
        },
    };
    frame.render_widget(line, area);
}

/// The footer: the current tab's commands, then help and quit.
pub fn hint_line(state: &State) -> Line<'static> {
    let key_style = state.theme.accent.add_modifier(Modifier::BOLD);
    let mut spans = Vec::new();
    let tab = keys::tab_bindings(state);
    let global = keys::global_bindings();
    let shown: Vec<&Binding> = tab
        .iter()
        .chain(global.iter())
        .filter(|b| b.footer)
        .collect();
    for b in shown {
        spans.push(Span::styled(format!(" {}", b.keys_label()), key_style));
        spans.push(Span::raw(format!(" {} ", b.desc)));
    }
    Line::from(spans)
}

fn draw_hints(state: &State, frame: &mut Frame, area: Rect) {
    frame.render_widget(hint_line(state), area);
}

fn draw_help(state: &State, frame: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(4).min(90);
    let h = area.height.saturating_sub(2);
    let popup = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys · ? or Esc closes ")
        .border_style(state.theme.accent);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut rows: Vec<Row> =
        vec![Row::new(vec!["Tab".to_string(), state.tab.title().to_string()]).style(bold)];
    rows.extend(
        keys::tab_bindings(state)
            .iter()
            .map(|b| Row::new(vec![b.keys_label(), b.desc.to_string()])),
    );
    rows.push(Row::new(vec!["".to_string(), "Everywhere".to_string()]).style(bold));
    rows.extend(
        keys::global_bindings()
            .iter()
            .map(|b| Row::new(vec![b.keys_label(), b.desc.to_string()])),
    );
    // Two columns when one does not fit.
    let per_col = inner.height.max(1) as usize;
    let widths = [Constraint::Length(9), Constraint::Fill(1)];
    if rows.len() <= per_col {
        frame.render_widget(Table::new(rows, widths), inner);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(inner);
        let rest = rows.split_off(per_col.min(rows.len()));
        frame.render_widget(Table::new(rows, widths), left);
        frame.render_widget(Table::new(rest, widths), right);
    }
}

/// An agent's check state as a table cell: ok "ready", warn "needs key", danger "broken"; "…" while
/// not checked yet.
pub fn check_cell(
    theme: &Theme,
    check: Option<&crate::domain::watch::agent_check::AgentCheck>,
) -> ratatui::widgets::Cell<'static> {
    let Some(c) = check else {
        return ratatui::widgets::Cell::from("…");
    };
    ratatui::widgets::Cell::from(c.state.label()).style(theme.check(c.state))
}

/// The width of an agent table's state column: the label from 100 columns; below that the column is
/// empty (the model ids need the room) and the agent's name takes the state's colour instead.
pub fn check_column_width(table_width: u16) -> u16 {
    if table_width >= 100 { 10 } else { 0 }
}

/// An agent's name cell: in the state's style when the table has no room for the state column.
pub fn agent_name_cell(
    theme: &Theme,
    name: &str,
    check: Option<&crate::domain::watch::agent_check::AgentCheck>,
    state_column: bool,
) -> ratatui::widgets::Cell<'static> {
    let cell = ratatui::widgets::Cell::from(name.to_string());
    match check {
        Some(c) if !state_column => cell.style(theme.check(c.state)),
        _ => cell,
    }
}

/// A centred one-paragraph empty state.
pub fn empty_state(theme: &Theme, frame: &mut Frame, area: Rect, title: &str, text: &str) {
    frame.render_widget(
        Paragraph::new(text.to_string())
            .style(theme.muted)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {title} ")),
            ),
        area,
    );
}

/// `3h 12m`, `2d 4h`, `45s` (the shared [`crate::domain::view::duration_text`]).
pub fn human_duration(secs: i64) -> String {
    crate::domain::view::duration_text(secs)
}

/// How long ago an RFC 3339 time was, relative to `now`.
pub fn ago(now: chrono::DateTime<chrono::Utc>, at: &str) -> String {
    match crate::domain::base::clock::from_db(at) {
        Some(t) => format!("{} ago", human_duration((now - t).num_seconds())),
        None => at.to_string(),
    }
}
