//! Deterministic model scoring (DESIGN.md §4, docs/scoring.md). Pure: no I/O, no wall clock (the time
//! reference is `ScoringConfig::now`). Other modules use `score`, `best_free`, `best_paid`, `rank`,
//! `ModelScore`, `Pick`, `PickSource`, `Health` and `ScoringConfig`; none keeps its own copy of a rule.
//!
//! Every number is an integer: sub-scores are points 0–1000, the total is the weighted mean of the
//! sub-scores (floored), logarithms are computed in fixed point, so the same catalog gives the same
//! picks byte for byte on every machine. Ranking order: total desc, then context desc, then id asc.

use crate::domain::capability::{self, CapabilityTable, KindWeights};
use crate::domain::catalog::Model;
use crate::domain::evals::EvalData;
use crate::domain::roles::{Requirements, Role};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Observed health per model id (our failures, endpoint uptime). Missing = neutral.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// model id → success rate in permille (0–1000).
    pub success_permille: BTreeMap<String, u32>,
    /// model id → OpenRouter's endpoint uptime in permille (the best endpoint's last day).
    pub uptime_permille: BTreeMap<String, u32>,
}

/// The local model used when neither a free catalog model nor `openrouter/free` is available and
/// Ollama lists no Qwen model.
pub const DEFAULT_LOCAL_QWEN: &str = "qwen3:8b";
/// The router that is the first fallback.
pub const OPENROUTER_FREE: &str = "openrouter/free";
/// Reliability when nothing is known about a model.
pub const NEUTRAL_RELIABILITY: u32 = 500;
/// Capability points for the parameter count when it cannot be read from the id or name.
pub const NEUTRAL_PARAMS: u32 = 500;
/// Recency falls from 1000 (created today) to 0 over this many days.
pub const RECENCY_SPAN_DAYS: i64 = 730;
/// A model whose `expiration_date` is less than this far away never wins.
pub const EXPIRY_GUARD_SECS: i64 = 86_400;

/// How much each sub-score counts for a role. The total is `Σ weight × sub-score / Σ weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub context: u32,
    pub capability: u32,
    pub tools: u32,
    pub recency: u32,
    pub reliability: u32,
    pub price: u32,
}

impl Weights {
    /// The documented default table (docs/scoring.md). Each row sums to 100.
    pub const fn default_for(role: Role) -> Weights {
        let [context, capability, tools, recency, reliability, price] = match role {
            Role::Pm => [20, 30, 20, 10, 10, 10],
            Role::Engineer => [15, 45, 20, 5, 10, 5],
            Role::Hermes => [20, 30, 25, 10, 10, 5],
            Role::Creative => [10, 45, 0, 20, 15, 10],
            Role::Research => [35, 35, 5, 10, 10, 5],
            Role::Custom => [20, 30, 15, 15, 10, 10],
        };
        Weights {
            context,
            capability,
            tools,
            recency,
            reliability,
            price,
        }
    }

    pub fn sum(&self) -> u32 {
        self.context + self.capability + self.tools + self.recency + self.reliability + self.price
    }
}

/// Weights and overridable requirements (from settings), plus the time reference.
#[derive(Debug, Clone, Default)]
pub struct ScoringConfig {
    /// "Now" as unix seconds, for the expiry guard (and for recency when `recency_reference` is
    /// unset). `None`: any model with an announced expiration date is treated as expiring.
    pub now: Option<i64>,
    /// The time recency is measured from (unix seconds): the newest `created` in the catalog, so the
    /// same catalog gives the same scores on any day. `None`: `now`; both `None`: recency is neutral.
    pub recency_reference: Option<i64>,
    /// Per-role weight overrides; roles missing here use [`Weights::default_for`].
    pub weights: BTreeMap<Role, Weights>,
    /// Requirements of the `custom` role; `None` = [`Role::default_requirements`].
    pub custom: Option<Requirements>,
    /// Capability from published evaluation figures for the catalog being scored; `None`: every
    /// model's capability is the size estimate.
    pub capability: Option<Arc<CapabilityTable>>,
    /// Per-role overrides of how much each kind of figure counts; missing roles use
    /// [`KindWeights::default_for`].
    pub capability_kinds: BTreeMap<Role, KindWeights>,
}

impl ScoringConfig {
    /// The default table with `now` as the time reference.
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> ScoringConfig {
        ScoringConfig {
            now: Some(now.timestamp()),
            ..ScoringConfig::default()
        }
    }

    /// The default table for scoring `models` at `now`: recency is measured from the newest model,
    /// capability from the embedded evaluation figures.
    pub fn for_catalog(models: &[Model], now: chrono::DateTime<chrono::Utc>) -> ScoringConfig {
        ScoringConfig {
            recency_reference: newest_created(models),
            ..ScoringConfig::at(now)
        }
        .with_evals(models, &crate::domain::evals::embedded())
    }

    /// This config with the capability table of `models` built from `data` (call it after the
    /// requirements and the time reference are final: they decide which models pass the gates).
    pub fn with_evals(mut self, models: &[Model], data: &Arc<EvalData>) -> ScoringConfig {
        let table = CapabilityTable::build(models, data, &self, &self.capability_kinds);
        self.capability = Some(Arc::new(table));
        self
    }

    pub fn weights(&self, role: Role) -> Weights {
        self.weights
            .get(&role)
            .copied()
            .unwrap_or(Weights::default_for(role))
    }

