//! All logic and storage. No terminal, no HTTP server, no clap.

pub mod agents;
pub mod budget;
pub mod catalog;
pub mod clock;
pub mod env;
pub mod fsutil;
pub mod gateway;
pub mod hermes;
pub mod leftovers;
pub mod notifications;
pub mod ollama;
pub mod onboarding;
pub mod openrouter;
pub mod paperclip;
pub mod recommend;
pub mod rescore;
pub mod roles;
pub mod scoring;
pub mod secrets;
pub mod skills;
pub mod store;
pub mod text;
pub mod user_model;
pub mod view;
pub mod watch;
pub mod whisper;
