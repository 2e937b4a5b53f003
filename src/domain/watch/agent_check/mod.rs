//! Whether each agent can run, without spending a request: its Hermes profile exists, its config.yaml
//! parses, its provider and model are set and agree with the database, the model is in the catalog and
//! passes the role, the provider's credentials are in the profile's own `.env`, a local endpoint
//! (Ollama) a slot uses answers, and its skills are on disk. The verdict is one [`CheckState`] with the
//! reasons; every surface (CLI, TUI, web) renders the same [`AgentCheck`]. [`live`] adds one real
//! prompt per agent through `hermes -z`.

pub mod live;
mod needs;

use crate::domain::agents::hermes::{self, Profile, Slot};
use crate::domain::agents::{self, Agent, AgentError};
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::scoring::rescore;
use crate::domain::scoring::{self, ModelScore};
use crate::domain::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Whether an agent can run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// Every check passes: a prompt would reach its model.
    Ready,
    /// Everything is in place but the provider's key: add one and it runs.
    NeedsKey,
    /// Something other than the key is wrong (see the reasons).
    Broken,
}

impl CheckState {
    /// The words every surface shows.
    pub fn label(self) -> &'static str {
        match self {
            CheckState::Ready => "ready",
            CheckState::NeedsKey => "needs key",
            CheckState::Broken => "broken",
        }
    }
}

/// What one check looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The profile directory and its config.yaml exist.
    Profile,
    /// config.yaml parses.
    Config,
    /// The main model and provider are set.
    Model,
    /// They agree with the database.
    Database,
    /// The model is in the catalog.
    Catalog,
    /// The model passes the role's hard requirements.
    Role,
    /// The provider's key is in the profile's `.env`.
    Credentials,
    /// A local endpoint a slot uses answers and has the model.
    LocalEndpoint,
    /// The relay the profile is pointed at runs.
    Relay,
    /// The agent's skills are on disk.
    Skills,
    /// The fallback chain in the profile is the one nxr chooses now (never blocking).
    Fallbacks,
    /// A real prompt through `hermes -z` (only with `--live`).
    Live,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckLine {
    pub kind: CheckKind,
    pub ok: bool,
    /// False for a finding that does not stop the agent from running (a model that fails its role).
    pub blocking: bool,
    /// What was found.
    pub detail: String,
    /// What to do about it (when not ok).
    pub fix: Option<String>,
}

impl CheckLine {
    fn pass(kind: CheckKind, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            kind,
            ok: true,
            blocking: true,
            detail: detail.into(),
            fix: None,
        }
    }
    fn fail(kind: CheckKind, detail: impl Into<String>, fix: impl Into<String>) -> CheckLine {
        CheckLine {
            kind,
            ok: false,
            blocking: true,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// One agent's verdict and the lines it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentCheck {
    pub agent: String,
    pub role: Role,
    /// The Hermes profile (`hermes -p <profile>`; `default` is the root).
    pub profile: String,
    pub model: String,
    pub provider: String,
    pub state: CheckState,
    /// Why the state is not ready (the failing lines' details), empty when ready.
    pub reasons: Vec<String>,
    pub checks: Vec<CheckLine>,
}

impl AgentCheck {
    fn new(agent: &Agent, checks: Vec<CheckLine>) -> AgentCheck {
        let mut c = AgentCheck {
            agent: agent.name.clone(),
            role: agent.role,
            profile: agent.hermes_profile.clone(),
            model: agent.model.clone(),
            provider: agent.provider.clone(),
            state: CheckState::Ready,
            reasons: Vec::new(),
            checks,
        };
        c.settle();
        c
    }

    /// Recomputes the state and reasons from the lines: a failing blocking line other than the
    /// credentials makes it broken; else a missing key makes it need one.
    fn settle(&mut self) {
        let failing: Vec<&CheckLine> = self.checks.iter().filter(|l| !l.ok).collect();
        self.reasons = failing.iter().map(|l| l.detail.clone()).collect();
        let broken = failing
            .iter()
            .any(|l| l.blocking && l.kind != CheckKind::Credentials);
        let no_key = failing.iter().any(|l| l.kind == CheckKind::Credentials);
        self.state = if broken {
            CheckState::Broken
        } else if no_key {
            CheckState::NeedsKey
        } else {
            CheckState::Ready
        };
    }

    /// The first fix to show in a one-line view.
    pub fn first_fix(&self) -> Option<&str> {
        self.checks
            .iter()
            .find(|l| !l.ok && l.blocking)
            .or_else(|| self.checks.iter().find(|l| !l.ok))
            .and_then(|l| l.fix.as_deref())
    }
}

/// How long a local endpoint may take to answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

/// The catalog as the checks see it: where it came from, and a model's score for a role (`None` when
/// the model is not in it). Surfaces that hold the catalog already (the TUI) pass their own.
pub struct CatalogFacts<'a> {
    pub source: String,
    pub score: ScoreFn<'a>,
}

