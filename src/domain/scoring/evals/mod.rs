//! Published evaluation figures per model family (`data/model_evals.yaml`, embedded in the binary),
//! merged with the figures a user imported (`nxr evals import FILE`, kept in the `settings` table), and
//! matched to catalog ids by canonical slug. The scorer turns them into capability points
//! (`domain::scoring::capability`); `nxr evals list` and `nxr models explain` show them with their sources.

use crate::domain::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use std::sync::{Arc, OnceLock};

mod file;
use file::invalid;
pub use file::{FigureOut, parse, to_yaml};

/// The data file compiled into nxr.
pub const EMBEDDED_EVALS_YAML: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/model_evals.yaml"
));
/// Settings key holding the imported data file (YAML text, already validated).
pub const SETTING_IMPORTED: &str = "evals.imported";
/// An imported file larger than this is refused (the embedded one is ~20 kB).
pub const MAX_IMPORT_BYTES: u64 = 1 << 20;

/// What a figure measures; each role weighs the kinds that matter to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Coding,
    ToolUse,
    General,
    LongContext,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Coding,
        Kind::ToolUse,
        Kind::General,
        Kind::LongContext,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Coding => "coding",
            Kind::ToolUse => "tool_use",
            Kind::General => "general",
            Kind::LongContext => "long_context",
        }
    }

    /// Words for a sentence ("coding", "tool use", …).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Coding => "coding",
            Kind::ToolUse => "tool use",
            Kind::General => "general",
            Kind::LongContext => "long context",
        }
    }
}

/// Who published a figure: the model's maker (model card, paper, announcement), an independent
/// leaderboard that runs many models under one harness, or a third party quoting or measuring it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Maker,
    Leaderboard,
    #[default]
    ThirdParty,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Maker => "maker",
            SourceKind::Leaderboard => "leaderboard",
            SourceKind::ThirdParty => "third_party",
        }
    }

    /// Words for a listing.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Maker => "maker's card or paper",
            SourceKind::Leaderboard => "independent leaderboard",
            SourceKind::ThirdParty => "third party",
        }
    }
}

/// What makes two figures comparable: the same kind, benchmark, variant, harness and reasoning
/// effort. Figures are ranked only against figures of the same setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Setting<'a> {
    pub kind: Kind,
    pub benchmark: &'a str,
    pub variant: Option<&'a str>,
    pub harness: Option<&'a str>,
    pub effort: Option<&'a str>,
}

/// One published figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub kind: Kind,
    /// The benchmark's name without its variant: `SWE-bench Verified`, `τ²-bench`, `BFCL`.
    pub benchmark: String,
    /// The benchmark's version, split or window: `Retail`, `v3`, `v6 (2025-02 to 2025-05)`.
    pub variant: Option<String>,
    /// The scaffold or harness the model ran in: `mini-SWE-agent (bash only)`, `OpenHands`.
    pub harness: Option<String>,
    /// The reasoning effort or mode: `high`, `medium`, `thinking`.
    pub effort: Option<String>,
    pub source_kind: SourceKind,
    /// The published percentage in hundredths (67.0 % → 6700), so comparisons are exact.
    pub value_centi: u32,
    pub note: Option<String>,
    /// Who published it (model card, blog post, paper title, leaderboard).
    pub source: String,
    /// Where it was read.
    pub url: Option<String>,
    /// When it was published: `YYYY-MM-DD` or `YYYY-MM`.
    pub date: String,
}

impl Figure {
    /// `67.0%`, `60.47%`.
    pub fn value_text(&self) -> String {
        let v = self.value_centi;
        if v.is_multiple_of(10) {
            format!("{}.{}%", v / 100, (v % 100) / 10)
        } else {
            format!("{}.{:02}%", v / 100, v % 100)
        }
    }

    /// The figures this one is ranked against share this.
    pub fn setting(&self) -> Setting<'_> {
        Setting {
            kind: self.kind,
            benchmark: &self.benchmark,
            variant: self.variant.as_deref(),
            harness: self.harness.as_deref(),
            effort: self.effort.as_deref(),
        }
    }

    /// The benchmark with its variant: `τ²-bench Retail`.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) => format!("{} {v}", self.benchmark),
            None => self.benchmark.clone(),
        }
    }

    /// The harness and effort in words (`harness OpenHands, effort high`), empty when neither is known.
    pub fn setting_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = &self.harness {
            parts.push(format!("harness {h}"));
        }
        if let Some(e) = &self.effort {
            parts.push(format!("effort {e}"));
        }
        parts.join(", ")
    }

    /// `SWE-bench Verified 67.0% [harness OpenHands; maker's card or paper] (Qwen3-Coder blog, 2025-07-22)`.
    pub fn describe(&self) -> String {
        let setting = self.setting_text();
        let setting = if setting.is_empty() {
            self.source_kind.label().to_string()
        } else {
            format!("{setting}; {}", self.source_kind.label())
        };
        let note = self
            .note
            .as_deref()
            .map(|n| format!(", {n}"))
            .unwrap_or_default();
        format!(
            "{} {} [{setting}]{note} ({}, {})",
            self.label(),
            self.value_text(),
            self.source,
            self.date
        )
    }
}

