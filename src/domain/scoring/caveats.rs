//! What a user should know about a model before an agent runs on it, read from its catalog entry:
//! the provider logs prompts, the model is cloaked (published under the `openrouter/` author while not
//! being a router: a stealth model whose maker is hidden and that usually vanishes within weeks), or
//! OpenRouter has announced its removal. Such models are never picked automatically (a default
//! agent, a created agent's pick) unless the user allows it (`allow-stealth`); every surface shows
//! the caveats with [`Caveat`]'s wording.

use crate::domain::catalog::Model;
use serde::Serialize;
use std::fmt;

/// Phrases of a catalog description that say the provider keeps and may use prompts.
const LOGGING_PHRASES: &[&str] = &[
    "logged by the provider",
    "may be used to improve the model",
    "prompts and completions are logged",
    "prompts and completions may be logged",
];

/// A description that stands for "the provider logs prompts" where only that fact is kept.
pub const LOGGING_NOTICE: &str = "Prompts and completions are logged by the provider.";

/// One thing to know about a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Caveat {
    /// The catalog description says prompts and completions are logged by the provider.
    LogsPrompts,
    /// Published under `openrouter/` without being a router: a cloaked (stealth) model.
    Cloaked,
    /// OpenRouter has announced the model's removal on `date`; `days` from now (None: no time
    /// reference or an unreadable date).
    Expires { date: String, days: Option<i64> },
}

impl Caveat {
    /// A short label for lists and tables ("logs prompts", "stealth", "expires in 5 days").
    pub fn label(&self) -> String {
        match self {
            Caveat::LogsPrompts => "logs prompts".into(),
            Caveat::Cloaked => "stealth".into(),
            Caveat::Expires { days: Some(d), .. } if *d <= 0 => "expired".into(),
            Caveat::Expires { days: Some(1), .. } => "expires in 1 day".into(),
            Caveat::Expires { days: Some(d), .. } => format!("expires in {d} days"),
            Caveat::Expires { date, days: None } => format!("expires {date}"),
        }
    }
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caveat::LogsPrompts => f.write_str(
                "logs prompts: its catalog entry says prompts and completions are logged by the provider and may be used to train it",
            ),
            Caveat::Cloaked => f.write_str(
                "stealth model: published under openrouter/ with its maker hidden; such models often vanish within weeks",
            ),
            Caveat::Expires { .. } => write!(
                f,
                "{}: OpenRouter has announced its removal",
                self.label()
            ),
        }
    }
}

/// True when the description says the provider logs prompts (case-insensitive).
pub fn logs_prompts(m: &Model) -> bool {
    if m.description.is_empty() {
        return false;
    }
    let d = m.description.to_ascii_lowercase();
    LOGGING_PHRASES.iter().any(|p| d.contains(p))
}

/// True for a non-router model published under the `openrouter/` author.
pub fn cloaked(m: &Model) -> bool {
    m.id.starts_with("openrouter/") && !m.is_router()
}

/// True when any caveat keeps `m` from automatic picks (cheap checks first).
pub fn blocks_automatic_pick(m: &Model) -> bool {
    m.expiration_date.is_some() || cloaked(m) || logs_prompts(m)
}

/// Every caveat of `m`, measured from `now` (unix seconds) for the expiry.
pub fn caveats(m: &Model, now: Option<i64>) -> Vec<Caveat> {
    let mut out = Vec::new();
    if logs_prompts(m) {
        out.push(Caveat::LogsPrompts);
    }
    if cloaked(m) {
        out.push(Caveat::Cloaked);
    }
    if let Some(date) = &m.expiration_date {
        let days = match (crate::domain::scoring::parse_expiry(date), now) {
            (Some(at), Some(now)) => Some((at - now).div_euclid(86_400)),
            _ => None,
        };
        out.push(Caveat::Expires {
            date: date.clone(),
            days,
        });
    }
    out
}

/// The caveats' labels joined with ", " (empty when none).
pub fn labels(caveats: &[Caveat]) -> String {
    caveats
        .iter()
        .map(Caveat::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The caveats in full sentences, joined with "; " (empty when none).
pub fn describe(caveats: &[Caveat]) -> String {
    caveats
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, description: &str, expires: Option<&str>) -> Model {
        Model {
            id: id.into(),
            description: description.into(),
            prompt_price: "0".into(),
            completion_price: "0".into(),
            expiration_date: expires.map(String::from),
            ..Model::default()
        }
    }

    #[test]
    fn a_logging_description_a_cloaked_id_and_an_expiry_are_each_told() {
        let m = model(
            "openrouter/hunter-alpha",
            "Fast. All prompts and completions for this model are logged by the provider and may be used to improve the model.",
            Some("2026-03-20"),
        );
        let now = crate::domain::scoring::parse_expiry("2026-03-13");
        let c = caveats(&m, now);
        assert_eq!(
            labels(&c),
            "logs prompts, stealth, expires in 7 days",
            "{c:?}"
        );
        assert!(blocks_automatic_pick(&m));
    }

    #[test]
    fn routers_and_plain_models_carry_no_caveat() {
        let router = model("openrouter/free", "a router", None);
        assert!(caveats(&router, None).is_empty());
        let plain = model("qwen/qwen3-coder:free", "A coding model.", None);
        assert!(caveats(&plain, None).is_empty());
        assert!(!blocks_automatic_pick(&plain));
    }
}
