//! The data file's format (`data/model_evals.yaml`): reading and validating a file whole, and writing
//! the merged data back in the same format.

use super::{EvalData, EvalError, Family, Figure, Kind, SourceKind, canonical_slug};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

// The file's shape, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    updated: String,
    families: Vec<RawFamily>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    id: String,
    name: String,
    figures: Vec<RawFigure>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFigure {
    kind: Kind,
    benchmark: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    harness: Option<String>,
    #[serde(default)]
    effort: Option<String>,
    /// Files written before the field existed read as `third_party`.
    #[serde(default)]
    source_kind: SourceKind,
    value: f64,
    #[serde(default)]
    note: Option<String>,
    source: String,
    #[serde(default)]
    url: Option<String>,
    date: String,
}

pub(super) fn invalid(file: &str, problem: impl Into<String>) -> EvalError {
    EvalError::Invalid {
        file: file.to_string(),
        problem: problem.into(),
    }
}

pub(super) fn valid_date(d: &str) -> bool {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()
        || chrono::NaiveDate::parse_from_str(&format!("{d}-01"), "%Y-%m-%d").is_ok()
}

/// True for an `http://` or `https://` address with a host and no spaces: the only links nxr shows.
fn web_address(u: &str) -> bool {
    let lower = u.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !r.contains(char::is_whitespace)
    })
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>()
}

/// A trimmed, cleaned optional text; blank reads as absent.
fn optional(s: Option<String>) -> Option<String> {
    s.map(|v| clean(v.trim())).filter(|v| !v.is_empty())
}

/// Parses and validates a data file. `file` names it in errors; `origin` is recorded per family.
pub fn parse(text: &str, file: &str, origin: &'static str) -> Result<EvalData, EvalError> {
    let raw: RawFile = serde_norway::from_str(text).map_err(|e| invalid(file, e.to_string()))?;
    if !valid_date(raw.updated.trim()) {
        return Err(invalid(
            file,
            format!(
                "updated {:?} is not a date (YYYY-MM-DD)",
                clean(&raw.updated)
            ),
        ));
    }
    let mut families = BTreeMap::new();
    for f in raw.families {
        let id = canonical_slug(&f.id);
        if id.is_empty() || !id.contains('/') || id != f.id.trim().to_ascii_lowercase() {
            return Err(invalid(
                file,
                format!(
                    "family id {:?} is not a canonical slug (author/model, no :free, no date suffix; e.g. {:?})",
                    clean(&f.id),
                    id
                ),
            ));
        }
        if f.figures.is_empty() {
            return Err(invalid(file, format!("family {id} has no figures")));
        }
        let mut figures = Vec::new();
        for g in f.figures {
            let what = format!("{id} {}", clean(&g.benchmark));
            if g.benchmark.trim().is_empty() {
                return Err(invalid(file, format!("a figure of {id} has no benchmark")));
            }
            if !(g.value.is_finite() && (0.0..=100.0).contains(&g.value)) {
                return Err(invalid(
                    file,
                    format!(
                        "{what}: value {} is not a percentage from 0 to 100",
                        g.value
                    ),
                ));
            }
            if g.source.trim().is_empty() {
                return Err(invalid(
                    file,
                    format!("{what}: no source (every figure needs one)"),
                ));
            }
            if !valid_date(g.date.trim()) {
                return Err(invalid(
                    file,
                    format!(
                        "{what}: date {:?} is not YYYY-MM-DD or YYYY-MM; give the day (or month) the figure was published",
                        clean(&g.date)
                    ),
                ));
            }
            let url = g.url.map(|u| clean(u.trim())).filter(|u| !u.is_empty());
            if let Some(u) = &url
                && !web_address(u)
            {
                return Err(invalid(
                    file,
                    format!(
                        "{what}: url {u:?} is not a web address; give the page as https://… (or http://…), or leave url out"
                    ),
                ));
            }
            figures.push(Figure {
                kind: g.kind,
                benchmark: clean(g.benchmark.trim()),
                variant: optional(g.variant),
                harness: optional(g.harness),
                effort: optional(g.effort),
                source_kind: g.source_kind,
                value_centi: (g.value * 100.0).round() as u32,
                note: g.note.map(|n| clean(n.trim())).filter(|n| !n.is_empty()),
                source: clean(g.source.trim()),
                url,
                date: g.date.trim().to_string(),
            });
        }
        let family = Family {
            id: id.clone(),
            name: clean(f.name.trim()),
            figures,
            origin,
        };
        if families.insert(id.clone(), family).is_some() {
            return Err(invalid(file, format!("family {id} appears twice")));
        }
    }
    Ok(EvalData {
        updated: raw.updated.trim().to_string(),
        families,
    })
}

/// One figure as the file and `--json` listings write it (the value in percent).
#[derive(Debug, Serialize)]
pub struct FigureOut<'a> {
    pub kind: Kind,
    pub benchmark: &'a str,
    pub variant: &'a Option<String>,
    pub harness: &'a Option<String>,
    pub effort: &'a Option<String>,
    pub source_kind: SourceKind,
    pub value: f64,
    pub note: &'a Option<String>,
    pub source: &'a str,
    pub url: &'a Option<String>,
    pub date: &'a str,
}

impl<'a> From<&'a Figure> for FigureOut<'a> {
    fn from(g: &'a Figure) -> FigureOut<'a> {
        FigureOut {
            kind: g.kind,
            benchmark: &g.benchmark,
            variant: &g.variant,
            harness: &g.harness,
            effort: &g.effort,
            source_kind: g.source_kind,
            value: g.value_centi as f64 / 100.0,
            note: &g.note,
            source: &g.source,
            url: &g.url,
            date: &g.date,
        }
    }
}

/// The data in the file format (for storing a merged import).
pub fn to_yaml(data: &EvalData) -> String {
    #[derive(Serialize)]
    struct OutFamily<'a> {
        id: &'a str,
        name: &'a str,
        figures: Vec<FigureOut<'a>>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        updated: &'a str,
        families: Vec<OutFamily<'a>>,
    }
    let out = Out {
        updated: if data.updated.is_empty() {
            "1970-01-01"
        } else {
            &data.updated
        },
        families: data
            .families
            .values()
            .map(|f| OutFamily {
                id: &f.id,
                name: &f.name,
                figures: f.figures.iter().map(FigureOut::from).collect(),
            })
            .collect(),
    };
    serde_norway::to_string(&out).unwrap_or_default()
}
