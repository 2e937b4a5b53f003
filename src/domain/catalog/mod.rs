//! The OpenRouter model catalog: parsing (both the 2025 and 2026 response shapes), the fields nxr
//! scores on, and the embedded snapshot that is the default when the network is unreachable.

pub mod ollama;
pub mod openrouter;
pub mod ratelimit;

mod labels;
use labels::per_million;
pub use labels::{price_is_zero, price_label, tokens_label, trim_fast};

use crate::domain::base::clock::Clock;
use crate::domain::catalog::openrouter::{OpenRouterClient, OpenRouterError};
use crate::domain::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// The catalog snapshot compiled into the binary.
pub const EMBEDDED_CATALOG_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/catalog-2026-05-01.json"
));
/// The day the embedded snapshot was taken.
pub const EMBEDDED_CATALOG_DATE: &str = "2026-05-01";

/// One model, as nxr sees it: the parsed fields it filters and scores on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub canonical_slug: Option<String>,
    pub hugging_face_id: Option<String>,
    pub description: String,
    /// Unix seconds.
    pub created: i64,
    pub context_length: u64,
    pub max_completion_tokens: Option<u64>,
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    /// USD per token, as OpenRouter writes it ("" when missing or unreadable = unknown, never free;
    /// "-1" = variable, routers).
    pub prompt_price: String,
    pub completion_price: String,
    pub supported_parameters: Vec<String>,
    pub knowledge_cutoff: Option<String>,
    /// `YYYY-MM-DD` when OpenRouter has announced the model's removal.
    pub expiration_date: Option<String>,
}

/// Router ids: they pick another model per request, so they never win a ranking.
pub const ROUTER_IDS: &[&str] = &["openrouter/auto", "openrouter/free"];

impl Model {
    pub fn is_router(&self) -> bool {
        ROUTER_IDS.contains(&self.id.as_str()) || self.prompt_price.trim() == "-1"
    }

    /// Free: id ends in `:free`, or prompt and completion both parse as zero and it is not a router.
    /// A missing or unreadable price is unknown, so the model is not free.
    pub fn is_free(&self) -> bool {
        if self.id.ends_with(":free") {
            return true;
        }
        !self.is_router()
            && price_is_zero(&self.prompt_price)
            && price_is_zero(&self.completion_price)
    }

    pub fn supports(&self, parameter: &str) -> bool {
        self.supported_parameters.iter().any(|p| p == parameter)
    }

    pub fn supports_tools(&self) -> bool {
        self.supports("tools")
    }

    pub fn supports_tool_choice(&self) -> bool {
        self.supports("tool_choice")
    }

    pub fn supports_reasoning(&self) -> bool {
        self.supports("reasoning") || self.supports("include_reasoning")
    }

    pub fn supports_vision(&self) -> bool {
        self.input_modalities.iter().any(|m| m == "image")
    }

    pub fn has_text_output(&self) -> bool {
        self.output_modalities.iter().any(|m| m == "text")
    }

    /// Prompt price in USD per million tokens (`None` when unparseable or variable).
    pub fn prompt_per_million(&self) -> Option<f64> {
        per_million(&self.prompt_price)
    }

    pub fn completion_per_million(&self) -> Option<f64> {
        per_million(&self.completion_price)
    }

    /// The price as every surface shows it: "free", "variable (router)", "price unknown", or USD per
    /// million tokens, prompt / completion ("$0.15 / $0.6").
    pub fn price_label(&self) -> String {
        price_label(
            self.is_router(),
            self.is_free(),
            self.prompt_per_million(),
            self.completion_per_million(),
        )
    }
}

/// The result of parsing a `GET /models` body.
#[derive(Debug, Clone)]
pub struct ParsedCatalog {
    /// Sorted by id; duplicates keep the first entry.
    pub models: Vec<Model>,
    /// The raw JSON of each kept model, in the same order as `models`.
    pub raw: Vec<String>,
    /// Entries that were not usable model objects (counted, never a panic).
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogParseError {
    #[error("the catalog is not valid JSON ({0}); the last good catalog is kept")]
    NotJson(String),
    #[error("the catalog has no `data` array; the last good catalog is kept")]
    NoData,
    #[error(
        "the catalog holds no usable model ({skipped} entries skipped); the last good catalog is kept"
    )]
    Empty { skipped: usize },
}

