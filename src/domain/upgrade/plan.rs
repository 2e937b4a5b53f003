//! The upgrade plan: per agent, what it runs now, what it would run (the best paid model for its role,
//! a model the user chose, or on a revert the last free model it had), the price per million tokens and
//! an estimated monthly cost at the agent's observed usage (`usage_events`, the last 30 days) or, with
//! none yet, at a stated assumption. A plan for every agent keeps a model the user chose (the row says
//! "kept (your choice)") unless told to include chosen models. The CLI table, the TUI dialog, the web
//! page and `--json` all show this one view model; the revert plan is built in `revert`.

use super::UpgradeError;
use crate::domain::agents::{self, Agent};
use crate::domain::base::env::Env;
use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::scoring;
use crate::domain::scoring::rescore;
use crate::domain::store::Store;
use chrono::{DateTime, Utc};
use libsql::params;
use serde::Serialize;
use std::collections::BTreeMap;

/// How every surface words a row whose agent keeps a model the user chose.
pub const KEPT_CHOICE: &str = "kept (your choice)";

/// The assumption used for an agent with no observed usage: requests a day, and tokens per request.
pub const ASSUMED_REQUESTS_PER_DAY: u64 = 100;
pub const ASSUMED_PROMPT_TOKENS: u64 = 2_000;
pub const ASSUMED_COMPLETION_TOKENS: u64 = 500;
/// Observed usage is read over this many days.
pub const USAGE_WINDOW_DAYS: i64 = 30;
/// A month, for the monthly estimate.
pub const DAYS_PER_MONTH: f64 = 30.0;

/// The stated assumption, as every surface prints it.
pub fn assumption_text() -> String {
    format!(
        "{ASSUMED_REQUESTS_PER_DAY} requests/day of {} prompt + {ASSUMED_COMPLETION_TOKENS} completion tokens",
        crate::domain::catalog::tokens_label(ASSUMED_PROMPT_TOKENS)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    Upgrade,
    Revert,
}

/// Why a switch happens; recorded in `agent_model_history.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SwitchReason {
    /// To the recommended paid model.
    Upgrade,
    /// Back to the last free model.
    Revert,
    /// A model the user picked.
    User,
}

impl SwitchReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchReason::Upgrade => "upgrade",
            SwitchReason::Revert => "revert",
            SwitchReason::User => "user",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageBasis {
    Observed,
    Assumed,
}

/// Daily usage an estimate is made at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageEstimate {
    pub basis: UsageBasis,
    pub requests_per_day: f64,
    pub prompt_tokens_per_day: f64,
    pub completion_tokens_per_day: f64,
    /// Days the observed figures are averaged over (0 for the assumption).
    pub days: u32,
}

impl UsageEstimate {
    pub fn assumed() -> UsageEstimate {
        let r = ASSUMED_REQUESTS_PER_DAY as f64;
        UsageEstimate {
            basis: UsageBasis::Assumed,
            requests_per_day: r,
            prompt_tokens_per_day: r * ASSUMED_PROMPT_TOKENS as f64,
            completion_tokens_per_day: r * ASSUMED_COMPLETION_TOKENS as f64,
            days: 0,
        }
    }

    /// USD a month at these prices (USD per million tokens).
    pub fn monthly_cost(&self, prompt_per_million: f64, completion_per_million: f64) -> f64 {
        (self.prompt_tokens_per_day * prompt_per_million
            + self.completion_tokens_per_day * completion_per_million)
            / 1_000_000.0
            * DAYS_PER_MONTH
    }
}

/// A model an agent runs or would run, with what it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub id: String,
    /// `openrouter` or `ollama`.
    pub provider: String,
    pub is_free: bool,
    /// USD per million tokens (`None` when unknown, e.g. a model no longer in the catalog).
    pub prompt_per_million: Option<f64>,
    pub completion_per_million: Option<f64>,
    /// The model's score for the agent's role, when scored.
    pub score: Option<i64>,
}

impl ModelInfo {
    /// The one price label (`catalog::price_label`): "free", "price unknown", or USD per million
    /// tokens, prompt / completion ("$0.15 / $0.6").
    pub fn price_label(&self) -> String {
        crate::domain::catalog::price_label(
            false,
            self.is_free,
            self.prompt_per_million,
            self.completion_per_million,
        )
    }
}

/// Dollars as every surface shows an estimate: two decimals, "<$0.01" for a positive amount below a
/// cent, "?" for unknown.
pub fn usd(v: f64) -> String {
    if !v.is_finite() {
        "?".into()
    } else if v > 0.0 && v < 0.01 {
        "<$0.01".into()
    } else {
        format!("${v:.2}")
    }
}

