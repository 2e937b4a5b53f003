//! The skill selector: every skill nxr can write, the chosen ones checked (a template pre-fills it);
//! Space toggles, the cursor moves with j/k or the arrows.

use crate::app::theme::Theme;
use crate::domain::agents::skills;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillSelector {
    /// (skill, chosen): the pre-filled ones first, in template order, then the others by name.
    pub items: Vec<(String, bool)>,
    pub cursor: usize,
}

impl SkillSelector {
    pub fn new(chosen: Vec<String>) -> SkillSelector {
        let mut items: Vec<(String, bool)> = chosen.iter().map(|s| (s.clone(), true)).collect();
        for name in skills::all_names() {
            if !chosen.iter().any(|c| c == name) {
                items.push((name.to_string(), false));
            }
        }
        let rest = &mut items[chosen.len()..];
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        SkillSelector { items, cursor: 0 }
    }

    /// The chosen skills, in list order.
    pub fn chosen(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn toggle(&mut self) {
        if let Some(item) = self.items.get_mut(self.cursor) {
            item.1 = !item.1;
        }
    }
    pub fn up(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_sub(n);
    }
    pub fn down(&mut self, n: usize) {
        self.cursor = (self.cursor + n).min(self.items.len().saturating_sub(1));
    }
    pub fn top(&mut self) {
        self.cursor = 0;
    }
    pub fn bottom(&mut self) {
        self.cursor = self.items.len().saturating_sub(1);
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, title: &str, focused: bool, theme: &Theme) {
        let chosen = self.items.iter().filter(|(_, on)| *on).count();
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" {title} · {chosen} chosen "))
            .border_style(if focused {
                theme.accent
            } else {
                Style::default()
            });
        let inner = block.inner(area);
        block.render(area, buf);
        let h = inner.height as usize;
        if h == 0 {
            return;
        }
        let offset = if self.cursor < h {
            0
        } else {
            self.cursor + 1 - h
        };
        for (row, (i, (name, on))) in self
            .items
            .iter()
            .enumerate()
            .skip(offset)
            .take(h)
            .enumerate()
        {
            let desc = skills::find(name).map(|d| d.description).unwrap_or("");
            let mut line = Line::from(vec![
                Span::styled(
                    if *on { "[x] " } else { "[ ] " },
                    if *on { theme.ok } else { theme.muted },
                ),
                Span::styled(
                    format!("{name:<20} "),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(desc.to_string(), theme.subtle),
            ]);
            if i == self.cursor && focused {
                line = line.style(theme.selected);
            }
            line.render(
                Rect {
                    y: inner.y + row as u16,
                    height: 1,
                    ..inner
                },
                buf,
            );
        }
    }
}