/// Parses a `{"data": [...]}` body. Bad entries are skipped and counted.
pub fn parse_catalog(body: &str) -> Result<ParsedCatalog, CatalogParseError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| CatalogParseError::NotJson(e.to_string()))?;
    let entries = value
        .get("data")
        .and_then(|d| d.as_array())
        .ok_or(CatalogParseError::NoData)?;
    let mut pairs: Vec<(Model, String)> = Vec::with_capacity(entries.len());
    let mut skipped = 0;
    for entry in entries {
        match parse_model(entry) {
            Some(m) => pairs.push((m, entry.to_string())),
            None => skipped += 1,
        }
    }
    pairs.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let before = pairs.len();
    pairs.dedup_by(|a, b| a.0.id == b.0.id);
    skipped += before - pairs.len();
    if pairs.is_empty() {
        return Err(CatalogParseError::Empty { skipped });
    }
    let (models, raw) = pairs.into_iter().unzip();
    Ok(ParsedCatalog {
        models,
        raw,
        skipped,
    })
}

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(|x| x.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn u64_field(v: Option<&serde_json::Value>) -> Option<u64> {
    let v = v?;
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    if let Some(f) = v.as_f64() {
        return (f.is_finite() && f >= 0.0).then_some(f as u64);
    }
    v.as_str().and_then(|s| s.trim().parse().ok())
}

fn str_list(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A price as OpenRouter wrote it; "" when it is missing or not a number (unknown: never free).
fn price(pricing: Option<&serde_json::Value>, key: &str) -> String {
    let text = match pricing.and_then(|p| p.get(key)) {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return String::new(),
    };
    if text.parse::<f64>().is_ok_and(f64::is_finite) {
        text
    } else {
        String::new()
    }
}

/// The one model-id rule: only ASCII letters, digits and `/ . _ : - @ ~ +`, at most 200 characters
/// (nothing that could break config.yaml, a shell or a page). The catalog skips ids that fail it,
/// and a user-given id is refused with the same rule.
pub fn is_valid_model_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._:-@~+".contains(c))
}

/// One model object → [`Model`], or `None` when it lacks a valid id (see [`is_valid_model_id`]) or a
/// usable context length.
pub fn parse_model(v: &serde_json::Value) -> Option<Model> {
    let id = str_field(v, "id")?;
    if !is_valid_model_id(&id) {
        return None;
    }
    let top = v.get("top_provider");
    let context_length = u64_field(v.get("context_length"))
        .or_else(|| u64_field(top.and_then(|t| t.get("context_length"))))?;
    let arch = v.get("architecture");
    let mut input_modalities = str_list(arch.and_then(|a| a.get("input_modalities")));
    let mut output_modalities = str_list(arch.and_then(|a| a.get("output_modalities")));
    // 2025-era entries may carry only `modality: "text+image->text"`.
    if let Some(modality) = arch
        .and_then(|a| a.get("modality"))
        .and_then(|m| m.as_str())
        && let Some((inp, out)) = modality.split_once("->")
    {
        if input_modalities.is_empty() {
            input_modalities = inp.split('+').map(str::to_string).collect();
        }
        if output_modalities.is_empty() {
            output_modalities = out.split('+').map(str::to_string).collect();
        }
    }
    let pricing = v.get("pricing");
    let created = v
        .get("created")
        .and_then(|c| c.as_i64().or_else(|| c.as_f64().map(|f| f as i64)))
        .unwrap_or(0);
    Some(Model {
        name: str_field(v, "name").unwrap_or_else(|| id.clone()),
        canonical_slug: str_field(v, "canonical_slug"),
        hugging_face_id: str_field(v, "hugging_face_id"),
        description: str_field(v, "description").unwrap_or_default(),
        created,
        context_length,
        max_completion_tokens: u64_field(top.and_then(|t| t.get("max_completion_tokens"))),
        input_modalities,
        output_modalities,
        prompt_price: price(pricing, "prompt"),
        completion_price: price(pricing, "completion"),
        supported_parameters: str_list(v.get("supported_parameters")),
        knowledge_cutoff: str_field(v, "knowledge_cutoff"),
        expiration_date: str_field(v, "expiration_date"),
        id,
    })
}

/// The embedded snapshot, parsed (once per process).
pub fn embedded() -> ParsedCatalog {
    static PARSED: std::sync::OnceLock<ParsedCatalog> = std::sync::OnceLock::new();
    PARSED
        .get_or_init(|| {
            // The snapshot is checked by a test; an error here would be a build defect, not user input.
            parse_catalog(EMBEDDED_CATALOG_JSON).unwrap_or(ParsedCatalog {
                models: Vec::new(),
                raw: Vec::new(),
                skipped: 0,
            })
        })
        .clone()
}

/// The catalog nxr works from, and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    /// Sorted by id.
    pub models: Vec<Model>,
    pub source: CatalogSource,
}

