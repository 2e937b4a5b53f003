//! Tab 2 Models: the catalog with the nucleo filter, toggles, sort keys and a detail pane with the
//! per-role score breakdown; `s` opens the Hermes slot editor.

use crate::app::action::Action;
use crate::app::keys::{Binding, Key};
use crate::app::state::{Effect, State};
use crate::app::update::page_rows;
use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::scoring::ModelScore;
use crate::domain::view::ListedModel;
use crate::domain::view::ModelList;
use crate::widgets::model_picker::PickerView;
use crate::widgets::model_picker::{ModelFilters, ModelPicker};
use crate::widgets::slot_editor::SlotEditor;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

pub fn commands(state: &State) -> Vec<Binding> {
    use Key::*;
    let m = &state.models;
    match m.mode {
        ModelsMode::Browse if m.filter_focused => vec![
            Binding::new(&[Esc], "leave filter", Action::Back),
            Binding::new(&[Enter], "done", Action::Confirm),
            Binding::new(&[Backspace], "delete", Action::Backspace),
            Binding::new(&[Up, Down], "move", Action::Down).help_only(),
        ],
        ModelsMode::Browse => vec![
            Binding::new(&[Char('/')], "filter", Action::FocusFilter),
            Binding::new(&[Char('f')], "free", Action::ToggleFree),
            Binding::new(&[Char('t')], "tools", Action::ToggleTools),
            Binding::new(&[Char('v')], "vision", Action::ToggleVision),
            Binding::new(&[Char('c')], "min ctx", Action::CycleMinContext),
            Binding::new(&[Char('o')], "sort", Action::CycleSort),
            Binding::new(&[Char('s')], "slots", Action::ToggleSlots),
        ],
        ModelsMode::Slots => vec![
            Binding::new(&[Enter], "choose model", Action::Confirm),
            Binding::new(&[Char('s'), Esc], "back to models", Action::ToggleSlots),
        ],
        ModelsMode::PickForSlot => vec![
            Binding::new(&[Enter], "assign to slot", Action::Confirm),
            Binding::new(&[Esc], "cancel", Action::Back),
            Binding::new(&[Backspace], "delete", Action::Backspace),
        ],
    }
}

