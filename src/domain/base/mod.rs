//! The ground every room stands on: the clock, where things live (`env`), agent roles, text and file
//! helpers. Nothing here knows the database.

pub mod clock;
pub mod env;
pub mod fsutil;
pub mod hint;
pub mod host;
pub mod roles;
pub mod sysmem;
pub mod text;