/// A model's score for a role, `None` when the catalog does not have the model.
pub type ScoreFn<'a> = Box<dyn Fn(&str, Role) -> Option<ModelScore> + Send + Sync + 'a>;

impl CatalogFacts<'_> {
    /// Facts over the stored catalog and scoring inputs.
    pub fn from_inputs(inputs: rescore::Inputs) -> CatalogFacts<'static> {
        Self::from_shared(std::sync::Arc::new(inputs))
    }

    /// [`Self::from_inputs`] over inputs kept by the store (`rescore::inputs_shared`).
    pub fn from_shared(inputs: std::sync::Arc<rescore::Inputs>) -> CatalogFacts<'static> {
        let source = inputs.catalog.describe();
        CatalogFacts {
            source,
            score: Box::new(move |id, role| {
                inputs
                    .models
                    .iter()
                    .find(|m| m.id == id)
                    .map(|m| scoring::score(m, role, &inputs.health, &inputs.cfg))
            }),
        }
    }
}

/// What the checks of several agents share: the catalog, and each local endpoint's answer (asked
/// once per URL).
struct Shared<'a> {
    catalog: Option<&'a CatalogFacts<'a>>,
    endpoints: BTreeMap<String, Result<Vec<String>, String>>,
    probe_timeout: Duration,
}

/// Checks every agent, oldest first.
pub async fn check_all(env: &Env, store: &Store) -> Result<Vec<AgentCheck>, AgentError> {
    let mut all = agents::list(store, env).await?;
    // Team mode: the agents whose profiles are on this host (the others are checked on theirs).
    all.retain(|a| a.is_here(env));
    Ok(check_agents(env, store, &all, PROBE_TIMEOUT).await)
}

/// Checks one agent by name (or id).
pub async fn check_one(env: &Env, store: &Store, name: &str) -> Result<AgentCheck, AgentError> {
    let agent = agents::resolve(store, env, name).await?;
    if !agent.is_here(env) {
        return Err(AgentError::Other(format!(
            "agent {:?} runs on host {:?}, where its Hermes profile is; run the check there",
            agents::echo(&agent.name),
            agent.host
        )));
    }
    let mut out = check_agents(env, store, std::slice::from_ref(&agent), PROBE_TIMEOUT).await;
    out.pop()
        .ok_or_else(|| AgentError::NotFound(name.to_string()))
}

/// Checks these agents against the stored catalog.
pub async fn check_agents(
    env: &Env,
    store: &Store,
    list: &[Agent],
    probe_timeout: Duration,
) -> Vec<AgentCheck> {
    let facts = rescore::inputs_shared(store, store.now())
        .await
        .ok()
        .map(CatalogFacts::from_shared);
    let mut out = check_agents_with(env, list, facts.as_ref(), probe_timeout).await;
    add_fallback_lines(store, env, list, &mut out).await;
    out
}