/// A row's monthly estimate as shown, marked `*` when made at the assumption.
pub fn monthly_label(row: &PlanRow) -> String {
    let value = row.monthly_cost_usd.map(usd).unwrap_or_else(|| "?".into());
    match row.usage.basis {
        UsageBasis::Observed => value,
        UsageBasis::Assumed => format!("{value} *"),
    }
}

/// What applying the plan does to one agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Switch {
    pub to: ModelInfo,
    pub reason: SwitchReason,
    /// `agents.model_auto_assigned` after the switch (false for a model the user chose).
    pub auto_assigned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    pub agent: String,
    pub role: Role,
    pub current: ModelInfo,
    /// The plan's suggestion: the best paid model (upgrade) or the last free model (revert).
    pub recommended: Option<ModelInfo>,
    /// What applying does; `None` = the agent keeps its model.
    pub switch: Option<Switch>,
    pub usage: UsageEstimate,
    /// Estimated USD a month on the model the agent runs after the plan (`None` when its price is
    /// unknown).
    pub monthly_cost_usd: Option<f64>,
    /// Why there is no switch, when there is none.
    pub note: Option<String>,
    /// The agent keeps a model the user chose: a plan for every agent leaves it alone unless told to
    /// include chosen models.
    pub kept_choice: bool,
    /// On a revert: whether nxr had picked the recommended (earlier) model.
    #[serde(skip)]
    pub recommended_auto: bool,
    /// The profile's config.yaml a switch writes.
    pub config_path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub kind: PlanKind,
    pub rows: Vec<PlanRow>,
    /// Sum of the rows' monthly estimates (rows with an unknown price count as 0).
    pub total_monthly_usd: f64,
    /// The usage assumption for agents without observed usage (see `UsageEstimate::assumed`).
    pub assumption: String,
    /// True when some row is estimated at the assumption.
    pub uses_assumption: bool,
    /// Which catalog the prices come from.
    pub catalog: String,
}

impl Plan {
    pub fn row(&self, agent: &str) -> Option<&PlanRow> {
        self.rows
            .iter()
            .find(|r| r.agent.eq_ignore_ascii_case(agent))
    }

    fn row_mut(&mut self, agent: &str) -> Result<&mut PlanRow, UpgradeError> {
        self.rows
            .iter_mut()
            .find(|r| r.agent.eq_ignore_ascii_case(agent))
            .ok_or_else(|| UpgradeError::Agents(agents::AgentError::NotFound(agent.to_string())))
    }

    /// True when applying would put some agent on a paid model (which needs a valid key).
    pub fn needs_key(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.switch.as_ref().is_some_and(|s| !s.to.is_free))
    }

    /// How many agents applying would switch.
    pub fn switch_count(&self) -> usize {
        self.rows.iter().filter(|r| r.switch.is_some()).count()
    }

    /// The agent keeps its model.
    pub fn keep(&mut self, agent: &str) -> Result<(), UpgradeError> {
        let row = self.row_mut(agent)?;
        row.switch = None;
        row.note = Some("kept by choice".into());
        row.kept_choice = false;
        self.recompute();
        Ok(())
    }

    /// Every agent on a model the user chose keeps it ("kept (your choice)"); the recommendation stays
    /// shown. Bulk actions (`upgrade --all`, `--revert` for every agent, the web and TUI bulk plans) go
    /// through this unless the user includes chosen models.
    pub fn keep_chosen(&mut self, agents: &[Agent]) {
        for row in &mut self.rows {
            let chosen = agents
                .iter()
                .any(|a| a.name == row.agent && !a.model_auto_assigned);
            if chosen && row.switch.is_some() {
                row.switch = None;
                row.note = Some(KEPT_CHOICE.into());
                row.kept_choice = true;
            }
        }
        self.recompute();
    }

    /// How many agents keep a model the user chose.
    pub fn kept_choice_count(&self) -> usize {
        self.rows.iter().filter(|r| r.kept_choice).count()
    }

    /// The agent takes the plan's recommendation (when it has one).
    pub fn take_recommended(&mut self, agent: &str) -> Result<(), UpgradeError> {
        let kind = self.kind;
        let row = self.row_mut(agent)?;
        if let Some(rec) = row.recommended.clone().filter(|r| r.id != row.current.id) {
            row.switch = Some(Switch {
                to: rec,
                reason: match kind {
                    PlanKind::Upgrade => SwitchReason::Upgrade,
                    PlanKind::Revert => SwitchReason::Revert,
                },
                auto_assigned: match kind {
                    PlanKind::Upgrade => true,
                    PlanKind::Revert => row.recommended_auto,
                },
            });
            row.note = None;
            row.kept_choice = false;
        }
        self.recompute();
        Ok(())
    }

    /// Recomputes each row's monthly estimate and the total.
    fn recompute(&mut self) {
        for row in &mut self.rows {
            let runs = row.switch.as_ref().map(|s| &s.to).unwrap_or(&row.current);
            row.monthly_cost_usd = cost(runs, &row.usage);
        }
        self.total_monthly_usd = self.rows.iter().filter_map(|r| r.monthly_cost_usd).sum();
        self.uses_assumption = self
            .rows
            .iter()
            .any(|r| r.usage.basis == UsageBasis::Assumed);
    }
}

