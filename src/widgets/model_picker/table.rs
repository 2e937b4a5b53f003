//! The picker's table: column widths for the visible rows, and each model's row (id cut in the
//! middle with the match highlighted, name or role verdict, context, price, tools/vision flags).

use super::{
    ModelPicker, PRICE_HEADER, PickerView, elide_middle, failure, highlighted, without_asides,
};
use crate::domain::scoring::ModelScore;
use crate::domain::view::{ListedModel, ModelList};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, Widget};

impl ModelPicker {
    /// The table of the visible matches, scrolled so the selected row shows; returns the role check's
    /// score of the selected model when it is drawn.
    pub(super) fn render_table<'a>(
        &self,
        models: &ModelList,
        area: Rect,
        buf: &mut Buffer,
        view: &PickerView<'a>,
    ) -> Option<&'a ModelScore> {
        let rows_visible = area.height.saturating_sub(1) as usize;
        let offset = if rows_visible == 0 || self.selected < rows_visible {
            0
        } else {
            self.selected + 1 - rows_visible
        };
        let cols = self.columns(
            models,
            area.width,
            offset,
            rows_visible,
            view.check.is_some(),
        );
        let mut selected_score = None;
        let rows = self
            .matched
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_visible)
            .filter_map(|(pos, &i)| {
                let m = models.get(i)?;
                let verdict = view.check.and_then(|c| c.score_at(i));
                if pos == self.selected {
                    selected_score = verdict;
                }
                Some(self.row(m, verdict, pos == self.selected, &cols, view))
            });
        let table = Table::new(
            rows,
            [
                Constraint::Length(cols.id as u16),
                Constraint::Length(cols.second as u16),
                Constraint::Length(5),
                Constraint::Length(cols.price),
                Constraint::Length(3),
            ],
        )
        .header(
            Row::new(vec![
                "id",
                match view.check {
                    Some(_) if cols.show_second => "for this role",
                    _ if cols.show_second => "name",
                    _ => "",
                },
                "  ctx",
                if cols.price > 0 { PRICE_HEADER } else { "" },
                "T V",
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .column_spacing(1);
        table.render(area, buf);
        selected_score
    }

    /// Column widths for a table `width` wide showing `rows_visible` matches from `offset`: ctx 5, the
    /// price as wide as the visible rows' labels (at least its header; none below 50 columns), T V 3
    /// and the spacing; the id gets the most of the rest (cut in the middle when it is still too long,
    /// so `:free` stays visible); the second column (name, or with a role check why a model fails it)
    /// only from 64 columns up.
    fn columns(
        &self,
        models: &ModelList,
        width: u16,
        offset: usize,
        rows_visible: usize,
        check: bool,
    ) -> Columns {
        let visible = || {
            self.matched
                .iter()
                .skip(offset)
                .take(rows_visible)
                .filter_map(|&i| models.get(i))
        };
        // A narrow table (under 50 columns) leaves the price to the details pane: the id needs the room.
        let price = if width < 50 {
            0
        } else {
            visible()
                .map(|m| m.price_label().chars().count())
                .max()
                .unwrap_or(0)
                .clamp(PRICE_HEADER.len(), 17) as u16
        };
        let rest = width.saturating_sub(5 + price + 3 + 4) as usize;
        let show_second = width >= 64;
        let longest_id = visible().map(|m| m.id_chars() as usize).max().unwrap_or(0);
        // The second column keeps at least 12 characters (20 with a role check: the reason matters).
        let second_min = if check { 20 } else { 12 };
        let id = if show_second {
            // At least 3/5 of the room, more when the ids need it.
            longest_id
                .max(rest * 3 / 5)
                .min(rest.saturating_sub(second_min + 1))
                .max(1)
        } else {
            rest
        };
        let second = if show_second {
            rest.saturating_sub(id)
        } else {
            0
        };
        Columns {
            id,
            second,
            price,
            show_second,
        }
    }

    /// One model's row: the id (cut to its column, the match highlighted), the name or the role
    /// verdict, context, price and the tools / vision flags; dimmed when the model fails the role,
    /// reversed when selected.
    fn row(
        &self,
        m: &ListedModel,
        verdict: Option<&ModelScore>,
        selected: bool,
        cols: &Columns,
        view: &PickerView<'_>,
    ) -> Row<'static> {
        let hl = view.theme.matched;
        let dim = view.theme.muted.add_modifier(Modifier::DIM);
        let fails = verdict.and_then(failure);
        let idx = self.highlight(m);
        let id_len = m.id_chars();
        let id = m.id();
        let (id_text, id_map) = elide_middle(&id, cols.id);
        let id_hl: Vec<u32> = id_map
            .iter()
            .enumerate()
            .filter(|(_, orig)| idx.binary_search(orig).is_ok())
            .map(|(shown, _)| shown as u32)
            .collect();
        let name_hl: Vec<u32> = idx
            .iter()
            .filter(|&&x| x > id_len)
            .map(|&x| x - id_len - 1)
            .collect();
        let second = match (&fails, cols.show_second) {
            (_, false) => Cell::from(""),
            (Some(why), true) => Cell::from(format!("✗ {}", without_asides(why))),
            (None, true) if view.check.is_some() => Cell::from(Line::from(vec![
                Span::styled("✓ ", view.theme.ok),
                Span::raw(m.name().into_owned()),
            ])),
            (None, true) => Cell::from(highlighted(&m.name(), &name_hl, hl)),
        };
        let mut row = Row::new(vec![
            Cell::from(highlighted(&id_text, &id_hl, hl)),
            second,
            Cell::from(Line::from(m.context_label()).right_aligned()),
            Cell::from(Line::from(m.price_label()).right_aligned()),
            Cell::from(format!(
                "{} {}",
                if m.supports_tools() { "T" } else { "·" },
                if m.supports_vision() { "V" } else { "·" }
            )),
        ]);
        if fails.is_some() {
            row = row.style(dim);
        }
        if selected {
            row = row.style(
                if fails.is_some() {
                    dim
                } else {
                    Style::default()
                }
                .add_modifier(Modifier::REVERSED),
            );
        }
        row
    }
}

/// The picker table's column widths.
struct Columns {
    id: usize,
    second: usize,
    price: u16,
    /// The second column (name, or the role verdict) is shown.
    show_second: bool,
}
