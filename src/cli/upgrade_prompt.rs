//! The line prompts of `nxr upgrade` on a terminal: `Y` (apply the whole plan), `n` (change nothing),
//! `c` (per agent: keep, take the recommendation, or pick any model with the catalog's fuzzy search,
//! `domain::view::ModelList::search`, as Tab 2 searches).

use super::upgrade::{plan_table, read_line};
use crate::domain::catalog;
use crate::domain::store::Store;
use crate::domain::upgrade::{self, Plan};
use crate::domain::view::ModelList;
use color_eyre::Result;
use std::io::{BufRead, Write};

/// How many matches the picker lists.
const SHOWN: usize = 10;

fn prompt(text: &str) {
    out!("{text}");
    let _ = std::io::stdout().flush();
}

/// Asks what to do with `plan` (adjusting it for `c`); true = apply it.
pub async fn ask(store: &Store, plan: &mut Plan) -> Result<bool> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    loop {
        prompt("Apply? [Y]es, all shown / [n]o, change nothing / [c]ustom, agent by agent: ");
        let Some(answer) = read_line(&mut input)? else {
            return Ok(false);
        };
        match answer.to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            "c" | "custom" => {
                if !custom(store, plan, &mut input).await? {
                    return Ok(false);
                }
                out!("{}", plan_table(plan));
                return Ok(true);
            }
            other => outln!("{other:?} is not an answer here; type y, n or c"),
        }
    }
}

/// Per agent: keep / recommended / pick. False at end of input (nothing is applied then).
async fn custom(store: &Store, plan: &mut Plan, input: &mut dyn BufRead) -> Result<bool> {
    let cat = catalog::load(store).await?;
    let rows = ModelList::for_search(&cat.models);
    let agents: Vec<String> = plan.rows.iter().map(|r| r.agent.clone()).collect();
    for agent in agents {
        while let Some(row) = plan.row(&agent) {
            let rec = row
                .recommended
                .as_ref()
                .map(|m| m.id.clone())
                .unwrap_or_else(|| "none".into());
            outln!(
                "{} ({}) runs {}; recommended: {}",
                row.agent,
                row.role,
                row.current.id,
                rec
            );
            prompt("  [k]eep / [r]ecommended / [p]ick a model: ");
            let Some(answer) = read_line(input)? else {
                return Ok(false);
            };
            match answer.to_ascii_lowercase().as_str() {
                "k" | "keep" => {
                    plan.keep(&agent)?;
                    break;
                }
                "" | "r" | "recommended" => {
                    plan.take_recommended(&agent)?;
                    break;
                }
                "p" | "pick" => {
                    let Some(id) = pick(&rows, input)? else {
                        continue;
                    };
                    match upgrade::choose_model(store, plan, &agent, &id, false).await {
                        Ok(()) => break,
                        Err(e) => outln!("  {e}"),
                    }
                }
                other => outln!("  {other:?} is not an answer here; type k, r or p"),
            }
        }
    }
    Ok(true)
}

/// A fuzzy search over the catalog (Tab 2's): type a query, then a number from the list.
/// `None` = back to the keep / recommended / pick question.
fn pick(rows: &ModelList, input: &mut dyn BufRead) -> Result<Option<String>> {
    loop {
        prompt("  search models (empty = back): ");
        let Some(query) = read_line(input)? else {
            return Ok(None);
        };
        if query.is_empty() {
            return Ok(None);
        }
        let shown: Vec<_> = rows
            .search(&query, &catalog::Filter::default())
            .into_iter()
            .take(SHOWN)
            .filter_map(|i| rows.get(i))
            .collect();
        if shown.is_empty() {
            outln!("  no model matches {query:?}; try fewer letters");
            continue;
        }
        for (n, m) in shown.iter().enumerate() {
            outln!("  {:>2}) {}  {}", n + 1, m.id(), m.price_label());
        }
        prompt(&format!(
            "  number 1-{} (empty = search again): ",
            shown.len()
        ));
        let Some(choice) = read_line(input)? else {
            return Ok(None);
        };
        match choice.parse::<usize>() {
            Ok(n) if (1..=shown.len()).contains(&n) => {
                return Ok(Some(shown[n - 1].id().into_owned()));
            }
            _ if choice.is_empty() => continue,
            _ => outln!("  {choice:?} is not a number from the list"),
        }
    }
}
