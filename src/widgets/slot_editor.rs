//! The slot editor: Hermes' routing slots (main + the 7 auxiliary slots + any other `auxiliary.<name>`
//! in config.yaml) with their assignment. Choosing a model writes config.yaml through
//! `domain::agents::hermes::set_slot` (atomic, keeps every other key).

use crate::app::theme::Theme;
use crate::domain::agents::hermes::Slot;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Cell, Row, Table, Widget};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotEditor {
    pub selected: usize,
    /// Why the last slot write failed (shown under the table until the next write).
    pub error: Option<String>,
}

impl SlotEditor {
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }
    pub fn up(&mut self, n: usize) {
        self.selected = self.selected.saturating_sub(n);
    }
    pub fn down(&mut self, n: usize, len: usize) {
        self.selected = (self.selected + n).min(len.saturating_sub(1));
    }

    pub fn render(
        &self,
        slots: &[Slot],
        error: Option<&str>,
        config_path: &str,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" Routing slots · {config_path} "))
            .border_style(theme.accent);
        let inner = block.inner(area);
        block.render(area, buf);
        if let Some(e) = error {
            ratatui::widgets::Paragraph::new(e.to_string())
                .style(theme.danger)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .render(inner, buf);
            return;
        }
        let mut inner = inner;
        if let Some(e) = &self.error {
            let h = inner.height.min(2);
            inner.height -= h;
            ratatui::widgets::Paragraph::new(format!("✗ {e}"))
                .style(theme.danger)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .render(
                    Rect {
                        y: inner.y + inner.height,
                        height: h,
                        ..inner
                    },
                    buf,
                );
        }
        let rows = slots.iter().enumerate().map(|(i, s)| {
            // Cut in the middle when narrow, so the `:free` end of the id stays visible.
            let room = (inner.width as usize).saturating_sub(16 + 12 + 2);
            let model = s
                .model
                .as_deref()
                .map(|m| crate::widgets::model_picker::elide_middle(m, room).0)
                .unwrap_or_else(|| "(not set)".into());
            let mut row = Row::new(vec![
                Cell::from(s.name.clone()),
                Cell::from(s.provider.clone().unwrap_or_else(|| "—".into())),
                Cell::from(model).style(if s.model.is_some() {
                    Style::default()
                } else {
                    theme.muted
                }),
            ]);
            if i == self.selected {
                row = row.style(theme.selected);
            }
            row
        });
        Table::new(
            rows,
            [
                Constraint::Length(16),
                Constraint::Length(12),
                Constraint::Fill(1),
            ],
        )
        .header(
            Row::new(vec!["slot", "provider", "model"])
                .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .render(inner, buf);
    }
}
