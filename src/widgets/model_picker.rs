//! The model picker: a nucleo fuzzy filter over the catalog (helix-style: one prepared haystack of
//! `id name` per model, `Pattern::parse(q, Smart, Smart)`, highlight from the match indices), plus the
//! free / tools / vision / min-context toggles and sort keys. Used by Tab 2, the slot editor and the
//! Tab 5 wizard.

use crate::app::theme::Theme;
use crate::domain::roles::Role;
use crate::domain::scoring::{self, Health, ModelScore, ScoringConfig};
use crate::widgets::model_row::ModelRow;
use nucleo::Matcher;
use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Widget, Wrap};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// Min-context steps the toggle cycles through.
pub const MIN_CONTEXT_STEPS: [u64; 5] = [0, 32_000, 64_000, 128_000, 256_000];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelFilters {
    pub free_only: bool,
    pub tools: bool,
    pub vision: bool,
    pub min_context: u64,
}

impl ModelFilters {
    /// The same rule as `nxr models list --free --tools --vision --min-context N`.
    pub fn as_catalog_filter(&self) -> crate::domain::catalog::Filter {
        crate::domain::catalog::Filter {
            free: self.free_only,
            tools: self.tools,
            vision: self.vision,
            min_context: (self.min_context > 0).then_some(self.min_context),
        }
    }

    /// Same rule as [`Self::as_catalog_filter`] on the full model (a test checks both agree).
    pub fn admits(&self, m: &ModelRow) -> bool {
        (!self.free_only || m.is_free())
            && (!self.tools || m.supports_tools())
            && (!self.vision || m.supports_vision())
            && m.context_length >= self.min_context
    }

    pub fn next_min_context(&mut self) {
        let i = MIN_CONTEXT_STEPS
            .iter()
            .position(|s| *s == self.min_context)
            .unwrap_or(0);
        self.min_context = MIN_CONTEXT_STEPS[(i + 1) % MIN_CONTEXT_STEPS.len()];
    }

    /// `free tools ≥64k`-style summary of the active toggles ("all" when none).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.free_only {
            parts.push("free".to_string());
        }
        if self.tools {
            parts.push("tools".to_string());
        }
        if self.vision {
            parts.push("vision".to_string());
        }
        if self.min_context > 0 {
            parts.push(format!("≥{}", short_tokens(self.min_context)));
        }
        if parts.is_empty() {
            "all".into()
        } else {
            parts.join(" ")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Match score when filtering, else catalog (id) order.
    #[default]
    Relevance,
    Context,
    Newest,
    Price,
    Name,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Relevance => SortKey::Context,
            SortKey::Context => SortKey::Newest,
            SortKey::Newest => SortKey::Price,
            SortKey::Price => SortKey::Name,
            SortKey::Name => SortKey::Relevance,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Relevance => "relevance",
            SortKey::Context => "context",
            SortKey::Newest => "newest",
            SortKey::Price => "price",
            SortKey::Name => "name",
        }
    }
}

