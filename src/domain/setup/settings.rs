//! The plain settings a user reads and changes by name (`nxr config get|set|unset NAME`): each one's
//! settings key in the database, the check that turns a user's value into its stored form, what a valid
//! value looks like, and the value that applies while it is unset. The OpenRouter key is not one of
//! them: it lives in `.env` files (`credentials`).

use crate::domain::store::{Store, StoreError};
use crate::domain::{notifications::telegram, scoring::spread, watch::scanner};

/// One plain setting.
pub struct Setting {
    /// The name users type, e.g. `scan-interval-hours`.
    pub name: &'static str,
    /// The key in the `settings` table.
    pub key: &'static str,
    /// What a valid value looks like, e.g. "a number of hours above 0 and at most 8760 (a year)".
    pub expected: &'static str,
    /// A valid value to show in a hint.
    pub example: &'static str,
    /// What applies while the setting is unset.
    pub default: &'static str,
    /// Said after a change, when the change applies later.
    pub note: Option<&'static str>,
    /// The stored form of a user's value, or `None` when the value is not valid.
    parse: fn(&str) -> Option<String>,
}

pub use crate::domain::watch::scanner::MAX_SCAN_INTERVAL_HOURS;

/// Every plain setting, in the order they are listed.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "auto-upgrade-free-models",
        key: scanner::SETTING_AUTO_UPGRADE,
        expected: "true or false",
        example: "true",
        default: "false",
        note: None,
        parse: |v| scanner::parse_bool(v).map(|b| b.to_string()),
    },
    Setting {
        name: "scan-interval-hours",
        key: scanner::SETTING_SCAN_INTERVAL_HOURS,
        expected: "a number of hours above 0 and at most 8760 (a year)",
        example: "6",
        default: "6",
        note: None,
        parse: |v| scanner::parse_hours(v).map(|h| h.to_string()),
    },
    Setting {
        name: "telegram-chat-id",
        key: telegram::SETTING_CHAT_ID,
        expected: "a Telegram chat id (digits, with a leading - for a group) or a public @channelname (5 to 32 letters, digits or _)",
        example: "-1001234567890",
        default: "none (Telegram messages are off)",
        note: None,
        parse: |v| telegram::valid_chat_id(v).then(|| v.trim().to_string()),
    },
    Setting {
        name: "fallback-count",
        key: crate::domain::agents::fallbacks::SETTING_FALLBACK_COUNT,
        expected: "a whole number from 0 (no fallback chains) to 10",
        example: "3",
        default: "3",
        note: Some(
            "applies when an agent's model changes, at the next scan, or with `nxr agents fallbacks NAME --reset`",
        ),
        parse: |v| crate::domain::agents::fallbacks::parse_count(v).map(|n| n.to_string()),
    },
    Setting {
        name: "allow-stealth",
        key: crate::domain::scoring::rescore::SETTING_ALLOW_STEALTH,
        expected: "true or false",
        example: "true",
        default: "false (stealth and preview models are never picked automatically)",
        note: Some("applies to the next automatic pick: `nxr init`, `nxr agents create`, a scan"),
        parse: |v| scanner::parse_bool(v).map(|b| b.to_string()),
    },
    Setting {
        name: spread::SETTING_SPREAD,
        key: spread::SETTING_SPREAD,
        expected: "true or false",
        example: "false",
        default: "true",
        note: Some("applies the next time the default agents are assigned, e.g. `nxr init`"),
        parse: |v| spread::parse_setting(v).map(|b| b.to_string()),
    },
];

#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error("unknown setting {name:?}; known settings: {known}")]
    Unknown { name: String, known: String },
    #[error(
        "{name} = {value:?} is not valid: expected {expected} (e.g. {example}); nothing was changed"
    )]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
        example: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The setting called `name` (`-` and `_` are the same), if there is one.
pub fn find(name: &str) -> Option<&'static Setting> {
    let norm = |s: &str| s.trim().replace('_', "-").to_ascii_lowercase();
    let wanted = norm(name);
    SETTINGS.iter().find(|s| norm(s.name) == wanted)
}

/// The error for a name that is no setting; `others` are names handled elsewhere (the key).
pub fn unknown(name: &str, others: &[&str]) -> SettingError {
    let known = others
        .iter()
        .copied()
        .chain(SETTINGS.iter().map(|s| s.name))
        .collect::<Vec<_>>()
        .join(", ");
    SettingError::Unknown {
        name: crate::domain::base::text::escape_invisible(
            &name.chars().take(60).collect::<String>(),
        ),
        known,
    }
}

impl Setting {
    /// Checks `value` and stores it; returns the stored form. An invalid value changes nothing.
    pub async fn set(&self, store: &Store, value: &str) -> Result<String, SettingError> {
        let Some(v) = (self.parse)(value) else {
            return Err(SettingError::Invalid {
                name: self.name,
                value: value.chars().filter(|c| !c.is_control()).take(40).collect(),
                expected: self.expected,
                example: self.example,
            });
        };
        store.set_setting(self.key, &v).await?;
        Ok(v)
    }

    /// The stored value, `None` while the default applies.
    pub async fn get(&self, store: &Store) -> Result<Option<String>, SettingError> {
        Ok(store.setting(self.key).await?)
    }

    /// Removes the stored value so the default applies again; true when one was stored.
    pub async fn unset(&self, store: &Store) -> Result<bool, SettingError> {
        Ok(store.delete_setting(self.key).await?)
    }
}

impl crate::domain::base::hint::Hinted for SettingError {
    fn hints(&self) -> Vec<crate::domain::base::hint::Hint> {
        #[allow(unused_imports)]
        use crate::domain::base::hint::{Hint, Hinted};
        match self {
            SettingError::Invalid { name, example, .. } => vec![Hint::SetSetting {
                name: name.to_string(),
                example: example.to_string(),
            }],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_with_either_separator_and_values_are_checked() {
        assert_eq!(
            find("scan_interval_hours").map(|s| s.name),
            Some("scan-interval-hours")
        );
        assert_eq!(
            find("spread-default-agents").map(|s| s.key),
            Some(spread::SETTING_SPREAD)
        );
        let hours = find("scan-interval-hours").unwrap();
        assert_eq!((hours.parse)("8760"), Some("8760".into()));
        assert_eq!((hours.parse)("8761"), None);
        let chat = find("telegram-chat-id").unwrap();
        assert_eq!(
            (chat.parse)("-1001234567890"),
            Some("-1001234567890".into())
        );
        for s in SETTINGS {
            assert!((s.parse)(s.example).is_some(), "{}'s example", s.name);
        }
    }
}
