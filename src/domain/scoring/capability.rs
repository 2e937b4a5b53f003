//! The capability sub-score from published evaluation figures (docs/scoring.md, "Capability").
//!
//! For each role, the figures that matter to it (engineer: coding, then tool use; pm and hermes: tool
//! use and general; research: long context and general; creative: general; custom: coding, tool use
//! and general) become a percentile among the catalog's models that pass the role's gates and have a
//! figure of the same setting (benchmark, variant, harness and reasoning effort), each family counted
//! once: `(2 × below + equal) × 1000 / (2 × n)` in integer points, so the best of five gets 900. A
//! setting fewer than three families hold does not count, and where a family has an independent
//! leaderboard's figure of a kind, only those count for that kind. A kind's points are the mean over
//! its counting figures; the role's points are the kinds' weighted mean, a weighed kind without one
//! counting 500. A model with none keeps the size heuristic, marked as an estimate and capped at the
//! median of the measured models (see `scoring`).
//!
//! The table is built once per catalog (its ids → points per role), so scoring a model costs one hash
//! lookup; the same catalog and data give the same table on every run.

use crate::domain::base::roles::Role;
use crate::domain::catalog::Model;
use crate::domain::scoring::evals::{EvalData, Figure, Index, Kind, Setting, SourceKind};
use crate::domain::scoring::{self, ScoringConfig};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// How much each kind of figure counts for a role, in [`Kind::ALL`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindWeights {
    #[serde(default)]
    pub coding: u32,
    #[serde(default)]
    pub tool_use: u32,
    #[serde(default)]
    pub general: u32,
    #[serde(default)]
    pub long_context: u32,
}

impl KindWeights {
    /// The documented default table (docs/scoring.md).
    pub const fn default_for(role: Role) -> KindWeights {
        let [coding, tool_use, general, long_context] = match role {
            Role::Engineer => [3, 1, 0, 0],
            Role::Pm | Role::Hermes => [0, 1, 1, 0],
            Role::Research => [0, 0, 1, 1],
            Role::Creative => [0, 0, 1, 0],
            Role::Custom => [1, 1, 1, 0],
        };
        KindWeights {
            coding,
            tool_use,
            general,
            long_context,
        }
    }

    pub fn get(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Coding => self.coding,
            Kind::ToolUse => self.tool_use,
            Kind::General => self.general,
            Kind::LongContext => self.long_context,
        }
    }

    /// The kinds that count, most weighted first (ties in [`Kind::ALL`] order).
    pub fn ranked(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = Kind::ALL.into_iter().filter(|k| self.get(*k) > 0).collect();
        kinds.sort_by_key(|k| std::cmp::Reverse(self.get(*k)));
        kinds
    }
}

/// One figure as used for a role: the figure, its percentile and the population it was ranked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FigureUse {
    pub figure: Figure,
    /// Points 0–1000.
    pub percentile: u32,
    /// How many gate-passing models of the catalog have this benchmark.
    pub among: usize,
}

/// A measured model's capability for one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleCapability {
    pub points: u32,
    /// The figures used, most weighted kind first.
    pub figures: Vec<FigureUse>,
}

/// One figure's use for one role, by position in its family (no strings copied per model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UseRef {
    role: u8,
    figure: u16,
    percentile: u32,
    among: u32,
}

/// Everything known about one catalog model with figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    pub family: String,
    /// Points per role in [`Role::ALL`] order (`None`: no figure of a kind the role weighs).
    pub points: [Option<u32>; 6],
    uses: Vec<UseRef>,
}

/// FNV-1a: the table is looked up once per model in the ranking scan, with short keys.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

pub type FnvBuild = std::hash::BuildHasherDefault<Fnv>;

/// The capability table of one catalog.
#[derive(Debug, Clone, Default)]
pub struct CapabilityTable {
    data: Arc<EvalData>,
    by_id: HashMap<String, Measured, FnvBuild>,
    /// Per price class ([`class`]) and role: the median of the gate-passing measured models'
    /// points (the estimates' cap).
    median: [[Option<u32>; 6]; 2],
    /// Per price class and role: how many gate-passing models are measured.
    measured_count: [[usize; 6]; 2],
}

