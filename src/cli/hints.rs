//! The CLI's words for a domain [`Hint`]: the command (or flag) that does it.

use crate::domain::base::hint::Hint;
use crate::domain::setup::errors::hints_of;

/// What the CLI tells the user to run for `h`.
pub fn say(h: &Hint) -> String {
    match h {
        Hint::ListAgents => "`nxr agents list` shows the agents".into(),
        Hint::ListModels => "`nxr models list` shows every id".into(),
        Hint::ListVisionModels => {
            "`nxr models list --vision` lists the models with image input".into()
        }
        Hint::RefreshCatalog => "`nxr catalog refresh` fetches the newest catalog".into(),
        Hint::ListSlots => "`nxr slots list` shows the slots".into(),
        Hint::ListQueue => "`nxr queue list` shows the queued tasks".into(),
        Hint::AddOpenRouterKey => "store a key with `nxr config set openrouter-key <key>`".into(),
        Hint::PassKeyOnce => {
            "pass a key with `--key sk-or-v1-…` (or `--key -` to read it from stdin)".into()
        }
        Hint::UseStoredKey => "or leave --key out to use the stored key".into(),
        Hint::SetUpWithoutKey => {
            "`nxr init --free` sets up on free models now; add the key later".into()
        }
        Hint::StartSetupOver => "`nxr init --reset` starts over (agents are kept)".into(),
        Hint::RestartSetup => "start again with `nxr init`".into(),
        Hint::StopOrRestartGateway => {
            "stop it first with `nxr gateway stop`, or use `nxr gateway restart`".into()
        }
        Hint::ShowDatabase => "`nxr db status` shows the database and its migrations".into(),
        Hint::ConnectPaperclip => {
            "`nxr paperclip connect --url http://127.0.0.1:3100` connects to it".into()
        }
        Hint::ChooseModelFor { agent } => {
            format!("choose one with `nxr upgrade --agent {agent} --to MODEL`")
        }
        Hint::OtherModelForRole { model, role } => format!(
            "pick another model (`nxr models best-free --role {role}` shows the best free one, `nxr models explain {model} --role {role}` the details)"
        ),
        Hint::ForceModel => "pass --force to use it anyway".into(),
        Hint::PickModel => "pick a model with --model".into(),
        Hint::PullLocalModel { model } => format!("start Ollama and `ollama pull {model}`"),
        Hint::SetSetting { name, example } => format!("e.g. `nxr config set {name} {example}`"),
        Hint::RunServeInTerminal => "run `nxr serve` in a terminal".into(),
        Hint::InstallServiceAgain => "then run `nxr service install` again".into(),
    }
}

/// The error's message followed by its hints in the CLI's words.
pub fn explain(e: &(dyn std::error::Error + 'static)) -> String {
    with_hints(e.to_string(), &hints_of(e))
}

/// `message; hint; hint`.
pub fn with_hints(message: String, hints: &[Hint]) -> String {
    hints.iter().fold(message, |mut out, h| {
        out.push_str("; ");
        out.push_str(&say(h));
        out
    })
}
