//! Agent roles and their hard requirements (docs/design.md §4). Skillsets and category templates live in
//! `domain::agents::skills`; scoring weights in `domain::scoring`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Pm,
    Engineer,
    Hermes,
    Creative,
    Research,
    Custom,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Pm,
        Role::Engineer,
        Role::Hermes,
        Role::Creative,
        Role::Research,
        Role::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pm => "pm",
            Role::Engineer => "engineer",
            Role::Hermes => "hermes",
            Role::Creative => "creative",
            Role::Research => "research",
            Role::Custom => "custom",
        }
    }

    /// A human title ("PM", "Engineer", …).
    pub fn title(self) -> &'static str {
        match self {
            Role::Pm => "PM",
            Role::Engineer => "Engineer",
            Role::Hermes => "Hermes",
            Role::Creative => "Creative",
            Role::Research => "Research",
            Role::Custom => "Custom",
        }
    }

    /// Hard requirements before any scoring. `custom` is overridable in settings.
    pub fn default_requirements(self) -> Requirements {
        match self {
            Role::Pm => Requirements {
                min_context: 32_000,
                needs_tools: true,
            },
            Role::Engineer | Role::Hermes => Requirements {
                min_context: 64_000,
                needs_tools: true,
            },
            Role::Creative => Requirements {
                min_context: 8_000,
                needs_tools: false,
            },
            Role::Research => Requirements {
                min_context: 128_000,
                needs_tools: false,
            },
            Role::Custom => Requirements {
                min_context: 16_000,
                needs_tools: false,
            },
        }
    }

    pub fn valid_names() -> String {
        Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirements {
    pub min_context: u64,
    pub needs_tools: bool,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("unknown role {given:?}; valid roles: {valid}")]
pub struct UnknownRole {
    pub given: String,
    pub valid: String,
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        let lower = s.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == lower)
            .ok_or_else(|| UnknownRole {
                given: s.to_string(),
                valid: Role::valid_names(),
            })
    }
}
