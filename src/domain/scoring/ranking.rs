//! Ranking: the requirement gates, scoring one model or all roles, the full ranked list of a pool and
//! the best model per role in one scan. The order is total desc, then context desc, then id asc.

use super::*;

/// True when `model` meets `role`'s hard requirements (context, tools, not a router, text out, no
/// media out, not expiring, no caveat unless allowed): the gates a model passes before it is ranked.
pub fn passes_gates(model: &Model, role: Role, cfg: &ScoringConfig) -> bool {
    let (_, is_router) = free_and_router(model);
    RoleCtx::new(role, cfg).passes_role(model.context_length, model.supports_tools())
        && passes_common(
            is_router,
            model.has_text_output(),
            media_out(model),
            expiry_of(model, cfg),
            caveat_blocked(model, cfg),
        )
}

/// Scores one model for one role: sub-scores, total, pass/fail and the reasons.
pub fn score(model: &Model, role: Role, health: &Health, cfg: &ScoringConfig) -> ModelScore {
    let f = features(model, health, cfg);
    full_score(model, &f, &RoleCtx::new(role, cfg), cfg)
}

/// Scores one model for every role (features computed once).
pub fn score_all_roles(model: &Model, health: &Health, cfg: &ScoringConfig) -> Vec<ModelScore> {
    let f = features(model, health, cfg);
    Role::ALL
        .iter()
        .map(|r| full_score(model, &f, &RoleCtx::new(*r, cfg), cfg))
        .collect()
}

/// The ranking order: total desc, then context desc, then id asc.
pub fn ranking_order(a: &ModelScore, b: &ModelScore) -> Ordering {
    b.total
        .cmp(&a.total)
        .then(b.context_length.cmp(&a.context_length))
        .then(a.model_id.cmp(&b.model_id))
}

/// Which models a ranking considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Free,
    Paid,
    All,
}

impl Pool {
    pub(super) fn admits(self, is_free: bool) -> bool {
        match self {
            Pool::Free => is_free,
            Pool::Paid => !is_free,
            Pool::All => true,
        }
    }
}

/// Every model of `pool` scored for `role`, in ranking order (failing models included, after
/// the passing ones).
pub fn rank(
    models: &[Model],
    role: Role,
    pool: Pool,
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<ModelScore> {
    let rc = RoleCtx::new(role, cfg);
    let mut out: Vec<ModelScore> = models
        .iter()
        .filter_map(|m| {
            let f = features(m, health, cfg);
            pool.admits(f.is_free).then(|| full_score(m, &f, &rc, cfg))
        })
        .collect();
    out.sort_by(|a, b| b.passes.cmp(&a.passes).then(ranking_order(a, b)));
    out
}

/// The current best of one role in a ranking scan.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) index: usize,
    pub(super) total: u32,
    pub(super) context: u64,
}

/// True when (total, context, id) ranks before the slot's model: total desc, context desc, id asc.
pub(super) fn beats(
    models: &[Model],
    total: u32,
    context: u64,
    index: usize,
    slot: &Option<Slot>,
) -> bool {
    match slot {
        None => true,
        Some(s) => (total, context)
            .cmp(&(s.total, s.context))
            .then_with(|| models[s.index].id.cmp(&models[index].id))
            .is_gt(),
    }
}

/// An upper bound of [`log2_milli`] without the 20 squarings: the fractional part is below 1.
pub(super) const fn log2_milli_upper(x: u64) -> i64 {
    if x <= 1 {
        0
    } else {
        x.ilog2() as i64 * 1000 + 999
    }
}

/// How many models the ranking scan filters at once. A model's id and prices are separate heap
/// strings; reading those of a whole chunk in one tight loop lets the CPU fetch them in parallel
/// instead of waiting for each in turn.
pub(super) const SCAN_CHUNK: usize = 64;

/// Index of the best passing model of `pool` for each role in `roles`: one scan over the models,
/// no reasons, no sorting. The same picks as ranking every model with [`rank`], computed lazily:
/// pool and context first; then an upper bound of each role's total (best possible flags, price
/// and logarithms rounded up): a model that cannot take any role's slot needs nothing more; then
/// the exact total; the shared requirements (router, output modalities, expiry) only for a model
/// that would otherwise take a slot.
pub(super) fn best_indices(
    models: &[Model],
    roles: &[Role],
    pool: Pool,
    health: &Health,
    cfg: &ScoringConfig,
) -> Vec<Option<usize>> {
    let rcs: Vec<RoleCtx> = roles.iter().map(|r| RoleCtx::new(*r, cfg)).collect();
    let Some(min_context) = rcs.iter().map(|rc| rc.req.min_context).min() else {
        return Vec::new();
    };
    let mut best: Vec<Option<Slot>> = vec![None; rcs.len()];
    // Per model of a chunk: admitted (pool and context), free, and a router (when read).
    let mut admitted = [false; SCAN_CHUNK];
    let mut free = [false; SCAN_CHUNK];
    let mut router: [Option<bool>; SCAN_CHUNK] = [None; SCAN_CHUNK];
    for (c, chunk) in models.chunks(SCAN_CHUNK).enumerate() {
        for (k, m) in chunk.iter().enumerate() {
            (admitted[k], free[k], router[k]) = admission(m, min_context, pool);
        }
        for (k, m) in chunk.iter().enumerate() {
            if !admitted[k] {
                continue;
            }
            let candidate = Candidate::read(m, c * SCAN_CHUNK + k, free[k], router[k], health, cfg);
            if could_take_a_slot(models, &rcs, &best, &candidate) {
                take_slots(models, &rcs, &mut best, &candidate, cfg);
            }
        }
    }
    best.into_iter().map(|b| b.map(|s| s.index)).collect()
}