/// The points of a kind the role weighs but the model has no figure for (when it has figures of
/// another kind the role weighs).
pub const MISSING_KIND_POINTS: u32 = 500;

pub fn role_index(role: Role) -> usize {
    Role::ALL.iter().position(|r| *r == role).unwrap_or(0)
}

/// The price class a model is compared within: 0 for free models, 1 for paid ones. Free models
/// are ranked against free ones and paid against paid (the picks, the chains and the upgrade
/// plan each choose within one class), so a free model's figure is not judged against the
/// frontier models no free agent could use.
pub fn class(free: bool) -> usize {
    usize::from(!free)
}

/// `x`'s percentile points among `values` (sorted ascending); `includes_self`: `x` is one of them.
fn percentile(values: &[u32], x: u32, includes_self: bool) -> u32 {
    let below = values.partition_point(|v| *v < x);
    let mut equal = values.partition_point(|v| *v <= x) - below;
    let mut n = values.len();
    if !includes_self {
        equal += 1;
        n += 1;
    }
    ((2 * below + equal) * 1000 / (2 * n.max(1))) as u32
}

impl CapabilityTable {
    /// The table for `models` scored with `cfg` (its requirements and time reference decide the gates)
    /// and the kind weights `kinds` (roles missing there use [`KindWeights::default_for`]).
    pub fn build(
        models: &[Model],
        data: &Arc<EvalData>,
        cfg: &ScoringConfig,
        kinds: &BTreeMap<Role, KindWeights>,
    ) -> CapabilityTable {
        let index = Index::new(data);
        if index.is_empty() {
            return CapabilityTable::default();
        }
        let found = catalog_families(models, &index);
        let passes = gate_passes(&found, cfg);
        let mut table = CapabilityTable {
            data: data.clone(),
            ..CapabilityTable::default()
        };
        let mut measured: Vec<Measured> = found
            .iter()
            .map(|(_, f)| Measured {
                family: f.id.clone(),
                points: [None; 6],
                uses: Vec::new(),
            })
            .collect();
        for (ri, role) in Role::ALL.iter().enumerate() {
            let w = kinds
                .get(role)
                .copied()
                .unwrap_or(KindWeights::default_for(*role));
            let everyone = vec![true; found.len()];
            let held: BTreeMap<Setting<'_>, usize> = population(&found, &passes, &everyone, ri)
                .into_iter()
                .map(|(setting, values)| (setting, values.len()))
                .collect();
            for c in 0..2 {
                let in_class: Vec<bool> =
                    found.iter().map(|(m, _)| class(m.is_free()) == c).collect();
                let population = population(&found, &passes, &in_class, ri);
                let mut passing_points = Vec::new();
                for (k, ((_, fam), p)) in found.iter().zip(&passes).enumerate() {
                    if !in_class[k] {
                        continue;
                    }
                    let Some((points, uses)) = role_points(fam, &w, &population, &held, ri, p[ri])
                    else {
                        continue;
                    };
                    measured[k].points[ri] = Some(points);
                    measured[k].uses.extend(uses);
                    if p[ri] {
                        passing_points.push(points);
                    }
                }
                passing_points.sort_unstable();
                table.measured_count[c][ri] = passing_points.len();
                table.median[c][ri] = (!passing_points.is_empty())
                    .then(|| passing_points[(passing_points.len() - 1) / 2]);
            }
        }
        for ((m, _), ms) in found.iter().zip(measured) {
            table.by_id.insert(m.id.clone(), ms);
        }
        table
    }

    /// The measured data of a catalog id.
    pub fn get(&self, model_id: &str) -> Option<&Measured> {
        if self.by_id.is_empty() {
            return None;
        }
        self.by_id.get(model_id)
    }

    /// Points per role of a catalog id, if it has figures.
    pub fn points(&self, model_id: &str) -> Option<[Option<u32>; 6]> {
        self.get(model_id).map(|m| m.points)
    }

