//! The agents API and Paperclip's skill contract over HTTP:
//! - `GET /api/agents` → every agent of the agents view with its check, fallback chain, usage and
//!   Paperclip link (the same JSON as `nxr agents list --json`);
//! - `GET /api/agents/check` → whether each agent can run, with the same row's chain, usage and link
//!   (the same JSON as `nxr agents check --json`); `GET /api/agents/{id}/check` → one agent's;
//! - `GET /api/agents/{id}/skills` → the agent's `AdapterSkillSnapshot` (`{id}` = id or name);
//! - `POST /api/agents/{id}/skills/sync` with `{"desiredSkills": [...]}` → makes disk and database match
//!   and returns the new snapshot.
//!
//! Errors are JSON: 400 for a bad body or an unknown skill, 404 for an unknown agent, 405 for a wrong
//! method. No logic here: each route is one domain call.

use super::{Req, Resp, WebCtx, path_decode};
use crate::domain::agents::{self, AgentError};
use crate::domain::paperclip::{self, SyncRequest};
use crate::domain::view::{self, Agents, Checks};

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

/// The agents view with its checks (against the stored catalog).
fn checked(ctx: &WebCtx) -> Result<Agents, AgentError> {
    ctx.rt.block_on(view::agents(
        &ctx.store,
        &ctx.env,
        ctx.store.clock(),
        Checks::Stored,
    ))
}

fn list(ctx: &WebCtx) -> Resp {
    match checked(ctx) {
        Ok(all) => Resp::json(200, &all),
        Err(e) => error(e),
    }
}

fn check(ctx: &WebCtx, id: Option<&str>) -> Resp {
    let result = match id {
        None => checked(ctx),
        Some(id) => ctx.rt.block_on(async {
            let agent = agents::resolve(&ctx.store, &ctx.env, id).await?;
            view::agents_of(
                &ctx.store,
                &ctx.env,
                ctx.store.clock(),
                vec![agent],
                Checks::Stored,
            )
            .await
        }),
    };
    match result {
        Ok(v) => Resp::json(200, &v.check_answers()),
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