/// Adds each agent's fallback-chain line to its check (`checks` in the order of `list`), for agents
/// whose config.yaml parses.
pub async fn add_fallback_lines(
    store: &Store,
    env: &Env,
    list: &[Agent],
    checks: &mut [AgentCheck],
) {
    for (check, agent) in checks.iter_mut().zip(list) {
        if check
            .checks
            .iter()
            .any(|l| l.kind == CheckKind::Config && l.ok)
        {
            check.checks.push(fallbacks_line(store, env, agent).await);
        }
    }
}

/// The chain line: in step, stale (with the fix), or edited by hand (kept, reported).
async fn fallbacks_line(store: &Store, env: &Env, agent: &Agent) -> CheckLine {
    use crate::domain::agents::fallbacks::ChainState;
    let line = |ok: bool, detail: String, fix: Option<String>| CheckLine {
        kind: CheckKind::Fallbacks,
        ok,
        blocking: false,
        detail,
        fix,
    };
    let v = match crate::domain::agents::fallbacks::view(store, env, &agent.name).await {
        Ok(v) => v,
        Err(e) => {
            return line(
                false,
                format!("the fallback chain was not checked: {e}"),
                None,
            );
        }
    };
    let reset = format!(
        "`nxr agents fallbacks {:?} --reset` writes the chain nxr chooses",
        agent.name
    );
    match v.state {
        ChainState::InStep if v.chosen.is_empty() => line(
            true,
            "no fallback chain (fallback-count is 0 or no other model qualifies)".into(),
            None,
        ),
        ChainState::InStep => line(
            true,
            format!("fallback chain: {}", v.configured.join(" → ")),
            None,
        ),
        ChainState::Stale if v.configured.is_empty() => line(
            false,
            "no fallback chain: a rate-limited model stops the agent".into(),
            Some(reset),
        ),
        ChainState::Stale => line(
            false,
            format!(
                "the fallback chain {} is out of date",
                v.configured.join(" → ")
            ),
            Some(format!("{reset} (the next scan also does)")),
        ),
        ChainState::HandEdited => line(
            true,
            format!(
                "fallback chain edited by hand, kept: {}",
                v.configured.join(" → ")
            ),
            None,
        ),
    }
}

/// Checks these agents against a catalog the caller holds (`None`: it could not be read).
pub async fn check_agents_with(
    env: &Env,
    list: &[Agent],
    catalog: Option<&CatalogFacts<'_>>,
    probe_timeout: Duration,
) -> Vec<AgentCheck> {
    let mut shared = Shared {
        catalog,
        endpoints: BTreeMap::new(),
        probe_timeout,
    };
    let mut out = Vec::with_capacity(list.len());
    for agent in list {
        out.push(check_agent(env, agent, &mut shared).await);
    }
    out
}

async fn check_agent(env: &Env, agent: &Agent, shared: &mut Shared<'_>) -> AgentCheck {
    let mut lines = Vec::new();
    let profile = match agent.usable_profile() {
        Ok(p) => p,
        Err(e) => {
            lines.push(CheckLine::fail(
                CheckKind::Profile,
                "the agent has no usable Hermes profile name",
                e.to_string(),
            ));
            return AgentCheck::new(agent, lines);
        }
    };
    let config = profile.config_path();
    if !profile.dir.is_dir() || !config.is_file() {
        lines.push(CheckLine::fail(
            CheckKind::Profile,
            format!("no Hermes profile at {}", config.display()),
            format!(
                "restore {} from a backup, or create the agent again under a new name (`nxr agents create --role {} --name …`)",
                profile.dir.display(),
                agent.role
            ),
        ));
        return AgentCheck::new(agent, lines);
    }
    lines.push(CheckLine::pass(
        CheckKind::Profile,
        format!("profile {} at {}", profile.name, profile.dir.display()),
    ));
    let slots = match hermes::routing_slots(&config) {
        Ok(s) => s,
        Err(e) => {
            lines.push(CheckLine::fail(
                CheckKind::Config,
                format!("{} does not parse", config.display()),
                e.to_string(),
            ));
            return AgentCheck::new(agent, lines);
        }
    };
    lines.push(CheckLine::pass(CheckKind::Config, "config.yaml parses"));
    let main = slots
        .iter()
        .find(|s| s.name == hermes::MAIN_SLOT)
        .cloned()
        .unwrap_or(Slot {
            name: hermes::MAIN_SLOT.into(),
            provider: None,
            model: None,
            base_url: None,
        });
    lines.extend(model_lines(agent, &profile, &main));
    lines.extend(catalog_lines(agent, &main, shared));
    lines.push(needs::credentials_line(env, &profile, &slots));
    lines.extend(needs::endpoint_lines(&slots, shared).await);
    lines.push(skills_line(agent, &profile));
    AgentCheck::new(agent, lines)
}