    pub fn requirements(&self, role: Role) -> Requirements {
        match (role, self.custom) {
            (Role::Custom, Some(r)) => r,
            _ => role.default_requirements(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubScores {
    pub context: u32,
    pub capability: u32,
    pub tools: u32,
    pub recency: u32,
    pub reliability: u32,
    pub price: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelScore {
    pub model_id: String,
    pub role: Role,
    pub is_free: bool,
    /// False when a hard requirement failed (see reasons).
    pub passes: bool,
    pub total: u32,
    pub sub: SubScores,
    pub reasons: Vec<String>,
    /// The model's context length (the first tie-breaker after the total).
    pub context_length: u64,
}

/// Which link of the fallback chain a pick came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PickSource {
    /// The best qualifying model in the catalog.
    Ranked,
    /// No free model qualified: the `openrouter/free` router.
    OpenRouterFree,
    /// No router either: a local Qwen through Ollama.
    LocalOllama { pulled: bool },
}

impl PickSource {
    /// A short human label.
    pub fn label(&self) -> &'static str {
        match self {
            PickSource::Ranked => "ranked",
            PickSource::OpenRouterFree => "fallback: openrouter/free",
            PickSource::LocalOllama { pulled: true } => "fallback: local Ollama",
            PickSource::LocalOllama { pulled: false } => "fallback: local Ollama (not pulled)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pick {
    pub model_id: String,
    /// `openrouter` or `ollama`.
    pub provider: String,
    pub source: PickSource,
    /// Present when source is Ranked.
    pub score: Option<ModelScore>,
    pub warnings: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Integer helpers
// ---------------------------------------------------------------------------------------------

/// 1000 × log2(x), floored, in exact integer arithmetic (x ≥ 1; 0 maps to 0).
pub const fn log2_milli(x: u64) -> i64 {
    if x <= 1 {
        return 0;
    }
    let n = x.ilog2();
    // y in [2^40, 2^41): x normalised to [1, 2) in Q40. y stays below 2^41, so it fits a u64 and
    // y² (< 2^82) is one widening 64×64→128 multiply.
    const Q: u32 = 40;
    let mut y: u64 = (((x as u128) << Q) >> n) as u64;
    let mut frac: u64 = 0;
    const BITS: u32 = 20;
    let mut i = 0;
    while i < BITS {
        y = (((y as u128) * (y as u128)) >> Q) as u64;
        if y >= (2u64 << Q) {
            y >>= 1;
            frac |= 1 << (BITS - 1 - i);
        }
        i += 1;
    }
    n as i64 * 1000 + ((frac * 1000) >> BITS) as i64
}

const LOG2_ONE_BILLION_IN_MILLIONS: i64 = log2_milli(1000);

fn clamp_points(v: i64) -> u32 {
    v.clamp(0, 1000) as u32
}

/// The newest `created` in a catalog (the recency reference).
pub fn newest_created(models: &[Model]) -> Option<i64> {
    models.iter().map(|m| m.created).max()
}

/// Parameter counts read from a model id or name, in millions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Params {
    pub total_millions: u64,
    /// Active parameters of a mixture-of-experts model (`a12b`).
    pub active_millions: Option<u64>,
}

impl Params {
    /// The size capability is judged on: total, or √(total × active) for a mixture of experts.
    pub fn effective_millions(&self) -> u64 {
        match self.active_millions {
            Some(a) if a > 0 && a < self.total_millions => (self.total_millions * a).isqrt(),
            _ => self.total_millions,
        }
    }
}

/// `"1.2"` → 1200 (thousandths), at most three decimals.
fn parse_decimal_milli(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 9 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 3 {
        return None;
    }
    let mut v: u64 = int.parse().ok()?;
    v *= 1000;
    let mut scale = 100;
    for b in frac.bytes() {
        v += (b - b'0') as u64 * scale;
        scale /= 10;
    }
    Some(v)
}

/// One token → (millions, kind). Kinds: total (`70b`, `1.2b`, `1t`, `350m`, `e4b`), active (`a12b`),
/// experts (`8x7b`).
fn parse_param_token(tok: &str) -> Option<(u64, bool)> {
    let (body, unit) = match tok.as_bytes().last()? {
        b'b' => (&tok[..tok.len() - 1], 1_000u64),
        b't' => (&tok[..tok.len() - 1], 1_000_000u64),
        b'm' => (&tok[..tok.len() - 1], 1u64),
        _ => return None,
    };
    let (body, active) = if let Some(rest) = body.strip_prefix('a') {
        (rest, true)
    } else if let Some(rest) = body.strip_prefix('e') {
        (rest, false)
    } else {
        (body, false)
    };
    if let Some((n, each)) = body.split_once('x') {
        let n = parse_decimal_milli(n)?;
        let each = parse_decimal_milli(each)?;
        return Some((n / 1000 * each * unit / 1000, active));
    }
    let v = parse_decimal_milli(body)?;
    let millions = v * unit / 1000;
    (millions > 0).then_some((millions, active))
}

/// Reads the parameter count from an id or name: `70b`, `405b`, `120b-a12b` (MoE: total 120B, active
/// 12B), `e4b`, `1.2b`, `1t`, `8x7b`. `None` when nothing size-like is in the text.
pub fn parse_params(text: &str) -> Option<Params> {
    let lower: std::borrow::Cow<str> = if text.bytes().any(|b| b.is_ascii_uppercase()) {
        text.to_ascii_lowercase().into()
    } else {
        text.into()
    };
    let mut total = None;
    let mut active = None;
    for tok in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.')) {
        let b = tok.as_bytes();
        let start = b.iter().position(|c| *c != b'.').unwrap_or(b.len());
        let end = b.iter().rposition(|c| *c != b'.').map_or(start, |e| e + 1);
        let tok = &tok[start..end.max(start)];
        if tok.is_empty() || !tok.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Some((m, is_active)) = parse_param_token(tok) {
            if is_active {
                active.get_or_insert(m);
            } else {
                total.get_or_insert(m);
            }
        }
    }
    total.map(|total_millions| Params {
        total_millions,
        active_millions: active,
    })
}

/// Params from the id (after the author), else from the display name.
pub fn model_params(model: &Model) -> Option<Params> {
    let slug = model.id.split_once('/').map_or(model.id.as_str(), |x| x.1);
    parse_params(slug).or_else(|| parse_params(&model.name))
}

/// Capability points for a size: 0 at ≤ 1B, +100 per doubling, 1000 at ≥ 1024B.
pub fn param_points(p: &Params) -> u32 {
    let eff = p.effective_millions().max(1);
    clamp_points((log2_milli(eff) - LOG2_ONE_BILLION_IN_MILLIONS) / 10)
}

/// A USD-per-token string → pico-USD per token (= micro-USD per million tokens). Exact IEEE ops only.
fn price_pico(p: &str) -> Option<u64> {
    match p.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some((v * 1e12).round() as u64),
        _ => None,
    }
}

/// Blended price (3 prompt : 1 completion) in micro-USD per million tokens.
fn blended_micro_per_million(m: &Model) -> Option<u64> {
    let p = price_pico(&m.prompt_price)?;
    let c = price_pico(&m.completion_price)?;
    // Saturating: an absurd price ("1e300") must rank last, not overflow.
    Some(p.saturating_mul(3).saturating_add(c) / 4)
}

/// The price floor: at or below $0.05 per million tokens a paid model gets the full 1000.
const PRICE_FLOOR_MICRO: u64 = 50_000;

/// Price points: 1000 for free; paid: 1000 at ≤ $0.05/M blended, −100 per doubling above that.
fn price_points(blended_micro: u64) -> u32 {
    if blended_micro <= PRICE_FLOOR_MICRO {
        return 1000;
    }
    const FLOOR_LOG: i64 = log2_milli(PRICE_FLOOR_MICRO);
    clamp_points(1000 - (log2_milli(blended_micro) - FLOOR_LOG) / 10)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 → unix seconds.
fn parse_expiry(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
}

// ---------------------------------------------------------------------------------------------
// Per-model features (computed once, shared by all roles)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    None,
    /// Expires within the guard (or already expired, or no time reference).
    Soon,
    Later,
    Unreadable,
}

#[derive(Debug, Clone)]
struct Features {
    context: u64,
    context_log: i64,
    is_free: bool,
    is_router: bool,
    text_out: bool,
    /// Output modalities besides text (`image`, `audio`): a media-generation model.
    media_out: bool,
    tools: bool,
    tool_choice: bool,
    reasoning: bool,
    structured: bool,
    params: Option<Params>,
    /// The size heuristic's capability (used when no figure is known for a role).
    estimate: u32,
    /// Capability per role from evaluation figures ([`Role::ALL`] order).
    measured: Option<[Option<u32>; 6]>,
    tools_points: u32,
    recency: u32,
    age_days: Option<i64>,
    reliability: u32,
    success: Option<u32>,
    uptime: Option<u32>,
    price: u32,
    blended_micro: Option<u64>,
    expiry: Expiry,
}

/// A price string that means zero (the same rule as `Model::is_free`, with a fast path for "0").
/// `str::trim`, skipping the work when both ends are plain ASCII non-space (the usual case).
fn trim_fast(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l))
            if f.is_ascii()
                && l.is_ascii()
                && !f.is_ascii_whitespace()
                && !l.is_ascii_whitespace() =>
        {
            s
        }
        _ => s.trim(),
    }
}