/// Where the catalog in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogSource {
    /// Fetched from OpenRouter and stored in the database.
    Stored {
        fetched_at: String,
        origin: String,
        /// Stored rows that no longer parse (damaged by hand or by a bug); they are left out.
        #[serde(default, skip_serializing_if = "is_zero")]
        unreadable: usize,
    },
    /// The snapshot compiled into nxr (no catalog fetched yet).
    Embedded { date: &'static str },
}

impl CatalogSource {
    /// One line for the user, e.g. "catalog: embedded snapshot of 2026-05-01".
    pub fn describe(&self) -> String {
        match self {
            CatalogSource::Embedded { date } => format!("catalog: embedded snapshot of {date}"),
            CatalogSource::Stored {
                fetched_at,
                origin,
                unreadable: 0,
            } => format!("catalog: OpenRouter, fetched {fetched_at} from {origin}"),
            CatalogSource::Stored {
                fetched_at,
                origin,
                unreadable,
            } => format!(
                "catalog: OpenRouter, fetched {fetched_at} from {origin} ({unreadable} stored rows unreadable and left out; run `nxr catalog refresh`)"
            ),
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, CatalogSource::Embedded { .. })
    }
}

impl Catalog {
    /// The snapshot compiled into nxr.
    pub fn embedded() -> Catalog {
        Catalog {
            models: embedded().models,
            source: CatalogSource::Embedded {
                date: EMBEDDED_CATALOG_DATE,
            },
        }
    }

    pub fn get(&self, id: &str) -> Option<&Model> {
        self.models
            .binary_search_by(|m| m.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.models[i])
    }
}

/// Which models a listing keeps. All conditions must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter {
    pub free: bool,
    pub tools: bool,
    pub vision: bool,
    pub min_context: Option<u64>,
}

impl Filter {
    pub fn matches(&self, m: &Model) -> bool {
        self.admits(
            m.is_free(),
            m.supports_tools(),
            m.supports_vision(),
            m.context_length,
        )
    }

    /// The rule itself, over the facts it reads (so a compact copy of a model filters the same way).
    pub fn admits(&self, free: bool, tools: bool, vision: bool, context_length: u64) -> bool {
        (!self.free || free)
            && (!self.tools || tools)
            && (!self.vision || vision)
            && self.min_context.is_none_or(|n| context_length >= n)
    }
}

impl Catalog {
    /// The models `filter` keeps, in id order.
    pub fn filter(&self, filter: &Filter) -> Vec<&Model> {
        self.models.iter().filter(|m| filter.matches(m)).collect()
    }
}

