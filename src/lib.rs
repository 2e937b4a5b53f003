//! nxr: a terminal-first control plane for a small team of AI agents.
//!
//! `domain` owns every rule and every byte of storage; `cli`, `app` (+ `tabs`, `widgets`) and `web` are
//! three surfaces over it. See docs/design.md.

pub mod app;
pub mod cli;
pub mod domain;
pub mod tabs;
pub mod web;
pub mod widgets;
