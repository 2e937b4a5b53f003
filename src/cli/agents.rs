//! `nxr agents …`.

use super::Ctx;
use clap::{Args, Subcommand};
use color_eyre::Result;

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Create an agent: a Hermes profile with a model and a skillset.
    Create(CreateArgs),
    /// List agents with role, model, skills and Hermes profile.
    List,
    /// Show (or sync) an agent's skills as a Paperclip AdapterSkillSnapshot.
    Skills(SkillsArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// pm, engineer, hermes, creative, research or custom
    #[arg(long)]
    pub role: String,
    #[arg(long)]
    pub name: String,
    /// A category template for the skills: tech, creative, business, research, media, personal.
    #[arg(long)]
    pub category: Option<String>,
    /// The model id (default: the best free model for the role).
    #[arg(long, conflicts_with = "free")]
    pub model: Option<String>,
    /// Use the best free model for the role (the default).
    #[arg(long)]
    pub free: bool,
}

#[derive(Debug, Args)]
pub struct SkillsArgs {
    /// The agent's name.
    pub name: String,
    /// Make the agent's skills exactly this comma-separated list.
    #[arg(long, value_delimiter = ',')]
    pub sync: Option<Vec<String>>,
}

pub async fn run(_ctx: &Ctx, _cmd: AgentsCmd) -> Result<()> {
    color_eyre::eyre::bail!("not built yet")
}