/// `131072` → `131k`, `1048576` → `1M`, `2000000` → `2M`.
pub fn short_tokens(n: u64) -> String {
    if n >= 1_000_000 {
        let m = n as f64 / 1_000_000.0;
        if m.fract() < 0.05 {
            format!("{}M", m as u64)
        } else {
            format!("{m:.1}M")
        }
    } else if n >= 1000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// `$0.15/M` prompt price, `free`, `var` for routers, or `unknown` when the catalog gave none.
pub fn price_label(m: &ModelRow) -> String {
    if m.is_free() {
        return "free".into();
    }
    match m.prompt_per_million() {
        Some(p) if p < 0.01 => "<$0.01".into(),
        Some(p) => format!("${p:.2}"),
        None if m.price_unknown() => "unknown".into(),
        None => "var".into(),
    }
}

#[derive(Debug, Clone)]
pub struct ModelPicker {
    total: usize,
    pub query: String,
    pattern: Pattern,
    pub filters: ModelFilters,
    pub sort: SortKey,
    /// Indices into the catalog, in display order.
    matched: Vec<u32>,
    /// What `matched` was computed for (to narrow incrementally while the user types).
    last_query: String,
    last_filters: ModelFilters,
    pub selected: usize,
    matcher: Matcher,
}

thread_local! {
    static HIGHLIGHT_MATCHER: RefCell<Matcher> = RefCell::new(Matcher::default());
}

impl ModelPicker {
    pub fn new(models: &[ModelRow], filters: ModelFilters) -> ModelPicker {
        let mut p = ModelPicker {
            total: models.len(),
            query: String::new(),
            pattern: Pattern::default(),
            filters,
            sort: SortKey::Relevance,
            matched: Vec::new(),
            last_query: String::new(),
            last_filters: filters,
            selected: 0,
            matcher: Matcher::default(),
        };
        p.refresh(models);
        p
    }

    /// A new catalog (after a reload): keeps query, filters and the selected model when it still exists.
    pub fn set_catalog(&mut self, models: &[ModelRow], old: &[ModelRow]) {
        let keep = self.selected_model(old).map(|m| m.id().into_owned());
        self.last_query.clear();
        self.refresh(models);
        if let Some(id) = keep
            && let Some(pos) = self
                .matched
                .iter()
                .position(|&i| models.get(i as usize).is_some_and(|m| m.id() == id))
        {
            self.selected = pos;
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

    pub fn selected_model<'a>(&self, models: &'a [ModelRow]) -> Option<&'a ModelRow> {
        self.matched
            .get(self.selected)
            .and_then(|&i| models.get(i as usize))
    }

    /// Selects the model with this id when it is among the matches.
    pub fn select_id(&mut self, models: &[ModelRow], id: &str) -> bool {
        match self
            .matched
            .iter()
            .position(|&i| models.get(i as usize).is_some_and(|m| m.id() == id))
        {
            Some(p) => {
                self.selected = p;
                true
            }
            None => false,
        }
    }

    /// A new query puts the cursor back on the best match (as fzf does).
    pub fn set_query(&mut self, query: &str, models: &[ModelRow]) {
        self.query = query.to_string();
        self.selected = 0;
        self.refresh(models);
    }
    pub fn push_char(&mut self, c: char, models: &[ModelRow]) {
        self.query.push(c);
        self.selected = 0;
        self.refresh(models);
    }
    pub fn pop_char(&mut self, models: &[ModelRow]) {
        self.query.pop();
        self.selected = 0;
        self.refresh(models);
    }
    pub fn set_filters(&mut self, filters: ModelFilters, models: &[ModelRow]) {
        self.filters = filters;
        self.refresh(models);
    }
    pub fn set_sort(&mut self, sort: SortKey, models: &[ModelRow]) {
        self.sort = sort;
        self.refresh(models);
    }

    fn can_narrow(&self) -> bool {
        const SPECIAL: &[char] = &['!', '^', '$', '\'', '\\', ' '];
        !self.last_query.is_empty()
            && self.filters == self.last_filters
            && self.query.starts_with(&self.last_query)
            && !self.last_query.contains(SPECIAL)
            && !self.query.contains(SPECIAL)
            && self.matched.len() <= self.total
    }

    /// Recomputes the matches for the current query, filters and sort.
    pub fn refresh(&mut self, models: &[ModelRow]) {
        let narrow = self.can_narrow();
        self.pattern
            .reparse(&self.query, CaseMatching::Smart, Normalization::Smart);
        let candidates: Vec<u32> = if narrow {
            std::mem::take(&mut self.matched)
        } else {
            (0..models.len() as u32)
                .filter(|&i| self.filters.admits(&models[i as usize]))
                .collect()
        };
        let mut scored: Vec<(u32, u32)> = if self.pattern.atoms.is_empty() {
            candidates.into_iter().map(|i| (i, 0)).collect()
        } else {
            score_all(&self.pattern, models, &candidates, &mut self.matcher)
        };
        let by_score = !self.pattern.atoms.is_empty();
        match self.sort {
            SortKey::Relevance if by_score => {
                scored.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)))
            }
            SortKey::Relevance => scored.sort_unstable_by_key(|a| a.0),
            SortKey::Context => scored.sort_unstable_by(|a, b| {
                let (ma, mb) = (&models[a.0 as usize], &models[b.0 as usize]);
                mb.context_length
                    .cmp(&ma.context_length)
                    .then(b.1.cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            }),
            SortKey::Newest => scored.sort_unstable_by(|a, b| {
                let (ma, mb) = (&models[a.0 as usize], &models[b.0 as usize]);
                mb.created
                    .cmp(&ma.created)
                    .then(b.1.cmp(&a.1))
                    .then(a.0.cmp(&b.0))
            }),
            SortKey::Price => scored.sort_by(|a, b| {
                let p = |i: u32| {
                    let m = &models[i as usize];
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
                models[a.0 as usize]
                    .name()
                    .to_lowercase()
                    .cmp(&models[b.0 as usize].name().to_lowercase())
                    .then(a.0.cmp(&b.0))
            }),
        }
        self.matched = scored.into_iter().map(|(i, _)| i).collect();
        self.last_query = self.query.clone();
        self.last_filters = self.filters;
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
    pub fn highlight(&self, row: &ModelRow) -> Vec<u32> {
        let h = &row.hay;
        if self.pattern.atoms.is_empty() {
            return Vec::new();
        }
        HIGHLIGHT_MATCHER.with(|m| {
            let mut indices = Vec::new();
            let _ = self
                .pattern
                .indices(h.slice(..), &mut m.borrow_mut(), &mut indices);
            indices.sort_unstable();
            indices.dedup();
            indices
        })
    }

    /// `matched/total` and the active toggles, for a title.
    pub fn counter(&self) -> String {
        format!("{}/{}", self.matched.len(), self.total())
    }

    /// Draws the table (visible rows only, so a 100k catalog costs what a 50-row one does).
    pub fn render(&self, models: &[ModelRow], area: Rect, buf: &mut Buffer, view: PickerView<'_>) {
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
        if inner.height < 2 {
            return;
        }
        // Filter line.
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
        let rows_visible = table_area.height.saturating_sub(1) as usize;
        if self.matched.is_empty() {
            let msg = if self.total() == 0 {
                "The catalog is empty: run `nxr catalog refresh`."
            } else {
                "No model matches this filter. Backspace widens it; Esc leaves it."
            };
            Line::styled(msg, view.theme.muted).render(
                Rect {
                    y: table_area.y + 1,
                    height: 1,
                    ..table_area
                },
                buf,
            );
        }
        let offset = if rows_visible == 0 || self.selected < rows_visible {
            0
        } else {
            self.selected + 1 - rows_visible
        };
        let hl = view.theme.matched;
        let dim = view.theme.muted.add_modifier(Modifier::DIM);
        // Column widths: ctx 5, price 7, T V 3 and the spacing; the id gets the most of the rest (cut in
        // the middle when it is still too long, so `:free` stays visible); the second column (name, or
        // with a role check why a model fails it) only from 64 columns up.
        let rest = table_area.width.saturating_sub(5 + 7 + 3 + 4) as usize;
        let show_second = table_area.width >= 64;
        let longest_id = self
            .matched
            .iter()
            .skip(offset)
            .take(rows_visible)
            .filter_map(|&i| models.get(i as usize))
            .map(|m| m.id_chars() as usize)
            .max()
            .unwrap_or(0);
        // The second column keeps at least 12 characters (20 with a role check: the reason matters).
        let second_min = if view.check.is_some() { 20 } else { 12 };
        let id_w = if show_second {
            // At least 3/5 of the room, more when the ids need it.
            longest_id
                .max(rest * 3 / 5)
                .min(rest.saturating_sub(second_min + 1))
                .max(1)
        } else {
            rest
        };
        let second_w = if show_second {
            rest.saturating_sub(id_w)
        } else {
            0
        };
        let mut selected_score = None;
        let rows = self
            .matched
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_visible)
            .filter_map(|(pos, &i)| {
                let m = models.get(i as usize)?;
                let verdict = view.check.map(|c| c.score(m));
                let fails = verdict.as_ref().and_then(failure);
                if pos == self.selected {
                    selected_score = verdict.clone();
                }
                let idx = self.highlight(m);
                let id_len = m.id_chars();
                let id = m.id();
                let (id_text, id_map) = elide_middle(&id, id_w);
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
                let second = match (&fails, show_second) {
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
                    Cell::from(Line::from(short_tokens(m.context_length)).right_aligned()),
                    Cell::from(Line::from(price_label(m)).right_aligned()),
                    Cell::from(format!(
                        "{} {}",
                        if m.supports_tools() { "T" } else { "·" },
                        if m.supports_vision() { "V" } else { "·" }
                    )),
                ]);
                if fails.is_some() {
                    row = row.style(dim);
                }
                if pos == self.selected {
                    row = row.style(
                        if fails.is_some() {
                            dim
                        } else {
                            Style::default()
                        }
                        .add_modifier(Modifier::REVERSED),
                    );
                }
                Some(row)
            });
        let table = Table::new(
            rows,
            [
                Constraint::Length(id_w as u16),
                Constraint::Length(second_w as u16),
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Length(3),
            ],
        )
        .header(
            Row::new(vec![
                "id",
                match view.check {
                    Some(_) if show_second => "for this role",
                    _ if show_second => "name",
                    _ => "",
                },
                "  ctx",
                " $/M in",
                "T V",
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        )
        .column_spacing(1);
        table.render(table_area, buf);
        if status_h == 0 || inner.height < 2 + status_h {
            return;
        }
        let status_area = Rect {
            y: inner.y + inner.height - status_h,
            height: status_h,
            ..inner
        };
        let status = match (view.error, &selected_score, view.check) {
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
            .render(status_area, buf);
    }
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

/// A role and the scoring inputs to judge models for it with `domain::scoring::score`.
#[derive(Debug, Clone, Copy)]
pub struct RoleCheck<'a> {
    pub role: Role,
    pub health: &'a Health,
    pub cfg: &'a ScoringConfig,
}

impl RoleCheck<'_> {
    /// The domain's score of this model for the role (`passes`, `reasons`, `total`).
    pub fn score(&self, m: &ModelRow) -> ModelScore {
        scoring::score(&m.to_model(), self.role, self.health, self.cfg)
    }
}

/// Why a score fails its role's hard requirements (the domain's `excluded: …` reasons, joined), or None
/// when it passes.
pub fn failure(score: &ModelScore) -> Option<String> {
    if score.passes {
        return None;
    }
    let fails: Vec<&str> = score
        .reasons
        .iter()
        .filter_map(|r| r.strip_prefix("excluded: "))
        .collect();
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

/// Scores candidates in parallel chunks (one matcher per thread) when the list is large.
fn score_all(
    pattern: &Pattern,
    rows: &[ModelRow],
    candidates: &[u32],
    matcher: &mut Matcher,
) -> Vec<(u32, u32)> {
    let score_chunk = |chunk: &[u32], m: &mut Matcher| -> Vec<(u32, u32)> {
        chunk
            .iter()
            .filter_map(|&i| {
                let h = &rows.get(i as usize)?.hay;
                pattern.score(h.slice(..), m).map(|s| (i, s))
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if candidates.len() < 20_000 || threads < 2 {
        return score_chunk(candidates, matcher);
    }
    let chunk = candidates.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = candidates
            .chunks(chunk)
            .skip(1)
            .map(|c| s.spawn(move || score_chunk(c, &mut Matcher::default())))
            .collect();
        let mut out = score_chunk(&candidates[..chunk.min(candidates.len())], matcher);
        for h in handles {
            if let Ok(part) = h.join() {
                out.extend(part);
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::widgets::model_row;

    fn catalog() -> (Vec<crate::domain::catalog::Model>, Vec<ModelRow>) {
        let models = crate::domain::catalog::embedded().models;
        let rows = model_row::build(&models);
        (models, rows)
    }

    #[test]
    fn typing_narrows_and_backspace_widens() {
        let (_, rows) = catalog();
        let mut p = ModelPicker::new(&rows, ModelFilters::default());
        let total = p.matched_count();
        assert_eq!(total, rows.len());
        for c in "qwen".chars() {
            p.push_char(c, &rows);
        }
        let narrowed = p.matched_count();
        assert!(narrowed > 0 && narrowed < total);
        assert!(p.matched().iter().all(|&i| {
            rows[i as usize]
                .hay
                .to_string()
                .to_lowercase()
                .contains('q')
        }));
        // Incremental narrowing gives the same list as a fresh filter.
        let mut q = ModelPicker::new(&rows, ModelFilters::default());
        q.set_query("qwen", &rows);
        assert_eq!(p.matched(), q.matched());
        for _ in 0..4 {
            p.pop_char(&rows);
        }
        assert_eq!(p.matched_count(), total);
    }

    #[test]
    fn toggles_agree_with_the_catalog_filter() {
        let (models, rows) = catalog();
        for free_only in [false, true] {
            for tools in [false, true] {
                for vision in [false, true] {
                    for min_context in MIN_CONTEXT_STEPS {
                        let f = ModelFilters {
                            free_only,
                            tools,
                            vision,
                            min_context,
                        };
                        let mut p = ModelPicker::new(&rows, f);
                        p.refresh(&rows);
                        let want: Vec<u32> = (0..models.len() as u32)
                            .filter(|&i| f.as_catalog_filter().matches(&models[i as usize]))
                            .collect();
                        assert_eq!(p.matched(), &want[..], "{f:?}");
                    }
                }
            }
        }
    }
}