/// Whether the scan looks further at `m`: (admitted, free, router). Admitted when its context
/// reaches the smallest of the roles' minimums and `pool` takes it; below that minimum it fails
/// every role and nothing more is read. A `:free` id is free without reading its prices, and
/// whether it is a router is left unread (it only matters if it would win).
fn admission(m: &Model, min_context: u64, pool: Pool) -> (bool, bool, Option<bool>) {
    let (f, r) = if m.context_length < min_context {
        (false, None)
    } else if m.id.ends_with(":free") {
        (true, None)
    } else {
        let (f, r) = free_and_router(m);
        (f, Some(r))
    };
    (m.context_length >= min_context && pool.admits(f), f, r)
}

/// An admitted model of the ranking scan with what is read before its exact total.
struct Candidate<'m> {
    model: &'m Model,
    /// Position in the scanned models.
    index: usize,
    free: bool,
    /// Whether it is a router, when already read.
    router: Option<bool>,
    params: Option<Params>,
    recency: u32,
    reliability: u32,
    measured: Option<[Option<u32>; 6]>,
}

impl<'m> Candidate<'m> {
    /// Reads the parameter count, recency, reliability and measured capability of `model`.
    fn read(
        model: &'m Model,
        index: usize,
        free: bool,
        router: Option<bool>,
        health: &Health,
        cfg: &ScoringConfig,
    ) -> Candidate<'m> {
        let (recency, _) = recency_of(model, cfg);
        let (reliability, _, _) = reliability_of(model, health);
        Candidate {
            model,
            index,
            free,
            router,
            params: model_params(model),
            recency,
            reliability,
            measured: measured_of(model, cfg),
        }
    }
}

/// True when an upper bound of the candidate's total (best possible flags and price, logarithms
/// rounded up) beats the current best of some role whose minimum context it meets.
fn could_take_a_slot(
    models: &[Model],
    rcs: &[RoleCtx],
    best: &[Option<Slot>],
    c: &Candidate,
) -> bool {
    let context = c.model.context_length;
    let size_max = c.params.as_ref().map_or(NEUTRAL_PARAMS, |p| {
        let eff = p.effective_millions().max(1);
        clamp_points((log2_milli_upper(eff) - LOG2_ONE_BILLION_IN_MILLIONS) / 10)
    });
    let context_log_max = log2_milli_upper(context.max(1));
    let cap_max = capability_points(size_max, MAX_FLAGS);
    let tools_max = tools_points(MAX_FLAGS);
    rcs.iter().zip(best).any(|(rc, slot)| {
        context >= rc.req.min_context && {
            let ub = rc.total([
                rc.context_points(context, context_log_max),
                rc.capability(cap_max, c.measured, c.free),
                tools_max,
                c.recency,
                c.reliability,
                1000,
            ]);
            beats(models, ub, context, c.index, slot)
        }
    })
}

/// Puts the candidate in the slot of every role whose requirements it meets and whose current
/// best its exact total beats; the shared requirements are checked once, at the first such role,
/// and a candidate failing them takes no slot.
fn take_slots(
    models: &[Model],
    rcs: &[RoleCtx],
    best: &mut [Option<Slot>],
    c: &Candidate,
    cfg: &ScoringConfig,
) {
    let m = c.model;
    let context = m.context_length;
    let size = c.params.as_ref().map_or(NEUTRAL_PARAMS, param_points);
    let context_log = log2_milli(context.max(1));
    let (price, _) = price_of(m, c.free);
    let flags = param_flags(m);
    let estimate = capability_points(size, flags);
    let tools = tools_points(flags);
    let mut common: Option<bool> = None;
    for (rc, slot) in rcs.iter().zip(best.iter_mut()) {
        if !rc.passes_role(context, flags.tools) {
            continue;
        }
        let total = rc.total([
            rc.context_points(context, context_log),
            rc.capability(estimate, c.measured, c.free),
            tools,
            c.recency,
            c.reliability,
            price,
        ]);
        if !beats(models, total, context, c.index, slot) {
            continue;
        }
        let ok = *common.get_or_insert_with(|| {
            let is_router = c.router.unwrap_or_else(|| free_and_router(m).1);
            passes_common(
                is_router,
                m.has_text_output(),
                media_out(m),
                expiry_of(m, cfg),
                caveat_blocked(m, cfg),
            )
        });
        if !ok {
            // Fails the shared requirements: it can take no role's slot.
            break;
        }
        *slot = Some(Slot {
            index: c.index,
            total,
            context,
        });
    }
}
