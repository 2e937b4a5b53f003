//! Setting nxr up and keeping it healthy: the user settings table behind `nxr config`, the doctor,
//! and the login service that keeps `nxr serve` running.

pub mod doctor;
pub mod errors;
pub mod service;
pub mod settings;
