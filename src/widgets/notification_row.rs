//! One notification as a list line, the same on the dashboard and in the Notifications tab: the
//! unread mark, optionally the kind, the title (bold while unread) and how long ago it came.

use crate::app::draw::ago;
use crate::app::theme::Theme;
use crate::domain::notifications::Notification;
use chrono::{DateTime, Utc};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// The line for `n` at `now`; `with_kind` adds the kind in a column of its own.
pub fn line(theme: &Theme, n: &Notification, now: DateTime<Utc>, with_kind: bool) -> Line<'static> {
    let mut spans = vec![Span::styled(
        if n.is_unread() { " ● " } else { "   " },
        theme.accent,
    )];
    if with_kind {
        spans.push(Span::styled(format!("{:<8} ", n.kind), theme.muted));
    }
    spans.push(Span::styled(
        n.title.clone(),
        if n.is_unread() {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        },
    ));
    spans.push(Span::styled(
        format!("  {}", ago(now, &n.created_at)),
        theme.muted,
    ));
    Line::from(spans)
}
