//! One file per tab: its key commands (the one list the footer and `?` help are built from), its
//! `update` and its pure `draw`.

pub mod agents;
pub mod budget;
pub mod create;
pub mod dashboard;
pub mod models;
pub mod notifications;
