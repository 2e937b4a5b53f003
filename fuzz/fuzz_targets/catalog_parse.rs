//! The OpenRouter catalog parser on arbitrary bodies: it never panics, and what it keeps is usable —
//! ids valid, sorted and unique, prices either unknown or finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nxr::domain::catalog::{is_valid_model_id, parse_catalog};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = parse_catalog(body) else {
        return;
    };
    assert_eq!(parsed.models.len(), parsed.raw.len());
    assert!(!parsed.models.is_empty());
    for pair in parsed.models.windows(2) {
        assert!(pair[0].id < pair[1].id, "ids not sorted and unique");
    }
    for m in &parsed.models {
        assert!(is_valid_model_id(&m.id), "kept an invalid id {:?}", m.id);
        for p in [m.prompt_per_million(), m.completion_per_million()].into_iter().flatten() {
            assert!(p.is_finite(), "price {p} for {}", m.id);
        }
        let _ = m.price_label();
        let _ = m.is_free();
    }
});