fn price_is_zero(p: &str) -> bool {
    let p = trim_fast(p);
    if p == "0" {
        return true;
    }
    // Plain decimals ("0.0000002", "0.000") are answered without float parsing; anything else
    // (exponents, signs, odd text) goes through the same parse as `Model::is_free`.
    let plain = p.len() <= 64
        && p.bytes().any(|b| b.is_ascii_digit())
        && p.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && p.bytes().filter(|b| *b == b'.').count() <= 1;
    if plain {
        return p.bytes().all(|b| b == b'0' || b == b'.');
    }
    matches!(p.parse::<f64>(), Ok(v) if v == 0.0)
}

/// (is_free, is_router) with the rules of [`Model::is_free`] / [`Model::is_router`], computed once.
fn free_and_router(m: &Model) -> (bool, bool) {
    let is_router = crate::domain::catalog::ROUTER_IDS.contains(&m.id.as_str())
        || trim_fast(&m.prompt_price) == "-1";
    let is_free = m.id.ends_with(":free")
        || (!is_router && price_is_zero(&m.prompt_price) && price_is_zero(&m.completion_price));
    (is_free, is_router)
}

fn features(m: &Model, health: &Health, cfg: &ScoringConfig) -> Features {
    let fr = free_and_router(m);
    features_with(m, fr, health, cfg)
}

/// The flags read from `supported_parameters` (one pass over the list).
#[derive(Debug, Clone, Copy, Default)]
struct ParamFlags {
    tools: bool,
    tool_choice: bool,
    reasoning: bool,
    structured: bool,
}

fn param_flags(m: &Model) -> ParamFlags {
    let mut f = ParamFlags::default();
    for p in &m.supported_parameters {
        match p.as_str() {
            "tools" => f.tools = true,
            "tool_choice" => f.tool_choice = true,
            "reasoning" | "include_reasoning" => f.reasoning = true,
            "structured_outputs" | "response_format" => f.structured = true,
            _ => {}
        }
    }
    f
}

/// The best flags a model can have (an upper bound for the ranking scan).
const MAX_FLAGS: ParamFlags = ParamFlags {
    tools: true,
    tool_choice: true,
    reasoning: true,
    structured: true,
};

fn capability_points(size: u32, f: ParamFlags) -> u32 {
    7 * size / 10 + 200 * f.reasoning as u32 + 100 * f.structured as u32
}

fn tools_points(f: ParamFlags) -> u32 {
    if f.tools {
        600 + 400 * f.tool_choice as u32
    } else {
        0
    }
}

/// (recency points, age in days) measured from the config's reference time.
fn recency_of(m: &Model, cfg: &ScoringConfig) -> (u32, Option<i64>) {
    match cfg.recency_reference.or(cfg.now) {
        Some(reference) => {
            let age = ((reference - m.created) / 86_400).max(0);
            (
                clamp_points(1000 - age * 1000 / RECENCY_SPAN_DAYS),
                Some(age),
            )
        }
        None => (500, None),
    }
}

/// Capability per role from the config's evaluation table.
fn measured_of(m: &Model, cfg: &ScoringConfig) -> Option<[Option<u32>; 6]> {
    cfg.capability.as_ref().and_then(|t| t.points(&m.id))
}

/// (reliability points, observed success permille, endpoint uptime permille). Each known signal
/// gives `2 × permille − 1000` points (99 % → 980, 50 % → 0); both known: their mean.
fn reliability_of(m: &Model, health: &Health) -> (u32, Option<u32>, Option<u32>) {
    let lookup = |map: &BTreeMap<String, u32>| {
        if map.is_empty() {
            None
        } else {
            map.get(&m.id).map(|s| (*s).min(1000))
        }
    };
    let success = lookup(&health.success_permille);
    let uptime = lookup(&health.uptime_permille);
    let pts = |s: u32| clamp_points(2 * s as i64 - 1000);
    let points = match (success, uptime) {
        (None, None) => NEUTRAL_RELIABILITY,
        (Some(s), None) => pts(s),
        (None, Some(u)) => pts(u),
        (Some(s), Some(u)) => (pts(s) + pts(u)) / 2,
    };
    (points, success, uptime)
}

/// (price points, blended micro-USD per million for a paid model).
fn price_of(m: &Model, is_free: bool) -> (u32, Option<u64>) {
    if is_free {
        return (1000, None);
    }
    let blended = blended_micro_per_million(m);
    (blended.map_or(0, price_points), blended)
}