    /// The cap for a role's estimates of free (`free`) or paid models.
    pub fn median(&self, role: Role, free: bool) -> Option<u32> {
        self.median[class(free)][role_index(role)]
    }

    /// How many gate-passing free (or paid) models are measured for `role`.
    pub fn measured_count(&self, role: Role, free: bool) -> usize {
        self.measured_count[class(free)][role_index(role)]
    }

    /// A measured model's capability for `role`, with the figures used (most weighted kind first).
    pub fn role_capability(&self, model_id: &str, role: Role) -> Option<RoleCapability> {
        let m = self.get(model_id)?;
        let ri = role_index(role);
        let points = m.points[ri]?;
        let family = self.data.families.get(&m.family)?;
        let figures = m
            .uses
            .iter()
            .filter(|u| u.role as usize == ri)
            .filter_map(|u| {
                Some(FigureUse {
                    figure: family.figures.get(u.figure as usize)?.clone(),
                    percentile: u.percentile,
                    among: u.among as usize,
                })
            })
            .collect();
        Some(RoleCapability { points, figures })
    }

    /// The figure shown first for a role (the most weighted kind's first figure).
    pub fn main_figure(&self, model_id: &str, role: Role) -> Option<FigureUse> {
        self.role_capability(model_id, role)?
            .figures
            .into_iter()
            .next()
    }
}

/// The catalog's models with figures and their families, in id order with each id once (the input
/// order never matters).
fn catalog_families<'a>(
    models: &'a [Model],
    index: &Index<'a>,
) -> Vec<(&'a Model, &'a crate::domain::scoring::evals::Family)> {
    let mut found: Vec<(&Model, &crate::domain::scoring::evals::Family)> = models
        .iter()
        .filter_map(|m| index.get(&m.id).map(|f| (m, f)))
        .collect();
    found.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    found.dedup_by(|a, b| a.0.id == b.0.id);
    found
}

/// Per found model, whether it passes each role's gates ([`Role::ALL`] order).
fn gate_passes(
    found: &[(&Model, &crate::domain::scoring::evals::Family)],
    cfg: &ScoringConfig,
) -> Vec<[bool; 6]> {
    found
        .iter()
        .map(|(m, _)| {
            let mut p = [false; 6];
            for (i, role) in Role::ALL.iter().enumerate() {
                p[i] = scoring::passes_gates(m, *role, cfg);
            }
            p
        })
        .collect()
}

/// The fewest families that must hold a setting for its figures to count: a benchmark only one or
/// two families report says nothing about the rest of the catalog.
pub const MIN_FAMILIES: usize = 3;

/// The population per setting for the role at `ri` within one price class (`in_class`): one value
/// per family (two variants of one family count once) among the models that pass the role's
/// gates, sorted ascending.
fn population<'a>(
    found: &[(&Model, &'a crate::domain::scoring::evals::Family)],
    passes: &[[bool; 6]],
    in_class: &[bool],
    ri: usize,
) -> BTreeMap<Setting<'a>, Vec<u32>> {
    let mut population: BTreeMap<Setting<'a>, Vec<u32>> = BTreeMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (((_, fam), p), inside) in found.iter().zip(passes).zip(in_class) {
        if !inside || !p[ri] || !seen.insert(fam.id.as_str()) {
            continue;
        }
        let mut settings: Vec<Setting<'a>> = Vec::new();
        for g in &fam.figures {
            let setting = g.setting();
            // A family with two figures of one setting counts once, with the first.
            if settings.contains(&setting) {
                continue;
            }
            settings.push(setting);
            population.entry(setting).or_default().push(g.value_centi);
        }
    }
    for values in population.values_mut() {
        values.sort_unstable();
    }
    population
}

