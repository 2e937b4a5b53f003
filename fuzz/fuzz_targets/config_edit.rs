//! The Hermes config.yaml editor on arbitrary files: setting the main model and a routing slot either
//! fails and leaves the file byte-for-byte as it was, or succeeds with both values read back and every
//! other top-level key unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nxr::domain::hermes::{self, ConfigValue};
use std::sync::OnceLock;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
}

fn top_level(text: &str) -> Option<serde_norway::Mapping> {
    match serde_norway::from_str::<serde_norway::Value>(text).ok()? {
        serde_norway::Value::Mapping(m) => Some(m),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let slot = hermes::AUX_SLOTS[pick as usize % hermes::AUX_SLOTS.len()];
    let path = dir().path().join("config.yaml");
    std::fs::write(&path, rest).expect("write");
    let model = "openrouter/fuzz-model:free";
    let edited = hermes::set_config(
        &path,
        &[("model.default".into(), ConfigValue::Str(model.into()))],
    )
    .and_then(|()| hermes::set_slot(&path, slot, "openrouter", model, None));
    let after = std::fs::read(&path).expect("read back");
    match edited {
        Err(_) => {
            // A refused first edit writes nothing; a refused second edit leaves the first one's file.
            if after != rest {
                let text = String::from_utf8(after).expect("an edited file is UTF-8");
                assert_eq!(
                    hermes::get_config(&path, "model.default").ok().flatten().as_deref(),
                    Some(model),
                    "a failed edit changed the file:\n{text}"
                );
            }
        }
        Ok(()) => {
            let text = String::from_utf8(after).expect("an edited file is UTF-8");
            assert_eq!(
                hermes::get_config(&path, "model.default").expect("get").as_deref(),
                Some(model)
            );
            assert_eq!(
                hermes::get_config(&path, &format!("auxiliary.{slot}.model"))
                    .expect("get")
                    .as_deref(),
                Some(model)
            );
            if let (Some(before), Some(now)) = (
                std::str::from_utf8(rest).ok().and_then(top_level),
                top_level(&text),
            ) {
                for (k, v) in &before {
                    if matches!(k.as_str(), Some("model" | "auxiliary")) {
                        continue;
                    }
                    assert_eq!(now.get(k), Some(v), "key {k:?} changed:\n{text}");
                }
            }
        }
    }
});