fn expiry_of(m: &Model, cfg: &ScoringConfig) -> Expiry {
    match &m.expiration_date {
        None => Expiry::None,
        Some(s) => match (parse_expiry(s), cfg.now) {
            (None, _) => Expiry::Unreadable,
            (Some(_), None) => Expiry::Soon,
            (Some(at), Some(now)) if at - now < EXPIRY_GUARD_SECS => Expiry::Soon,
            (Some(_), Some(_)) => Expiry::Later,
        },
    }
}

/// The requirements every role shares: not a router, text out, no media out, not expiring.
fn passes_common(is_router: bool, text_out: bool, media_out: bool, expiry: Expiry) -> bool {
    !is_router && text_out && !media_out && matches!(expiry, Expiry::None | Expiry::Later)
}

fn media_out(m: &Model) -> bool {
    m.output_modalities.iter().any(|o| o != "text")
}

fn features_with(
    m: &Model,
    (is_free, is_router): (bool, bool),
    health: &Health,
    cfg: &ScoringConfig,
) -> Features {
    let flags = param_flags(m);
    let params = model_params(m);
    let size = params.as_ref().map_or(NEUTRAL_PARAMS, param_points);
    let (recency, age_days) = recency_of(m, cfg);
    let (reliability, success, uptime) = reliability_of(m, health);
    let (price, blended_micro) = price_of(m, is_free);
    Features {
        context: m.context_length,
        context_log: log2_milli(m.context_length.max(1)),
        is_free,
        is_router,
        text_out: m.has_text_output(),
        media_out: media_out(m),
        tools: flags.tools,
        tool_choice: flags.tool_choice,
        reasoning: flags.reasoning,
        structured: flags.structured,
        params,
        estimate: capability_points(size, flags),
        measured: measured_of(m, cfg),
        tools_points: tools_points(flags),
        recency,
        age_days,
        reliability,
        success,
        uptime,
        price,
        blended_micro,
        expiry: expiry_of(m, cfg),
    }
}

/// The numbers of one (model, role), without the reasons.
#[derive(Debug, Clone, Copy)]
struct Quick {
    passes: bool,
    total: u32,
    context: u32,
}

/// Per-role constants, computed once per ranking.
#[derive(Debug, Clone, Copy)]
struct RoleCtx {
    role: Role,
    /// Position in [`Role::ALL`].
    idx: usize,
    req: Requirements,
    min_log: i64,
    w: Weights,
    wsum: u32,
    /// The cap of the size estimate: the median of the measured models.
    estimate_cap: u32,
}

impl RoleCtx {
    fn new(role: Role, cfg: &ScoringConfig) -> RoleCtx {
        let req = cfg.requirements(role);
        let w = cfg.weights(role);
        RoleCtx {
            role,
            idx: capability::role_index(role),
            req,
            min_log: log2_milli(req.min_context.max(1)),
            w,
            wsum: w.sum().max(1),
            estimate_cap: cfg
                .capability
                .as_ref()
                .and_then(|t| t.median(role))
                .unwrap_or(1000),
        }
    }

    /// Capability points: the role's figure-based points, else the size estimate capped at the
    /// median of the measured models.
    fn capability(&self, estimate: u32, measured: Option<[Option<u32>; 6]>) -> u32 {
        match measured.and_then(|p| p[self.idx]) {
            Some(points) => points,
            None => estimate.min(self.estimate_cap),
        }
    }

    /// The role's own requirements (context, tools); the shared ones are [`passes_common`].
    fn passes_role(&self, context: u64, tools: bool) -> bool {
        context >= self.req.min_context && (!self.req.needs_tools || tools)
    }

    fn context_points(&self, context: u64, context_log: i64) -> u32 {
        context_points(context_log, self.min_log, context >= self.req.min_context)
    }

    /// The total: the weighted mean of the sub-scores, floored.
    fn total(&self, s: [u32; 6]) -> u32 {
        let w = &self.w;
        let sum = w.context * s[0]
            + w.capability * s[1]
            + w.tools * s[2]
            + w.recency * s[3]
            + w.reliability * s[4]
            + w.price * s[5];
        sum / self.wsum
    }

    fn quick(&self, f: &Features) -> Quick {
        let passes = self.passes_role(f.context, f.tools)
            && passes_common(f.is_router, f.text_out, f.media_out, f.expiry);
        let context = self.context_points(f.context, f.context_log);
        Quick {
            passes,
            total: self.total([
                context,
                self.capability(f.estimate, f.measured),
                f.tools_points,
                f.recency,
                f.reliability,
                f.price,
            ]),
            context,
        }
    }
}

/// Context points: 0 below the minimum; above it +250 per doubling, 1000 at 16× the minimum.
fn context_points(context_log: i64, min_log: i64, meets: bool) -> u32 {
    if !meets {
        return 0;
    }
    clamp_points((context_log - min_log) / 4)
}

