//! faster-whisper detection (local speech-to-text for Hermes, `stt.provider: local`). Detected when a
//! configured command succeeds, or else when `python3 -c "import faster_whisper"` does.
//!
//! The command comes from `NXR_FASTER_WHISPER_CMD` (environment) or the `faster_whisper.command`
//! setting; it is run with `sh -c` and counts as found when it exits 0 within the timeout.

use serde::Serialize;
use std::time::Duration;

/// The default probe.
pub const DEFAULT_PROBE: &str = "python3 -c 'import faster_whisper'";
/// The environment variable that overrides the probe command.
pub const COMMAND_VAR: &str = "NXR_FASTER_WHISPER_CMD";
/// The setting that overrides the probe command (the environment wins).
pub const COMMAND_SETTING: &str = "faster_whisper.command";
/// Importing faster_whisper loads ctranslate2; give it a moment, but never hold onboarding up long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhisperDetection {
    pub available: bool,
    /// The command that was run.
    pub probe: String,
    /// Why it is not available (exit status, timeout, not found), for the user.
    pub detail: String,
}

/// The probe command to use: the environment, then the setting, then the default.
pub fn probe_command(setting: Option<&str>) -> String {
    std::env::var(COMMAND_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| setting.map(str::to_string).filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_PROBE.to_string())
}

/// Runs `probe` (via `sh -c`) and reports whether faster-whisper is usable.
pub async fn detect(probe: &str, timeout: Duration) -> WhisperDetection {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(probe)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let (available, detail) = match cmd.spawn() {
        Err(e) => (false, format!("cannot run the probe: {e}")),
        Ok(mut child) => match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) if status.success() => (true, "found".to_string()),
            Ok(Ok(status)) => (
                false,
                format!(
                    "not found (the probe exited with {}); install it with `pip install faster-whisper`, or set {COMMAND_VAR} to a command that succeeds when it is there",
                    status.code().map_or("a signal".into(), |c| c.to_string())
                ),
            ),
            Ok(Err(e)) => (false, format!("the probe failed: {e}")),
            Err(_) => {
                let _ = child.kill().await;
                (
                    false,
                    format!("the probe did not finish within {} ms", timeout.as_millis()),
                )
            }
        },
    };
    WhisperDetection {
        available,
        probe: probe.to_string(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_succeeding_probe_means_available() {
        assert!(detect("true", DEFAULT_TIMEOUT).await.available);
        let d = detect("exit 3", DEFAULT_TIMEOUT).await;
        assert!(!d.available);
        assert!(d.detail.contains("exited with 3"), "{}", d.detail);
        let d = detect("sleep 5", Duration::from_millis(100)).await;
        assert!(!d.available);
        assert!(d.detail.contains("did not finish"), "{}", d.detail);
    }
}
