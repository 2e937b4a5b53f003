//! The model picker: the catalog's [`ModelList`] searched as it is typed ([`Search`], highlighted from
//! the match indices), the free / tools / vision / min-context toggles (the catalog `Filter`) and sort
//! keys. Used by Tab 2, the slot editor and the Tab 5 wizard.

use crate::app::theme::Theme;
use crate::domain::base::roles::Role;
use crate::domain::scoring::ModelScore;
use crate::domain::view::{ListedModel, ModelList, Search};
pub use crate::widgets::model_filters::{MIN_CONTEXT_STEPS, ModelFilters, SortKey};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

mod table;

/// The price column's header: USD per million prompt / completion tokens.
const PRICE_HEADER: &str = "$/M in/out";

#[derive(Debug, Clone)]
pub struct ModelPicker {
    total: usize,
    pub query: String,
    pub filters: ModelFilters,
    pub sort: SortKey,
    /// Positions in the list, in display order.
    matched: Vec<u32>,
    search: Search,
    pub selected: usize,
}

impl ModelPicker {
    pub fn new(models: &ModelList, filters: ModelFilters) -> ModelPicker {
        let mut p = ModelPicker {
            total: models.len(),
            query: String::new(),
            filters,
            sort: SortKey::Relevance,
            matched: Vec::new(),
            search: Search::default(),
            selected: 0,
        };
        p.refresh(models);
        p
    }

    /// A new catalog (after a reload): keeps query, filters and the selected model when it still exists.
    pub fn set_catalog(&mut self, models: &ModelList, old: &ModelList) {
        let keep = self.selected_model(old).map(|m| m.id().into_owned());
        self.search.reset();
        self.refresh(models);
        if let Some(id) = keep {
            self.select_id(models, &id);
        }
    }

    pub fn matched(&self) -> &[u32] {
        &self.matched
    }
    pub fn matched_count(&self) -> usize {
        self.matched.len()
    }
    pub fn total(&self) -> usize {
        self.total
    }

    /// The position of the selected model in the list.
    pub fn selected_index(&self) -> Option<u32> {
        self.matched.get(self.selected).copied()
    }