fn cost(m: &ModelInfo, usage: &UsageEstimate) -> Option<f64> {
    if m.is_free {
        return Some(0.0);
    }
    Some(usage.monthly_cost(m.prompt_per_million?, m.completion_per_million?))
}

/// A model id's details from the catalog; ids outside it are free when they are local (no `author/`)
/// or end in `:free`.
pub fn model_info(models: &[Model], id: &str, score: Option<i64>) -> ModelInfo {
    match models.iter().find(|m| m.id == id) {
        Some(m) => ModelInfo {
            id: m.id.clone(),
            provider: "openrouter".into(),
            is_free: m.is_free() || m.id == scoring::OPENROUTER_FREE,
            prompt_per_million: m.prompt_per_million(),
            completion_per_million: m.completion_per_million(),
            score,
        },
        None => {
            let local = !id.contains('/');
            ModelInfo {
                id: id.to_string(),
                provider: if local { "ollama" } else { "openrouter" }.into(),
                is_free: local || id.ends_with(":free") || id == scoring::OPENROUTER_FREE,
                prompt_per_million: None,
                completion_per_million: None,
                score,
            }
        }
    }
}

/// The agent's observed daily usage over the last [`USAGE_WINDOW_DAYS`] days; `None` when it made no
/// request in that time.
pub async fn observed_usage(
    store: &Store,
    agent_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<UsageEstimate>, UpgradeError> {
    let since = crate::domain::base::clock::to_db(now - chrono::Duration::days(USAGE_WINDOW_DAYS));
    let mut rows = store
        .conn()
        .query(
            "SELECT SUM(requests), SUM(prompt_tokens), SUM(completion_tokens), MIN(occurred_at)
             FROM usage_events WHERE agent_id = ?1 AND occurred_at >= ?2",
            params![agent_id, since],
        )
        .await
        .map_err(|e| UpgradeError::Other(format!("cannot read usage_events: {e}")))?;
    let Some(row) = rows
        .next()
        .await
        .map_err(|e| UpgradeError::Other(format!("cannot read usage_events: {e}")))?
    else {
        return Ok(None);
    };
    let num = |i: i32| row.get::<Option<i64>>(i).ok().flatten().unwrap_or(0).max(0) as f64;
    let (requests, prompt, completion) = (num(0), num(1), num(2));
    let first: Option<String> = row.get(3).ok().flatten();
    let Some(first) = first.and_then(|t| crate::domain::base::clock::from_db(&t)) else {
        return Ok(None);
    };
    if requests == 0.0 {
        return Ok(None);
    }
    let span = (now - first).num_seconds().max(0) as f64 / 86_400.0;
    let days = span.ceil().clamp(1.0, USAGE_WINDOW_DAYS as f64);
    Ok(Some(UsageEstimate {
        basis: UsageBasis::Observed,
        requests_per_day: requests / days,
        prompt_tokens_per_day: prompt / days,
        completion_tokens_per_day: completion / days,
        days: days as u32,
    }))
}

/// The agents a plan covers: all, or exactly the one named.
pub(super) async fn selected(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
) -> Result<Vec<Agent>, UpgradeError> {
    Ok(match agent {
        Some(name) => vec![agents::resolve(store, env, name).await?],
        None => agents::list(store, env).await?,
    })
}

pub(super) fn base_row(a: &Agent, models: &[Model], usage: Option<UsageEstimate>) -> PlanRow {
    PlanRow {
        agent: a.name.clone(),
        role: a.role,
        current: model_info(models, &a.model, a.model_score),
        recommended: None,
        switch: None,
        usage: usage.unwrap_or_else(UsageEstimate::assumed),
        monthly_cost_usd: None,
        note: None,
        kept_choice: false,
        recommended_auto: false,
        config_path: a.profile().config_path().display().to_string(),
    }
}

pub(super) fn finish(kind: PlanKind, rows: Vec<PlanRow>, catalog: String) -> Plan {
    let mut plan = Plan {
        kind,
        rows,
        total_monthly_usd: 0.0,
        assumption: assumption_text(),
        uses_assumption: false,
        catalog,
    };
    plan.recompute();
    plan
}

/// The upgrade plan for `agents` (pure): each on the best paid model for its role. `usage` holds the
/// observed daily usage by agent id (agents missing from it are estimated at the assumption).
pub fn upgrade_plan_from(
    agents: &[Agent],
    models: &[Model],
    health: &scoring::Health,
    cfg: &scoring::ScoringConfig,
    usage: &BTreeMap<i64, UsageEstimate>,
    catalog: String,
) -> Plan {
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| agents.iter().any(|a| a.role == *r))
        .collect();
    let best: Vec<(Role, Option<scoring::Pick>)> = roles
        .iter()
        .copied()
        .zip(scoring::best_paid_all(models, &roles, health, cfg))
        .collect();
    let mut rows = Vec::new();
    for a in agents {
        let mut row = base_row(a, models, usage.get(&a.id).cloned());
        let paid = best
            .iter()
            .find(|(r, _)| *r == a.role)
            .and_then(|(_, p)| p.as_ref());
        row.recommended = paid.map(|p| {
            let score = p.score.as_ref().map(|s| i64::from(s.total));
            model_info(models, &p.model_id, score)
        });
        match &row.recommended {
            Some(rec) if rec.id == a.model => {
                row.note = Some("already on the recommended paid model".into());
            }
            Some(rec) => {
                row.switch = Some(Switch {
                    to: rec.clone(),
                    reason: SwitchReason::Upgrade,
                    auto_assigned: true,
                });
            }
            None => {
                row.note = Some(format!(
                    "no paid model in the catalog meets the {} requirements",
                    a.role
                ));
            }
        }
        rows.push(row);
    }
    finish(PlanKind::Upgrade, rows, catalog)
}

