//! The model picker's toggles (free / tools / vision / min-context, turned into the catalog `Filter`)
//! and its sort keys, as the TUI state stores them.

use crate::domain::view::tokens_label;
use serde::{Deserialize, Serialize};

/// Min-context steps the toggle cycles through.
pub const MIN_CONTEXT_STEPS: [u64; 5] = [0, 32_000, 64_000, 128_000, 256_000];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelFilters {
    pub free_only: bool,
    pub tools: bool,
    pub vision: bool,
    pub min_context: u64,
}

impl ModelFilters {
    /// The same rule as `nxr models list --free --tools --vision --min-context N`.
    pub fn as_catalog_filter(&self) -> crate::domain::catalog::Filter {
        crate::domain::catalog::Filter {
            free: self.free_only,
            tools: self.tools,
            vision: self.vision,
            min_context: (self.min_context > 0).then_some(self.min_context),
        }
    }

    pub fn next_min_context(&mut self) {
        let i = MIN_CONTEXT_STEPS
            .iter()
            .position(|s| *s == self.min_context)
            .unwrap_or(0);
        self.min_context = MIN_CONTEXT_STEPS[(i + 1) % MIN_CONTEXT_STEPS.len()];
    }

    /// `free tools ≥64k`-style summary of the active toggles ("all" when none).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.free_only {
            parts.push("free".to_string());
        }
        if self.tools {
            parts.push("tools".to_string());
        }
        if self.vision {
            parts.push("vision".to_string());
        }
        if self.min_context > 0 {
            parts.push(format!("≥{}", tokens_label(self.min_context)));
        }
        if parts.is_empty() {
            "all".into()
        } else {
            parts.join(" ")
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Match score when filtering, else catalog (id) order.
    #[default]
    Relevance,
    Context,
    Newest,
    Price,
    Name,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Relevance => SortKey::Context,
            SortKey::Context => SortKey::Newest,
            SortKey::Newest => SortKey::Price,
            SortKey::Price => SortKey::Name,
            SortKey::Name => SortKey::Relevance,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Relevance => "relevance",
            SortKey::Context => "context",
            SortKey::Newest => "newest",
            SortKey::Price => "price",
            SortKey::Name => "name",
        }
    }
}