/// The stored catalog, or the embedded snapshot when none has been fetched yet.
pub async fn load(store: &Store) -> Result<Catalog, StoreError> {
    let conn = store.conn();
    let mut rows = conn
        .query(
            "SELECT source, fetched_at FROM catalog_meta WHERE id = 1",
            (),
        )
        .await?;
    let Some(row) = rows.next().await? else {
        return Ok(Catalog::embedded());
    };
    let origin: String = row.get(0)?;
    let fetched_at: String = row.get(1)?;
    drop(rows);
    let mut rows = conn
        .query("SELECT raw FROM catalog_models ORDER BY id", ())
        .await?;
    let mut models = Vec::new();
    let mut unreadable = 0;
    while let Some(row) = rows.next().await? {
        let raw: String = row.get(0)?;
        // Rows were parsed before they were stored; a row that no longer parses is left out and
        // counted, so the user is told.
        match serde_json::from_str::<serde_json::Value>(&raw)
            .ok()
            .and_then(|v| parse_model(&v))
        {
            Some(m) => models.push(m),
            None => unreadable += 1,
        }
    }
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "stored catalog rows that no longer parse were left out"
        );
    }
    if models.is_empty() {
        return Ok(Catalog::embedded());
    }
    models.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Catalog {
        models,
        source: CatalogSource::Stored {
            fetched_at,
            origin,
            unreadable,
        },
    })
}

/// Replaces the stored catalog with `parsed`, in one transaction (all rows or none).
pub async fn save(
    store: &Store,
    parsed: &ParsedCatalog,
    fetched_at: &str,
    origin: &str,
) -> Result<(), StoreError> {
    store
        .in_transaction(|tx| async move {
            tx.execute("DELETE FROM catalog_models", ()).await?;
            for (m, raw) in parsed.models.iter().zip(parsed.raw.iter()) {
                tx.execute(
                    "INSERT INTO catalog_models (id, name, context_length, created, prompt_price,
                        completion_price, is_free, supports_tools, supports_vision, expiration_date,
                        raw, fetched_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                    libsql::params![
                        m.id.as_str(),
                        m.name.as_str(),
                        i64::try_from(m.context_length).unwrap_or(i64::MAX),
                        m.created,
                        m.prompt_price.as_str(),
                        m.completion_price.as_str(),
                        m.is_free() as i64,
                        m.supports_tools() as i64,
                        m.supports_vision() as i64,
                        m.expiration_date.clone(),
                        raw.as_str(),
                        fetched_at
                    ],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO catalog_meta (id, source, fetched_at, model_count, skipped)
                 VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET source = excluded.source,
                    fetched_at = excluded.fetched_at, model_count = excluded.model_count,
                    skipped = excluded.skipped",
                libsql::params![
                    origin,
                    fetched_at,
                    parsed.models.len() as i64,
                    parsed.skipped as i64
                ],
            )
            .await?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Why a refresh did not replace the stored catalog (which is then unchanged).
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("catalog refresh failed, the stored catalog is unchanged: {0}")]
    Fetch(#[from] OpenRouterError),
    #[error("catalog refresh could not be stored (the previous catalog is kept): {0}")]
    Store(#[from] StoreError),
}

/// What a successful refresh did.
#[derive(Debug, Clone)]
pub struct RefreshReport {
    pub catalog: Catalog,
    /// Entries in the response that were not usable models.
    pub skipped: usize,
}

/// Fetches the catalog from OpenRouter, parses and stores it. On any error the stored catalog is
/// left as it was.
pub async fn refresh(store: &Store, client: &OpenRouterClient) -> Result<Catalog, RefreshError> {
    Ok(
        refresh_with_report(store, client, &crate::domain::base::clock::SystemClock)
            .await?
            .catalog,
    )
}

/// [`refresh`], with the clock injected and the skipped count reported.
pub async fn refresh_with_report(
    store: &Store,
    client: &OpenRouterClient,
    clock: &dyn Clock,
) -> Result<RefreshReport, RefreshError> {
    let parsed = client.models().await?;
    let fetched_at = crate::domain::base::clock::to_db(clock.now());
    save(store, &parsed, &fetched_at, client.base_url()).await?;
    tracing::info!(
        models = parsed.models.len(),
        skipped = parsed.skipped,
        "catalog refreshed"
    );
    Ok(RefreshReport {
        catalog: Catalog {
            models: parsed.models,
            source: CatalogSource::Stored {
                fetched_at,
                origin: client.base_url().to_string(),
                unreadable: 0,
            },
        },
        skipped: parsed.skipped,
    })
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