/// The figures of `kind` that count for a family: those whose setting at least [`MIN_FAMILIES`]
/// families of the catalog hold (`held`: per setting, the gate-passing families of both price
/// classes; the family itself included), and of those only the independent leaderboards' when
/// there are any.
fn counting<'f>(
    fam: &'f crate::domain::scoring::evals::Family,
    kind: Kind,
    held: &BTreeMap<Setting<'_>, usize>,
    passes: bool,
) -> Vec<(usize, &'f Figure)> {
    let held = |g: &Figure| {
        let n = held.get(&g.setting()).copied().unwrap_or(0);
        n + usize::from(!passes) >= MIN_FAMILIES
    };
    let figs: Vec<(usize, &Figure)> = fam
        .figures
        .iter()
        .enumerate()
        .filter(|(_, g)| g.kind == kind && held(g))
        .collect();
    if figs
        .iter()
        .any(|(_, g)| g.source_kind == SourceKind::Leaderboard)
    {
        figs.into_iter()
            .filter(|(_, g)| g.source_kind == SourceKind::Leaderboard)
            .collect()
    } else {
        figs
    }
}

/// A family's points for the role at `ri` and the figures used: per kind the role weighs (most
/// weighted first), the mean percentile of its counting figures (see [`counting`]) among
/// `population` (`passes`: the model is one of it), or [`MISSING_KIND_POINTS`] for a kind without
/// one; the points are the kinds' weighted mean. `None` when no figure of a kind the role weighs
/// counts.
fn role_points(
    fam: &crate::domain::scoring::evals::Family,
    w: &KindWeights,
    population: &BTreeMap<Setting<'_>, Vec<u32>>,
    held: &BTreeMap<Setting<'_>, usize>,
    ri: usize,
    passes: bool,
) -> Option<(u32, Vec<UseRef>)> {
    let per_kind: Vec<(Kind, Vec<(usize, &Figure)>)> = w
        .ranked()
        .into_iter()
        .map(|k| (k, counting(fam, k, held, passes)))
        .collect();
    if per_kind.iter().all(|(_, figs)| figs.is_empty()) {
        return None;
    }
    let mut uses = Vec::new();
    let (mut sum, mut wsum) = (0u64, 0u64);
    for (kind, figs) in per_kind {
        let kw = w.get(kind) as u64;
        wsum += kw;
        if figs.is_empty() {
            // A kind the model has no counting figure for counts as the middle.
            sum += kw * MISSING_KIND_POINTS as u64;
            continue;
        }
        let mut kind_sum = 0u64;
        for (fi, g) in &figs {
            let empty = Vec::new();
            let values = population.get(&g.setting()).unwrap_or(&empty);
            let pct = percentile(values, g.value_centi, passes);
            kind_sum += pct as u64;
            uses.push(UseRef {
                role: ri as u8,
                figure: *fi as u16,
                percentile: pct,
                among: values.len() as u32,
            });
        }
        sum += kw * (kind_sum / figs.len() as u64);
    }
    if wsum == 0 {
        return None;
    }
    Some(((sum / wsum) as u32, uses))
}

/// The explain line of a measured capability: each figure with its source, date and percentile.
pub fn figures_reason(c: &RoleCapability, role: Role) -> String {
    let figures: Vec<String> = c
        .figures
        .iter()
        .map(|u| {
            format!(
                "{}: {} → {} among {} {role}-qualified model{} with it",
                u.figure.kind.label(),
                u.figure.describe(),
                u.percentile,
                u.among.max(1),
                if u.among == 1 { "" } else { "s" }
            )
        })
        .collect();
    format!(
        "capability {}: published figures (percentile points): {}",
        c.points,
        figures.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_integer_and_ordered() {
        let v = [5000, 6000, 7000, 8000, 9000];
        assert_eq!(percentile(&v, 9000, true), 900);
        assert_eq!(percentile(&v, 5000, true), 100);
        assert_eq!(percentile(&[4000], 4000, true), 500);
        assert_eq!(percentile(&v, 9500, false), 916);
        assert_eq!(percentile(&[], 4000, false), 500);
    }

    #[test]
    fn default_kind_weights_put_coding_first_for_the_engineer() {
        assert_eq!(
            KindWeights::default_for(Role::Engineer).ranked(),
            vec![Kind::Coding, Kind::ToolUse]
        );
        assert_eq!(
            KindWeights::default_for(Role::Research).ranked(),
            vec![Kind::General, Kind::LongContext]
        );
    }
}