/// The provider config.yaml should say for the database's provider.
fn config_provider(db_provider: &str) -> &str {
    if db_provider == "ollama" {
        "custom"
    } else {
        db_provider
    }
}

fn hermes_cmd(profile: &Profile) -> String {
    if profile.is_root() {
        "hermes".to_string()
    } else {
        format!("hermes -p {}", profile.name)
    }
}

fn model_lines(agent: &Agent, profile: &Profile, main: &Slot) -> Vec<CheckLine> {
    let want_provider = config_provider(&agent.provider);
    let set_back = format!(
        "`{h} config set model.default {m}` and `{h} config set model.provider {want_provider}` put it back on the model nxr assigned (or pick a model in Tab 3 so both agree)",
        h = hermes_cmd(profile),
        m = agent.model,
    );
    let (Some(model), Some(provider)) = (main.model.as_deref(), main.provider.as_deref()) else {
        let missing = match (&main.model, &main.provider) {
            (None, None) => "model.default and model.provider are",
            (None, _) => "model.default is",
            _ => "model.provider is",
        };
        return vec![CheckLine::fail(
            CheckKind::Model,
            format!("{missing} not set in config.yaml"),
            set_back,
        )];
    };
    let mut out = vec![CheckLine::pass(
        CheckKind::Model,
        format!("model {model} on provider {provider}"),
    )];
    // On the relay, the profile says `custom` with the relay's URL for an OpenRouter model.
    let on_relay = provider == "custom"
        && want_provider == "openrouter"
        && main
            .base_url
            .as_deref()
            .is_some_and(crate::domain::agents::relay_route::is_relay_url);
    if model == agent.model && (provider == want_provider || on_relay) {
        out.push(CheckLine::pass(
            CheckKind::Database,
            "config.yaml agrees with the database",
        ));
    } else {
        out.push(CheckLine::fail(
            CheckKind::Database,
            format!(
                "config.yaml says {model} on {provider}, the database {} on {want_provider}",
                agent.model
            ),
            set_back,
        ));
    }
    out
}

fn catalog_lines(agent: &Agent, main: &Slot, shared: &Shared<'_>) -> Vec<CheckLine> {
    let Some(model) = main.model.as_deref() else {
        return Vec::new();
    };
    if main.provider.as_deref() != Some("openrouter") {
        return vec![CheckLine::pass(
            CheckKind::Catalog,
            format!("{model} is not an OpenRouter model (no catalog entry needed)"),
        )];
    }
    let Some(catalog) = shared.catalog else {
        return vec![CheckLine::fail(
            CheckKind::Catalog,
            "the catalog could not be read",
            "`nxr db status` shows the database; `nxr catalog refresh` fetches the catalog again",
        )];
    };
    let Some(scored) = (catalog.score)(model, agent.role) else {
        return vec![CheckLine::fail(
            CheckKind::Catalog,
            format!("{model} is not in the catalog ({})", catalog.source),
            format!(
                "`nxr catalog refresh` fetches the newest catalog; `nxr models best-free --role {}` shows a model to move to",
                agent.role
            ),
        )];
    };
    let mut out = vec![CheckLine::pass(
        CheckKind::Catalog,
        format!("{model} is in the catalog"),
    )];
    if scored.passes {
        out.push(CheckLine::pass(
            CheckKind::Role,
            format!("{model} meets the {} role's requirements", agent.role),
        ));
    } else {
        out.push(CheckLine {
            blocking: false,
            ..CheckLine::fail(
                CheckKind::Role,
                format!(
                    "{model} fails the {} role: {}",
                    agent.role,
                    scored.verdict().describe()
                ),
                format!(
                    "`nxr models best-free --role {}` shows a model that fits",
                    agent.role
                ),
            )
        })
    }
    out
}

