//! `/agents/manage`: every agent with its usage, skill add/remove, delete behind a confirm step, and
//! the Create Agent wizard (role and category → the recommended model with the scorer's reasons →
//! skills → name → confirm), which calls `agents::create_with` exactly as `nxr agents create` does.
//! Every per-agent form and link names the agent by its id; the confirm page names the agent found.
//! JSON: `/api/agents/manage` and `/api/agents/recommend?role=…&category=…`.

use super::pages::{csrf_field, layout, method_not_allowed, shown};
use super::{Req, Resp, WebCtx, url_with_query};
use crate::domain::agents::{self, Agent, CreateOptions, NewAgent};
use crate::domain::base::roles::Role;
use crate::domain::upgrade::usd;
use crate::domain::view;
use crate::domain::view::manage::{ManageView, Recommendation};
use maud::{Markup, html};

pub fn handle(ctx: &WebCtx, req: &Req) -> Option<Resp> {
    let get = matches!(req.method.as_str(), "GET" | "HEAD");
    let post = req.method == "POST";
    Some(match req.path.as_str() {
        "/agents/manage" | "/agents/manage/" if get => page(ctx, req, None),
        "/agents/manage/new" if get => wizard(ctx, req),
        "/agents/manage/create" if post => {
            let r = create(ctx, req);
            page(ctx, req, Some(r))
        }
        "/agents/manage/skills" if post => {
            let r = skills(ctx, req);
            page(ctx, req, Some(r))
        }
        "/agents/manage/delete" if get => confirm_delete(ctx, req),
        "/agents/manage/delete" if post => {
            let r = delete(ctx, req);
            page(ctx, req, Some(r))
        }
        "/agents/manage" | "/agents/manage/" | "/agents/manage/new" => method_not_allowed("GET"),
        "/agents/manage/create" | "/agents/manage/skills" => method_not_allowed("POST"),
        "/agents/manage/delete" => method_not_allowed("GET, POST"),
        "/api/agents/manage" if get => match load(ctx) {
            Ok(v) => Resp::json(200, &v),
            Err(e) => Resp::json_error(500, &e),
        },
        "/api/agents/recommend" if get => match recommend(ctx, req) {
            Ok(r) => Resp::json(200, &r),
            Err(e) => Resp::json_error(400, &e),
        },
        "/api/agents/manage" | "/api/agents/recommend" => {
            Resp::json_error(405, "GET only").with_header("Allow", "GET")
        }
        _ => return None,
    })
}

fn field(form: &[(String, String)], k: &str) -> String {
    form.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn load(ctx: &WebCtx) -> Result<ManageView, String> {
    ctx.rt
        .block_on(view::manage::manage_view(
            &ctx.store,
            &ctx.env,
            ctx.store.clock(),
        ))
        .map_err(|e| super::hints::explain(&e))
}

fn role_and_category(role: &str, category: &str) -> Result<(Role, Option<String>), String> {
    let role: Role = role
        .parse()
        .map_err(|e: crate::domain::base::roles::UnknownRole| super::hints::explain(&e))?;
    Ok((role, Some(category.to_string()).filter(|c| !c.is_empty())))
}

fn recommend(ctx: &WebCtx, req: &Req) -> Result<Recommendation, String> {
    let (role, category) = role_and_category(
        req.query_param("role").unwrap_or_default(),
        req.query_param("category").unwrap_or_default(),
    )?;
    ctx.rt
        .block_on(view::manage::recommendation(
            &ctx.store,
            &ctx.env,
            role,
            category.as_deref(),
        ))
        .map_err(|e| super::hints::explain(&e))
}

fn create(ctx: &WebCtx, req: &Req) -> (bool, String) {
    let form = req.form();
    let (role, category) = match role_and_category(&field(&form, "role"), &field(&form, "category"))
    {
        Ok(x) => x,
        Err(e) => return (false, e),
    };
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "skills")
        .map(|(_, v)| v.clone())
        .collect();
    let defaults = crate::domain::agents::skills::default_skills(role, category.as_deref())
        .unwrap_or_default();
    // The template's skills unchanged → no explicit list, exactly as the CLI creates.
    let skills = (chosen != defaults).then_some(chosen);
    let new = NewAgent {
        name: field(&form, "name"),
        role,
        category,
        model: None,
        skills,
        is_default: false,
        host: Some(field(&form, "host")).filter(|h| !h.trim().is_empty()),
    };
    match ctx.rt.block_on(agents::create_with(
        &ctx.store,
        &ctx.env,
        new,
        CreateOptions::default(),
    )) {
        Ok((a, warnings)) => {
            let mut msg = format!(
                "created {} ({}) on {} with {} skills, Hermes profile {}",
                a.name,
                a.role,
                a.model,
                a.skillset.len(),
                a.hermes_profile
            );
            for w in warnings {
                msg.push_str(&format!("; warning: {w}"));
            }
            (true, msg)
        }
        Err(e) => (false, super::hints::explain(&e)),
    }
}

