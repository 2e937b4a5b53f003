//! The catalog as every surface lists it: [`ModelList`], a compact copy of the catalog (one
//! [`ListedModel`] per model, the values that repeat across models interned), filtered with
//! [`catalog::Filter`], searched with nucleo ([`Search`]: one prepared `id name` haystack per model,
//! `Pattern::parse(q, Smart, Smart)`, best score first, ties in catalog order), labelled with the one
//! price label ([`catalog::price_label`]) and the one token format ([`tokens_label`]), and scored per
//! role once per catalog ([`ModelList::scores`]). Tab 2, the wizard's picker, the slot pickers, the web
//! models and switch pages, `nxr upgrade`'s prompt and `nxr models list --query` all read it, so one
//! query gives one list everywhere. It never renders anything.

use crate::domain::base::roles::Role;
use crate::domain::catalog::{self, Filter, Model};
use crate::domain::scoring::{self, Health, ModelScore, ScoringConfig};
use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use nucleo::{Matcher, Utf32String};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

const FREE: u8 = 1;
const TOOLS: u8 = 2;
const VISION: u8 = 4;
const REASONING: u8 = 8;
const ROUTER: u8 = 16;
/// The catalog description says the provider logs prompts (the description itself is not kept).
const LOGS_PROMPTS: u8 = 32;

pub use crate::domain::catalog::tokens_label;

/// One model of a [`ModelList`]: exactly the fields the surfaces show, filter, search and score on.
/// The fuzzy haystack (`id name`) doubles as the storage of the id and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedModel {
    hay: Utf32String,
    id_chars: u32,
    pub context_length: u64,
    /// Unix seconds.
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

fn per_million(p: &str) -> Option<f64> {
    match p.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Some(v * 1_000_000.0),
        _ => None,
    }
}

