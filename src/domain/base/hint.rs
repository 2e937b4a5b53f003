//! What a user can do next about an error, as data. Domain errors say what went wrong and carry their
//! hints; each surface words a hint its own way (the CLI names the command, the TUI the key, the web
//! the page), from one table per surface.

use crate::domain::base::roles::Role;

/// One thing the user can do next.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hint {
    /// See which agents exist.
    ListAgents,
    /// See every model id of the catalog.
    ListModels,
    /// See the models that take images.
    ListVisionModels,
    /// Fetch the newest catalog from OpenRouter.
    RefreshCatalog,
    /// See the routing slots of config.yaml.
    ListSlots,
    /// See the queued tasks.
    ListQueue,
    /// Store an OpenRouter key.
    AddOpenRouterKey,
    /// Give the key with this one request instead of the stored one.
    PassKeyOnce,
    /// Give no key, so the stored one is used.
    UseStoredKey,
    /// Set up on free models without a key.
    SetUpWithoutKey,
    /// Start the setup over (agents are kept).
    StartSetupOver,
    /// Go back to the first setup step.
    RestartSetup,
    /// Stop the running Hermes gateway, or restart it.
    StopOrRestartGateway,
    /// Look at the database and its migrations.
    ShowDatabase,
    /// Connect (or reconnect) to Paperclip at its URL.
    ConnectPaperclip,
    /// Choose a model for this agent by hand.
    ChooseModelFor { agent: String },
    /// Pick another model that passes the role.
    OtherModelForRole { model: String, role: Role },
    /// Use the model anyway.
    ForceModel,
    /// Name a model explicitly instead of the automatic pick.
    PickModel,
    /// Start Ollama and pull a local model (outside nxr: the same on every surface).
    PullLocalModel { model: String },
    /// Set a setting to a valid value.
    SetSetting { name: String, example: String },
    /// Run the web server in a terminal.
    RunServeInTerminal,
    /// Install the user service again.
    InstallServiceAgain,
}

impl Hint {
    /// One hint of every kind (the surfaces' tables are tested against it).
    pub fn examples() -> Vec<Hint> {
        vec![
            Hint::ListAgents,
            Hint::ListModels,
            Hint::ListVisionModels,
            Hint::RefreshCatalog,
            Hint::ListSlots,
            Hint::ListQueue,
            Hint::AddOpenRouterKey,
            Hint::PassKeyOnce,
            Hint::UseStoredKey,
            Hint::SetUpWithoutKey,
            Hint::StartSetupOver,
            Hint::RestartSetup,
            Hint::StopOrRestartGateway,
            Hint::ShowDatabase,
            Hint::ConnectPaperclip,
            Hint::ChooseModelFor { agent: "pm".into() },
            Hint::OtherModelForRole {
                model: "a/b".into(),
                role: Role::Engineer,
            },
            Hint::ForceModel,
            Hint::PickModel,
            Hint::PullLocalModel {
                model: "qwen3:8b".into(),
            },
            Hint::SetSetting {
                name: "scan-interval-hours".into(),
                example: "6".into(),
            },
            Hint::RunServeInTerminal,
            Hint::InstallServiceAgain,
        ]
    }
}

/// An error that knows what the user can do next (empty when the message says it all).
pub trait Hinted {
    fn hints(&self) -> Vec<Hint>;
}

#[cfg(test)]
mod tests {
    use super::Hint;

    /// Its place in the enum: the match has no wildcard, so a new kind must be numbered here, and
    /// the test below then asks for its example.
    fn place(h: &Hint) -> usize {
        match h {
            Hint::ListAgents => 0,
            Hint::ListModels => 1,
            Hint::ListVisionModels => 2,
            Hint::RefreshCatalog => 3,
            Hint::ListSlots => 4,
            Hint::ListQueue => 5,
            Hint::AddOpenRouterKey => 6,
            Hint::PassKeyOnce => 7,
            Hint::UseStoredKey => 8,
            Hint::SetUpWithoutKey => 9,
            Hint::StartSetupOver => 10,
            Hint::RestartSetup => 11,
            Hint::StopOrRestartGateway => 12,
            Hint::ShowDatabase => 13,
            Hint::ConnectPaperclip => 14,
            Hint::ChooseModelFor { .. } => 15,
            Hint::OtherModelForRole { .. } => 16,
            Hint::ForceModel => 17,
            Hint::PickModel => 18,
            Hint::PullLocalModel { .. } => 19,
            Hint::SetSetting { .. } => 20,
            Hint::RunServeInTerminal => 21,
            Hint::InstallServiceAgain => 22,
        }
    }

    #[test]
    fn every_kind_has_one_example() {
        let places: Vec<usize> = Hint::examples().iter().map(place).collect();
        assert_eq!(places, (0..23).collect::<Vec<_>>());
    }
}
