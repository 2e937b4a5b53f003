//! One model scored for one role with its human reasons (`full_score`): the hard-requirement exclusions
//! first, then one line per sub-score and the total. It computes no number of its own; every figure
//! comes from `features`.

use super::*;

pub(super) fn thousands(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

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
    let mut reasons = Vec::new();
    let mut exclusions = Vec::new();
    let req = rc.req;
    let date = || m.expiration_date.clone().unwrap_or_default();
    // Hard requirements first.
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
        Expiry::Soon => exclusions.push(Exclusion::Expiring { date: date() }),
        Expiry::Unreadable => exclusions.push(Exclusion::ExpiryUnreadable { date: date() }),
        Expiry::Later | Expiry::None => {}
    }
    if f.caveat_blocked {
        exclusions.push(Exclusion::Caveats {
            caveats: crate::domain::scoring::caveats::caveats(m, cfg.now),
        });
    }
    reasons.extend(exclusions.iter().map(|x| format!("excluded: {x}")));
    if f.expiry == Expiry::Later {
        reasons.push(format!("note: OpenRouter will remove it on {}", date()));
    }
    let before = exclusions.len();
    if req.needs_tools && !f.tools {
        exclusions.push(Exclusion::MissingTools { role: rc.role });
    }
    if f.context < req.min_context {
        exclusions.push(Exclusion::ContextBelow {
            context: f.context,
            required: req.min_context,
        });
    }
    reasons.extend(
        exclusions[before..]
            .iter()
            .map(|x| format!("excluded: {x}")),
    );
    if f.context >= req.min_context {
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
        exclusions,
        context_length: f.context,
    }
}
