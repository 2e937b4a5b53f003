//! `/setup`: the onboarding wizard as HTML forms — the same five steps as `nxr init`, calling the same
//! `domain::onboarding` functions, so both end in the same state. Every form carries the CSRF token;
//! each POST redirects back to `/setup` (POST-redirect-GET), which shows the next step.

use super::pages::{csrf_field, layout, message_page, shown};
use super::{Req, Resp, WebCtx};
use crate::domain::onboarding::{
    self, DefaultAgent, KeyChoice, OnboardingError, Probes, Record, STEPS, Summary,
};
use maud::{Markup, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let post_only = |f: fn(&WebCtx, &Req) -> Resp| {
        Some(if req.method == "POST" {
            f(ctx, req)
        } else {
            super::pages::method_not_allowed("POST")
        })
    };
    match req.path.as_str() {
        "/setup" | "/setup/" => Some(match req.method.as_str() {
            "GET" | "HEAD" => page(ctx, req, None),
            _ => super::pages::method_not_allowed("GET"),
        }),
        "/setup/key" => post_only(post_key),
        "/setup/detect" => post_only(post_detect),
        "/setup/catalog" => post_only(post_catalog),
        "/setup/agents" => post_only(post_agents),
        "/setup/finish" => post_only(post_finish),
        "/setup/reset" => post_only(post_reset),
        _ => None,
    }
}

/// A short-lived cookie that carries "which step just ran" across the POST-redirect-GET, so `/setup`
/// can confirm it once (the redirect itself stays a plain `/setup`).
const NOTICE_COOKIE: &str = "nxr_setup_done";

/// After a step's POST: back to `/setup`, which then confirms the step.
fn after(ctx: &WebCtx, req: &Req, step: &str, result: Result<(), OnboardingError>) -> Resp {
    match result {
        Ok(()) => Resp::redirect("/setup").with_header(
            "Set-Cookie",
            &format!("{NOTICE_COOKIE}={step}; Path=/setup; Max-Age=30; HttpOnly; SameSite=Strict"),
        ),
        Err(OnboardingError::AlreadyDone { .. }) => Resp::redirect("/setup"),
        Err(e @ OnboardingError::OutOfOrder { .. }) => Resp::html(
            409,
            message_page("Setup: out of order", &super::hints::explain(&e)),
        ),
        Err(
            e @ (OnboardingError::InvalidKey(_)
            | OnboardingError::KeyCheck(_)
            | OnboardingError::Secret(_)),
        ) => page_with_status(ctx, req, 400, Some(super::hints::explain(&e))),
        Err(e) => page_with_status(ctx, req, 500, Some(super::hints::explain(&e))),
    }
}

fn post_key(ctx: &WebCtx, req: &Req) -> Resp {
    let choice = match req.field("mode").as_deref().map(str::trim) {
        Some("key") => {
            let key = req.field("key").unwrap_or_default();
            if key.trim().is_empty() {
                return page_with_status(
                    ctx,
                    req,
                    400,
                    Some("you chose to use a key but left the key field empty; paste your OpenRouter key (sk-or-…) or choose free models".into()),
                );
            }
            KeyChoice::Key(key.trim().to_string())
        }
        Some("free") => KeyChoice::Free,
        other => {
            let what = match other {
                None => "the form has no `mode` field".to_string(),
                Some(v) => format!(
                    "`mode` is {:?}, which is not a choice",
                    v.chars().take(40).collect::<String>()
                ),
            };
            return page_with_status(
                ctx,
                req,
                400,
                Some(format!(
                    "{what}; send mode=free (free models, no key) or mode=key with the key in `key` — nothing was changed"
                )),
            );
        }
    };
    let r = ctx.rt.block_on(onboarding::step_key(
        &ctx.env,
        &ctx.store,
        &choice,
        &Probes::default(),
        ctx.store.clock(),
    ));
    after(ctx, req, "key", r.map(|_| ()))
}

fn post_detect(ctx: &WebCtx, req: &Req) -> Resp {
    let r = ctx.rt.block_on(onboarding::step_detect(
        &ctx.env,
        &ctx.store,
        &Probes::default(),
    ));
    after(ctx, req, "detect", r.map(|_| ()))
}

fn post_catalog(ctx: &WebCtx, req: &Req) -> Resp {
    let r = ctx.rt.block_on(onboarding::step_catalog(
        &ctx.env,
        &ctx.store,
        &Probes::default(),
        ctx.store.clock(),
    ));
    after(ctx, req, "catalog", r.map(|_| ()))
}