/// A model family and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Family {
    /// The canonical slug (see [`canonical_slug`]).
    pub id: String,
    pub name: String,
    pub figures: Vec<Figure>,
    /// `embedded` or `imported`.
    pub origin: &'static str,
}

/// All families, by canonical id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvalData {
    /// The newest `updated` date among the merged files.
    pub updated: String,
    pub families: BTreeMap<String, Family>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(
        "{file}: not a valid evaluation data file: {problem}; see data/model_evals.yaml for the format"
    )]
    Invalid { file: String, problem: String },
    #[error(
        "cannot read {file}: {reason}; pass the path of a YAML file in the format of data/model_evals.yaml"
    )]
    Read { file: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The id a catalog model is matched by: lower case, without `:free` (or any `:variant`) and without
/// trailing date parts (`-2507`, `-0528`, `-20250722`, `-2025-07-22`).
pub fn canonical_slug(id: &str) -> String {
    let id = id.trim();
    let id = id.split_once(':').map_or(id, |(a, _)| a);
    let mut s = id.to_ascii_lowercase();
    while let Some((head, tail)) = s.rsplit_once('-') {
        let digits = tail.len() >= 2 && tail.bytes().all(|b| b.is_ascii_digit());
        // A trailing all-digit part is a date (or part of one) when it has 4 or 8 digits, or when
        // it is the month/day of a `-YYYY-MM-DD` date.
        let is_date = digits
            && (tail.len() == 4
                || tail.len() == 8
                || (tail.len() == 2
                    && head.rsplit_once('-').is_some_and(|(_, t)| {
                        t.bytes().all(|b| b.is_ascii_digit()) && (t.len() == 2 || t.len() == 4)
                    })));
        if !is_date || head.is_empty() || !head.contains('/') {
            break;
        }
        s.truncate(head.len());
    }
    s
}

impl EvalData {
    /// `other`'s families replace these (by id); the newer `updated` date is kept.
    pub fn merged(mut self, other: EvalData) -> EvalData {
        if other.updated > self.updated {
            self.updated = other.updated;
        }
        self.families.extend(other.families);
        self
    }

    /// The family of a catalog id, if it has figures.
    pub fn family_of(&self, model_id: &str) -> Option<&Family> {
        self.families.get(&canonical_slug(model_id))
    }

    /// Figure count over all families.
    pub fn figure_count(&self) -> usize {
        self.families.values().map(|f| f.figures.len()).sum()
    }
}

/// The embedded data, parsed once per process.
pub fn embedded() -> Arc<EvalData> {
    static DATA: OnceLock<Arc<EvalData>> = OnceLock::new();
    DATA.get_or_init(|| {
        Arc::new(
            parse(EMBEDDED_EVALS_YAML, "data/model_evals.yaml", "embedded")
                .expect("the embedded evaluation data is valid (checked by tests)"),
        )
    })
    .clone()
}

/// The data the scorer uses: the embedded file merged with an imported one, if any.
pub async fn load(store: &Store) -> Result<Arc<EvalData>, EvalError> {
    match store.setting(SETTING_IMPORTED).await? {
        None => Ok(embedded()),
        Some(text) => {
            let imported = parse(&text, "the imported evaluation data", "imported")?;
            Ok(Arc::new((*embedded()).clone().merged(imported)))
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// Families in the file.
    pub families: usize,
    pub figures: usize,
    /// Families that were not in the data before.
    pub added: Vec<String>,
    /// Families whose figures the file replaced.
    pub replaced: Vec<String>,
}

/// Validates `path` and merges it into the imported data (one settings row, written at once): on any
/// error nothing changes.
pub async fn import(store: &Store, path: &Path) -> Result<ImportReport, EvalError> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| EvalError::Read {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(invalid(
            &file,
            format!(
                "{} bytes is over the {MAX_IMPORT_BYTES}-byte limit",
                meta.len()
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::Read {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    let new = parse(&text, &file, "imported")?;
    let before = load(store).await?;
    // Families imported earlier and not in this file stay imported.
    let previous = match store.setting(SETTING_IMPORTED).await? {
        Some(t) => parse(&t, "the imported evaluation data", "imported")?,
        None => EvalData::default(),
    };
    let (mut added, mut replaced) = (Vec::new(), Vec::new());
    for id in new.families.keys() {
        if before.families.contains_key(id) {
            replaced.push(id.clone());
        } else {
            added.push(id.clone());
        }
    }
    let report = ImportReport {
        families: new.families.len(),
        figures: new.figure_count(),
        added,
        replaced,
    };
    let merged = previous.merged(new);
    store
        .set_setting(SETTING_IMPORTED, &to_yaml(&merged))
        .await?;
    Ok(report)
}

/// A lookup from catalog ids to families that avoids allocating for ids with no figures: the
/// canonical slug is compared as a slice of the id.
#[derive(Debug, Clone, Default)]
pub struct Index<'a> {
    by_slug: HashMap<&'a str, &'a Family, crate::domain::scoring::capability::FnvBuild>,
}

impl<'a> Index<'a> {
    pub fn new(data: &'a EvalData) -> Index<'a> {
        Index {
            by_slug: data.families.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_slug.is_empty()
    }

    /// The family of `model_id`; fast for the usual lower-case id with or without `:free`.
    pub fn get(&self, model_id: &str) -> Option<&'a Family> {
        let base = model_id.split_once(':').map_or(model_id, |(a, _)| a);
        if base
            .bytes()
            .any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())
        {
            return self.by_slug.get(canonical_slug(model_id).as_str()).copied();
        }
        if let Some(f) = self.by_slug.get(base) {
            return Some(f);
        }
        // Only an id ending in digits can carry a date suffix.
        if base.bytes().last().is_some_and(|b| b.is_ascii_digit()) {
            let c = canonical_slug(base);
            if c.len() != base.len() {
                return self.by_slug.get(c.as_str()).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::file::valid_date;
    use super::*;

    #[test]
    fn slugs_ignore_free_and_dates() {
        assert_eq!(canonical_slug("qwen/qwen3-coder:free"), "qwen/qwen3-coder");
        assert_eq!(
            canonical_slug("qwen/qwen3-235b-a22b-thinking-2507"),
            "qwen/qwen3-235b-a22b-thinking"
        );
        assert_eq!(
            canonical_slug("deepseek/deepseek-r1-0528:free"),
            "deepseek/deepseek-r1"
        );
        assert_eq!(canonical_slug("openai/gpt-4o-2024-11-20"), "openai/gpt-4o");
        assert_eq!(canonical_slug("x/model-20250722"), "x/model");
        assert_eq!(canonical_slug("openai/gpt-oss-120b"), "openai/gpt-oss-120b");
        assert_eq!(
            canonical_slug("Meta-Llama/Llama-3.3-70B-Instruct"),
            "meta-llama/llama-3.3-70b-instruct"
        );
        assert_eq!(
            canonical_slug("google/gemma-3n-e4b-it"),
            "google/gemma-3n-e4b-it"
        );
    }

    #[test]
    fn the_embedded_data_is_valid_and_every_figure_has_a_source_and_date() {
        let d = embedded();
        assert!(d.families.len() >= 10);
        for f in d.families.values() {
            for g in &f.figures {
                assert!(
                    !g.source.is_empty() && valid_date(&g.date),
                    "{} {}",
                    f.id,
                    g.benchmark
                );
                assert!(g.value_centi <= 10_000);
            }
        }
    }

    #[test]
    fn the_index_finds_free_and_dated_variants() {
        let d = embedded();
        let idx = Index::new(&d);
        assert_eq!(
            idx.get("qwen/qwen3-coder:free").unwrap().id,
            "qwen/qwen3-coder"
        );
        assert_eq!(
            idx.get("qwen/qwen3-235b-a22b-thinking-2507").unwrap().id,
            "qwen/qwen3-235b-a22b-thinking"
        );
        assert!(idx.get("openrouter/owl-alpha").is_none());
        assert!(idx.get("QWEN/Qwen3-Coder:free").is_some());
    }

    #[test]
    fn bad_files_are_refused_with_the_problem_named() {
        let bad = [
            ("updated: \"x\"\nfamilies: []\n", "not a date"),
            (
                "updated: \"2026-01-01\"\nfamilies:\n  - id: \"a/b:free\"\n    name: n\n    figures: []\n",
                "canonical slug",
            ),
            (
                "updated: \"2026-01-01\"\nfamilies:\n  - id: \"a/b\"\n    name: n\n    figures:\n      - {kind: coding, benchmark: x, value: 140, source: s, date: \"2026-01\"}\n",
                "percentage",
            ),
            (
                "updated: \"2026-01-01\"\nfamilies:\n  - id: \"a/b\"\n    name: n\n    figures:\n      - {kind: coding, benchmark: x, value: 40, source: \"\", date: \"2026-01\"}\n",
                "no source",
            ),
            (
                "updated: \"2026-01-01\"\nfamilies:\n  - id: \"a/b\"\n    name: n\n    figures:\n      - {kind: vibes, benchmark: x, value: 40, source: s, date: \"2026-01\"}\n",
                "vibes",
            ),
            ("{", "not a valid"),
        ];
        for (text, want) in bad {
            let e = parse(text, "f.yaml", "imported").unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("f.yaml"), "{e}");
        }
    }

    #[test]
    fn yaml_round_trip_keeps_the_data() {
        let d = (*embedded()).clone();
        let back = parse(&to_yaml(&d), "x", "embedded").unwrap();
        assert_eq!(back, d);
    }
}
