//! The TUI's words for a domain [`Hint`]: the key (and tab) that does it, or, for what only the CLI
//! does, `q` and the command to run.

use crate::domain::base::hint::Hint;
use crate::domain::setup::errors::hints_of;

/// What the TUI tells the user to press for `h`; `None` when the TUI has no way to do it (forcing a
/// model the role refuses is the CLI's and the web's).
pub fn say(h: &Hint) -> Option<String> {
    Some(match h {
        Hint::ListAgents => "Tab 3 (key 3) lists the agents".into(),
        Hint::ListModels => "Tab 2 (key 2) lists every model; / filters".into(),
        Hint::ListVisionModels => "v on Tab 2 lists the models with image input".into(),
        Hint::RefreshCatalog => "q, then `nxr catalog refresh` fetches the newest catalog".into(),
        Hint::ListSlots => "s on Tab 2 shows the slots".into(),
        Hint::ListQueue => "q, then `nxr queue list` shows the queued tasks".into(),
        Hint::AddOpenRouterKey => "type a key into the upgrade dialog (u on Tab 3)".into(),
        Hint::PassKeyOnce => "type the key into the upgrade dialog (u on Tab 3)".into(),
        Hint::UseStoredKey => {
            "or leave the key field of the upgrade dialog (u on Tab 3) empty to use the stored key"
                .into()
        }
        Hint::SetUpWithoutKey => "q, then `nxr init --free` sets up on free models".into(),
        Hint::StartSetupOver => "q, then `nxr init --reset` starts over (agents are kept)".into(),
        Hint::RestartSetup => "q, then `nxr init` starts again".into(),
        Hint::StopOrRestartGateway => "x on Tab 1 stops it, R restarts it".into(),
        Hint::ShowDatabase => "q, then `nxr db status` shows the database".into(),
        Hint::ConnectPaperclip => "q, then `nxr paperclip connect --url …` connects to it".into(),
        Hint::ChooseModelFor { agent } => format!(
            "u on Tab 3 moves {agent} to its recommended model; q, then `nxr upgrade --agent {agent} --to MODEL` to another"
        ),
        Hint::OtherModelForRole { .. } | Hint::PickModel => {
            "press c to choose another model".into()
        }
        Hint::ForceModel => return None,
        Hint::PullLocalModel { model } => format!("start Ollama and `ollama pull {model}`"),
        Hint::SetSetting { name, example } => {
            format!("q, then `nxr config set {name} {example}`")
        }
        Hint::RunServeInTerminal => "run `nxr serve` in a terminal".into(),
        Hint::InstallServiceAgain => "q, then `nxr service install` again".into(),
    })
}

/// The error's message followed by its hints in the TUI's words (for the status line).
pub fn explain(e: &(dyn std::error::Error + 'static)) -> String {
    hints_of(e)
        .iter()
        .filter_map(say)
        .fold(e.to_string(), |mut out, h| {
            out.push_str("; ");
            out.push_str(&h);
            out
        })
}
