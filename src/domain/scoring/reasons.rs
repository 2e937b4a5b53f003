//! One model scored for one role with its human reasons (`full_score`): the hard-requirement exclusions
//! first, then one line per sub-score and the total. It computes no number of its own; every figure
//! comes from `features`.

use super::*;
use crate::domain::catalog::tokens_label;

pub(super) fn billions(millions: u64) -> String {
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

pub(super) fn usd_per_million(micro: u64) -> String {
    format!("${}.{:04}/M", micro / 1_000_000, (micro % 1_000_000) / 100)
}

pub(super) fn full_score(m: &Model, f: &Features, rc: &RoleCtx, cfg: &ScoringConfig) -> ModelScore {
    let q = rc.quick(f);
    let capability = rc.capability(f.estimate, f.measured, f.is_free);
    let mut exclusions = hard_exclusions(m, f, cfg);
    let mut reasons: Vec<String> = exclusions
        .iter()
        .map(|x| format!("excluded: {x}"))
        .collect();
    if f.expiry == Expiry::Later {
        reasons.push(format!(
            "note: OpenRouter will remove it on {}",
            expiration_date(m)
        ));
    }
    let role_exclusions = role_exclusions(f, rc);
    reasons.extend(role_exclusions.iter().map(|x| format!("excluded: {x}")));
    exclusions.extend(role_exclusions);
    if f.context >= rc.req.min_context {
        reasons.push(context_reason(f, rc, q));
    }
    reasons.push(capability_reason(m, f, rc, cfg, capability));
    reasons.push(tools_reason(f));
    reasons.push(recency_reason(f));
    reasons.push(reliability_reason(f));
    reasons.push(price_reason(f));
    reasons.push(total_reason(f, rc, q, capability));
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
        exclusions,
        context_length: f.context,
    }
}

/// The model's expiration date as written in the catalog, empty when it has none.
fn expiration_date(m: &Model) -> String {
    m.expiration_date.clone().unwrap_or_default()
}

/// The exclusions that hold for every role: a router, no text output, media output, expiry
/// (soon or unreadable) and blocking caveats, in that order.
fn hard_exclusions(m: &Model, f: &Features, cfg: &ScoringConfig) -> Vec<Exclusion> {
    let mut exclusions = Vec::new();
    if f.is_router {
        exclusions.push(Exclusion::Router);
    }
    if !f.text_out {
        exclusions.push(Exclusion::NoTextOutput);
    }
    if f.media_out {
        exclusions.push(Exclusion::MediaOutput {
            modalities: m
                .output_modalities
                .iter()
                .filter(|o| *o != "text")
                .cloned()
                .collect(),
        });
    }
    match f.expiry {
        Expiry::Soon => exclusions.push(Exclusion::Expiring {
            date: expiration_date(m),
        }),
        Expiry::Unreadable => exclusions.push(Exclusion::ExpiryUnreadable {
            date: expiration_date(m),
        }),
        Expiry::Later | Expiry::None => {}
    }
    if f.caveat_blocked {
        exclusions.push(Exclusion::Caveats {
            caveats: crate::domain::scoring::caveats::caveats(m, cfg.now),
        });
    }
    exclusions
}

/// The exclusions from the role's own requirements: missing tools, then too small a context.
fn role_exclusions(f: &Features, rc: &RoleCtx) -> Vec<Exclusion> {
    let req = rc.req;
    let mut exclusions = Vec::new();
    if req.needs_tools && !f.tools {
        exclusions.push(Exclusion::MissingTools { role: rc.role });
    }
    if f.context < req.min_context {
        exclusions.push(Exclusion::ContextBelow {
            context: f.context,
            required: req.min_context,
        });
    }
    exclusions
}

/// The context line: the model's context against the role's minimum, with its points.
fn context_reason(f: &Features, rc: &RoleCtx, q: Quick) -> String {
    format!(
        "context {} ≥ {} required: {}",
        tokens_label(f.context),
        tokens_label(rc.req.min_context),
        q.context
    )
}

/// The size part of an estimated capability: total (and active, for a mixture of experts)
/// parameters with their size points, or the neutral points when the size is unknown.
fn size_text(f: &Features) -> String {
    let size = f.params.as_ref().map_or(NEUTRAL_PARAMS, param_points);
    match &f.params {
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
    }
}

/// The capability line: the measured figures for the role when the table has them, else the
/// size estimate with its flags and, when it applies, the cap at the measured median.
fn capability_reason(
    m: &Model,
    f: &Features,
    rc: &RoleCtx,
    cfg: &ScoringConfig,
    capability: u32,
) -> String {
    let table = cfg.capability.as_deref();
    if let Some(measured) = table.and_then(|t| t.role_capability(&m.id, rc.role)) {
        return capability::figures_reason(&measured, rc.role);
    }
    let cap = match table {
        Some(t) if f.estimate > rc.estimate_cap[capability::class(f.is_free)] => format!(
            ", capped at {} (the median of the {} measured {} models)",
            rc.estimate_cap[capability::class(f.is_free)],
            t.measured_count(rc.role, f.is_free),
            if f.is_free { "free" } else { "paid" }
        ),
        _ => String::new(),
    };
    format!(
        "capability {capability}: estimate (no published figure for the {} role) from size {}; reasoning {}; structured outputs {}{cap}",
        rc.role,
        size_text(f),
        if f.reasoning { "yes" } else { "no" },
        if f.structured { "yes" } else { "no" },
    )
}

/// The tools line: the points and whether tools and `tool_choice` are supported.
fn tools_reason(f: &Features) -> String {
    format!(
        "tools {}: tools {}, tool_choice {}",
        f.tools_points,
        if f.tools { "yes" } else { "no" },
        if f.tools && f.tool_choice {
            "yes"
        } else {
            "no"
        },
    )
}

/// The recency line: the points and the age relative to the newest model in the catalog.
fn recency_reason(f: &Features) -> String {
    match f.age_days {
        Some(age) => format!(
            "recency {}: created {age} days before the newest model in the catalog",
            f.recency
        ),
        None => format!("recency {}: no time reference, neutral", f.recency),
    }
}

/// A permille figure as a percentage with one decimal (`987` → `98.7%`).
fn permille(s: u32) -> String {
    format!("{}.{}%", s / 10, s % 10)
}

/// The reliability line: the points with the observed success rate and endpoint uptime, as far
/// as they are known.
fn reliability_reason(f: &Features) -> String {
    match (f.success, f.uptime) {
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
    }
}

/// The price line: free, the blended price per million tokens, or unknown.
fn price_reason(f: &Features) -> String {
    match (f.is_free, f.blended_micro) {
        (true, _) => "price 1000: free".to_string(),
        (false, Some(b)) => format!(
            "price {}: {} blended (3 prompt : 1 completion)",
            f.price,
            usd_per_million(b)
        ),
        (false, None) => "price 0: price unknown or variable".to_string(),
    }
}

/// The total line: the weighted sum of the sub-scores over the sum of the weights.
fn total_reason(f: &Features, rc: &RoleCtx, q: Quick, capability: u32) -> String {
    let w = rc.w;
    format!(
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
    )
}
