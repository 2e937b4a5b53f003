//! The integer arithmetic the scores are built from: fixed-point `log2`, parameter counts read from model
//! ids and names, prices in micro-USD per million tokens, expiry dates. Pure functions of their input; no
//! floating point reaches a score except the exact parse of a price string.

use super::*;

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

pub(super) const LOG2_ONE_BILLION_IN_MILLIONS: i64 = log2_milli(1000);

pub(super) fn clamp_points(v: i64) -> u32 {
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
pub(super) fn parse_decimal_milli(s: &str) -> Option<u64> {
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
pub(super) fn parse_param_token(tok: &str) -> Option<(u64, bool)> {
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
pub(super) fn price_pico(p: &str) -> Option<u64> {
    match p.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some((v * 1e12).round() as u64),
        _ => None,
    }
}

/// Blended price (3 prompt : 1 completion) in micro-USD per million tokens.
pub(super) fn blended_micro_per_million(m: &Model) -> Option<u64> {
    let p = price_pico(&m.prompt_price)?;
    let c = price_pico(&m.completion_price)?;
    // Saturating: an absurd price ("1e300") must rank last, not overflow.
    Some(p.saturating_mul(3).saturating_add(c) / 4)
}

/// The price floor: at or below $0.05 per million tokens a paid model gets the full 1000.
pub(super) const PRICE_FLOOR_MICRO: u64 = 50_000;

/// Price points: 1000 for free; paid: 1000 at ≤ $0.05/M blended, −100 per doubling above that.
pub(super) fn price_points(blended_micro: u64) -> u32 {
    if blended_micro <= PRICE_FLOOR_MICRO {
        return 1000;
    }
    const FLOOR_LOG: i64 = log2_milli(PRICE_FLOOR_MICRO);
    clamp_points(1000 - (log2_milli(blended_micro) - FLOOR_LOG) / 10)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 → unix seconds.
pub fn parse_expiry(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp())
}