fn post_agents(ctx: &WebCtx, req: &Req) -> Resp {
    let r = ctx.rt.block_on(async {
        let probes = Probes::default();
        // The detections of step 2 are re-read here (a quick local probe) rather than kept in memory.
        let found = onboarding::detect_local_tools(&ctx.env, &ctx.store, &probes).await;
        onboarding::step_agents(&ctx.env, &ctx.store, &found).await
    });
    after(ctx, req, "agents", r.map(|_| ()))
}

fn post_finish(ctx: &WebCtx, req: &Req) -> Resp {
    let r = ctx
        .rt
        .block_on(onboarding::step_finish(&ctx.store, ctx.store.clock()));
    after(ctx, req, "finish", r.map(|_| ()))
}

fn post_reset(ctx: &WebCtx, req: &Req) -> Resp {
    if req.field("confirm").as_deref() != Some("yes") {
        return page_with_status(
            ctx,
            req,
            400,
            Some("tick “Yes, start over” to confirm; nothing was changed".into()),
        );
    }
    let r = ctx.rt.block_on(onboarding::reset(&ctx.store));
    after(ctx, req, "reset", r.map(|_| ()))
}

fn page(ctx: &WebCtx, req: &Req, error: Option<String>) -> Resp {
    page_with_status(ctx, req, 200, error)
}

fn page_with_status(ctx: &WebCtx, req: &Req, status: u16, error: Option<String>) -> Resp {
    let state = ctx.rt.block_on(async {
        let rec = onboarding::latest(&ctx.store).await?;
        let summary = onboarding::summary(&ctx.env, &ctx.store).await?;
        Ok::<_, OnboardingError>((rec, summary))
    });
    let (rec, summary) = match state {
        Ok(s) => s,
        Err(e) => {
            return Resp::html(
                500,
                message_page("Setup", &format!("cannot read the setup state: {e}")),
            );
        }
    };
    let notice = req
        .cookie(NOTICE_COOKIE)
        .and_then(done_notice)
        .filter(|_| status == 200 && req.method == "GET");
    let resp = Resp::html(
        status,
        setup_page_with_notice(req, rec.as_ref(), &summary, error.as_deref(), notice),
    );
    match notice {
        // Shown once: the cookie goes with this page.
        Some(_) => resp.with_header(
            "Set-Cookie",
            &format!("{NOTICE_COOKIE}=; Path=/setup; Max-Age=0; HttpOnly; SameSite=Strict"),
        ),
        None => resp,
    }
}

/// What `/setup` says after a step's POST redirected back to it.
pub fn done_notice(step: &str) -> Option<&'static str> {
    Some(match step {
        "key" => "Step 1 saved.",
        "detect" => "Step 2 done: local tools detected.",
        "catalog" => "Step 3 done: the model catalog is loaded.",
        "agents" => "Step 4 done: the agents are ready.",
        "finish" => "Setup complete.",
        "reset" => "Setup restarted: run the steps again. Your agents, keys and config were kept.",
        _ => return None,
    })
}

/// The whole wizard page (pure: state in, markup out).
pub fn setup_page(
    req: &Req,
    rec: Option<&Record>,
    summary: &Summary,
    error: Option<&str>,
) -> Markup {
    setup_page_with_notice(req, rec, summary, error, None)
}

/// [`setup_page`] confirming the step that just ran (`notice`, from [`done_notice`]).
pub fn setup_page_with_notice(
    req: &Req,
    rec: Option<&Record>,
    summary: &Summary,
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    let next = match rec {
        Some(r) => r.next_step(),
        None => Some("key"),
    };
    let body = html! {
        h1 { "Setup" }
        @if let Some(e) = error {
            p.bad #error role="alert" { (shown(e)) }
        }
        @if let Some(n) = notice {
            p.notice #notice role="status" { (n) }
        }
        @match next {
            None => { (done_view(req, rec, summary)) }
            Some(step) => {
                ol.steps {
                    @for (i, s) in STEPS.iter().enumerate() {
                        @let done = rec.is_some_and(|r| r.has_step(s));
                        @let class = if done { "done" } else if *s == step { "current" } else { "" };
                        li class=(class) { (step_title(s)) @if done { " ✓" } span.muted { " (step " (i + 1) ")" } }
                    }
                }
                @if let Some(r) = rec { (progress_view(r, summary)) }
                section.card { (step_form(req, step)) }
            }
        }
    };
    layout(&req.nav, "Setup", "/setup", body)
}

fn step_title(step: &str) -> &'static str {
    match step {
        "key" => "Choose: free models, or an OpenRouter key",
        "detect" => "Detect local tools (Ollama, faster-whisper)",
        "catalog" => "Load the model catalog",
        "agents" => "Create the PM, Engineer and Hermes agents",
        _ => "Finish",
    }
}