pub fn update(state: &mut State, action: Action) -> Option<Action> {
    let page = page_rows(state);
    let models = &state.data.models;
    let tab = &mut state.models;
    match tab.mode {
        ModelsMode::Browse => {
            let p = &mut tab.picker;
            match action {
                Action::FocusFilter => tab.filter_focused = true,
                Action::Back | Action::Confirm => tab.filter_focused = false,
                Action::InsertChar(c) if tab.filter_focused => p.push_char(c, models),
                Action::Backspace if tab.filter_focused => p.pop_char(models),
                Action::Up => p.up(1),
                Action::Down => p.down(1),
                Action::PageUp => p.up(page),
                Action::PageDown => p.down(page),
                Action::Top => p.top(),
                Action::Bottom => p.bottom(),
                Action::ToggleFree => {
                    let mut f = p.filters;
                    f.free_only = !f.free_only;
                    p.set_filters(f, models);
                }
                Action::ToggleTools => {
                    let mut f = p.filters;
                    f.tools = !f.tools;
                    p.set_filters(f, models);
                }
                Action::ToggleVision => {
                    let mut f = p.filters;
                    f.vision = !f.vision;
                    p.set_filters(f, models);
                }
                Action::CycleMinContext => {
                    let mut f = p.filters;
                    f.next_min_context();
                    p.set_filters(f, models);
                }
                Action::CycleSort => p.set_sort(p.sort.next(), models),
                Action::ToggleSlots => tab.mode = ModelsMode::Slots,
                _ => {}
            }
        }
        ModelsMode::Slots => match action {
            Action::Up => tab.slots.up(1),
            Action::Down => tab.slots.down(1, state.data.slots.len()),
            Action::Top => tab.slots.selected = 0,
            Action::Bottom => tab.slots.selected = state.data.slots.len().saturating_sub(1),
            Action::ToggleSlots | Action::Back => tab.mode = ModelsMode::Browse,
            Action::Confirm => {
                if let Some(slot) = state.data.slots.get(tab.slots.selected) {
                    tab.slot_picker.set_query("", models);
                    if let Some(current) = &slot.model {
                        tab.slot_picker.select_id(models, current);
                    }
                    tab.mode = ModelsMode::PickForSlot;
                }
            }
            _ => {}
        },
        ModelsMode::PickForSlot => {
            let p = &mut tab.slot_picker;
            match action {
                Action::InsertChar(c) => p.push_char(c, models),
                Action::Backspace => p.pop_char(models),
                Action::Up => p.up(1),
                Action::Down => p.down(1),
                Action::PageUp => p.up(page),
                Action::PageDown => p.down(page),
                Action::Back => tab.mode = ModelsMode::Slots,
                Action::Confirm => {
                    let chosen = p.selected_model(models).map(|m| m.id().into_owned());
                    let slot = state
                        .data
                        .slots
                        .get(tab.slots.selected)
                        .map(|s| s.name.clone());
                    if let (Some(model), Some(slot)) = (chosen, slot) {
                        tab.mode = ModelsMode::Slots;
                        tab.slots.error = None;
                        state.queue(Effect::SetSlot {
                            slot: slot.clone(),
                            model: model.clone(),
                        });
                        state.info(format!("setting {slot} → {model} …"));
                    }
                }
                _ => {}
            }
        }
    }
    None
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let detail_w = match area.width {
        120.. => 46,
        100.. => 40,
        _ => 32,
    };
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(detail_w)]).areas(area);
    let m = &state.models;
    let models = &state.data.models;
    match m.mode {
        ModelsMode::Browse => {
            m.picker.render(
                models,
                left,
                frame.buffer_mut(),
                PickerView {
                    title: "Models",
                    focused: true,
                    filter_focused: m.filter_focused,
                    check: None,
                    error: None,
                    theme: &state.theme,
                },
            );
            draw_detail(state, m.picker.selected_model(models), frame, right);
        }
        ModelsMode::Slots => {
            m.slots.render(
                &state.data.slots,
                state.data.slots_error.as_deref(),
                &state.data.config_path,
                left,
                frame.buffer_mut(),
                &state.theme,
            );
            let current = state
                .data
                .slots
                .get(m.slots.selected)
                .and_then(|s| s.model.as_deref())
                .and_then(|id| state.data.model(id));
            draw_detail(state, current, frame, right);
        }
        ModelsMode::PickForSlot => {
            let slot = state
                .data
                .slots
                .get(m.slots.selected)
                .map(|s| s.name.as_str())
                .unwrap_or("?");
            let title = format!("Model for slot {slot}");
            m.slot_picker.render(
                models,
                left,
                frame.buffer_mut(),
                PickerView {
                    title: &title,
                    focused: true,
                    filter_focused: true,
                    check: None,
                    error: None,
                    theme: &state.theme,
                },
            );
            draw_detail(state, m.slot_picker.selected_model(models), frame, right);
        }
    }
}