fn thousands(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn billions(millions: u64) -> String {
    if millions >= 1000 {
        let tenths = millions / 100;
        if tenths.is_multiple_of(10) {
            format!("{}B", tenths / 10)
        } else {
            format!("{}.{}B", tenths / 10, tenths % 10)
        }
    } else {
        format!("{millions}M")
    }
}

fn usd_per_million(micro: u64) -> String {
    format!("${}.{:04}/M", micro / 1_000_000, (micro % 1_000_000) / 100)
}

fn full_score(m: &Model, f: &Features, rc: &RoleCtx, cfg: &ScoringConfig) -> ModelScore {
    let q = rc.quick(f);
    let mut reasons = Vec::new();
    let req = rc.req;
    // Hard requirements first.
    if f.is_router {
        reasons
            .push("excluded: a router (it picks another model per request), never ranked".into());
    }
    if !f.text_out {
        reasons.push("excluded: no text output".into());
    }
    if f.media_out {
        let media: Vec<&str> = m
            .output_modalities
            .iter()
            .filter(|o| *o != "text")
            .map(String::as_str)
            .collect();
        reasons.push(format!(
            "excluded: also outputs {} (a media-generation model, not an agent model)",
            media.join(" and ")
        ));
    }
    match f.expiry {
        Expiry::Soon => reasons.push(format!(
            "excluded: expires {} (within a day of now)",
            m.expiration_date.as_deref().unwrap_or("")
        )),
        Expiry::Unreadable => reasons.push(format!(
            "excluded: expiration date {:?} is unreadable, so it may be gone any day",
            m.expiration_date.as_deref().unwrap_or("")
        )),
        Expiry::Later => reasons.push(format!(
            "note: OpenRouter will remove it on {}",
            m.expiration_date.as_deref().unwrap_or("")
        )),
        Expiry::None => {}
    }
    if req.needs_tools && !f.tools {
        reasons.push(format!(
            "excluded: no tool support ({} needs tools)",
            rc.role
        ));
    }
    if f.context < req.min_context {
        reasons.push(format!(
            "excluded: context {} < {} required",
            thousands(f.context),
            thousands(req.min_context)
        ));
    } else {
        reasons.push(format!(
            "context {} ≥ {} required: {}",
            thousands(f.context),
            thousands(req.min_context),
            q.context
        ));
    }
    let size = f.params.as_ref().map_or(NEUTRAL_PARAMS, param_points);
    let size_text = match &f.params {
        Some(p) => match p.active_millions {
            Some(a) if a < p.total_millions => format!(
                "{} total, {} active → {} effective: {size}",
                billions(p.total_millions),
                billions(a),
                billions(p.effective_millions())
            ),
            _ => format!("{} parameters: {size}", billions(p.total_millions)),
        },
        None => format!("unknown (no parameter count in the id or name), neutral {size}"),
    };
    let capability = rc.capability(f.estimate, f.measured);
    let table = cfg.capability.as_deref();
    match table.and_then(|t| t.role_capability(&m.id, rc.role)) {
        Some(measured) => reasons.push(capability::figures_reason(&measured, rc.role)),
        None => {
            let cap = match table {
                Some(t) if f.estimate > rc.estimate_cap => format!(
                    ", capped at {} (the median of the {} measured models)",
                    rc.estimate_cap,
                    t.measured_count(rc.role)
                ),
                _ => String::new(),
            };
            reasons.push(format!(
                "capability {capability}: estimate (no published figure for the {} role) from size {size_text}; reasoning {}; structured outputs {}{cap}",
                rc.role,
                if f.reasoning { "yes" } else { "no" },
                if f.structured { "yes" } else { "no" },
            ));
        }
    }
    reasons.push(format!(
        "tools {}: tools {}, tool_choice {}",
        f.tools_points,
        if f.tools { "yes" } else { "no" },
        if f.tools && f.tool_choice {
            "yes"
        } else {
            "no"
        },
    ));
    reasons.push(match f.age_days {
        Some(age) => format!(
            "recency {}: created {age} days before the newest model in the catalog",
            f.recency
        ),
        None => format!("recency {}: no time reference, neutral", f.recency),
    });
    let permille = |s: u32| format!("{}.{}%", s / 10, s % 10);
    reasons.push(match (f.success, f.uptime) {
        (Some(s), None) => format!(
            "reliability {}: {} of observed requests succeeded",
            f.reliability,
            permille(s)
        ),
        (None, Some(u)) => format!(
            "reliability {}: OpenRouter endpoint uptime {} (last day)",
            f.reliability,
            permille(u)
        ),
        (Some(s), Some(u)) => format!(
            "reliability {}: {} of observed requests succeeded; OpenRouter endpoint uptime {} (last day)",
            f.reliability,
            permille(s),
            permille(u)
        ),
        (None, None) => format!(
            "reliability {}: nothing observed yet, neutral",
            f.reliability
        ),
    });
    reasons.push(match (f.is_free, f.blended_micro) {
        (true, _) => "price 1000: free".to_string(),
        (false, Some(b)) => format!(
            "price {}: {} blended (3 prompt : 1 completion)",
            f.price,
            usd_per_million(b)
        ),
        (false, None) => "price 0: price unknown or variable".to_string(),
    });
    let w = rc.w;
    reasons.push(format!(
        "total {} = (context {}×{} + capability {}×{} + tools {}×{} + recency {}×{} + reliability {}×{} + price {}×{}) / {}",
        q.total,
        w.context,
        q.context,
        w.capability,
        capability,
        w.tools,
        f.tools_points,
        w.recency,
        f.recency,
        w.reliability,
        f.reliability,
        w.price,
        f.price,
        rc.wsum
    ));
    ModelScore {
        model_id: m.id.clone(),
        role: rc.role,
        is_free: f.is_free,
        passes: q.passes,
        total: q.total,
        sub: SubScores {
            context: q.context,
            capability,
            tools: f.tools_points,
            recency: f.recency,
            reliability: f.reliability,
            price: f.price,
        },
        reasons,
        context_length: f.context,
    }
}

/// True when `model` meets `role`'s hard requirements (context, tools, not a router, text out, no
/// media out, not expiring): the gates a model passes before it is ranked.
pub fn passes_gates(model: &Model, role: Role, cfg: &ScoringConfig) -> bool {
    let (_, is_router) = free_and_router(model);
    RoleCtx::new(role, cfg).passes_role(model.context_length, model.supports_tools())
        && passes_common(
            is_router,
            model.has_text_output(),
            media_out(model),
            expiry_of(model, cfg),
        )
}

/// Scores one model for one role: sub-scores, total, pass/fail and the reasons.
pub fn score(model: &Model, role: Role, health: &Health, cfg: &ScoringConfig) -> ModelScore {
    let f = features(model, health, cfg);
    full_score(model, &f, &RoleCtx::new(role, cfg), cfg)
}

/// Scores one model for every role (features computed once).
pub fn score_all_roles(model: &Model, health: &Health, cfg: &ScoringConfig) -> Vec<ModelScore> {
    let f = features(model, health, cfg);
    Role::ALL
        .iter()
        .map(|r| full_score(model, &f, &RoleCtx::new(*r, cfg), cfg))
        .collect()
}

/// The ranking order: total desc, then context desc, then id asc.
pub fn ranking_order(a: &ModelScore, b: &ModelScore) -> Ordering {
    b.total
        .cmp(&a.total)
        .then(b.context_length.cmp(&a.context_length))
        .then(a.model_id.cmp(&b.model_id))
}

/// Which models a ranking considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Free,
    Paid,
    All,
}

impl Pool {
    fn admits(self, is_free: bool) -> bool {
        match self {
            Pool::Free => is_free,
            Pool::Paid => !is_free,
            Pool::All => true,
        }
    }
}

