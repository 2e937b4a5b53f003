//! Reusable TUI widgets.

pub mod budget_gauge;
pub mod model_filters;
pub mod model_picker;
pub mod notification_row;
pub mod skill_selector;
pub mod slot_editor;
pub mod upgrade_dialog;
