//! What scoring reads from one model, once for all roles (`Features`: context, flags, size, recency,
//! reliability, price, expiry), and the per-role constants and arithmetic (`RoleCtx`): the hard
//! requirements and the weighted total. It never formats text; the reasons are in `reasons`.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    None,
    /// Expires within the guard (or already expired, or no time reference).
    Soon,
    Later,
    Unreadable,
}

#[derive(Debug, Clone)]
pub(super) struct Features {
    pub(super) context: u64,
    pub(super) context_log: i64,
    pub(super) is_free: bool,
    pub(super) is_router: bool,
    pub(super) text_out: bool,
    /// Output modalities besides text (`image`, `audio`): a media-generation model.
    pub(super) media_out: bool,
    pub(super) tools: bool,
    pub(super) tool_choice: bool,
    pub(super) reasoning: bool,
    pub(super) structured: bool,
    pub(super) params: Option<Params>,
    /// The size heuristic's capability (used when no figure is known for a role).
    pub(super) estimate: u32,
    /// Capability per role from evaluation figures ([`Role::ALL`] order).
    pub(super) measured: Option<[Option<u32>; 6]>,
    pub(super) tools_points: u32,
    pub(super) recency: u32,
    pub(super) age_days: Option<i64>,
    pub(super) reliability: u32,
    pub(super) success: Option<u32>,
    pub(super) uptime: Option<u32>,
    pub(super) price: u32,
    pub(super) blended_micro: Option<u64>,
    pub(super) expiry: Expiry,
    /// A caveat keeps it from rankings (see [`ScoringConfig::allow_stealth`]).
    pub(super) caveat_blocked: bool,
}

pub(super) use crate::domain::catalog::{price_is_zero, trim_fast};

/// (is_free, is_router) with the rules of [`Model::is_free`] / [`Model::is_router`], computed once.
pub(super) fn free_and_router(m: &Model) -> (bool, bool) {
    let is_router = crate::domain::catalog::ROUTER_IDS.contains(&m.id.as_str())
        || trim_fast(&m.prompt_price) == "-1";
    let is_free = m.id.ends_with(":free")
        || (!is_router && price_is_zero(&m.prompt_price) && price_is_zero(&m.completion_price));
    (is_free, is_router)
}

pub(super) fn features(m: &Model, health: &Health, cfg: &ScoringConfig) -> Features {
    let fr = free_and_router(m);
    features_with(m, fr, health, cfg)
}

/// The flags read from `supported_parameters` (one pass over the list).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ParamFlags {
    pub(super) tools: bool,
    pub(super) tool_choice: bool,
    pub(super) reasoning: bool,
    pub(super) structured: bool,
}

