//! What a scan tells about each agent (pure): its model gone, paid now, without a capability its role
//! needs or expiring within a week, and a better free model for its role. Each notice carries the key
//! that makes it told once. [`recommendations`] leaves out models that expire within the week.

use crate::domain::agents::Agent;
use crate::domain::base::clock;
use crate::domain::catalog::Model;
use crate::domain::notifications::{self, UpgradePayload};
use crate::domain::scoring::rescore;
use crate::domain::scoring::{PickSource, ScoringConfig};
use crate::domain::upgrade::recommend::{self, Recommendation};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// An agent's model expiring within this many days is told about.
pub const EXPIRY_NOTICE_DAYS: i64 = 7;

/// A fact about one agent that a scan found, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub kind: &'static str,
    pub agent_id: i64,
    pub agent: String,
    /// The model the notice is about (the proposed one for upgrades).
    pub model: String,
    pub dedupe_key: String,
    pub title: String,
    pub body: String,
    #[serde(skip)]
    pub payload: Option<String>,
}

/// Per agent, the best free model for its role among the models that do not expire within
/// [`EXPIRY_NOTICE_DAYS`] (moving to a model about to leave would only mean moving again), against
/// its current model scored on the whole catalog.
pub fn recommendations(
    agents: &[Agent],
    inputs: &rescore::Inputs,
    now: DateTime<Utc>,
) -> Vec<Recommendation> {
    let lasting: Vec<Model> = inputs
        .models
        .iter()
        .filter(|m| !expires_within_notice(m, now))
        .cloned()
        .collect();
    let mut picks = Vec::new();
    for a in agents {
        if !picks.iter().any(|(r, _)| *r == a.role) {
            let pick = crate::domain::scoring::best_free(
                &lasting,
                a.role,
                &inputs.health,
                &inputs.cfg,
                &[],
            );
            picks.push((a.role, pick));
        }
    }
    recommend::recommend_from(agents, &picks, |agent| {
        inputs
            .models
            .iter()
            .find(|m| m.id == agent.model)
            .map(|m| crate::domain::scoring::score(m, agent.role, &inputs.health, &inputs.cfg))
    })
}

/// True when `m` has an expiration date within [`EXPIRY_NOTICE_DAYS`] of `now` (or past).
pub fn expires_within_notice(m: &Model, now: DateTime<Utc>) -> bool {
    m.expiration_date
        .as_deref()
        .and_then(parse_expiry)
        .is_some_and(|at| at <= now + Duration::days(EXPIRY_NOTICE_DAYS))
}

pub fn is_ranked_upgrade(r: &Recommendation) -> bool {
    r.upgrade_available && r.source == PickSource::Ranked
}

fn scores(rec: &Recommendation) -> String {
    match (rec.current_score, rec.recommended_score) {
        (Some(c), Some(r)) => format!(" (score {c} → {r}, {:+})", i64::from(r) - i64::from(c)),
        (None, Some(r)) => format!(" (score {r})"),
        _ => String::new(),
    }
}

fn payload(agent: &Agent, rec: &Recommendation) -> Option<String> {
    serde_json::to_string(&UpgradePayload {
        agent: agent.name.clone(),
        from_model: Some(agent.model.clone()),
        to_model: rec.recommended_model.clone(),
        role: Some(agent.role.to_string()),
        score_delta: recommend::score_delta(rec),
        action: Some(notifications::upgrade_action(
            &agent.name,
            &rec.recommended_model,
        )),
    })
    .ok()
}

pub fn auto_upgraded_notice(agent: &Agent, rec: &Recommendation, models: &[Model]) -> Notice {
    let why = match models.iter().find(|m| m.id == agent.model) {
        None => format!("{} left the catalog", agent.model),
        Some(m) if !m.is_free() => format!("{} is not free any more", agent.model),
        Some(_) => {
            format!(
                "{} scores higher for the {} role",
                rec.recommended_model, agent.role
            )
        }
    };
    Notice {
        kind: notifications::KIND_AUTO_UPGRADED,
        agent_id: agent.id,
        agent: agent.name.clone(),
        model: rec.recommended_model.clone(),
        dedupe_key: format!(
            "auto_upgraded:{}:{}:{}",
            agent.id, agent.model, rec.recommended_model
        ),
        title: format!("{} moved to {}", agent.name, rec.recommended_model),
        body: format!(
            "nxr moved {} from {} to {}{}: {why} (auto_upgrade_free_models is on; `nxr agents revert {}` goes back).",
            agent.name,
            agent.model,
            rec.recommended_model,
            scores(rec),
            agent.name
        ),
        payload: payload(agent, rec),
    }
}