fn skills_line(agent: &Agent, profile: &Profile) -> CheckLine {
    let dir = profile.nxr_skills_dir();
    let missing: Vec<&str> = agent
        .skillset
        .iter()
        .filter(|s| !dir.join(s.as_str()).join("SKILL.md").is_file())
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return CheckLine::pass(
            CheckKind::Skills,
            format!("{} skill(s) on disk", agent.skillset.len()),
        );
    }
    CheckLine::fail(
        CheckKind::Skills,
        format!(
            "skill(s) missing from {}: {}",
            dir.display(),
            missing.join(", ")
        ),
        format!(
            "`nxr agents skills {:?} --sync {}` writes them again",
            agent.name,
            agent.skillset.join(",")
        ),
    )
}

/// Which agents can run now and which need something, for a one-paragraph summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: Vec<String>,
    pub needs_key: Vec<String>,
    pub broken: Vec<String>,
}

impl Readiness {
    pub fn of(checks: &[AgentCheck]) -> Readiness {
        let mut r = Readiness::default();
        for c in checks {
            match c.state {
                CheckState::Ready => r.ready.push(c.agent.clone()),
                CheckState::NeedsKey => r.needs_key.push(c.agent.clone()),
                CheckState::Broken => r.broken.push(c.agent.clone()),
            }
        }
        r
    }

    pub fn all_ready(&self) -> bool {
        self.needs_key.is_empty() && self.broken.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: CheckKind, ok: bool) -> CheckLine {
        if ok {
            CheckLine::pass(kind, "fine")
        } else {
            CheckLine::fail(kind, format!("{kind:?} failed"), "do it")
        }
    }

    fn verdict(lines: Vec<CheckLine>) -> AgentCheck {
        let mut c = AgentCheck {
            agent: "a".into(),
            role: Role::Pm,
            profile: "a".into(),
            model: "m".into(),
            provider: "openrouter".into(),
            state: CheckState::Ready,
            reasons: vec![],
            checks: lines,
        };
        c.settle();
        c
    }

    #[test]
    fn the_state_follows_the_failing_lines() {
        let c = verdict(vec![
            line(CheckKind::Profile, true),
            line(CheckKind::Credentials, false),
        ]);
        assert_eq!(c.state, CheckState::NeedsKey);
        assert_eq!(c.reasons, vec!["Credentials failed".to_string()]);
        let c = verdict(vec![
            line(CheckKind::Skills, false),
            line(CheckKind::Credentials, false),
        ]);
        assert_eq!(c.state, CheckState::Broken);
        assert_eq!(c.first_fix(), Some("do it"));
        let mut role = line(CheckKind::Role, false);
        role.blocking = false;
        let c = verdict(vec![line(CheckKind::Profile, true), role]);
        assert_eq!(
            c.state,
            CheckState::Ready,
            "a role mismatch does not stop the agent"
        );
        assert_eq!(c.reasons.len(), 1);
        assert_eq!(
            serde_json::to_value(CheckState::NeedsKey).unwrap(),
            serde_json::json!("needs_key")
        );
    }
}
