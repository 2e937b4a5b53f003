//! All logic and storage. No terminal, no HTTP server, no clap.
//!
//! The domain is a stack of rooms, each a folder named by its concern. A module imports only from its
//! own room and the rooms below it ([`ROOMS`] lists them from the ground up; `tests/rooms.rs` holds
//! every `crate::domain` path in `src/domain` to that order), so there is no import circle between
//! rooms and a newcomer can read the code from the ground up.

pub mod agents;
pub mod base;
pub mod budget;
pub mod catalog;
pub mod notifications;
pub mod onboarding;
pub mod paperclip;
pub mod scoring;
pub mod setup;
pub mod store;
pub mod upgrade;
pub mod view;
pub mod watch;

/// The rooms from the ground up: a module may import from its own room and the rooms before it.
pub const ROOMS: [&str; 13] = [
    "base",
    "store",
    "catalog",
    "scoring",
    "agents",
    "notifications",
    "budget",
    "onboarding",
    "upgrade",
    "paperclip",
    "watch",
    "view",
    "setup",
];