/// What the role needs that `m` lacks (tools, context, text output); empty when it has it all.
fn missing_capabilities(m: &Model, agent: &Agent, cfg: &ScoringConfig) -> Vec<String> {
    let req = cfg.requirements(agent.role);
    let mut out = Vec::new();
    if req.needs_tools && !m.supports_tools() {
        out.push("tool calling".to_string());
    }
    if m.context_length < req.min_context {
        out.push(format!(
            "a {}-token context (it has {})",
            req.min_context, m.context_length
        ));
    }
    if !m.has_text_output() {
        out.push("text output".to_string());
    }
    out
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
fn parse_expiry(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    clock::from_db(s)
}

/// The facts about one agent after a scan (pure): its model gone, paid now or without a capability
/// its role needs (where the previous stored catalog had it free / capable), an expiration date within [`EXPIRY_NOTICE_DAYS`], and a better
/// free model for its role. Each carries the key that makes it told once.
pub fn agent_notices(
    agent: &Agent,
    before: Option<&[Model]>,
    after: &[Model],
    rec: Option<&Recommendation>,
    cfg: &ScoringConfig,
    now: DateTime<Utc>,
) -> Vec<Notice> {
    let mut out = Vec::new();
    let current = after.iter().find(|m| m.id == agent.model);
    match current {
        None if agent.provider != "ollama" => out.push(agent_notice(
            agent,
            notifications::KIND_MODEL_GONE,
            &agent.model,
            format!("gone:{}:{}", agent.id, agent.model),
            format!("{}'s model left the catalog", agent.name),
            format!(
                "{} is no longer in the OpenRouter catalog, so {} cannot run on it.",
                agent.model, agent.name
            ),
        )),
        None => {}
        Some(m) => out.extend(model_notices(agent, m, before, cfg, now)),
    }
    if let Some(rec) = rec.filter(|r| is_ranked_upgrade(r)) {
        out.push(upgrade_notice(agent, rec));
    }
    out
}

/// A notice about `agent`, without a payload.
fn agent_notice(
    agent: &Agent,
    kind: &'static str,
    model: &str,
    key: String,
    title: String,
    body: String,
) -> Notice {
    Notice {
        kind,
        agent_id: agent.id,
        agent: agent.name.clone(),
        model: model.to_string(),
        dedupe_key: key,
        title,
        body,
        payload: None,
    }
}

/// The facts about the agent's model `m`, still in the catalog: paid now or without a capability
/// its role needs (where the previous stored catalog had it free / capable), and an expiration date
/// within [`EXPIRY_NOTICE_DAYS`].
fn model_notices(
    agent: &Agent,
    m: &Model,
    before: Option<&[Model]>,
    cfg: &ScoringConfig,
    now: DateTime<Utc>,
) -> Vec<Notice> {
    let mut out = Vec::new();
    let was = before.and_then(|b| b.iter().find(|o| o.id == m.id));
    if !m.is_free() && was.is_some_and(|o| o.is_free()) {
        out.push(agent_notice(
            agent,
            notifications::KIND_NOW_PAID,
            &m.id,
            format!("paid:{}:{}", agent.id, m.id),
            format!("{}'s model is not free any more", agent.name),
            format!(
                "{} now costs {}; {} spends credits on it (or fails without a key).",
                m.id,
                m.price_label(),
                agent.name
            ),
        ));
    }
    let missing = missing_capabilities(m, agent, cfg);
    let had_them = was.is_some_and(|old| missing_capabilities(old, agent, cfg).is_empty());
    if !missing.is_empty() && had_them {
        out.push(agent_notice(
            agent,
            notifications::KIND_CAPABILITY_LOST,
            &m.id,
            format!("capability:{}:{}", agent.id, m.id),
            format!("{}'s model lost what its role needs", agent.name),
            format!(
                "{} no longer offers {}, which the {} role needs.",
                m.id,
                missing.join(" and "),
                agent.role
            ),
        ));
    }
    if let Some(date) = m.expiration_date.as_deref()
        && expires_within_notice(m, now)
    {
        out.push(agent_notice(
            agent,
            notifications::KIND_EXPIRING,
            &m.id,
            format!("expiring:{}:{}:{}", agent.id, m.id, date.trim()),
            format!("{}'s model expires {}", agent.name, date.trim()),
            format!(
                "OpenRouter will remove {} on {}; {} needs another model by then.",
                m.id,
                date.trim(),
                agent.name
            ),
        ));
    }
    out
}

/// The notice proposing the agent's move to the better free model `rec` recommends, with the
/// payload that applies it.
fn upgrade_notice(agent: &Agent, rec: &Recommendation) -> Notice {
    let mut n = agent_notice(
        agent,
        notifications::KIND_UPGRADE,
        &rec.recommended_model,
        recommend::upgrade_key(agent.id, &rec.recommended_model),
        format!("{} can move to a better free model", agent.name),
        format!(
            "{} is the best free model for the {} role{}; {} runs {}. Apply: {}",
            rec.recommended_model,
            agent.role,
            scores(rec),
            agent.name,
            agent.model,
            notifications::upgrade_action(&agent.name, &rec.recommended_model)
        ),
    );
    n.payload = payload(agent, rec);
    n
}

/// Fewest requests in a day before a mostly-on-the-chain day is told.
pub const ON_FALLBACK_MIN_REQUESTS: u64 = 4;

/// A notice for each agent whose requests today were answered mostly (more than half, at least
/// [`ON_FALLBACK_MIN_REQUESTS`]) by another model than its own, with the swap to propose: its
/// chain's first model. At most once per agent and day.
pub fn on_fallback_notices(
    budget: &crate::domain::budget::Budget,
    agents: &[crate::domain::agents::Agent],
    day: &str,
) -> Vec<Notice> {
    let mut out = Vec::new();
    for u in &budget.per_agent {
        let Some(agent) = agents.iter().find(|a| Some(a.id) == u.agent_id) else {
            continue;
        };
        if u.today < ON_FALLBACK_MIN_REQUESTS || u.other_model_today * 2 <= u.today {
            continue;
        }
        let first = agent
            .usable_profile()
            .ok()
            .and_then(|p| crate::domain::agents::hermes::fallback_models(&p.config_path()).ok())
            .and_then(|c| c.into_iter().next());
        let swap = match &first {
            Some(m) => format!(
                "; its chain's first model {m} answered instead: `nxr upgrade --agent {} --to {m}` makes it the agent's own",
                agent.name
            ),
            None => String::new(),
        };
        out.push(Notice {
            kind: crate::domain::notifications::KIND_ON_FALLBACK,
            agent_id: agent.id,
            agent: agent.name.clone(),
            model: first.clone().unwrap_or_else(|| agent.model.clone()),
            dedupe_key: format!("on_fallback:{}:{day}", agent.id),
            title: format!("{} ran mostly on its fallback chain today", agent.name),
            body: format!(
                "{} of {} requests today were answered by another model than {} (it keeps refusing: rate limits, high demand or billing){swap}.",
                u.other_model_today, u.today, agent.model
            ),
            payload: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::base::roles::Role;
    use chrono::TimeZone;

    fn model(id: &str, tools: bool, expires: Option<&str>) -> Model {
        Model {
            id: id.into(),
            name: id.into(),
            canonical_slug: None,
            hugging_face_id: None,
            description: String::new(),
            created: 1_770_000_000,
            context_length: 131_072,
            max_completion_tokens: None,
            input_modalities: vec!["text".into()],
            output_modalities: vec!["text".into()],
            prompt_price: "0".into(),
            completion_price: "0".into(),
            supported_parameters: if tools {
                vec!["tools".into(), "tool_choice".into()]
            } else {
                vec![]
            },
            knowledge_cutoff: None,
            expiration_date: expires.map(String::from),
        }
    }

    fn agent(model: &str, provider: &str) -> Agent {
        Agent {
            id: 7,
            name: "pm".into(),
            role: Role::Pm,
            model: model.into(),
            provider: provider.into(),
            status: "active".into(),
            skillset: vec![],
            model_score: None,
            model_auto_assigned: false,
            workspace_id: "default".into(),
            is_default: false,
            hermes_profile: "pm".into(),
            hermes_profile_path: "/nonexistent".into(),
            host: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn kinds(n: &[Notice]) -> Vec<(&str, &str)> {
        n.iter().map(|n| (n.kind, n.dedupe_key.as_str())).collect()
    }

    #[test]
    fn each_fact_follows_from_the_catalog_difference() {
        let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        let cfg = ScoringConfig::at(now);
        let a = agent("x/m:free", "openrouter");
        // Tools lost since the previous catalog: told; never had them: not "lost".
        let before = [model("x/m:free", true, None)];
        let after = [model("x/m:free", false, None)];
        let n = agent_notices(&a, Some(&before), &after, None, &cfg, now);
        assert_eq!(
            kinds(&n),
            [(notifications::KIND_CAPABILITY_LOST, "capability:7:x/m:free")]
        );
        let n = agent_notices(&a, Some(&after), &after, None, &cfg, now);
        assert!(n.is_empty());
        // Expiring: 2026-05-08 00:00 is 6.5 days away (told); 2026-05-09 is 7.5 days (not yet).
        let soon = [model("x/m:free", true, Some("2026-05-08"))];
        let n = agent_notices(&a, None, &soon, None, &cfg, now);
        assert_eq!(
            kinds(&n),
            [(
                notifications::KIND_EXPIRING,
                "expiring:7:x/m:free:2026-05-08"
            )]
        );
        let later = [model("x/m:free", true, Some("2026-05-09"))];
        assert!(agent_notices(&a, None, &later, None, &cfg, now).is_empty());
        // Gone: told for an OpenRouter model, not for a local Ollama one.
        let n = agent_notices(&a, None, &[], None, &cfg, now);
        assert_eq!(
            kinds(&n),
            [(notifications::KIND_MODEL_GONE, "gone:7:x/m:free")]
        );
        let local = agent("qwen3:8b", "ollama");
        assert!(agent_notices(&local, None, &[], None, &cfg, now).is_empty());
    }
}
