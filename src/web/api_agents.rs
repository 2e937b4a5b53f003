//! The agents API and Paperclip's skill contract over HTTP:
//! - `GET /api/agents` → every agent (the same JSON as `nxr agents list --json`);
//! - `GET /api/agents/check` → whether each agent can run (the same JSON as `nxr agents check --json`);
//!   `GET /api/agents/{id}/check` → one agent's;
//! - `GET /api/agents/{id}/skills` → the agent's `AdapterSkillSnapshot` (`{id}` = id or name);
//! - `POST /api/agents/{id}/skills/sync` with `{"desiredSkills": [...]}` → makes disk and database match
//!   and returns the new snapshot.
//!
//! Errors are JSON: 400 for a bad body or an unknown skill, 404 for an unknown agent, 405 for a wrong
//! method. No logic here: each route is one domain call.

use super::{Req, Resp, WebCtx, path_decode};
use crate::domain::agents::{self, AgentError};
use crate::domain::paperclip::{self, SyncRequest};
use crate::domain::watch::agent_check;

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let path = req.path.trim_end_matches('/');
    let rest = path.strip_prefix("/api/agents")?;
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] => Some(only(req, "GET").unwrap_or_else(|| list(ctx))),
        ["check"] => Some(only(req, "GET").unwrap_or_else(|| check(ctx, None))),
        [id, "check"] => {
            Some(only(req, "GET").unwrap_or_else(|| check(ctx, Some(&path_decode(id)))))
        }
        [id, "skills"] => Some(only(req, "GET").unwrap_or_else(|| skills(ctx, &path_decode(id)))),
        [id, "skills", "sync"] => {
            Some(only(req, "POST").unwrap_or_else(|| sync(ctx, &path_decode(id), &req.body)))
        }
        _ => None,
    }
}

/// A 405 unless the request uses `method`.
fn only(req: &Req, method: &str) -> Option<Resp> {
    if req.method.eq_ignore_ascii_case(method) {
        None
    } else {
        Some(
            Resp::json_error(
                405,
                &format!(
                    "{} is not allowed on {}; use {method}",
                    req.method, req.path
                ),
            )
            .with_header("Allow", method),
        )
    }
}

fn error(e: AgentError) -> Resp {
    let status = match &e {
        AgentError::NotFound(_) => 404,
        AgentError::InvalidName(_)
        | AgentError::Duplicate(_)
        | AgentError::InvalidModel(_)
        | AgentError::NotInCatalog { .. }
        | AgentError::ModelFailsRole { .. }
        | AgentError::Skills(_) => 400,
        AgentError::Other(_)
        | AgentError::NoReachableModel { .. }
        | AgentError::NothingToRevert { .. } => 409,
        AgentError::Hermes(_) | AgentError::Secret(_) | AgentError::Db(_) => 500,
    };
    Resp::json_error(status, &super::hints::explain(&e))
}

fn list(ctx: &WebCtx) -> Resp {
    match ctx.rt.block_on(agents::list(&ctx.store, &ctx.env)) {
        Ok(all) => Resp::json(200, &all),
        Err(e) => error(e),
    }
}

fn check(ctx: &WebCtx, id: Option<&str>) -> Resp {
    let result = match id {
        None => ctx
            .rt
            .block_on(agent_check::check_all(&ctx.env, &ctx.store)),
        Some(id) => ctx
            .rt
            .block_on(agent_check::check_one(&ctx.env, &ctx.store, id))
            .map(|c| vec![c]),
    };
    match result {
        Ok(checks) => Resp::json(200, &checks),
        Err(e) => error(e),
    }
}

fn skills(ctx: &WebCtx, id: &str) -> Resp {
    match ctx
        .rt
        .block_on(paperclip::list_skills(&ctx.store, &ctx.env, id))
    {
        Ok(snap) => Resp::json(200, &snap),
        Err(e) => error(e),
    }
}

fn sync(ctx: &WebCtx, id: &str, body: &[u8]) -> Resp {
    let request: SyncRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Resp::json_error(
                400,
                &format!(
                    "the body is not a valid sync request ({e}); send JSON like {{\"desiredSkills\": [\"planning\", \"coding\"]}}"
                ),
            );
        }
    };
    match ctx.rt.block_on(paperclip::sync_skills(
        &ctx.store,
        &ctx.env,
        id,
        &request.desired_skills,
    )) {
        Ok(snap) => Resp::json(200, &snap),
        Err(e) => error(e),
    }
}