    pub fn selected_model<'a>(&self, models: &'a ModelList) -> Option<&'a ListedModel> {
        self.selected_index().and_then(|i| models.get(i))
    }

    /// Selects the model with this id when it is among the matches.
    pub fn select_id(&mut self, models: &ModelList, id: &str) -> bool {
        let Some(want) = models.position(id) else {
            return false;
        };
        match self.matched.iter().position(|&i| i == want) {
            Some(p) => {
                self.selected = p;
                true
            }
            None => false,
        }
    }

    /// A new query puts the cursor back on the best match (as fzf does).
    pub fn set_query(&mut self, query: &str, models: &ModelList) {
        self.query = query.to_string();
        self.selected = 0;
        self.refresh(models);
    }
    pub fn push_char(&mut self, c: char, models: &ModelList) {
        self.query.push(c);
        self.selected = 0;
        self.refresh(models);
    }
    pub fn pop_char(&mut self, models: &ModelList) {
        self.query.pop();
        self.selected = 0;
        self.refresh(models);
    }
    pub fn set_filters(&mut self, filters: ModelFilters, models: &ModelList) {
        self.filters = filters;
        self.refresh(models);
    }
    pub fn set_sort(&mut self, sort: SortKey, models: &ModelList) {
        self.sort = sort;
        self.refresh(models);
    }

    /// Recomputes the matches for the current query, filters and sort: the list's search gives the
    /// relevance order; the other sort keys reorder it (ties by match score, then catalog order).
    pub fn refresh(&mut self, models: &ModelList) {
        let filter = self.filters.as_catalog_filter();
        let mut scored = self.search.run(models, &self.query, &filter).to_vec();
        let row = |i: u32| &models.rows()[i as usize];
        match self.sort {
            SortKey::Relevance => {}
            SortKey::Context => scored.sort_by(|a, b| {
                row(b.0)
                    .context_length
                    .cmp(&row(a.0).context_length)
                    .then(b.1.cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            }),
            SortKey::Newest => scored.sort_by(|a, b| {
                row(b.0)
                    .created
                    .cmp(&row(a.0).created)
                    .then(b.1.cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            }),
            SortKey::Price => scored.sort_by(|a, b| {
                let p = |i: u32| {
                    let m = row(i);
                    if m.is_free() {
                        0.0
                    } else {
                        m.prompt_per_million().unwrap_or(f64::MAX)
                    }
                };
                p(a.0)
                    .total_cmp(&p(b.0))
                    .then(b.1.cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            }),
            SortKey::Name => scored.sort_by(|a, b| {
                row(a.0)
                    .name()
                    .to_lowercase()
                    .cmp(&row(b.0).name().to_lowercase())
                    .then(a.0.cmp(&b.0))
            }),
        }
        self.matched = scored.into_iter().map(|(i, _)| i).collect();
        self.total = models.len();
        self.selected = self.selected.min(self.matched.len().saturating_sub(1));
    }

    pub fn up(&mut self, n: usize) {
        self.selected = self.selected.saturating_sub(n);
    }
    pub fn down(&mut self, n: usize) {
        self.selected = (self.selected + n).min(self.matched.len().saturating_sub(1));
    }
    pub fn top(&mut self) {
        self.selected = 0;
    }
    pub fn bottom(&mut self) {
        self.selected = self.matched.len().saturating_sub(1);
    }

    /// Sorted, de-duplicated character indices of the match in `id name` (empty without a query).
    pub fn highlight(&self, row: &ListedModel) -> Vec<u32> {
        self.search.highlight(row)
    }

    /// `matched/total` and the active toggles, for a title.
    pub fn counter(&self) -> String {
        format!("{}/{}", self.matched.len(), self.total())
    }

    /// Draws the table (visible rows only, so a 100k catalog costs what a 50-row one does).
    pub fn render(&self, models: &ModelList, area: Rect, buf: &mut Buffer, view: PickerView<'_>) {
        let inner = self.render_block(area, buf, &view);
        if inner.height < 2 {
            return;
        }
        self.render_filter(inner, buf, &view);
        // With a role check, the last line says whether the selected model passes (or shows the error).
        let status_h: u16 = if view.error.is_some() {
            2
        } else {
            u16::from(view.check.is_some())
        };
        let table_area = Rect {
            y: inner.y + 1,
            height: inner.height - 1 - status_h.min(inner.height - 1),
            ..inner
        };
        if self.matched.is_empty() {
            self.render_no_match(table_area, buf, view.theme);
        }
        let selected_score = self.render_table(models, table_area, buf, &view);
        if status_h == 0 || inner.height < 2 + status_h {
            return;
        }
        let status_area = Rect {
            y: inner.y + inner.height - status_h,
            height: status_h,
            ..inner
        };
        render_status(&view, selected_score, status_area, buf);
    }

    /// The border, titled with the picker's name, the match counter, the filters and the sort key;
    /// returns the area inside it.
    fn render_block(&self, area: Rect, buf: &mut Buffer, view: &PickerView<'_>) -> Rect {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(
                    format!(" {} ", view.title),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(
                    "{} · {} · sort: {} ",
                    self.counter(),
                    self.filters.summary(),
                    self.sort.label()
                )),
            ]))
            .border_style(if view.focused {
                view.theme.accent
            } else {
                Style::default()
            });
        let inner = block.inner(area);
        block.render(area, buf);
        inner
    }

    /// The filter line at the top of `inner`: the query, with a cursor when focused.
    fn render_filter(&self, inner: Rect, buf: &mut Buffer, view: &PickerView<'_>) {
        let filter_style = if view.filter_focused {
            view.theme.warn
        } else {
            view.theme.muted
        };
        let mut filter = vec![
            Span::styled("/ ", filter_style),
            Span::raw(self.query.clone()),
        ];
        if view.filter_focused {
            filter.push(Span::styled("█", view.theme.warn));
        } else if self.query.is_empty() {
            filter.push(Span::styled("type / to filter", view.theme.muted));
        }
        Line::from(filter).render(Rect { height: 1, ..inner }, buf);
    }

    /// Under the table's header: why no model is listed (an empty catalog or a filter matching none).
    fn render_no_match(&self, table_area: Rect, buf: &mut Buffer, theme: &Theme) {
        let msg = if self.total() == 0 {
            "The catalog is empty: run `nxr catalog refresh`."
        } else {
            "No model matches this filter. Backspace widens it; Esc leaves it."
        };
        Line::styled(msg, theme.muted).render(
            Rect {
                y: table_area.y + 1,
                height: 1,
                ..table_area
            },
            buf,
        );
    }
}

