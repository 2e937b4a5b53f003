//! The TUI's compact copy of the catalog: one [`ModelRow`] per model with exactly the fields the TUI
//! shows, filters and scores on. The prepared fuzzy haystack (`id name`) doubles as the storage of the id
//! and the name, and the values that repeat across models (prices, parameter lists, modalities) are
//! shared, so a 100,000-model catalog stays small. [`ModelRow::to_model`] rebuilds a `Model` that scores
//! exactly like the original (a test checks this against the whole embedded catalog).

use crate::domain::catalog::Model;
use nucleo::Utf32String;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

const FREE: u8 = 1;
const TOOLS: u8 = 2;
const VISION: u8 = 4;
const REASONING: u8 = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRow {
    /// `id name`: the fuzzy haystack, and where the id and name are read from.
    pub hay: Utf32String,
    /// Length of the id in characters.
    id_chars: u32,
    pub context_length: u64,
    pub created: i64,
    prompt_price: Arc<str>,
    completion_price: Arc<str>,
    supported_parameters: Arc<[String]>,
    input_modalities: Arc<[String]>,
    output_modalities: Arc<[String]>,
    expiration_date: Option<Arc<str>>,
    flags: u8,
}

fn text_of(h: &Utf32String, from: usize, to: usize) -> Cow<'_, str> {
    match h {
        Utf32String::Ascii(s) => Cow::Borrowed(&s[from..to]),
        Utf32String::Unicode(chars) => Cow::Owned(chars[from..to].iter().collect()),
    }
}

impl ModelRow {
    pub fn id(&self) -> Cow<'_, str> {
        text_of(&self.hay, 0, self.id_chars as usize)
    }
    pub fn name(&self) -> Cow<'_, str> {
        let len = self.hay.len();
        text_of(&self.hay, (self.id_chars as usize + 1).min(len), len)
    }
    /// Id length in characters (the name starts one character later in the haystack).
    pub fn id_chars(&self) -> u32 {
        self.id_chars
    }
    pub fn is_free(&self) -> bool {
        self.flags & FREE != 0
    }
    pub fn supports_tools(&self) -> bool {
        self.flags & TOOLS != 0
    }
    pub fn supports_vision(&self) -> bool {
        self.flags & VISION != 0
    }
    pub fn supports_reasoning(&self) -> bool {
        self.flags & REASONING != 0
    }
    /// Prompt price in USD per million tokens (`None` when variable or unreadable).
    pub fn prompt_per_million(&self) -> Option<f64> {
        match self.prompt_price.trim().parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => Some(v * 1_000_000.0),
            _ => None,
        }
    }

    /// True when the catalog gave no readable prompt price (not free, not a router: unknown).
    pub fn price_unknown(&self) -> bool {
        self.prompt_price.trim().is_empty()
    }

    /// A `Model` with every field scoring reads (description, slugs and knowledge cutoff are not kept).
    pub fn to_model(&self) -> Model {
        Model {
            id: self.id().into_owned(),
            name: self.name().into_owned(),
            canonical_slug: None,
            hugging_face_id: None,
            description: String::new(),
            created: self.created,
            context_length: self.context_length,
            max_completion_tokens: None,
            input_modalities: self.input_modalities.to_vec(),
            output_modalities: self.output_modalities.to_vec(),
            prompt_price: self.prompt_price.to_string(),
            completion_price: self.completion_price.to_string(),
            supported_parameters: self.supported_parameters.to_vec(),
            knowledge_cutoff: None,
            expiration_date: self.expiration_date.as_deref().map(str::to_string),
        }
    }
}

#[derive(Default)]
struct Interner {
    strs: HashMap<String, Arc<str>>,
    lists: HashMap<Vec<String>, Arc<[String]>>,
}

impl Interner {
    fn str(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.strs.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.strs.insert(s.to_string(), a.clone());
        a
    }
    fn list(&mut self, l: &[String]) -> Arc<[String]> {
        if let Some(a) = self.lists.get(l) {
            return a.clone();
        }
        let a: Arc<[String]> = Arc::from(l.to_vec());
        self.lists.insert(l.to_vec(), a.clone());
        a
    }
}

/// Compacts a catalog (same order).
pub fn build(models: &[Model]) -> Vec<ModelRow> {
    let mut i = Interner::default();
    models
        .iter()
        .map(|m| {
            let mut flags = 0;
            if m.is_free() {
                flags |= FREE;
            }
            if m.supports_tools() {
                flags |= TOOLS;
            }
            if m.supports_vision() {
                flags |= VISION;
            }
            if m.supports_reasoning() {
                flags |= REASONING;
            }
            ModelRow {
                hay: Utf32String::from(format!("{} {}", m.id, m.name).as_str()),
                id_chars: m.id.chars().count() as u32,
                context_length: m.context_length,
                created: m.created,
                prompt_price: i.str(&m.prompt_price),
                completion_price: i.str(&m.completion_price),
                supported_parameters: i.list(&m.supported_parameters),
                input_modalities: i.list(&m.input_modalities),
                output_modalities: i.list(&m.output_modalities),
                expiration_date: m.expiration_date.as_deref().map(|e| i.str(e)),
                flags,
            }
        })
        .collect()
}

/// The row with this id (rows are in catalog order, sorted by id).
pub fn find<'a>(rows: &'a [ModelRow], id: &str) -> Option<&'a ModelRow> {
    match rows.binary_search_by(|r| r.id().as_ref().cmp(id)) {
        Ok(i) => rows.get(i),
        Err(_) => rows.iter().find(|r| r.id() == id),
    }
}

/// Gives memory freed after a large load back to the operating system (glibc keeps it otherwise).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free pages to the kernel; it touches no live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roles::Role;
    use crate::domain::scoring::{self, Health, ScoringConfig};

    #[test]
    fn rows_score_and_filter_exactly_like_the_models() {
        let models = crate::domain::catalog::embedded().models;
        let rows = build(&models);
        let mut cfg = ScoringConfig::at(chrono::Utc::now());
        cfg.recency_reference = scoring::newest_created(&models);
        let health = Health::default();
        for (m, r) in models.iter().zip(&rows) {
            assert_eq!(r.id(), m.id);
            assert_eq!(r.name(), m.name);
            assert_eq!(r.is_free(), m.is_free());
            assert_eq!(r.supports_tools(), m.supports_tools());
            assert_eq!(r.supports_vision(), m.supports_vision());
            assert_eq!(r.prompt_per_million(), m.prompt_per_million());
            let back = r.to_model();
            for role in Role::ALL {
                assert_eq!(
                    scoring::score(&back, role, &health, &cfg),
                    scoring::score(m, role, &health, &cfg),
                    "{} {role}",
                    m.id
                );
            }
            assert_eq!(
                find(&rows, &m.id).map(|x| x.id()),
                Some(m.id.as_str().into())
            );
        }
    }
}
