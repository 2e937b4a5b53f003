//! Skills nxr manages: the curated role skillsets (exactly 8 per built-in role), the category templates for
//! custom agents, and the SKILL.md each skill becomes on disk (`skills/nxr/<skill>/SKILL.md` in the agent's
//! Hermes profile). The skill texts are Markdown files under `skills/<hermes-category>/<skill>/SKILL.md` at the
//! repository root, embedded at build time and written to profiles byte for byte; this module reads their
//! fields and never rewrites or re-renders them. The tables are documented in docs/skills.md.

use crate::domain::base::roles::Role;
use serde::Serialize;
use std::sync::LazyLock;

/// The version in the front matter of every SKILL.md nxr ships. Bump it, and the `version:` line of every
/// skill file, when the skill texts change.
pub const SKILL_VERSION: &str = "1.0.0";

/// One skill nxr can write: what it is for and the concrete steps the agent follows, read from its SKILL.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillDef {
    /// The skill's name (also its directory): lower-case words joined by `-`.
    pub name: &'static str,
    /// One sentence: what the skill does and when to use it.
    pub description: &'static str,
    /// The Hermes skill category (`metadata.hermes.category`).
    pub category: &'static str,
    /// `metadata.hermes.tags`.
    pub tags: Vec<&'static str>,
    /// The instructions, in order.
    pub steps: Vec<&'static str>,
    /// What a good result looks like.
    pub output: &'static str,
    /// The whole SKILL.md, exactly as nxr writes it to a profile.
    #[serde(skip)]
    pub text: &'static str,
}

/// The skillset each built-in role gets on every creation path (exactly 8 each).
pub const PM_SKILLS: [&str; 8] = [
    "planning",
    "task-breakdown",
    "prioritization",
    "status-reporting",
    "dependency-mapping",
    "sprint-planning",
    "risk-assessment",
    "stakeholder-comms",
];
pub const ENGINEER_SKILLS: [&str; 8] = [
    "coding",
    "debugging",
    "git-workflow",
    "testing",
    "code-review",
    "refactoring",
    "architecture",
    "documentation",
];
pub const HERMES_SKILLS: [&str; 8] = [
    "memory",
    "web-search",
    "file-ops",
    "cron",
    "usage-tracker",
    "model-scanner",
    "skill-creator",
    "session-search",
];

/// The category templates for custom agents, in display order.
pub const CATEGORIES: [&str; 6] = [
    "tech", "creative", "business", "research", "media", "personal",
];

/// A category template: its name, a one-line summary, and its skills (6–8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CategoryTemplate {
    pub name: &'static str,
    pub summary: &'static str,
    pub skills: &'static [&'static str],
}

pub const CATEGORY_TEMPLATES: [CategoryTemplate; 6] = [
    CategoryTemplate {
        name: "tech",
        summary: "Software work: write, test, review and ship code, and automate the shell.",
        skills: &[
            "coding",
            "debugging",
            "testing",
            "code-review",
            "git-workflow",
            "documentation",
            "shell-automation",
        ],
    },
    CategoryTemplate {
        name: "creative",
        summary: "Writing and ideas: copy, stories, brainstorms, edits in a consistent voice.",
        skills: &[
            "copywriting",
            "storytelling",
            "brainstorming",
            "style-editing",
            "brand-voice",
            "image-prompting",
            "content-calendar",
        ],
    },
    CategoryTemplate {
        name: "business",
        summary: "Running a business: markets, competitors, numbers, meetings and mail.",
        skills: &[
            "market-analysis",
            "competitive-analysis",
            "financial-modeling",
            "prioritization",
            "meeting-notes",
            "stakeholder-comms",
            "email-drafting",
        ],
    },
    CategoryTemplate {
        name: "research",
        summary: "Finding and checking knowledge: search, read, verify, synthesise, cite.",
        skills: &[
            "web-search",
            "literature-review",
            "source-evaluation",
            "fact-checking",
            "data-analysis",
            "note-synthesis",
            "citation-management",
        ],
    },
    CategoryTemplate {
        name: "media",
        summary: "Audio, video and social: scripts, posts, podcasts, transcripts and SEO.",
        skills: &[
            "video-scripting",
            "social-media",
            "podcast-planning",
            "transcription",
            "image-prompting",
            "seo-optimization",
            "content-calendar",
        ],
    },
    CategoryTemplate {
        name: "personal",
        summary: "A personal assistant: days, habits, mail, trips, money, journal, reminders.",
        skills: &[
            "daily-planning",
            "habit-tracking",
            "email-drafting",
            "travel-planning",
            "personal-finance",
            "journaling",
            "cron",
        ],
    },
];

