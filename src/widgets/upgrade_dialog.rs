//! The bulk upgrade dialog of Tab 3: the plan `nxr upgrade` shows (one row per agent: current model,
//! the paid pick, its price per million tokens, the estimated monthly cost), the total, and
//! confirm / cancel.

use crate::app::theme::Theme;
use crate::domain::upgrade::{self, Plan, PlanKind};
use crate::widgets::model_picker::elide_middle;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

/// The bulk upgrade dialog: the plan once loaded (or why it could not be made).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpgradeDialog {
    pub plan: Option<Plan>,
    pub error: Option<String>,
}

/// What the dialog and `u` say when no key is stored.
pub const NO_KEY: &str = "no OpenRouter key is stored: add one with `nxr config set openrouter-key <key>` or `nxr upgrade --key <key>`";

pub fn render(theme: &Theme, dialog: &UpgradeDialog, has_key: bool, frame: &mut Frame, area: Rect) {
    let inner = draw_frame(theme, dialog, frame, area);
    let plan = match (&dialog.plan, &dialog.error) {
        (_, Some(e)) => {
            frame.render_widget(
                Paragraph::new(format!("Cannot make the plan: {e}"))
                    .style(theme.danger)
                    .wrap(Wrap { trim: true }),
                inner,
            );
            return;
        }
        (None, None) => {
            frame.render_widget(Paragraph::new("Reading the plan …"), inner);
            return;
        }
        (Some(p), None) => p,
    };
    let [table_area, foot] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(4)]).areas(inner);
    draw_table(theme, plan, frame, inner.width, table_area);
    draw_footer(theme, plan, has_key, frame, foot);
}

/// Clears the popup (centred, one row per agent plus the frame, header and footer) and draws its
/// border with the keys; returns the area inside it.
fn draw_frame(theme: &Theme, dialog: &UpgradeDialog, frame: &mut Frame, area: Rect) -> Rect {
    let rows = dialog.plan.as_ref().map_or(1, |p| p.rows.len().max(1)) as u16;
    let w = area.width.saturating_sub(4).min(110);
    let h = (rows + 9).min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(w)) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Upgrade to paid models · Enter confirm · Esc cancel ")
        .border_style(theme.accent);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    inner
}

/// The plan's table: agent, current model, the pick (or why it keeps its model), price, monthly cost.
/// The two model columns share what the fixed columns leave of `inner_w`.
fn draw_table(theme: &Theme, plan: &Plan, frame: &mut Frame, inner_w: u16, area: Rect) {
    let fixed = 12 + 17 + 12 + 4 * 2;
    let model_w = (inner_w.saturating_sub(fixed) / 2) as usize;
    let body = plan.rows.iter().map(|r| {
        let target = r.switch.as_ref().map(|s| &s.to);
        let to = match (target, &r.note) {
            (Some(t), _) => t.id.clone(),
            (None, _) if r.kept_choice => upgrade::KEPT_CHOICE.into(),
            (None, Some(n)) => format!("keeps ({n})"),
            (None, None) => "keeps".into(),
        };
        Row::new(vec![
            Cell::from(r.agent.clone()),
            Cell::from(elide_middle(&r.current.id, model_w).0),
            Cell::from(elide_middle(&to, model_w).0).style(if target.is_some() {
                theme.warn
            } else {
                theme.muted
            }),
            Cell::from(target.unwrap_or(&r.current).price_label()),
            Cell::from(Line::from(upgrade::monthly_label(r)).right_aligned()),
        ])
    });
    let to_head = match plan.kind {
        PlanKind::Upgrade => "paid pick",
        PlanKind::Revert => "back to",
    };
    frame.render_widget(
        Table::new(
            body,
            [
                Constraint::Length(12),
                Constraint::Length(model_w as u16),
                Constraint::Length(model_w as u16),
                Constraint::Length(17),
                Constraint::Length(12),
            ],
        )
        .header(
            Row::new(vec![
                Cell::from("agent"),
                Cell::from("current"),
                Cell::from(to_head),
                Cell::from("$/1M in / out"),
                Cell::from(Line::from("est. $/month").right_aligned()),
            ])
            .style(Style::default().add_modifier(Modifier::UNDERLINED)),
        ),
        area,
    );
}

/// The total, the usage assumption when no usage was observed, and the missing key.
fn draw_footer(theme: &Theme, plan: &Plan, has_key: bool, frame: &mut Frame, area: Rect) {
    let mut lines = vec![Line::styled(
        format!(
            "Total estimated: {} a month · {} of {} agents switch",
            upgrade::usd(plan.total_monthly_usd),
            plan.switch_count(),
            plan.rows.len()
        ),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if plan.uses_assumption {
        lines.push(Line::styled(
            format!("* no usage observed yet: at {}", plan.assumption),
            theme.muted,
        ));
    }
    if !has_key {
        lines.push(Line::styled(NO_KEY, theme.danger));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), area);
}
