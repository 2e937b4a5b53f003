//! The web's words for a domain [`Hint`]: the page (and form) that does it, or, for what only the
//! CLI does, the command to run.

use crate::domain::base::hint::Hint;
use crate::domain::setup::errors::hints_of;

/// What a page tells the user to do for `h`.
pub fn say(h: &Hint) -> String {
    match h {
        Hint::ListAgents => "the Agents page (/agents) lists the agents".into(),
        Hint::ListModels => "the Models page (/models) lists every id".into(),
        Hint::ListVisionModels => {
            "/models with Vision ticked lists the models with image input".into()
        }
        Hint::RefreshCatalog => "the catalog step of /setup fetches the newest catalog".into(),
        Hint::ListSlots => "/models/switch shows the slots".into(),
        Hint::ListQueue => "`nxr queue list` shows the queued tasks".into(),
        Hint::AddOpenRouterKey => "add a key on /setup".into(),
        Hint::PassKeyOnce => "paste a key into the form on /agents/upgrade".into(),
        Hint::UseStoredKey => {
            "or leave the key field on /agents/upgrade empty to use the stored key".into()
        }
        Hint::SetUpWithoutKey => "continue on /setup without a key".into(),
        Hint::StartSetupOver => "Start over on /setup (agents are kept)".into(),
        Hint::RestartSetup => "start again from /setup".into(),
        Hint::StopOrRestartGateway => "/hermes has Stop and Restart".into(),
        Hint::ShowDatabase => "/doctor shows the database".into(),
        Hint::ConnectPaperclip => "`nxr paperclip connect --url …` connects to it".into(),
        Hint::ChooseModelFor { agent } => {
            format!("/agents moves {agent} to its recommended model")
        }
        Hint::OtherModelForRole { role, .. } => {
            format!("pick another model (/models?role={role} ranks them for the role)")
        }
        Hint::ForceModel => "tick Force to use it anyway".into(),
        Hint::PickModel => "choose a model in the form (/models ranks them)".into(),
        Hint::PullLocalModel { model } => format!("start Ollama and `ollama pull {model}`"),
        Hint::SetSetting { name, example } => format!("`nxr config set {name} {example}` sets it"),
        Hint::RunServeInTerminal => "run `nxr serve` in a terminal".into(),
        Hint::InstallServiceAgain => "then run `nxr service install` again".into(),
    }
}

/// The error's message followed by its hints in the web's words (for a message page or a JSON error).
pub fn explain(e: &(dyn std::error::Error + 'static)) -> String {
    hints_of(e).iter().fold(e.to_string(), |mut out, h| {
        out.push_str("; ");
        out.push_str(&say(h));
        out
    })
}