/// The agent a per-agent form names by its `id` field (forms never carry a name: two names can
/// differ only in characters a URL or form could mangle).
fn form_agent(ctx: &WebCtx, id: &str) -> Result<Agent, String> {
    let id = id.trim();
    let Ok(n) = id.parse::<i64>() else {
        return Err(format!(
            "the form names no agent id ({}); reload the page and try again; nothing was changed",
            if id.is_empty() { "empty" } else { id }
        ));
    };
    ctx.rt
        .block_on(agents::get(&ctx.store, &ctx.env, n))
        .map_err(|_| {
            format!(
                "no agent has id {n} (deleted meanwhile?); reload the page; nothing was changed"
            )
        })
}

/// What a skills form asks: (agent id, skill to add, skill to remove). The page has one form for
/// every row: a skill's × button sends `remove=ID:SKILL`, a row's Add button `add-to=ID` with the
/// row's field `add-ID`. A form of its own (`id`, `add` / `remove`) works too.
fn skill_change(form: &[(String, String)]) -> (String, String, String) {
    let remove = field(form, "remove");
    if let Some((id, skill)) = remove.split_once(':')
        && field(form, "id").is_empty()
    {
        return (id.to_string(), String::new(), skill.to_string());
    }
    let to = field(form, "add-to");
    if !to.is_empty() {
        let add = field(form, &format!("add-{to}"));
        return (to, add, String::new());
    }
    (field(form, "id"), field(form, "add"), remove)
}

fn skills(ctx: &WebCtx, req: &Req) -> (bool, String) {
    let form = req.form();
    let (id, add, remove) = skill_change(&form);
    let agent = match form_agent(ctx, &id) {
        Ok(a) => a,
        Err(e) => return (false, e),
    };
    let name = agent.name.clone();
    let mut desired = agent.skillset.clone();
    if !add.is_empty() && !desired.contains(&add) {
        desired.push(add.clone());
    }
    desired.retain(|s| *s != remove);
    match ctx
        .rt
        .block_on(agents::set_skills(&ctx.store, &ctx.env, &name, &desired))
    {
        Ok(a) => (
            true,
            format!("{} now has skills: {}", a.name, a.skillset.join(", ")),
        ),
        Err(e) => (false, super::hints::explain(&e)),
    }
}

fn delete(ctx: &WebCtx, req: &Req) -> (bool, String) {
    let form = req.form();
    let agent = match form_agent(ctx, &field(&form, "id")) {
        Ok(a) => a,
        Err(e) => return (false, e),
    };
    if field(&form, "confirm") != agent.name {
        return (
            false,
            format!(
                "type the agent's name ({}) in the confirm box to delete it; nothing was deleted",
                agent.name
            ),
        );
    }
    match ctx
        .rt
        .block_on(agents::delete(&ctx.store, &ctx.env, &agent.name))
    {
        Ok(a) => (
            true,
            format!(
                "deleted {} (its Hermes profile was moved aside, not erased)",
                a.name
            ),
        ),
        Err(e) => (false, super::hints::explain(&e)),
    }
}