/// Embeds `skills/<category>/<name>/SKILL.md` for each pair, keeping the pairs' order.
macro_rules! skill_files {
    ($($cat:literal / $name:literal),* $(,)?) => {
        &[$((concat!($cat, "/", $name), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/skills/", $cat, "/", $name, "/SKILL.md")))),*]
    };
}

/// Every skill file nxr ships (`<category>/<name>`, text), sorted by skill name.
const SKILL_FILES: &[(&str, &str)] = skill_files![
    "software-development" / "architecture",
    "creative" / "brainstorming",
    "creative" / "brand-voice",
    "research" / "citation-management",
    "software-development" / "code-review",
    "software-development" / "coding",
    "business" / "competitive-analysis",
    "creative" / "content-calendar",
    "creative" / "copywriting",
    "automation" / "cron",
    "personal" / "daily-planning",
    "research" / "data-analysis",
    "software-development" / "debugging",
    "project-management" / "dependency-mapping",
    "software-development" / "documentation",
    "communication" / "email-drafting",
    "research" / "fact-checking",
    "hermes-core" / "file-ops",
    "business" / "financial-modeling",
    "software-development" / "git-workflow",
    "personal" / "habit-tracking",
    "creative" / "image-prompting",
    "personal" / "journaling",
    "research" / "literature-review",
    "business" / "market-analysis",
    "business" / "meeting-notes",
    "hermes-core" / "memory",
    "hermes-core" / "model-scanner",
    "research" / "note-synthesis",
    "personal" / "personal-finance",
    "project-management" / "planning",
    "media" / "podcast-planning",
    "project-management" / "prioritization",
    "software-development" / "refactoring",
    "project-management" / "risk-assessment",
    "media" / "seo-optimization",
    "hermes-core" / "session-search",
    "software-development" / "shell-automation",
    "hermes-core" / "skill-creator",
    "media" / "social-media",
    "research" / "source-evaluation",
    "project-management" / "sprint-planning",
    "project-management" / "stakeholder-comms",
    "project-management" / "status-reporting",
    "creative" / "storytelling",
    "creative" / "style-editing",
    "project-management" / "task-breakdown",
    "software-development" / "testing",
    "media" / "transcription",
    "personal" / "travel-planning",
    "hermes-core" / "usage-tracker",
    "media" / "video-scripting",
    "research" / "web-search",
];

/// Every skill nxr knows, sorted by name.
pub static SKILLS: LazyLock<Vec<SkillDef>> = LazyLock::new(|| {
    SKILL_FILES
        .iter()
        .map(|(path, text)| {
            parse_skill_md(text).unwrap_or_else(|| {
                panic!("skills/{path}/SKILL.md is not in the SKILL.md layout nxr ships (see docs/skills.md)")
            })
        })
        .collect()
});

/// A top-level or nested `key: value` line of the front matter.
fn front_field(front: &'static str, key: &str) -> Option<&'static str> {
    front
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(key)?.strip_prefix(": "))
        .map(str::trim)
}

/// Reads the fields of a shipped SKILL.md: front matter (`name`, quoted `description`, `tags`, `category`),
/// the numbered `## Steps` and the `## Output` paragraph. `None` when the layout is not the shipped one.
fn parse_skill_md(text: &'static str) -> Option<SkillDef> {
    let (front, body) = text.strip_prefix("---\n")?.split_once("\n---\n")?;
    let tags = front_field(front, "tags")?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .split(", ")
        .map(|t| t.trim_matches('"'))
        .filter(|t| !t.is_empty())
        .collect();
    let (_, steps_and_output) = body.split_once("\n## Steps\n\n")?;
    let (steps, output) = steps_and_output.split_once("\n\n## Output\n\n")?;
    let steps = steps
        .lines()
        .map(|l| l.split_once(". ").map(|(_, step)| step))
        .collect::<Option<Vec<_>>>()?;
    Some(SkillDef {
        name: front_field(front, "name")?,
        description: front_field(front, "description")?
            .strip_prefix('"')?
            .strip_suffix('"')?,
        category: front_field(front, "category")?,
        tags,
        steps,
        output: output.split_once("\n\n---\n")?.0,
        text,
    })
}

/// An unknown skill or category name, with the valid ones.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SkillError {
    #[error("unknown skill {given:?}{hint}; known skills: {valid}")]
    UnknownSkill {
        given: String,
        hint: String,
        valid: String,
    },
    #[error("unknown category {given:?}; categories: {valid}")]
    UnknownCategory { given: String, valid: String },
}

/// The definition of one skill.
pub fn find(name: &str) -> Option<&'static SkillDef> {
    SKILLS.iter().find(|s| s.name == name)
}

/// Every skill name nxr can write, sorted.
pub fn all_names() -> Vec<&'static str> {
    SKILLS.iter().map(|s| s.name).collect()
}