fn progress_view(r: &Record, summary: &Summary) -> Markup {
    html! {
        section.card #progress {
            h2 { "So far" }
            ul {
                li { "Mode: " strong #mode { (r.mode.as_str()) } }
                @if r.has_step("detect") {
                    li #detected {
                        "Ollama: " (if r.ollama_detected { "found" } else { "not found" })
                        " · faster-whisper: " (if r.faster_whisper_detected { "found" } else { "not found" })
                    }
                }
                @if r.has_step("catalog") { li #catalog { (shown(&summary.catalog)) } }
                @if r.has_step("agents") { li { "Agents: " (shown(&summary.agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "))) } }
            }
        }
    }
}

fn step_form(req: &Req, step: &str) -> Markup {
    match step {
        "key" => html! {
            h2 { "1. " (step_title(step)) }
            form #step-key method="post" action="/setup/key" {
                (csrf_field(req))
                p {
                    label { input #mode-free type="radio" name="mode" value="free" checked; " Free models only — no key, no cost (recommended to start)" }
                }
                p {
                    label { input #mode-key type="radio" name="mode" value="key"; " I have an OpenRouter key" }
                }
                p {
                    label for="key" { "OpenRouter key " }
                    input #key type="password" name="key" placeholder="sk-or-…" autocomplete="off";
                }
                p.muted { "A key is checked with OpenRouter before it is stored in $HERMES_HOME/.env (mode 0600). You can add one later with " code { "nxr config set openrouter-key" } "." }
                button #submit-key type="submit" { "Continue" }
            }
        },
        "detect" => html! {
            h2 { "2. " (step_title(step)) }
            p { "nxr looks for Ollama (a local model for small helper calls) and faster-whisper (local speech-to-text). Both are optional." }
            form #step-detect method="post" action="/setup/detect" {
                (csrf_field(req))
                button #submit-detect type="submit" { "Detect" }
            }
        },
        "catalog" => html! {
            h2 { "3. " (step_title(step)) }
            p { "nxr fetches OpenRouter's model list; offline, it uses the snapshot built into nxr." }
            form #step-catalog method="post" action="/setup/catalog" {
                (csrf_field(req))
                button #submit-catalog type="submit" { "Load the catalog" }
            }
        },
        "agents" => html! {
            h2 { "4. " (step_title(step)) }
            p { "Each gets the best free model for its role, its skills, and a Hermes profile. Agents that already exist are kept, never created twice." }
            form #step-agents method="post" action="/setup/agents" {
                (csrf_field(req))
                button #submit-agents type="submit" { "Create the agents" }
            }
        },
        _ => html! {
            h2 { "5. " (step_title(step)) }
            form #step-finish method="post" action="/setup/finish" {
                (csrf_field(req))
                button #submit-finish type="submit" { "Finish" }
            }
        },
    }
}

fn agents_table(agents: &[DefaultAgent]) -> Markup {
    html! {
        div.scroll { table #agents {
            thead { tr { th { "Agent" } th { "Role" } th { "Model" } th { "Skills" } } }
            tbody {
                @for a in agents {
                    tr data-agent=(a.name) {
                        td { (shown(&a.name)) }
                        td { (a.role.title()) }
                        td.model { code.id { (shown(&a.model)) } }
                        td.skills { (shown(&a.skills.join(", "))) }
                    }
                }
            }
        } }
    }
}

fn done_view(req: &Req, rec: Option<&Record>, s: &Summary) -> Markup {
    html! {
        section.card #done {
            h2 { "nxr is set up" }
            @if let Some(at) = rec.and_then(|r| r.completed_at.as_deref()) {
                p.ok { "Completed " (shown(at)) "." }
            }
            p { "Next: " a href="/" { "the dashboard" } " · " a href="/agents" { "your agents" } " · " a href="/models" { "compare models" } }
            (agents_table(&s.agents))
            p { (shown(&s.catalog)) }
            p { "OpenRouter key: " @match &s.openrouter_key { Some(k) => code { (k) }, None => "not set" } }
        }
        section.card {
            h2 { "Free tier" }
            @for line in &s.free_tier { p { (line) } }
        }
        section.card {
            h2 { "Start over" }
            p { "Forgets the onboarding record and runs the steps again. Agents, keys and config are kept; no agent is created twice." }
            form #reset method="post" action="/setup/reset" {
                (csrf_field(req))
                label { input #confirm type="checkbox" name="confirm" value="yes"; " Yes, start over" }
                " "
                button #submit-reset type="submit" { "Start over" }
            }
        }
    }
}