pub(super) fn param_flags(m: &Model) -> ParamFlags {
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
pub(super) const MAX_FLAGS: ParamFlags = ParamFlags {
    tools: true,
    tool_choice: true,
    reasoning: true,
    structured: true,
};

pub(super) fn capability_points(size: u32, f: ParamFlags) -> u32 {
    7 * size / 10 + 200 * f.reasoning as u32 + 100 * f.structured as u32
}

pub(super) fn tools_points(f: ParamFlags) -> u32 {
    if f.tools {
        600 + 400 * f.tool_choice as u32
    } else {
        0
    }
}

/// (recency points, age in days) measured from the config's reference time.
pub(super) fn recency_of(m: &Model, cfg: &ScoringConfig) -> (u32, Option<i64>) {
    match cfg.recency_reference.or(cfg.now) {
        Some(reference) => {
            let age = (reference.saturating_sub(m.created) / 86_400).max(0);
            (
                clamp_points(1000 - age * 1000 / RECENCY_SPAN_DAYS),
                Some(age),
            )
        }
        None => (500, None),
    }
}

/// Capability per role from the config's evaluation table.
pub(super) fn measured_of(m: &Model, cfg: &ScoringConfig) -> Option<[Option<u32>; 6]> {
    cfg.capability.as_ref().and_then(|t| t.points(&m.id))
}

/// (reliability points, observed success permille, endpoint uptime permille). Each known signal
/// gives `2 × permille − 1000` points (99 % → 980, 50 % → 0); both known: their mean.
pub(super) fn reliability_of(m: &Model, health: &Health) -> (u32, Option<u32>, Option<u32>) {
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
pub(super) fn price_of(m: &Model, is_free: bool) -> (u32, Option<u64>) {
    if is_free {
        return (1000, None);
    }
    let blended = blended_micro_per_million(m);
    (blended.map_or(0, price_points), blended)
}

pub(super) fn expiry_of(m: &Model, cfg: &ScoringConfig) -> Expiry {
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

/// The requirements every role shares: not a router, text out, no media out, not expiring, no
/// caveat unless allowed.
pub(super) fn passes_common(
    is_router: bool,
    text_out: bool,
    media_out: bool,
    expiry: Expiry,
    caveat_blocked: bool,
) -> bool {
    !is_router
        && text_out
        && !media_out
        && matches!(expiry, Expiry::None | Expiry::Later)
        && !caveat_blocked
}

/// True when `m` has a caveat and the config does not allow such models.
pub(super) fn caveat_blocked(m: &Model, cfg: &ScoringConfig) -> bool {
    !cfg.allow_stealth && crate::domain::scoring::caveats::blocks_automatic_pick(m)
}

pub(super) fn media_out(m: &Model) -> bool {
    m.output_modalities.iter().any(|o| o != "text")
}

pub(super) fn features_with(
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
        caveat_blocked: caveat_blocked(m, cfg),
    }
}

/// The numbers of one (model, role), without the reasons.
#[derive(Debug, Clone, Copy)]
pub(super) struct Quick {
    pub(super) passes: bool,
    pub(super) total: u32,
    pub(super) context: u32,
}

/// Per-role constants, computed once per ranking.
#[derive(Debug, Clone, Copy)]
pub(super) struct RoleCtx {
    pub(super) role: Role,
    /// Position in [`Role::ALL`].
    pub(super) idx: usize,
    pub(super) req: Requirements,
    pub(super) min_log: i64,
    pub(super) w: Weights,
    pub(super) wsum: u32,
    /// The cap of the size estimate: the median of the measured models.
    /// The estimates' cap for free and for paid models ([`capability::class`] order).
    pub(super) estimate_cap: [u32; 2],
}

impl RoleCtx {
    pub(super) fn new(role: Role, cfg: &ScoringConfig) -> RoleCtx {
        let req = cfg.requirements(role);
        let w = cfg.weights(role);
        RoleCtx {
            role,
            idx: capability::role_index(role),
            req,
            min_log: log2_milli(req.min_context.max(1)),
            w,
            wsum: w.sum().max(1),
            estimate_cap: [true, false].map(|free| {
                cfg.capability
                    .as_ref()
                    .and_then(|t| t.median(role, free))
                    .unwrap_or(1000)
            }),
        }
    }

    /// Capability points: the role's figure-based points, else the size estimate capped at the
    /// median of the measured models.
    pub(super) fn capability(
        &self,
        estimate: u32,
        measured: Option<[Option<u32>; 6]>,
        is_free: bool,
    ) -> u32 {
        match measured.and_then(|p| p[self.idx]) {
            Some(points) => points,
            None => estimate.min(self.estimate_cap[capability::class(is_free)]),
        }
    }

    /// The role's own requirements (context, tools); the shared ones are [`passes_common`].
    pub(super) fn passes_role(&self, context: u64, tools: bool) -> bool {
        context >= self.req.min_context && (!self.req.needs_tools || tools)
    }

    pub(super) fn context_points(&self, context: u64, context_log: i64) -> u32 {
        context_points(context_log, self.min_log, context >= self.req.min_context)
    }

    /// The total: the weighted mean of the sub-scores, floored.
    pub(super) fn total(&self, s: [u32; 6]) -> u32 {
        let w = &self.w;
        let sum = w.context * s[0]
            + w.capability * s[1]
            + w.tools * s[2]
            + w.recency * s[3]
            + w.reliability * s[4]
            + w.price * s[5];
        sum / self.wsum
    }

    pub(super) fn quick(&self, f: &Features) -> Quick {
        let passes = self.passes_role(f.context, f.tools)
            && passes_common(
                f.is_router,
                f.text_out,
                f.media_out,
                f.expiry,
                f.caveat_blocked,
            );
        let context = self.context_points(f.context, f.context_log);
        Quick {
            passes,
            total: self.total([
                context,
                self.capability(f.estimate, f.measured, f.is_free),
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
pub(super) fn context_points(context_log: i64, min_log: i64, meets: bool) -> u32 {
    if !meets {
        return 0;
    }
    clamp_points((context_log - min_log) / 4)
}