/// The skillset a role gets by default: the curated 8 for pm / engineer / hermes, the matching category
/// template for creative and research, and the tech template for custom.
pub fn role_skillset(role: Role) -> Vec<&'static str> {
    match role {
        Role::Pm => PM_SKILLS.to_vec(),
        Role::Engineer => ENGINEER_SKILLS.to_vec(),
        Role::Hermes => HERMES_SKILLS.to_vec(),
        Role::Creative => template_skills("creative"),
        Role::Research => template_skills("research"),
        Role::Custom => template_skills("tech"),
    }
}

fn template_skills(name: &str) -> Vec<&'static str> {
    CATEGORY_TEMPLATES
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.skills.to_vec())
        .unwrap_or_default()
}

/// A category template by name (case-insensitive).
pub fn category(name: &str) -> Result<&'static CategoryTemplate, SkillError> {
    let lower = name.trim().to_ascii_lowercase();
    CATEGORY_TEMPLATES
        .iter()
        .find(|t| t.name == lower)
        .ok_or_else(|| SkillError::UnknownCategory {
            given: name.to_string(),
            valid: CATEGORIES.join(", "),
        })
}

/// The skills a new agent starts with: an explicit category's template, else the role's skillset.
pub fn default_skills(role: Role, category_name: Option<&str>) -> Result<Vec<String>, SkillError> {
    let names = match category_name {
        Some(c) => category(c)?.skills.to_vec(),
        None => role_skillset(role),
    };
    Ok(names.into_iter().map(String::from).collect())
}