async fn usage_of(
    store: &Store,
    agents: &[Agent],
    now: DateTime<Utc>,
) -> Result<BTreeMap<i64, UsageEstimate>, UpgradeError> {
    let mut out = BTreeMap::new();
    for a in agents {
        if let Some(u) = observed_usage(store, a.id, now).await? {
            out.insert(a.id, u);
        }
    }
    Ok(out)
}

/// What moving to paid models means: every agent (or the one named) on the best paid model for its
/// role, or on `to` (one agent; refused with the reasons when it fails the role's hard requirements,
/// unless `force`). A plan for every agent keeps the models the user chose unless `include_chosen`.
pub async fn plan_upgrade(
    store: &Store,
    env: &Env,
    agent: Option<&str>,
    to: Option<&str>,
    force: bool,
    include_chosen: bool,
    now: DateTime<Utc>,
) -> Result<Plan, UpgradeError> {
    if to.is_some() && agent.is_none() {
        return Err(UpgradeError::Other(
            "a model given with --to is for one agent: add --agent NAME".into(),
        ));
    }
    let inputs = rescore::inputs(store, now).await?;
    let list = selected(store, env, agent).await?;
    let usage = usage_of(store, &list, now).await?;
    let mut plan = upgrade_plan_from(
        &list,
        &inputs.models,
        &inputs.health,
        &inputs.cfg,
        &usage,
        inputs.catalog.describe(),
    );
    if let (Some(model), Some(a)) = (to, list.first()) {
        choose_model(store, &mut plan, &a.name, model, force).await?;
    }
    if agent.is_none() && !include_chosen {
        plan.keep_chosen(&list);
    }
    Ok(plan)
}

/// Puts `agent` on `model` in the plan (a user's choice: `model_auto_assigned` = 0). Refused with the
/// reasons when the model fails the role's hard requirements, unless `force`.
pub async fn choose_model(
    store: &Store,
    plan: &mut Plan,
    agent: &str,
    model: &str,
    force: bool,
) -> Result<(), UpgradeError> {
    let role = plan
        .row(agent)
        .map(|r| r.role)
        .ok_or_else(|| UpgradeError::Agents(agents::AgentError::NotFound(agent.to_string())))?;
    let catalog = crate::domain::catalog::load(store).await?;
    let choice = agents::checked_choice(store, &catalog, role, model, force).await?;
    let to = model_info(&catalog.models, &choice.id, choice.score);
    let row = plan.row_mut(agent)?;
    if to.id == row.current.id {
        row.switch = None;
        row.note = Some(format!("already runs {}", to.id));
    } else {
        row.switch = Some(Switch {
            to,
            reason: SwitchReason::User,
            auto_assigned: false,
        });
        row.note = None;
    }
    plan.recompute();
    Ok(())
}