/// Every model of `pool` scored for `role`, in ranking order (failing models included, after
/// the passing ones).
pub fn rank(
    models: &[Model],
    role: Role,
    pool: Pool,
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<ModelScore> {
    let rc = RoleCtx::new(role, cfg);
    let mut out: Vec<ModelScore> = models
        .iter()
        .filter_map(|m| {
            let f = features(m, health, cfg);
            pool.admits(f.is_free).then(|| full_score(m, &f, &rc, cfg))
        })
        .collect();
    out.sort_by(|a, b| b.passes.cmp(&a.passes).then(ranking_order(a, b)));
    out
}

/// The current best of one role in a ranking scan.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: usize,
    total: u32,
    context: u64,
}

/// True when (total, context, id) ranks before the slot's model: total desc, context desc, id asc.
fn beats(models: &[Model], total: u32, context: u64, index: usize, slot: &Option<Slot>) -> bool {
    match slot {
        None => true,
        Some(s) => (total, context)
            .cmp(&(s.total, s.context))
            .then_with(|| models[s.index].id.cmp(&models[index].id))
            .is_gt(),
    }
}

/// An upper bound of [`log2_milli`] without the 20 squarings: the fractional part is below 1.
const fn log2_milli_upper(x: u64) -> i64 {
    if x <= 1 {
        0
    } else {
        x.ilog2() as i64 * 1000 + 999
    }
}

/// How many models the ranking scan filters at once. A model's id and prices are separate heap
/// strings; reading those of a whole chunk in one tight loop lets the CPU fetch them in parallel
/// instead of waiting for each in turn.
const SCAN_CHUNK: usize = 64;

/// Index of the best passing model of `pool` for each role in `roles`: one scan over the models,
/// no reasons, no sorting. The same picks as ranking every model with [`rank`], computed lazily:
/// pool and context first; then an upper bound of each role's total (best possible flags, price
/// and logarithms rounded up): a model that cannot take any role's slot needs nothing more; then
/// the exact total; the shared requirements (router, output modalities, expiry) only for a model
/// that would otherwise take a slot.
fn best_indices(
    models: &[Model],
    roles: &[Role],
    pool: Pool,
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<Option<usize>> {
    let rcs: Vec<RoleCtx> = roles.iter().map(|r| RoleCtx::new(*r, cfg)).collect();
    let Some(min_context) = rcs.iter().map(|rc| rc.req.min_context).min() else {
        return Vec::new();
    };
    let mut best: Vec<Option<Slot>> = vec![None; rcs.len()];
    // Per model of a chunk: admitted (pool and context), free, and a router (when read).
    let mut admitted = [false; SCAN_CHUNK];
    let mut free = [false; SCAN_CHUNK];
    let mut router: [Option<bool>; SCAN_CHUNK] = [None; SCAN_CHUNK];
    for (c, chunk) in models.chunks(SCAN_CHUNK).enumerate() {
        for (k, m) in chunk.iter().enumerate() {
            // Below every role's minimum context it fails them all.
            let (f, r) = if m.context_length < min_context {
                (false, None)
            } else if m.id.ends_with(":free") {
                // Free by its id; whether it is a router only matters if it would win.
                (true, None)
            } else {
                let (f, r) = free_and_router(m);
                (f, Some(r))
            };
            admitted[k] = m.context_length >= min_context && pool.admits(f);
            free[k] = f;
            router[k] = r;
        }
        for (k, m) in chunk.iter().enumerate() {
            if !admitted[k] {
                continue;
            }
            let i = c * SCAN_CHUNK + k;
            let context = m.context_length;
            let params = model_params(m);
            let size_max = params.as_ref().map_or(NEUTRAL_PARAMS, |p| {
                let eff = p.effective_millions().max(1);
                clamp_points((log2_milli_upper(eff) - LOG2_ONE_BILLION_IN_MILLIONS) / 10)
            });
            let (recency, _) = recency_of(m, cfg);
            let (reliability, _, _) = reliability_of(m, health);
            let context_log_max = log2_milli_upper(context.max(1));
            let measured = measured_of(m, cfg);
            let cap_max = capability_points(size_max, MAX_FLAGS);
            let tools_max = tools_points(MAX_FLAGS);
            let hopeful = rcs.iter().zip(&best).any(|(rc, slot)| {
                context >= rc.req.min_context && {
                    let ub = rc.total([
                        rc.context_points(context, context_log_max),
                        rc.capability(cap_max, measured),
                        tools_max,
                        recency,
                        reliability,
                        1000,
                    ]);
                    beats(models, ub, context, i, slot)
                }
            });
            if !hopeful {
                continue;
            }
            let size = params.as_ref().map_or(NEUTRAL_PARAMS, param_points);
            let context_log = log2_milli(context.max(1));
            let (price, _) = price_of(m, free[k]);
            let flags = param_flags(m);
            let estimate = capability_points(size, flags);
            let tools = tools_points(flags);
            let mut common: Option<bool> = None;
            for (rc, slot) in rcs.iter().zip(best.iter_mut()) {
                if !rc.passes_role(context, flags.tools) {
                    continue;
                }
                let total = rc.total([
                    rc.context_points(context, context_log),
                    rc.capability(estimate, measured),
                    tools,
                    recency,
                    reliability,
                    price,
                ]);
                if !beats(models, total, context, i, slot) {
                    continue;
                }
                let ok = *common.get_or_insert_with(|| {
                    let is_router = router[k].unwrap_or_else(|| free_and_router(m).1);
                    passes_common(
                        is_router,
                        m.has_text_output(),
                        media_out(m),
                        expiry_of(m, cfg),
                    )
                });
                if !ok {
                    // Fails the shared requirements: it can take no role's slot.
                    break;
                }
                *slot = Some(Slot {
                    index: i,
                    total,
                    context,
                });
            }
        }
    }
    best.into_iter().map(|b| b.map(|s| s.index)).collect()
}

/// The best (index) per role among already extracted features, in ranking order.
fn best_of<F: std::borrow::Borrow<Features>>(
    models: &[Model],
    feats: impl Iterator<Item = (usize, F)>,
    roles: &[Role],
    cfg: &ScoringConfig,
) -> Vec<Option<usize>> {
    let rcs: Vec<RoleCtx> = roles.iter().map(|r| RoleCtx::new(*r, cfg)).collect();
    let mut best: Vec<Option<(usize, u32, u64)>> = vec![None; roles.len()];
    for (i, f) in feats {
        let f = f.borrow();
        for (slot, rc) in best.iter_mut().zip(&rcs) {
            let q = rc.quick(f);
            if !q.passes {
                continue;
            }
            let better = match slot {
                None => true,
                Some((j, total, ctx)) => {
                    (q.total, f.context)
                        .cmp(&(*total, *ctx))
                        .then_with(|| models[*j].id.cmp(&models[i].id))
                        == Ordering::Greater
                }
            };
            if better {
                *slot = Some((i, q.total, f.context));
            }
        }
    }
    best.into_iter().map(|b| b.map(|x| x.0)).collect()
}

/// A catalog with every model's features extracted once, for callers that rank the same catalog
/// many times (the TUI per keystroke, the web server per request). Same answers as the free
/// functions [`best_free`] / [`best_free_all`] / [`best_paid`] with the same health and config.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    models: &'a [Model],
    health: &'a Health,
    cfg: &'a ScoringConfig,
    feats: Vec<Features>,
}

