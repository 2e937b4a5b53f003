//! The free-tier budget gauge: used / daily limit, green below 70 %, yellow from 70 %, red from 90 %,
//! and a reversed red bar at 100 %.

use crate::domain::budget::{Budget, Level};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::{Block, Borders, Gauge, Widget};

pub fn color(level: Level) -> Color {
    match level {
        Level::Ok => Color::Green,
        Level::Warn => Color::Yellow,
        Level::High | Level::Exhausted => Color::Red,
    }
}

pub fn render(budget: Option<&Budget>, error: Option<&str>, area: Rect, buf: &mut Buffer) {
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
        .style(Style::default().fg(Color::DarkGray))
        .render(inner, buf);
        return;
    };
    let level = b.level();
    let ratio = if b.daily_limit == 0 {
        1.0
    } else {
        (b.used_today as f64 / b.daily_limit as f64).min(1.0)
    };
    let mut style = Style::default().fg(color(level));
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
