//! How prices and token counts read on every surface, and the one rule for a zero price.

/// The one price label (see [`Model::price_label`]), from what a model says about its price.
pub fn price_label(
    router: bool,
    free: bool,
    prompt: Option<f64>,
    completion: Option<f64>,
) -> String {
    if router {
        return "variable (router)".into();
    }
    if free {
        return "free".into();
    }
    match (prompt, completion) {
        (Some(p), Some(c)) => format!("{} / {}", usd(p), usd(c)),
        _ => "price unknown".into(),
    }
}

/// A token count as every surface shows it: `131072` → `131k`, `1048576` → `1M`, `1500000` → `1.5M`.
pub fn tokens_label(n: u64) -> String {
    if n >= 1_000_000 {
        let m = n as f64 / 1_000_000.0;
        if m.fract() < 0.05 {
            format!("{}M", m as u64)
        } else {
            format!("{m:.1}M")
        }
    } else if n >= 1000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// Dollars with up to four decimals and no trailing zeros ("$0.15", "$2").
fn usd(v: f64) -> String {
    let s = format!("{v:.4}");
    format!("${}", s.trim_end_matches('0').trim_end_matches('.'))
}

/// `str::trim`, skipping the work when both ends are plain ASCII non-space (the usual case).
pub fn trim_fast(s: &str) -> &str {
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

/// A price string that means zero: the one rule of [`Model::is_free`], with fast paths for "0"
/// and plain decimals (scoring asks it for every model of every catalog).
pub fn price_is_zero(p: &str) -> bool {
    let p = trim_fast(p);
    if p == "0" {
        return true;
    }
    // Plain decimals ("0.0000002", "0.000") are answered without float parsing; anything else
    // (exponents, signs, odd text) are parsed as numbers.
    let plain = p.len() <= 64
        && p.bytes().any(|b| b.is_ascii_digit())
        && p.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && p.bytes().filter(|b| *b == b'.').count() <= 1;
    if plain {
        return p.bytes().all(|b| b == b'0' || b == b'.');
    }
    matches!(p.parse::<f64>(), Ok(v) if v == 0.0)
}

/// USD per million tokens from a per-token price; `None` when unreadable, negative, or so large that
/// the per-million figure is not a finite number.
pub(super) fn per_million(p: &str) -> Option<f64> {
    match p.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 => Some(v * 1_000_000.0).filter(|m| m.is_finite()),
        _ => None,
    }
}