impl<'a> Prepared<'a> {
    pub fn new(models: &'a [Model], health: &'a Health, cfg: &'a ScoringConfig) -> Prepared<'a> {
        let feats = models.iter().map(|m| features(m, health, cfg)).collect();
        Prepared {
            models,
            health,
            cfg,
            feats,
        }
    }

    fn best(&self, roles: &[Role], pool: Pool) -> Vec<Option<usize>> {
        let feats = self
            .feats
            .iter()
            .enumerate()
            .filter(|(_, f)| pool.admits(f.is_free));
        best_of(self.models, feats, roles, self.cfg)
    }

    pub fn best_free(&self, role: Role, ollama_models: &[String]) -> Pick {
        match self.best(&[role], Pool::Free)[0] {
            Some(i) => ranked_pick(&self.models[i], role, self.health, self.cfg),
            None => fallback_pick(self.models, role, ollama_models),
        }
    }

    pub fn best_free_all(&self, ollama_models: &[String]) -> Vec<(Role, Pick)> {
        let idx = self.best(&Role::ALL, Pool::Free);
        Role::ALL
            .iter()
            .zip(idx)
            .map(|(role, i)| {
                let pick = match i {
                    Some(i) => ranked_pick(&self.models[i], *role, self.health, self.cfg),
                    None => fallback_pick(self.models, *role, ollama_models),
                };
                (*role, pick)
            })
            .collect()
    }

    pub fn best_paid(&self, role: Role) -> Option<Pick> {
        self.best(&[role], Pool::Paid)[0]
            .map(|i| ranked_pick(&self.models[i], role, self.health, self.cfg))
    }
}

fn ranked_pick(m: &Model, role: Role, health: &Health, cfg: &ScoringConfig) -> Pick {
    Pick {
        model_id: m.id.clone(),
        provider: "openrouter".into(),
        source: PickSource::Ranked,
        score: Some(score(m, role, health, cfg)),
        warnings: Vec::new(),
    }
}

/// The fallback chain when no free model qualifies for `role`.
fn fallback_pick(models: &[Model], role: Role, ollama_models: &[String]) -> Pick {
    if models.iter().any(|m| m.id == OPENROUTER_FREE) {
        return Pick {
            model_id: OPENROUTER_FREE.into(),
            provider: "openrouter".into(),
            source: PickSource::OpenRouterFree,
            score: None,
            warnings: vec![format!(
                "no free model in the catalog meets the {role} requirements; using OpenRouter's free router, which picks a model per request"
            )],
        };
    }
    let mut qwens: Vec<&String> = ollama_models
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("qwen"))
        .collect();
    // Largest first, then by name: the same list gives the same pick.
    qwens.sort_by(|a, b| {
        let size = |n: &str| parse_params(n).map_or(0, |p| p.effective_millions());
        size(b).cmp(&size(a)).then(a.cmp(b))
    });
    let reason = format!(
        "no free model in the catalog meets the {role} requirements and the catalog has no openrouter/free router"
    );
    match qwens.first() {
        Some(name) => Pick {
            model_id: (*name).clone(),
            provider: "ollama".into(),
            source: PickSource::LocalOllama { pulled: true },
            score: None,
            warnings: vec![format!(
                "{reason}; using the local Qwen model {name} through Ollama"
            )],
        },
        None => Pick {
            model_id: DEFAULT_LOCAL_QWEN.into(),
            provider: "ollama".into(),
            source: PickSource::LocalOllama { pulled: false },
            score: None,
            warnings: vec![format!(
                "{reason}; falling back to local {DEFAULT_LOCAL_QWEN} through Ollama, which is not pulled: run `ollama pull {DEFAULT_LOCAL_QWEN}` (and start Ollama), or fetch a newer catalog with `nxr catalog refresh`"
            )],
        },
    }
}

/// Best free model for `role`; `ollama_models` = names from Ollama's /api/tags (empty when absent).
pub fn best_free(
    models: &[Model],
    role: Role,
    health: &Health,
    cfg: &ScoringConfig,
    ollama_models: &[String],
) -> Pick {
    match best_indices(models, &[role], Pool::Free, health, cfg)[0] {
        Some(i) => ranked_pick(&models[i], role, health, cfg),
        None => fallback_pick(models, role, ollama_models),
    }
}

/// Best free model for every role in `Role::ALL` order, scanning the catalog once.
pub fn best_free_all(
    models: &[Model],
    health: &Health,
    cfg: &ScoringConfig,
    ollama_models: &[String],
) -> Vec<(Role, Pick)> {
    let idx = best_indices(models, &Role::ALL, Pool::Free, health, cfg);
    Role::ALL
        .iter()
        .zip(idx)
        .map(|(role, i)| {
            let pick = match i {
                Some(i) => ranked_pick(&models[i], *role, health, cfg),
                None => fallback_pick(models, *role, ollama_models),
            };
            (*role, pick)
        })
        .collect()
}

/// True when a free-pick computation would need Ollama's model list (no free model qualifies for
/// some role and the catalog has no `openrouter/free`).
pub fn needs_local_fallback(
    models: &[Model],
    roles: &[Role],
    health: &Health,
    cfg: &ScoringConfig,
) -> bool {
    !models.iter().any(|m| m.id == OPENROUTER_FREE)
        && best_indices(models, roles, Pool::Free, health, cfg)
            .iter()
            .any(Option::is_none)
}

