//! Tab 6 Notifications: the list with an unread marker; mark read / all read; act on an upgrade.

use crate::app::action::Action;
use crate::app::draw::empty_state;
use crate::app::keys::{Binding, Key};
use crate::app::state::{Effect, State};
use crate::app::update::page_rows;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn commands(state: &State) -> Vec<Binding> {
    use Key::*;
    // Only keys that do something: mark read needs an unread notification under the cursor, all read
    // any unread one.
    let mut v = Vec::new();
    let d = &state.data;
    if d.notifications
        .get(state.notifications.selected)
        .is_some_and(|n| n.is_unread())
    {
        v.push(Binding::new(
            &[Char('m'), Enter],
            "mark read",
            Action::MarkRead,
        ));
    }
    if d.unread_count() > 0 {
        v.push(Binding::new(&[Char('M')], "all read", Action::MarkAllRead));
    }
    let upgrade = state
        .data
        .notifications
        .get(state.notifications.selected)
        .and_then(|n| n.upgrade());
    if upgrade.is_some() {
        v.push(Binding::new(&[Char('a')], "apply upgrade", Action::Upgrade));
    }
    v
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    let page = page_rows(state);
    let len = state.data.notifications.len();
    let sel = &mut state.notifications.selected;
    match action {
        Action::Up => *sel = sel.saturating_sub(1),
        Action::Down => *sel = (*sel + 1).min(len.saturating_sub(1)),
        Action::PageUp => *sel = sel.saturating_sub(page),
        Action::PageDown => *sel = (*sel + page).min(len.saturating_sub(1)),
        Action::Top => *sel = 0,
        Action::Bottom => *sel = len.saturating_sub(1),
        Action::MarkRead => {
            let i = *sel;
            if let Some(n) = state.data.notifications.get_mut(i)
                && n.is_unread()
            {
                n.read_at = Some(crate::domain::base::clock::to_db(state.data.now));
                let id = n.id;
                state.queue(Effect::MarkRead(id));
            }
        }
        Action::MarkAllRead => {
            let now = crate::domain::base::clock::to_db(state.data.now);
            let mut any = false;
            for n in state
                .data
                .notifications
                .iter_mut()
                .filter(|n| n.is_unread())
            {
                n.read_at = Some(now.clone());
                any = true;
            }
            if any {
                state.queue(Effect::MarkAllRead);
            }
        }
        Action::Upgrade => {
            let i = *sel;
            // The same domain call as the web button and `nxr notifications apply`: the switch
            // first, then the notification is marked read (it stays unread when the switch fails).
            if let Some(n) = state.data.notifications.get(i)
                && let Some(up) = n.upgrade()
            {
                let id = n.id;
                state.info(format!("moving {} to {} …", up.agent, up.to_model));
                state.queue(Effect::ApplyNotification(id));
            }
        }
        _ => {}
    }
    None
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let d = &state.data;
    if d.notifications.is_empty() {
        let text = match &d.notifications_error {
            Some(e) => format!("Cannot read notifications: {e}"),
            None => "No notifications. nxr tells you here when a better free model appears for an agent, when a scan finishes and when the free budget runs low.".into(),
        };
        empty_state(&state.theme, frame, area, "Notifications", &text);
        return;
    }
    let [list, detail] = Layout::vertical([Constraint::Fill(1), Constraint::Length(7)]).areas(area);
    let h = list.height.saturating_sub(2) as usize;
    let sel = state.notifications.selected;
    let offset = if h == 0 || sel < h { 0 } else { sel + 1 - h };
    let lines: Vec<Line> = d
        .notifications
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(i, n)| {
            let mut line = crate::widgets::notification_row::line(&state.theme, n, d.now, true);
            if i == sel {
                line = line.style(state.theme.selected);
            }
            line
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(format!(
            " Notifications · {} unread of {} ",
            d.unread_count(),
            d.notifications.len()
        ))),
        list,
    );
    if let Some(n) = d.notifications.get(sel) {
        let mut text = vec![Line::from(n.body.clone())];
        if let Some(up) = n.upgrade() {
            text.push(Line::styled(
                format!(
                    "a: move {} from {} to {}",
                    up.agent,
                    up.from_model.as_deref().unwrap_or("?"),
                    up.to_model
                ),
                state.theme.warn,
            ));
        }
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: true }).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", n.title)),
            ),
            detail,
        );
    }
}

/// Tab 6's own state: the selected notification.
#[derive(Debug, Clone, Default)]
pub struct NotificationsTab {
    pub selected: usize,
}

impl NotificationsTab {
    /// Keeps the cursor on the list after it shrank to `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
}
