//! The scoring API. Same domain calls (`domain::scoring::rescore`) as `nxr models …`, so the answers match.
//!
//! - `POST /api/models/rescore` → the rescore report (best model per role, what changed)
//! - `GET  /api/models/best-free?role=R` → the top free pick for R (fallback chain included)
//! - `GET  /api/models/roster[?role=R]` → all free models with their scores for all roles (or R)
//! - `GET  /api/models/explain?model=ID&role=R` → the sub-score breakdown and reasons
//!
//! A bad or missing role → 400 naming the valid roles; a wrong method → 405 with `Allow`.

use super::{Req, Resp, WebCtx};
use crate::domain::base::roles::Role;
use crate::domain::scoring::rescore::{self, ScoringError};

fn method_not_allowed(req: &Req, allowed: &str) -> Resp {
    Resp::json_error(
        405,
        &format!(
            "{} is not allowed on {}; use {allowed}",
            req.method, req.path
        ),
    )
    .with_header("Allow", allowed)
}

fn role_param(req: &Req, required: bool) -> Result<Option<Role>, Resp> {
    match req.query_param("role") {
        None if required => Err(Resp::json_error(
            400,
            &format!(
                "the role query parameter is missing; add ?role=R with one of: {}",
                Role::valid_names()
            ),
        )),
        None => Ok(None),
        Some(r) => r
            .parse::<Role>()
            .map(Some)
            .map_err(|e| Resp::json_error(400, &super::hints::explain(&e))),
    }
}

fn domain_error(e: ScoringError) -> Resp {
    let status = match e {
        ScoringError::UnknownModel { .. } => 404,
        _ => 500,
    };
    Resp::json_error(status, &super::hints::explain(&e))
}

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let read = matches!(req.method.as_str(), "GET" | "HEAD");
    let resp = match req.path.trim_end_matches('/') {
        "/api/models/rescore" => {
            if req.method != "POST" {
                return Some(method_not_allowed(req, "POST"));
            }
            match ctx
                .rt
                .block_on(rescore::rescore(&ctx.store, &ctx.env, ctx.store.now()))
            {
                Ok(report) => Resp::json(200, &report),
                Err(e) => domain_error(e),
            }
        }
        "/api/models/best-free" => {
            if !read {
                return Some(method_not_allowed(req, "GET"));
            }
            let role = match role_param(req, true) {
                Ok(Some(r)) => r,
                Ok(None) => return None,
                Err(resp) => return Some(resp),
            };
            match ctx.rt.block_on(rescore::best_free(
                &ctx.store,
                &ctx.env,
                role,
                ctx.store.now(),
            )) {
                Ok(best) => Resp::json(200, &best),
                Err(e) => domain_error(e),
            }
        }
        "/api/models/roster" => {
            if !read {
                return Some(method_not_allowed(req, "GET"));
            }
            let role = match role_param(req, false) {
                Ok(r) => r,
                Err(resp) => return Some(resp),
            };
            match ctx
                .rt
                .block_on(rescore::roster(&ctx.store, role, ctx.store.now()))
            {
                Ok(roster) => Resp::json(200, &roster),
                Err(e) => domain_error(e),
            }
        }
        "/api/models/explain" => {
            if !read {
                return Some(method_not_allowed(req, "GET"));
            }
            let role = match role_param(req, true) {
                Ok(Some(r)) => r,
                Ok(None) => return None,
                Err(resp) => return Some(resp),
            };
            let Some(model) = req.query_param("model") else {
                return Some(Resp::json_error(
                    400,
                    "the model query parameter is missing; add ?model=ID (e.g. openai/gpt-oss-120b:free)",
                ));
            };
            match ctx
                .rt
                .block_on(rescore::explain(&ctx.store, model, role, ctx.store.now()))
            {
                Ok(e) => Resp::json(200, &e),
                Err(e) => domain_error(e),
            }
        }
        _ => return None,
    };
    Some(resp)
}