impl ListedModel {
    pub fn id(&self) -> Cow<'_, str> {
        text_of(&self.hay, 0, self.id_chars as usize)
    }
    pub fn name(&self) -> Cow<'_, str> {
        let len = self.hay.len();
        text_of(&self.hay, (self.id_chars as usize + 1).min(len), len)
    }
    /// The fuzzy haystack: `id name`.
    pub fn hay(&self) -> &Utf32String {
        &self.hay
    }
    /// Id length in characters (the name starts one character later in the haystack).
    pub fn id_chars(&self) -> u32 {
        self.id_chars
    }
    pub fn is_free(&self) -> bool {
        self.flags & FREE != 0
    }
    pub fn is_router(&self) -> bool {
        self.flags & ROUTER != 0
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
        per_million(&self.prompt_price)
    }
    pub fn completion_per_million(&self) -> Option<f64> {
        per_million(&self.completion_price)
    }
    /// The one price label ("free", "$0.15 / $0.6", "variable (router)", "price unknown").
    pub fn price_label(&self) -> String {
        catalog::price_label(
            self.is_router(),
            self.is_free(),
            self.prompt_per_million(),
            self.completion_per_million(),
        )
    }
    /// The context length in the one token format.
    pub fn context_label(&self) -> String {
        tokens_label(self.context_length)
    }
    /// Whether the catalog [`Filter`] keeps this model (the same rule as [`Filter::matches`]).
    pub fn admitted_by(&self, filter: &Filter) -> bool {
        filter.admits(
            self.is_free(),
            self.supports_tools(),
            self.supports_vision(),
            self.context_length,
        )
    }

    /// What to know about the model before running an agent on it (see [`crate::domain::scoring::caveats`]),
    /// with the expiry measured from `now` (unix seconds).
    pub fn caveats(&self, now: Option<i64>) -> Vec<crate::domain::scoring::caveats::Caveat> {
        crate::domain::scoring::caveats::caveats(&self.to_model(), now)
    }

    /// A `Model` with every field scoring reads (slugs and knowledge cutoff are not kept; the
    /// description is reduced to whether the provider logs prompts).
    pub fn to_model(&self) -> Model {
        Model {
            id: self.id().into_owned(),
            name: self.name().into_owned(),
            canonical_slug: None,
            hugging_face_id: None,
            description: if self.flags & LOGS_PROMPTS != 0 {
                crate::domain::scoring::caveats::LOGGING_NOTICE.to_string()
            } else {
                String::new()
            },
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

/// The compact, scored catalog (same order as the models it was built from).
#[derive(Debug, Clone)]
pub struct ModelList {
    rows: Vec<ListedModel>,
    health: Health,
    cfg: ScoringConfig,
    /// Every model's score per role, computed the first time a role is asked for.
    scores: [OnceLock<Vec<ModelScore>>; Role::ALL.len()],
}

impl ModelList {
    /// Compacts `models` (kept in their order) with the scoring inputs to judge them by.
    pub fn new(models: &[Model], health: Health, cfg: ScoringConfig) -> ModelList {
        let mut i = Interner::default();
        let rows = models
            .iter()
            .map(|m| {
                let flags = [
                    (m.is_free(), FREE),
                    (m.supports_tools(), TOOLS),
                    (m.supports_vision(), VISION),
                    (
                        crate::domain::scoring::caveats::logs_prompts(m),
                        LOGS_PROMPTS,
                    ),
                    (m.supports_reasoning(), REASONING),
                    (m.is_router(), ROUTER),
                ]
                .iter()
                .filter(|(on, _)| *on)
                .fold(0, |acc, (_, bit)| acc | bit);
                ListedModel {
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
            .collect();
        ModelList {
            rows,
            health,
            cfg,
            scores: Default::default(),
        }
    }

    /// A list scored with the default settings at `now` (no observed health).
    pub fn unscored(models: &[Model], now: chrono::DateTime<chrono::Utc>) -> ModelList {
        ModelList::new(
            models,
            Health::default(),
            ScoringConfig::for_catalog(models, now),
        )
    }

    /// A list to search and label only (scored, if ever asked, with the default settings and no
    /// time reference).
    pub fn for_search(models: &[Model]) -> ModelList {
        ModelList::new(models, Health::default(), ScoringConfig::default())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn rows(&self) -> &[ListedModel] {
        &self.rows
    }
    pub fn get(&self, i: u32) -> Option<&ListedModel> {
        self.rows.get(i as usize)
    }
    pub fn health(&self) -> &Health {
        &self.health
    }
    pub fn cfg(&self) -> &ScoringConfig {
        &self.cfg
    }

    /// The position of the model with this id (catalogs are sorted by id; any order still works).
    pub fn position(&self, id: &str) -> Option<u32> {
        match self.rows.binary_search_by(|r| r.id().as_ref().cmp(id)) {
            Ok(i) => Some(i as u32),
            Err(_) => self
                .rows
                .iter()
                .position(|r| r.id() == id)
                .map(|i| i as u32),
        }
    }

    pub fn find(&self, id: &str) -> Option<&ListedModel> {
        self.position(id).and_then(|i| self.get(i))
    }

    /// Every model's score for `role` (computed once per list, then shared).
    pub fn scores(&self, role: Role) -> &[ModelScore] {
        let slot = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
        self.scores[slot].get_or_init(|| self.rows.iter().map(|r| self.score_of(r, role)).collect())
    }

    /// The score of the model at `i` for `role`, from [`Self::scores`].
    pub fn score(&self, i: u32, role: Role) -> Option<&ModelScore> {
        self.scores(role).get(i as usize)
    }

    /// One model's score for `role`, computed now (for a detail pane: no per-role pass over the list).
    pub fn score_of(&self, m: &ListedModel, role: Role) -> ModelScore {
        scoring::score(&m.to_model(), role, &self.health, &self.cfg)
    }

    /// The score of the model with this id for `role`, computed now.
    pub fn score_id(&self, id: &str, role: Role) -> Option<ModelScore> {
        self.find(id).map(|m| self.score_of(m, role))
    }

    /// The positions the filter keeps, in catalog order.
    pub fn admitted(&self, filter: &Filter) -> Vec<u32> {
        (0..self.rows.len() as u32)
            .filter(|&i| self.rows[i as usize].admitted_by(filter))
            .collect()
    }

    /// The positions the filter keeps and the fuzzy query matches: best match first (ties in catalog
    /// order); catalog order when the query is empty.
    pub fn search(&self, query: &str, filter: &Filter) -> Vec<u32> {
        let mut s = Search::default();
        s.run(self, query, filter);
        s.hits().iter().map(|&(i, _)| i).collect()
    }
}

thread_local! {
    static HIGHLIGHT_MATCHER: RefCell<Matcher> = RefCell::new(Matcher::default());
}

/// A search that is typed one keystroke at a time: when the query only grows, it narrows the last
/// matches instead of matching the whole list again (the result is the same).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pattern: Pattern,
    matcher: Matcher,
    query: String,
    filter: Filter,
    /// (position, match score) in relevance order.
    hits: Vec<(u32, u32)>,
    list_len: usize,
    /// False until the first run and after [`Self::reset`].
    valid: bool,
}

impl Search {
    /// Forget the last result (the list changed).
    pub fn reset(&mut self) {
        self.valid = false;
    }

    /// The matches of the last run: (position, match score), best first, ties in catalog order.
    pub fn hits(&self) -> &[(u32, u32)] {
        &self.hits
    }

    /// True when the last query had something to match (else every admitted model, score 0).
    pub fn is_fuzzy(&self) -> bool {
        !self.pattern.atoms.is_empty()
    }

    fn can_narrow(&self, list: &ModelList, query: &str, filter: &Filter) -> bool {
        const SPECIAL: &[char] = &['!', '^', '$', '\'', '\\', ' '];
        self.valid
            && !self.query.is_empty()
            && self.filter == *filter
            && self.list_len == list.len()
            && query.starts_with(&self.query)
            && !self.query.contains(SPECIAL)
            && !query.contains(SPECIAL)
    }

    /// Matches `query` over the models `filter` keeps.
    pub fn run(&mut self, list: &ModelList, query: &str, filter: &Filter) -> &[(u32, u32)] {
        let candidates: Vec<u32> = if self.can_narrow(list, query, filter) {
            std::mem::take(&mut self.hits)
                .into_iter()
                .map(|(i, _)| i)
                .collect()
        } else {
            list.admitted(filter)
        };
        self.pattern
            .reparse(query, CaseMatching::Smart, Normalization::Smart);
        let mut hits = if self.pattern.atoms.is_empty() {
            candidates.into_iter().map(|i| (i, 0)).collect()
        } else {
            score_all(&self.pattern, list.rows(), &candidates, &mut self.matcher)
        };
        hits.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.hits = hits;
        self.query = query.to_string();
        self.filter = *filter;
        self.list_len = list.len();
        self.valid = true;
        &self.hits
    }

    /// Sorted, de-duplicated character indices of the match in `id name` (empty without a query).
    pub fn highlight(&self, row: &ListedModel) -> Vec<u32> {
        if self.pattern.atoms.is_empty() {
            return Vec::new();
        }
        HIGHLIGHT_MATCHER.with(|m| {
            let mut indices = Vec::new();
            let _ = self
                .pattern
                .indices(row.hay.slice(..), &mut m.borrow_mut(), &mut indices);
            indices.sort_unstable();
            indices.dedup();
            indices
        })
    }
}

/// Scores candidates in parallel chunks (one matcher per thread) when the list is large.
fn score_all(
    pattern: &Pattern,
    rows: &[ListedModel],
    candidates: &[u32],
    matcher: &mut Matcher,
) -> Vec<(u32, u32)> {
    let score_chunk = |chunk: &[u32], m: &mut Matcher| -> Vec<(u32, u32)> {
        chunk
            .iter()
            .filter_map(|&i| {
                let h = &rows.get(i as usize)?.hay;
                pattern.score(h.slice(..), m).map(|s| (i, s))
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if candidates.len() < 20_000 || threads < 2 {
        return score_chunk(candidates, matcher);
    }
    let chunk = candidates.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = candidates
            .chunks(chunk)
            .skip(1)
            .map(|c| s.spawn(move || score_chunk(c, &mut Matcher::default())))
            .collect();
        let mut out = score_chunk(&candidates[..chunk.min(candidates.len())], matcher);
        for h in handles {
            if let Ok(part) = h.join() {
                out.extend(part);
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> (Vec<Model>, ModelList) {
        let models = catalog::embedded().models;
        let list = ModelList::unscored(&models, chrono::Utc::now());
        (models, list)
    }

    #[test]
    fn listed_models_score_filter_and_label_exactly_like_the_models() {
        let (models, list) = list();
        let filters = [
            Filter::default(),
            Filter {
                free: true,
                tools: true,
                vision: false,
                min_context: Some(64_000),
            },
            Filter {
                vision: true,
                ..Filter::default()
            },
        ];
        for (i, (m, r)) in models.iter().zip(list.rows()).enumerate() {
            assert_eq!(r.id(), m.id);
            assert_eq!(r.name(), m.name);
            assert_eq!(r.price_label(), m.price_label(), "{}", m.id);
            assert_eq!(r.prompt_per_million(), m.prompt_per_million());
            for f in &filters {
                assert_eq!(r.admitted_by(f), f.matches(m), "{} {f:?}", m.id);
            }
            for role in Role::ALL {
                let want = scoring::score(m, role, list.health(), list.cfg());
                assert_eq!(list.score(i as u32, role), Some(&want), "{} {role}", m.id);
            }
            assert_eq!(list.position(&m.id), Some(i as u32));
        }
    }

    #[test]
    fn typing_narrows_to_the_same_list_as_a_fresh_search() {
        let (models, list) = list();
        let mut typed = Search::default();
        let f = Filter::default();
        let mut q = String::new();
        for c in "qwen coder".chars() {
            q.push(c);
            typed.run(&list, &q, &f);
            assert_eq!(
                typed.hits().iter().map(|h| h.0).collect::<Vec<_>>(),
                list.search(&q, &f),
                "{q:?}"
            );
        }
        assert!(!typed.hits().is_empty() && typed.hits().len() < models.len());
        assert_eq!(list.search("", &f).len(), models.len());
        assert!(list.search("zzqqxxjj", &f).is_empty());
    }

    #[test]
    fn one_token_format() {
        assert_eq!(tokens_label(131_072), "131k");
        assert_eq!(tokens_label(1_048_576), "1M");
        assert_eq!(tokens_label(1_500_000), "1.5M");
        assert_eq!(tokens_label(512), "512");
    }
}