/// `?id=N` (what the Delete links carry), or `?agent=NAME` typed by hand.
fn confirm_delete(ctx: &WebCtx, req: &Req) -> Resp {
    let found = match (req.query_param("id"), req.query_param("agent")) {
        (Some(id), _) => form_agent(ctx, id),
        (None, Some(name)) => ctx
            .rt
            .block_on(agents::get_by_name(&ctx.store, &ctx.env, name))
            .map_err(|e| format!("{e}; nothing was deleted")),
        (None, None) => Err("say which agent: /agents/manage/delete?id=<agent id>".into()),
    };
    let agent = match found {
        Ok(a) => a,
        Err(e) => {
            let body = html! {
                h1 { "Delete an agent" }
                p.bad role="alert" #result { (shown(&e)) }
                p { a href="/agents/manage" { "Back to the agents" } }
            };
            return Resp::html(
                404,
                layout(&req.nav, "Delete agent", "/agents/manage", body),
            );
        }
    };
    let body = html! {
        h1 #confirm-title { "Delete " (shown(&agent.name)) "?" }
        p { "This removes the agent " strong { (shown(&agent.name)) } " (" (agent.role.as_str()) ", " code { (shown(&agent.model)) } ") from nxr and moves its Hermes profile aside. Type its name to confirm." }
        form method="post" action="/agents/manage/delete" {
            (csrf_field(req))
            input type="hidden" name="id" value=(agent.id);
            input #confirm-name type="text" name="confirm" autocomplete="off" aria-label="agent name";
            " " button #confirm-delete type="submit" { "Delete" }
        }
        p { a href="/agents/manage" { "Cancel" } }
    };
    Resp::html(
        200,
        layout(&req.nav, "Delete agent", "/agents/manage", body),
    )
}

fn wizard(ctx: &WebCtx, req: &Req) -> Resp {
    let rec = recommend(ctx, req);
    // Team mode: the host to run on (this one by default), among the hosts that share the database.
    let team = ctx.env.db_url.is_some().then(|| {
        let now = ctx.store.now();
        let hosts = ctx
            .rt
            .block_on(crate::domain::store::hosts::list(&ctx.store, now))
            .unwrap_or_default();
        (
            crate::domain::base::host::this_host(&ctx.env),
            hosts.into_iter().map(|h| h.name).collect::<Vec<_>>(),
        )
    });
    let body = html! {
        h1 { "Create an agent" }
        @match &rec {
            Err(e) => { p.bad role="alert" { (shown(e)) } p { a href="/agents/manage" { "Back" } } }
            Ok(r) => {
                section.card #recommendation {
                    h2 { "2. Recommended model" }
                    p { code #rec-model { (shown(&r.model)) } " (" (shown(&r.provider)) ")"
                        @if let Some(s) = r.score { ", score " (s) } }
                    @if !r.reasons.is_empty() { ul { @for why in &r.reasons { li { (shown(why)) } } } }
                    @for w in &r.warnings { p.warn { (shown(w)) } }
                }
                form #create-form method="post" action="/agents/manage/create" {
                    (csrf_field(req))
                    input type="hidden" name="role" value=(r.role);
                    input type="hidden" name="category" value=(r.category.clone().unwrap_or_default());
                    section.card {
                        h2 { "3. Skills" }
                        @for s in &r.all_skills {
                            label style="display:inline-block; margin-right:1rem" {
                                input type="checkbox" name="skills" value=(s) checked[r.default_skills.contains(s)]; " " (shown(s))
                            }
                        }
                    }
                    section.card {
                        h2 { "4. Name" }
                        input #agent-name type="text" name="name" required aria-label="agent name";
                    }
                    @if let Some((here, hosts)) = &team {
                        section.card {
                            h2 { "Host" }
                            p.muted { "The machine the agent runs on; its nxr makes the Hermes profile there." }
                            input #agent-host type="text" name="host" value=(here) list="nxr-hosts" aria-label="host";
                            datalist #nxr-hosts { @for h in hosts { option value=(h) {} } }
                        }
                    }
                    button #create type="submit" { "5. Create the agent" }
                }
            }
        }
    };
    let status = if rec.is_ok() { 200 } else { 400 };
    Resp::html(
        status,
        layout(&req.nav, "Create an agent", "/agents/manage", body),
    )
}