/// The selected model and its score for every role (`nxr models explain`, condensed).
pub fn draw_detail(state: &State, row: Option<&ListedModel>, frame: &mut Frame, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" Details ");
    let Some(row) = row else {
        frame.render_widget(
            Paragraph::new("No model selected.")
                .style(state.theme.muted)
                .block(block),
            area,
        );
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let model = &row.to_model();
    let info = info_lines(state, row, model);
    let [info_area, scores_area, reasons_area] = Layout::vertical([
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Fill(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(info).wrap(Wrap { trim: true }), info_area);
    let scores: Vec<_> = Role::ALL
        .iter()
        .map(|r| state.data.models.score_of(row, *r))
        .collect();
    draw_scores(state, &scores, frame, scores_area);
    draw_reasons(state, model, &scores, frame, reasons_area);
}

/// The model's id, name, context, price, release date, capabilities and caveats.
fn info_lines(state: &State, row: &ListedModel, model: &Model) -> Vec<Line<'static>> {
    let caps = [
        model.supports_tools().then_some("tools"),
        model.supports_vision().then_some("vision"),
        model.supports_reasoning().then_some("reasoning"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let created = chrono::DateTime::from_timestamp(model.created, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "?".into());
    let mut info = vec![
        Line::styled(
            model.id.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Line::from(model.name.clone()),
        Line::from(format!(
            "ctx {} · {} · {}",
            row.context_label(),
            row.price_label(),
            created
        )),
        Line::from(if caps.is_empty() {
            "no tools / vision".to_string()
        } else {
            caps
        }),
    ];
    let caveats = row.caveats(state.data.cfg.now);
    if !caveats.is_empty() {
        info.push(Line::styled(
            format!("⚠ {}", crate::domain::scoring::caveats::labels(&caveats)),
            state.theme.warn,
        ));
    }
    info
}

/// The score table: role, total, then sub-scores; narrow panes keep the first five columns.
fn draw_scores(state: &State, scores: &[ModelScore], frame: &mut Frame, area: Rect) {
    let cols = if area.width >= 38 { 7 } else { 5 };
    let rows = scores.iter().map(|s| {
        let sub = &s.sub;
        let n = |v: u32| format!("{v:>4}");
        let mut cells = vec![
            s.role.as_str().to_string(),
            if s.passes {
                n(s.total)
            } else {
                "   ✗".into()
            },
            n(sub.context),
            n(sub.capability),
            n(sub.tools),
            n(sub.recency),
            n(sub.reliability),
        ];
        cells.truncate(cols);
        let mut row = Row::new(cells);
        if !s.passes {
            row = row.style(state.theme.muted);
        }
        row
    });
    let mut header = vec!["role", " tot", " ctx", " cap", "tool", " new", " rel"];
    header.truncate(cols);
    let mut widths = vec![Constraint::Length(8)];
    widths.extend(std::iter::repeat_n(Constraint::Length(4), cols - 1));
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(Style::default().add_modifier(Modifier::UNDERLINED)))
            .column_spacing(1),
        area,
    );
}

/// Why: the model's published figures, then the reasons for the first role this model fails, or the
/// engineer role's reasons.
fn draw_reasons(
    state: &State,
    model: &Model,
    scores: &[ModelScore],
    frame: &mut Frame,
    area: Rect,
) {
    let explain = scores
        .iter()
        .find(|s| !s.passes)
        .or_else(|| scores.iter().find(|s| s.role == Role::Engineer));
    let Some(s) = explain else {
        return;
    };
    let mut lines: Vec<Line> =
        crate::domain::view::main_figures(&state.data.cfg, &model.id, &Role::ALL)
            .into_iter()
            .map(|(role, f)| Line::from(format!("{role}: {f}")))
            .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            "no published figure: capability is a size estimate",
            state.theme.muted,
        ));
    }
    lines.push(Line::styled(
        format!("why ({}):", s.role),
        state.theme.muted,
    ));
    lines.extend(s.reasons.iter().map(|r| Line::from(format!("· {r}"))));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}

/// Tab 2's own state: the catalog picker, the slot editor and the slot's model picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelsMode {
    Browse,
    Slots,
    /// Choosing a model for the selected slot.
    PickForSlot,
}

#[derive(Debug, Clone)]
pub struct ModelsTab {
    pub picker: ModelPicker,
    pub filter_focused: bool,
    pub mode: ModelsMode,
    pub slots: SlotEditor,
    pub slot_picker: ModelPicker,
}

impl ModelsTab {
    /// Browsing the whole catalog, no filter typed.
    pub fn new(models: &ModelList) -> ModelsTab {
        ModelsTab {
            picker: ModelPicker::new(models, ModelFilters::default()),
            filter_focused: false,
            mode: ModelsMode::Browse,
            slots: SlotEditor::default(),
            slot_picker: ModelPicker::new(models, ModelFilters::default()),
        }
    }

    /// True when typed characters go to the filter or the slot's model search.
    pub fn text_input_active(&self) -> bool {
        match self.mode {
            ModelsMode::Browse => self.filter_focused,
            ModelsMode::PickForSlot => true,
            ModelsMode::Slots => false,
        }
    }

    /// A new catalog: both pickers keep their query, filters and selection where they can.
    pub fn set_catalog(&mut self, models: &ModelList, old: &ModelList) {
        self.picker.set_catalog(models, old);
        self.slot_picker.set_catalog(models, old);
    }
}