/// The line under the table: the error, or whether the selected model meets the checked role.
fn render_status(
    view: &PickerView<'_>,
    selected_score: Option<&ModelScore>,
    area: Rect,
    buf: &mut Buffer,
) {
    let status = match (view.error, selected_score, view.check) {
        (Some(e), _, _) => Line::styled(format!("✗ {e}"), view.theme.danger),
        (None, Some(s), Some(c)) => match failure(s) {
            Some(why) => Line::styled(format!("✗ fails {}: {why}", c.role), view.theme.warn),
            None => Line::styled(
                format!(
                    "✓ meets the {} role's requirements · score {}",
                    c.role, s.total
                ),
                view.theme.ok,
            ),
        },
        _ => Line::raw(""),
    };
    Paragraph::new(status)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// How a picker is drawn in a given place.
#[derive(Debug, Clone, Copy)]
pub struct PickerView<'a> {
    pub title: &'a str,
    pub focused: bool,
    pub filter_focused: bool,
    /// Check every row against a role's hard requirements (the Tab 5 wizard): rows that fail are dimmed
    /// with the reason, and a line under the table says whether the selected model passes.
    pub check: Option<RoleCheck<'a>>,
    /// An error for the line under the table (e.g. "this model cannot be chosen: …").
    pub error: Option<&'a str>,
    pub theme: &'a Theme,
}

/// A role to judge the list's models for (the domain's `scoring::score`, computed once per catalog).
#[derive(Debug, Clone, Copy)]
pub struct RoleCheck<'a> {
    pub role: Role,
    pub models: &'a ModelList,
}

impl<'a> RoleCheck<'a> {
    /// The domain's score of the model at this position for the role (`passes`, `reasons`, `total`).
    pub fn score_at(&self, i: u32) -> Option<&'a ModelScore> {
        self.models.score(i, self.role)
    }
    /// The same for the model with this id.
    pub fn score(&self, id: &str) -> Option<&'a ModelScore> {
        self.models.position(id).and_then(|i| self.score_at(i))
    }
}

/// Why a score fails its role's hard requirements (the domain's typed exclusions, joined), or None
/// when it passes.
pub fn failure(score: &ModelScore) -> Option<String> {
    if score.passes {
        return None;
    }
    let fails: Vec<String> = score.exclusions.iter().map(ToString::to_string).collect();
    Some(if fails.is_empty() {
        format!("does not meet the {} role's hard requirements", score.role)
    } else {
        fails.join("; ")
    })
}

/// A reason without its parenthesised asides, for a table cell: `no tool support (engineer needs tools);
/// context 32k < 64k required` → `no tool support; context 32k < 64k required`.
pub fn without_asides(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.replace(" ;", ";").replace(" ,", ",").trim().to_string()
}

/// Shortens `text` to `width` characters by cutting its middle (`nvidia/nemotron-3…-a12b:free`), so both
/// the provider and the variant suffix (`:free`, `:thinking`) of a model id stay visible. Returns the
/// text and, for each kept character, its index in the original.
pub fn elide_middle(text: &str, width: usize) -> (String, Vec<u32>) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return (text.to_string(), (0..chars.len() as u32).collect());
    }
    if width == 0 {
        return (String::new(), Vec::new());
    }
    let keep = width - 1;
    let tail = keep / 2;
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    let mut map: Vec<u32> = (0..head as u32).collect();
    map.push(u32::MAX);
    map.extend((chars.len() - tail) as u32..chars.len() as u32);
    (out, map)
}

fn highlighted(text: &str, indices: &[u32], style: Style) -> Line<'static> {
    if indices.is_empty() {
        return Line::from(text.to_string());
    }
    let mut spans = Vec::new();
    let mut cur = String::new();
    let mut cur_hl = false;
    for (i, c) in text.chars().enumerate() {
        let is_hl = indices.binary_search(&(i as u32)).is_ok();
        if is_hl != cur_hl && !cur.is_empty() {
            spans.push(if cur_hl {
                Span::styled(std::mem::take(&mut cur), style)
            } else {
                Span::raw(std::mem::take(&mut cur))
            });
        }
        cur_hl = is_hl;
        cur.push(c);
    }
    if !cur.is_empty() {
        spans.push(if cur_hl {
            Span::styled(cur, style)
        } else {
            Span::raw(cur)
        });
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ModelList {
        let models = crate::domain::catalog::embedded().models;
        ModelList::for_search(&models)
    }

    #[test]
    fn typing_narrows_and_backspace_widens() {
        let rows = catalog();
        let mut p = ModelPicker::new(&rows, ModelFilters::default());
        let total = p.matched_count();
        assert_eq!(total, rows.len());
        for c in "qwen".chars() {
            p.push_char(c, &rows);
        }
        let narrowed = p.matched_count();
        assert!(narrowed > 0 && narrowed < total);
        assert_eq!(p.matched(), &rows.search("qwen", &Default::default())[..]);
        for _ in 0..4 {
            p.pop_char(&rows);
        }
        assert_eq!(p.matched_count(), total);
    }
}
