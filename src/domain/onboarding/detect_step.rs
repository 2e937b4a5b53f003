//! Step 2, the local tools: probes Ollama (`/api/tags`) and faster-whisper and records what answered.
//! Probing changes nothing on the machine.

use super::*;

/// Probes Ollama and faster-whisper at once (no side effects).
pub async fn detect_local_tools(env: &Env, store: &Store, probes: &Probes) -> Detections {
    let setting = store.setting(whisper::COMMAND_SETTING).await.ok().flatten();
    let probe = whisper::probe_command(setting.as_deref());
    let (ollama, faster_whisper) = tokio::join!(
        detect_ollama(&env.ollama_url, probes.ollama),
        whisper::detect(&probe, probes.whisper)
    );
    Detections {
        ollama,
        faster_whisper,
    }
}

/// `GET {url}/api/tags`, and the model local slots would use.
pub async fn detect_ollama(url: &str, timeout: Duration) -> OllamaDetection {
    match ollama::list_models(url, timeout).await {
        Ok(models) => {
            let local_model = local_model(&models);
            let detail = match &local_model {
                Some(m) => format!(
                    "found, {} model(s); local slots would use {m}",
                    models.len()
                ),
                None => format!(
                    "found, but no model is pulled; `ollama pull {SUGGESTED_LOCAL_MODEL}` gives nxr a local model"
                ),
            };
            OllamaDetection {
                url: url.to_string(),
                available: true,
                models,
                local_model,
                detail,
            }
        }
        Err(e) => OllamaDetection {
            url: url.to_string(),
            available: false,
            models: Vec::new(),
            local_model: None,
            detail: e.to_string(),
        },
    }
}

/// A Qwen model when Ollama has one (largest by the number in its name, then by name), else the first
/// model it lists.
pub fn local_model(models: &[String]) -> Option<String> {
    let size = |n: &str| billions_in_name(n);
    let mut qwens: Vec<&String> = models
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("qwen"))
        .collect();
    qwens.sort_by(|a, b| size(b).cmp(&size(a)).then(a.cmp(b)));
    qwens
        .first()
        .map(|s| s.to_string())
        .or_else(|| models.first().cloned())
}

/// The size in a model name such as `qwen3:8b` or `qwen2.5-coder:14b` (in tenths of billions; 0 when
/// there is none).
pub(super) fn billions_in_name(name: &str) -> u64 {
    let lower = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut best = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'b' || i == 0 || bytes.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let start = lower[..i]
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |p| p + 1);
        if let Ok(v) = lower[start..i].parse::<f64>() {
            best = best.max((v * 10.0) as u64);
        }
    }
    best
}

/// Step 2: detects the local tools and records what was found.
pub async fn step_detect(env: &Env, store: &Store, probes: &Probes) -> Result<Detections> {
    in_progress(store, "detect", "key").await?;
    let found = detect_local_tools(env, store, probes).await;
    record_detect(store, &found).await?;
    Ok(found)
}

/// Records step 2's findings in the row in progress.
pub(super) async fn record_detect(store: &Store, found: &Detections) -> Result<()> {
    let rec = in_progress(store, "detect", "key").await?;
    advance_detect(store, rec.id, found).await?;
    Ok(())
}

pub(super) async fn advance_detect(store: &Store, id: i64, found: &Detections) -> Result<bool> {
    advance(
        store,
        id,
        "detect",
        "ollama_detected = ?1, faster_whisper_detected = ?2",
        vec![
            (found.ollama.available as i64).into(),
            (found.faster_whisper.available as i64).into(),
        ],
    )
    .await
}
