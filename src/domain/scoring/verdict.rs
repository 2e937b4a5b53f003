//! Typed verdicts: whether a model may be ranked for a role and, when not, which hard requirements it
//! fails (`Exclusion`). Surfaces read these values and word them as they like; none parses the
//! human reasons. Nothing here decides a requirement: `features` does, `reasons` records them.

use super::*;
use crate::domain::catalog::tokens_label;
use std::fmt;

/// A hard requirement a model fails for a role: while it fails one, it is never ranked there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exclusion {
    /// A router: it picks another model per request.
    Router,
    /// No text among the output modalities.
    NoTextOutput,
    /// Outputs media besides text (a media-generation model).
    MediaOutput { modalities: Vec<String> },
    /// Expires within a day of now (or already expired, or no time reference).
    Expiring { date: String },
    /// An expiration date that cannot be read.
    ExpiryUnreadable { date: String },
    /// No tool support, and the role needs tools.
    MissingTools { role: Role },
    /// Context below the role's minimum.
    ContextBelow { context: u64, required: u64 },
    /// Logs prompts, a stealth model or an announced removal, while such models are not allowed.
    Caveats {
        caveats: Vec<crate::domain::scoring::caveats::Caveat>,
    },
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exclusion::Router => {
                f.write_str("a router (it picks another model per request), never ranked")
            }
            Exclusion::NoTextOutput => f.write_str("no text output"),
            Exclusion::MediaOutput { modalities } => write!(
                f,
                "also outputs {} (a media-generation model, not an agent model)",
                modalities.join(" and ")
            ),
            Exclusion::Expiring { date } => write!(f, "expires {date} (within a day of now)"),
            Exclusion::ExpiryUnreadable { date } => write!(
                f,
                "expiration date {date:?} is unreadable, so it may be gone any day"
            ),
            Exclusion::MissingTools { role } => write!(f, "no tool support ({role} needs tools)"),
            Exclusion::ContextBelow { context, required } => write!(
                f,
                "context {} < {} required",
                tokens_label(*context),
                tokens_label(*required)
            ),
            Exclusion::Caveats { caveats } => write!(
                f,
                "{}: never picked automatically unless stealth and preview models are allowed",
                crate::domain::scoring::caveats::labels(caveats)
            ),
        }
    }
}

/// Whether a model passes a role's hard requirements, and the ones it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub passes: bool,
    /// Empty exactly when `passes`.
    pub exclusions: Vec<Exclusion>,
}

impl Verdict {
    /// The failed requirements in words, joined with "; " (empty when the model passes).
    pub fn describe(&self) -> String {
        describe_exclusions(&self.exclusions)
    }
}

/// Failed requirements in words, joined with "; ".
pub fn describe_exclusions(exclusions: &[Exclusion]) -> String {
    exclusions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ModelScore {
    /// The typed verdict of this score.
    pub fn verdict(&self) -> Verdict {
        Verdict {
            passes: self.passes,
            exclusions: self.exclusions.clone(),
        }
    }
}