fn page(ctx: &WebCtx, req: &Req, result: Option<(bool, String)>) -> Resp {
    let v = load(ctx);
    let status = match (&v, &result) {
        (Err(_), _) => 500,
        (_, Some((false, _))) => 400,
        _ => 200,
    };
    let body = html! {
        h1 { "Manage agents" }
        @if let Some((ok, msg)) = &result {
            @if *ok { p.notice role="status" #result { (shown(msg)) } } @else { p.bad role="alert" #result { (shown(msg)) } }
        }
        @match &v {
            Err(e) => { p.bad role="alert" { (shown(e)) } }
            Ok(v) => { (agents_table(req, v)) (wizard_start(v)) }
        }
        p.muted { "Model upgrades and reverts: " a href="/agents" { "Agents" } "." }
    };
    Resp::html(
        status,
        layout(&req.nav, "Manage agents", "/agents/manage", body),
    )
}

fn agents_table(req: &Req, v: &ManageView) -> Markup {
    html! {
        @if v.agents.is_empty() {
            p.muted #no-agents { "No agents yet: create one below, or run " code { "nxr init" } "." }
        } @else {
            p.muted { "Under each model, its fallback chain: the models Hermes tries in order when it refuses (rate limit, billing, overload). A skill's × removes it." }
            form #sk method="post" action="/agents/manage/skills" { (csrf_field(req)) }
            datalist #nxr-skills { @for s in &v.all_skills { option value=(s) {} } }
            div.scroll { table #manage {
                tr { th { "Agent" } th { "Model" } th { "Recommended for the role" } th.num { "Requests today" } th.num { "Requests 30 d" }
                     th.num { "Cost today" } th.num { "Cost 7 d" } th.num { "Cost 30 d" } th.num { "Errors 30 d" } th { "Last activity" } th { "Skills" } th { "" } }
                @for m in &v.agents {
                    @let a = &m.row.agent;
                    @let u = &m.row.usage;
                    tr id=(format!("agent-{}", a.name)) {
                        td { strong { (shown(&a.name)) } br; span.muted { (a.role.as_str()) } }
                        td.model { code { (shown(&a.model)) }
                            @if !m.row.fallbacks.is_empty() {
                                br; span.muted.fallbacks { "then " (shown(&m.row.fallbacks.join(" → "))) }
                            }
                        }
                        td.recommended {
                            @match &m.recommendation {
                                Some(r) if r.recommended_model == a.model => { span.muted { "already on it" } }
                                Some(r) => {
                                    code { (shown(&r.recommended_model)) }
                                    @if r.upgrade_available { br; span.warn { "upgrade available" } }
                                }
                                None => { span.muted { "— (no catalog yet)" } }
                            }
                        }
                        td.num { (u.requests_today) } td.num { (u.requests_30d) }
                        td.num.cost-today { (usd(u.cost_today)) } td.num.cost-7d { (usd(u.cost_7d)) } td.num.cost-30d { (usd(u.cost_30d)) }
                        td.num.error-rate { @match u.error_rate {
                            Some(r) => { (format!("{:.0} %", r * 100.0)) " (" (u.failed_30d) ")" }
                            None => { span.muted { "—" } }
                        } }
                        td { (shown(u.last_activity.as_deref().unwrap_or("—"))) }
                        td.skills {
                            // The page's one skills form: each skill's button removes it, the field adds
                            // one from the page's single list of skills.
                            @for s in &a.skillset {
                                button form="sk" name="remove" value=(format!("{}:{s}", a.id)) { (shown(s)) " ×" }
                            }
                            @if !m.addable_skills.is_empty() {
                                input form="sk" name=(format!("add-{}", a.id)) list="nxr-skills" aria-label="skill to add" size="12";
                                button form="sk" name="add-to" value=(a.id) { "Add" }
                            }
                        }
                        td { a.delete href=(url_with_query("/agents/manage/delete", &[("id", &a.id.to_string())])) { "Delete…" } }
                    }
                }
            } }
        }
    }
}

fn wizard_start(v: &ManageView) -> Markup {
    html! {
        section.card #wizard {
            h2 { "Create an agent" }
            form method="get" action="/agents/manage/new" class="filters" {
                label { "1. Role " select #wizard-role name="role" { @for r in &v.roles { option value=(r) { (r) } } } }
                label { "Category " select #wizard-category name="category" {
                    option value="" { "(the role's skills)" }
                    @for c in &v.categories { option value=(c) { (c) } }
                } }
                button #wizard-next type="submit" { "Next: recommended model" }
            }
        }
    }
}