/// Checks every name is a known skill; returns them trimmed, lower-cased, deduplicated, in the given order.
pub fn validate(names: &[String]) -> Result<Vec<String>, SkillError> {
    let mut out: Vec<String> = Vec::new();
    for raw in names {
        let name = raw.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if find(&name).is_none() {
            let close: Vec<&str> = SKILLS
                .iter()
                .map(|s| s.name)
                .filter(|s| {
                    s.contains(name.as_str())
                        || name.contains(*s)
                        || s.split('-').any(|w| w.len() > 3 && name.contains(w))
                })
                .take(3)
                .collect();
            return Err(SkillError::UnknownSkill {
                given: raw.clone(),
                hint: if close.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", close.join(", "))
                },
                valid: all_names().join(", "),
            });
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// The SKILL.md nxr writes for `def`: its shipped file, byte for byte (YAML front matter with name,
/// description, version, metadata.hermes.tags and category, and `metadata.nxr.managed: true` so nxr can tell
/// its own skills from the user's; then the steps and the expected output).
pub fn render_skill_md(def: &SkillDef) -> String {
    def.text.to_string()
}

/// The short persona nxr writes to a new profile's SOUL.md.
pub fn persona(role: Role, agent_name: &str) -> String {
    let (what, how) = match role {
        Role::Pm => (
            "the project manager of a small team of AI agents",
            "You turn goals into plans, break work into tasks with owners and done criteria, keep priorities \
             explicit, surface risks early, and report status plainly. You delegate engineering work to the \
             engineer agent and ask for decisions when they are needed.",
        ),
        Role::Engineer => (
            "the software engineer of a small team of AI agents",
            "You write small, tested, readable changes that follow the codebase's conventions, debug from \
             evidence, review code carefully, and document what you build. You say what you changed and what \
             is left.",
        ),
        Role::Hermes => (
            "the always-on assistant that runs the team's infrastructure",
            "You remember what matters, search the web and past sessions, manage files and scheduled jobs, \
             keep an eye on model usage and the model catalog, and write new skills when a task repeats.",
        ),
        Role::Creative => (
            "a creative collaborator",
            "You generate ideas generously, then edit ruthlessly; you keep the brand's voice and write for a \
             specific reader.",
        ),
        Role::Research => (
            "a careful researcher",
            "You search broadly, read primary sources, check facts, weigh evidence, and cite everything.",
        ),
        Role::Custom => (
            "a focused assistant",
            "You follow the skills you have been given, ask when a request is ambiguous, and report clearly.",
        ),
    };
    format!(
        "# {agent_name}\n\nYou are {agent_name}, {what}. {how}\n\nBe concise and concrete. Never reveal secrets \
         such as API keys. When you are unsure, say so and ask.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_skill_has_a_definition() {
        let mut names: Vec<&str> = PM_SKILLS
            .iter()
            .chain(ENGINEER_SKILLS.iter())
            .chain(HERMES_SKILLS.iter())
            .copied()
            .collect();
        for t in CATEGORY_TEMPLATES {
            assert!(
                (6..=8).contains(&t.skills.len()),
                "{} has {}",
                t.name,
                t.skills.len()
            );
            names.extend(t.skills.iter().copied());
        }
        for n in names {
            let d = find(n).unwrap_or_else(|| panic!("no definition for {n}"));
            assert!(d.steps.len() >= 4, "{n} needs concrete steps");
        }
        let mut sorted = all_names();
        sorted.sort();
        assert_eq!(sorted, all_names(), "SKILLS stays sorted by name");
        sorted.dedup();
        assert_eq!(sorted.len(), SKILLS.len(), "no duplicate skills");
    }

    #[test]
    fn skill_md_front_matter_parses() {
        for def in SKILLS.iter() {
            let md = render_skill_md(def);
            let fm = crate::domain::agents::hermes::front_matter(&md).expect("front matter");
            assert_eq!(fm["name"].as_str(), Some(def.name));
            assert_eq!(fm["description"].as_str(), Some(def.description));
            assert_eq!(fm["version"].as_str(), Some(SKILL_VERSION));
            assert_eq!(
                fm["metadata"]["hermes"]["category"].as_str(),
                Some(def.category)
            );
            assert_eq!(
                fm["metadata"]["hermes"]["tags"]
                    .as_sequence()
                    .map(|s| s.len()),
                Some(def.tags.len())
            );
            assert!(md.contains("1. ") && md.contains(def.steps[0]));
        }
    }

    #[test]
    fn docs_list_the_same_skillsets_and_templates() {
        let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/skills.md"));
        for (role, list) in [
            ("pm", PM_SKILLS),
            ("engineer", ENGINEER_SKILLS),
            ("hermes", HERMES_SKILLS),
        ] {
            let row = format!("| {role} | {} |", list.join(", "));
            assert!(doc.contains(&row), "docs/skills.md lacks {row}");
        }
        for t in CATEGORY_TEMPLATES {
            let row = format!("| {} | {} | {} |", t.name, t.summary, t.skills.join(", "));
            assert!(doc.contains(&row), "docs/skills.md lacks {row}");
        }
        for d in SKILLS.iter() {
            assert!(
                doc.contains(&format!("| {} | {} |", d.name, d.category)),
                "docs/skills.md lacks {}",
                d.name
            );
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = validate(&["planing".into()]).unwrap_err().to_string();
        assert!(e.contains("planning") && e.contains("known skills"), "{e}");
        assert!(
            category("nope")
                .unwrap_err()
                .to_string()
                .contains("tech, creative")
        );
        assert_eq!(
            validate(&[" Coding".into(), "coding".into(), "testing".into()]).unwrap(),
            vec!["coding", "testing"]
        );
    }
    /// The layout every shipped SKILL.md follows, rebuilt from its fields.
    fn layout_from_fields(def: &SkillDef) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"));
        let tags = def.tags.iter().map(|t| q(t)).collect::<Vec<_>>().join(", ");
        let title = def
            .name
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let mut s = String::new();
        s.push_str("---\n");
        s.push_str(&format!("name: {}\n", def.name));
        s.push_str(&format!("description: {}\n", q(def.description)));
        s.push_str(&format!("version: {SKILL_VERSION}\n"));
        s.push_str("metadata:\n  hermes:\n");
        s.push_str(&format!("    tags: [{tags}]\n"));
        s.push_str(&format!("    category: {}\n", def.category));
        s.push_str("  nxr:\n    managed: true\n");
        s.push_str("---\n\n");
        s.push_str(&format!("# {title}\n\n{}\n\n", def.description));
        s.push_str("## When to use\n\n");
        s.push_str(&format!(
            "Use this skill whenever a task calls for {}. Follow the steps in order; skip a step only when it \
             clearly does not apply, and say so.\n\n",
            title.to_lowercase()
        ));
        s.push_str("## Steps\n\n");
        for (i, step) in def.steps.iter().enumerate() {
            s.push_str(&format!("{}. {step}\n", i + 1));
        }
        s.push_str(&format!("\n## Output\n\n{}\n", def.output));
        s.push_str(
            "\n---\nManaged by nxr: edits here are replaced when nxr syncs this agent's skills \
             (`nxr agents skills <agent> --sync …`).\n",
        );
        s
    }

    #[test]
    fn every_skill_file_is_listed_and_follows_the_shipped_layout() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("skills");
        let mut on_disk = Vec::new();
        for cat in std::fs::read_dir(&root).expect("skills/ exists") {
            let cat = cat.expect("skills/ entry").path();
            for skill in std::fs::read_dir(&cat).expect("category dir") {
                let skill = skill.expect("category entry").path();
                let rel = skill.strip_prefix(&root).expect("under skills/");
                on_disk.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = SKILL_FILES.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "SKILL_FILES lists every directory under skills/"
        );
        for ((path, text), def) in SKILL_FILES.iter().zip(SKILLS.iter()) {
            assert_eq!(
                *path,
                format!("{}/{}", def.category, def.name),
                "{path}: directory = category/name"
            );
            assert_eq!(
                layout_from_fields(def),
                *text,
                "{path} departs from the shipped layout"
            );
        }
    }
}
