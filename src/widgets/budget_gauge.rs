//! The free-tier budget gauge: used / daily limit in the theme's ok style below 70 %, warn from 70 %,
//! danger from 90 %, and bold danger at 100 %.

use crate::app::theme::Theme;
use crate::domain::budget::{Budget, Level};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::widgets::{Block, Borders, Gauge, Widget};

pub fn render(
    theme: &Theme,
    budget: Option<&Budget>,
    error: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Free requests today (UTC) ");
    let Some(b) = budget else {
        let inner = block.inner(area);
        block.render(area, buf);
        ratatui::widgets::Paragraph::new(
            error
                .map(|e| format!("Budget unavailable: {e}"))
                .unwrap_or_else(|| "No usage recorded yet.".into()),
        )
        .style(theme.muted)
        .render(inner, buf);
        return;
    };
    let level = b.level();
    let ratio = if b.daily_limit == 0 {
        1.0
    } else {
        (b.used_today as f64 / b.daily_limit as f64).min(1.0)
    };
    let mut style = theme.level(level);
    if level == Level::Exhausted {
        style = style.add_modifier(Modifier::BOLD);
    }
    let label = match level {
        Level::Exhausted => format!(
            "{}/{} · limit reached, resets {}",
            b.used_today,
            b.daily_limit,
            b.resets_at.get(11..16).unwrap_or("00:00")
        ),
        _ => format!(
            "{}/{} ({}%) · {} left",
            b.used_today,
            b.daily_limit,
            b.percent(),
            b.remaining()
        ),
    };
    Gauge::default()
        .block(block)
        .gauge_style(style)
        .ratio(ratio)
        .label(label)
        .use_unicode(true)
        .render(area, buf);
}