/// Best paid model for `role`, price weighed in (the upgrade flow). `None` when no paid model passes.
pub fn best_paid(
    models: &[Model],
    role: Role,
    health: &Health,
    cfg: &ScoringConfig,
) -> Option<Pick> {
    best_indices(models, &[role], Pool::Paid, health, cfg)[0]
        .map(|i| ranked_pick(&models[i], role, health, cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_milli_is_exact_enough() {
        assert_eq!(log2_milli(1), 0);
        assert_eq!(log2_milli(2), 1000);
        assert_eq!(log2_milli(1024), 10_000);
        assert_eq!(log2_milli(3), 1584); // 1.58496…
        assert_eq!(log2_milli(1000), 9965); // 9.96578…
        assert_eq!(log2_milli(262_144), 18_000);
    }

    #[test]
    fn params_parse_from_ids() {
        let p = |s| parse_params(s).map(|p| (p.total_millions, p.active_millions));
        assert_eq!(p("llama-3.3-70b-instruct"), Some((70_000, None)));
        assert_eq!(p("hermes-3-llama-3.1-405b"), Some((405_000, None)));
        assert_eq!(
            p("nemotron-3-super-120b-a12b:free"),
            Some((120_000, Some(12_000)))
        );
        assert_eq!(p("gemma-3n-e4b-it"), Some((4_000, None)));
        assert_eq!(p("lfm-2.5-1.2b-instruct"), Some((1_200, None)));
        assert_eq!(p("ling-2.6-1t:free"), Some((1_000_000, None)));
        assert_eq!(p("mixtral-8x7b-instruct"), Some((56_000, None)));
        assert_eq!(p("gpt-4o-mini"), None);
        assert_eq!(p("deepseek-v3.2"), None);
        assert_eq!(p("qwen3-235b-a22b-2507"), Some((235_000, Some(22_000))));
        assert_eq!(p("kimi-k2"), None);
    }

    #[test]
    fn zero_prices_match_the_catalog_rule() {
        for p in [
            "0",
            "0.0",
            "0.000",
            " 0 ",
            "00",
            "0.0000002",
            "1",
            "-1",
            "1e-400",
            "0e5",
            "abc",
            "",
            ".",
            "-0",
            "+0.0",
        ] {
            let by_parse = matches!(p.trim().parse::<f64>(), Ok(v) if v == 0.0);
            assert_eq!(price_is_zero(p), by_parse, "{p:?}");
        }
    }

    #[test]
    fn prepared_gives_the_same_picks() {
        let models = crate::domain::catalog::embedded().models;
        let health = Health::default();
        let cfg = ScoringConfig::for_catalog(&models, chrono::Utc::now());
        let prepared = Prepared::new(&models, &health, &cfg);
        assert_eq!(
            prepared.best_free_all(&[]),
            best_free_all(&models, &health, &cfg, &[])
        );
        for role in Role::ALL {
            assert_eq!(
                prepared.best_paid(role),
                best_paid(&models, role, &health, &cfg)
            );
            assert_eq!(
                prepared.best_free(role, &[]),
                best_free(&models, role, &health, &cfg, &[])
            );
        }
    }

    /// The embedded catalog, several times over, with contexts, prices, expiry dates, sizes,
    /// flags and modalities varied, in a shuffled order (fixed seed).
    fn varied_catalog(copies: usize, seed: u64) -> Vec<Model> {
        let base = crate::domain::catalog::embedded().models;
        let mut r = seed | 1;
        let mut next = move || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        let mut out = Vec::new();
        for c in 0..copies {
            for m in &base {
                let mut m = m.clone();
                m.id = format!("{}-{c}", m.id);
                match next() % 9 {
                    0 => m.context_length = next() % 2_000_000,
                    1 => {
                        m.context_length =
                            [0, 1, 8_000, 32_000, 64_000, 128_000][next() as usize % 6]
                    }
                    2 => {
                        m.expiration_date = Some(
                            ["2026-05-01", "2026-06-01", "bogus", "2020-01-01"]
                                [next() as usize % 4]
                                .into(),
                        )
                    }
                    3 => {
                        m.prompt_price =
                            ["1e-7", " 0 ", "-1", "0.000", "abc", "12"][next() as usize % 6].into();
                        m.completion_price = ["0", "2e-6", "x"][next() as usize % 3].into();
                    }
                    4 => m.id = format!("v/Big-{c}-{}B-A7B:free", next() % 500),
                    5 => m.supported_parameters = vec!["include_reasoning".into(), "tools".into()],
                    6 => m.output_modalities = vec!["image".into()],
                    7 => m.created -= (next() % 1000) as i64 * 86_400,
                    _ => {}
                }
                if next() % 4 == 0 {
                    m.id = format!("{}:free", m.id);
                }
                out.push(m);
            }
        }
        for i in (1..out.len()).rev() {
            out.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        out
    }

    /// The ranking scan (early exit, lazy requirement checks) picks the first passing model of
    /// the full ranking (every model scored with its reasons, then sorted).
    #[test]
    fn scan_agrees_with_the_full_ranking() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        for seed in [1u64, 7, 42, 1234] {
            let models = varied_catalog(3, seed);
            let mut health = Health::default();
            for (i, m) in models.iter().enumerate().step_by(5) {
                health
                    .success_permille
                    .insert(m.id.clone(), (i as u32 * 37) % 1100);
            }
            let mut custom = ScoringConfig::for_catalog(&models, now);
            custom.custom = Some(Requirements {
                min_context: 100_000,
                needs_tools: true,
            });
            custom.weights.insert(
                Role::Engineer,
                Weights {
                    context: 7,
                    capability: 0,
                    tools: 3,
                    recency: 91,
                    reliability: 2,
                    price: 13,
                },
            );
            let cfgs = [
                ScoringConfig::for_catalog(&models, now),
                ScoringConfig::default(),
                custom,
            ];
            for cfg in &cfgs {
                for pool in [Pool::Free, Pool::Paid] {
                    let scan = best_indices(&models, &Role::ALL, pool, &health, cfg);
                    for (role, got) in Role::ALL.iter().zip(scan) {
                        let want = rank(&models, *role, pool, &health, cfg)
                            .into_iter()
                            .find(|s| s.passes)
                            .map(|s| s.model_id);
                        let alone = best_indices(&models, &[*role], pool, &health, cfg)[0];
                        assert_eq!(got, alone, "seed {seed} {role} {pool:?} alone");
                        let got = got.map(|i| models[i].id.clone());
                        assert_eq!(got, want, "seed {seed} {role} {pool:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn moe_effective_size_is_geometric_mean() {
        let p = parse_params("120b-a12b").unwrap();
        assert_eq!(p.effective_millions(), 37_947);
    }
}
