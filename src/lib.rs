//! nxr: a terminal-first control plane for a small team of AI agents.
//!
//! `domain` owns every rule and every byte of storage; `cli`, `app` (+ `tabs`, `widgets`) and `web` are
//! three surfaces over it. See docs/design.md.
//!
//! `println!`/`eprintln!` panic on a closed or full stream; the CLI prints through `cli::out_text` and
//! `cli::err_text` instead, and the lints below keep it so.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod app;
pub mod cli;
pub mod domain;
pub mod tabs;
pub mod web;
pub mod widgets;
