//! Skills nxr manages: the curated role skillsets (exactly 8 per built-in role), the category templates for
//! custom agents, and the SKILL.md each skill becomes on disk (`skills/nxr/<skill>/SKILL.md` in the agent's
//! Hermes profile). The tables are documented in docs/skills.md. Owner: the agents issue.

use crate::domain::roles::Role;
use serde::Serialize;

/// The version written into every SKILL.md nxr generates. Bump it when the skill texts change.
pub const SKILL_VERSION: &str = "1.0.0";

/// One skill nxr can write: what it is for and the concrete steps the agent follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SkillDef {
    /// The skill's name (also its directory): lower-case words joined by `-`.
    pub name: &'static str,
    /// One sentence: what the skill does and when to use it.
    pub description: &'static str,
    /// The Hermes skill category (`metadata.hermes.category`).
    pub category: &'static str,
    /// `metadata.hermes.tags`.
    pub tags: &'static [&'static str],
    /// The instructions, in order.
    pub steps: &'static [&'static str],
    /// What a good result looks like.
    pub output: &'static str,
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

macro_rules! skill {
    ($name:literal, $cat:literal, [$($tag:literal),*], $desc:literal, [$($step:literal),* $(,)?], $out:literal) => {
        SkillDef { name: $name, category: $cat, tags: &[$($tag),*], description: $desc, steps: &[$($step),*], output: $out }
    };
}

/// Every skill nxr knows, sorted by name.
pub const SKILLS: &[SkillDef] = &[
    skill!(
        "architecture",
        "software-development",
        ["engineering", "design"],
        "Design or change the structure of a system: modules, boundaries, data flow and the trade-offs behind them.",
        [
            "Restate the requirement and the constraints (scale, latency, team size, deadlines) before proposing anything.",
            "Map the current structure: list the modules, who owns which data, and how requests flow between them.",
            "Propose at most three options; for each give the cost to build, the cost to change later, and the main risk.",
            "Pick one and say why; record the decision and the rejected options in a short ADR (context, decision, consequences).",
            "Name the seams: the interfaces other code will depend on, with their types, errors and invariants.",
            "List the first small, shippable step that proves the design, and what would make you revisit it."
        ],
        "An ADR-style note with the chosen design, the interfaces it fixes, and the first step to build."
    ),
    skill!(
        "brainstorming",
        "creative",
        ["creative", "ideas"],
        "Generate many distinct ideas for a brief, then narrow them to the few worth pursuing.",
        [
            "Restate the brief in one sentence and list the hard constraints (audience, budget, format, deadline).",
            "Produce at least 15 ideas quickly without judging them; vary the angle (emotional, practical, contrarian, playful).",
            "Cluster similar ideas and name each cluster.",
            "Score the strongest 5 on impact, effort and fit with the brief (1–5 each), showing the scores.",
            "Recommend the top 2 with one next step each, and keep the full list in an appendix."
        ],
        "A ranked shortlist of ideas with scores and next steps, plus the raw list."
    ),
    skill!(
        "brand-voice",
        "creative",
        ["creative", "writing", "brand"],
        "Keep every piece of writing in the brand's voice: tone, vocabulary and the things the brand never says.",
        [
            "Find or ask for the brand's voice guide; if none exists, derive one from 3 approved samples.",
            "Summarise the voice as 3–5 traits, each with a 'this, not that' example.",
            "Keep a list of preferred words, banned words and formatting rules (capitalisation, emoji, exclamation marks).",
            "Rewrite the draft against the traits, changing only what breaks the voice.",
            "List every change with the trait it serves, so the author can accept or reject it."
        ],
        "The revised text plus a short change list mapped to the voice traits."
    ),
    skill!(
        "citation-management",
        "research",
        ["research", "citations"],
        "Keep sources traceable: consistent citations, a clean bibliography and no claim without a source.",
        [
            "Record every source when you first use it: authors, title, venue, year, URL or DOI, and the date accessed.",
            "Use one citation style throughout (ask which; default to APA) and format in-text citations consistently.",
            "Attach each claim in the text to a specific source and, where possible, a page or section.",
            "Deduplicate the bibliography and check every DOI or URL still resolves to the cited work.",
            "List claims that still lack a source so they can be sourced or removed."
        ],
        "A formatted bibliography and a list of unsupported claims."
    ),
    skill!(
        "code-review",
        "software-development",
        ["engineering", "review"],
        "Review a change for correctness, safety, clarity and tests, and give actionable feedback.",
        [
            "Read the description and linked issue first; state in one sentence what the change should do.",
            "Check correctness: edge cases, error paths, concurrency, resource cleanup and off-by-one boundaries.",
            "Check safety: input validation, secrets in code or logs, injection, and permissions.",
            "Check that tests cover the new behaviour and would fail without the change.",
            "Label each comment as blocking, suggestion or nit, and propose concrete code where you can.",
            "End with a verdict: approve, approve with nits, or request changes, and the reasons."
        ],
        "A list of labelled review comments and a verdict."
    ),
    skill!(
        "coding",
        "software-development",
        ["engineering", "code"],
        "Write working, readable code that fits the codebase's conventions and is covered by tests.",
        [
            "Read the surrounding code and the project's conventions (formatting, error handling, naming) before writing.",
            "Restate the task as inputs, outputs and error cases; ask when a requirement is ambiguous.",
            "Write the smallest change that does the job; prefer the standard library or existing dependencies.",
            "Handle every error path explicitly with a message that says what failed and what to do.",
            "Add or update tests next to the change and run them, plus the formatter and linter.",
            "Summarise what changed, why, and anything left undone."
        ],
        "A focused diff with tests that pass and a short summary."
    ),
    skill!(
        "competitive-analysis",
        "business",
        ["business", "strategy"],
        "Compare a product with its competitors on features, price, positioning and momentum.",
        [
            "List 3–6 direct competitors and 1–2 indirect alternatives (including 'do nothing').",
            "Build a comparison table: target customer, key features, pricing model and price points, distribution.",
            "Note each competitor's positioning statement in their own words, quoting their site or docs.",
            "Record signals of momentum: launches, funding, hiring, reviews, with dates and sources.",
            "Summarise where the product wins, where it loses, and the one gap worth attacking."
        ],
        "A sourced comparison table and a short strategic summary."
    ),
    skill!(
        "content-calendar",
        "creative",
        ["creative", "planning", "content"],
        "Plan what gets published where and when, so content ships on a steady rhythm.",
        [
            "Ask for channels, cadence per channel, key dates (launches, events, holidays) and the themes to cover.",
            "Lay out a 4-week calendar: date, channel, topic, format, owner and status.",
            "Balance the mix: no channel gets the same format twice in a row; key dates get content a week ahead.",
            "Reuse each strong piece across channels (thread, short video, newsletter) and mark the source piece.",
            "Flag gaps and overloaded days, and list what must be ready by when."
        ],
        "A dated calendar table with owners and a list of deadlines."
    ),
    skill!(
        "copywriting",
        "creative",
        ["creative", "writing", "marketing"],
        "Write clear, persuasive copy for a specific reader and a single call to action.",
        [
            "Identify the reader, the one action you want, and the main objection they have.",
            "Lead with the benefit to the reader, not the feature; keep one idea per sentence.",
            "Back each claim with a concrete detail: a number, an example or a short testimonial.",
            "Write 3 headline variants and 2 call-to-action variants.",
            "Cut every word that does not help the reader act; check length limits for the channel."
        ],
        "Final copy plus headline and call-to-action variants."
    ),
    skill!(
        "cron",
        "automation",
        ["hermes", "automation", "scheduling"],
        "Schedule recurring work with Hermes cron jobs and keep them healthy.",
        [
            "Confirm what should run, how often, in which time zone, and where results should go.",
            "Write the schedule as a cron expression and read it back in plain words (e.g. 'every weekday at 09:00 UTC').",
            "Create the job with `hermes cron` using a clear name and a prompt that is complete on its own.",
            "List existing jobs first and avoid duplicates; update a job instead of adding a second one.",
            "After the first run, check its output and failures, and pause jobs that fail twice in a row."
        ],
        "A named, verified cron job and a note of its next run time."
    ),
    skill!(
        "daily-planning",
        "personal",
        ["personal", "planning"],
        "Turn today's commitments and to-dos into a realistic plan with time blocks.",
        [
            "Collect fixed commitments (meetings, appointments) and the open to-do list.",
            "Pick at most 3 priorities for the day and say why each matters.",
            "Estimate each task and block time for the priorities first, in the hours with the most energy.",
            "Leave 20% of the day unplanned for interruptions, and batch small tasks into one block.",
            "At the end of the day, move unfinished items forward and note what got in the way."
        ],
        "A time-blocked plan for the day with 3 priorities."
    ),
    skill!(
        "data-analysis",
        "research",
        ["research", "data", "analysis"],
        "Answer a question from data: clean it, analyse it, and report results with their uncertainty.",
        [
            "Write the question and the decision it informs before touching the data.",
            "Inspect the data: row counts, types, missing values, duplicates and outliers; record every cleaning step.",
            "Start with simple summaries and plots; only then fit models, and state their assumptions.",
            "Report effect sizes with confidence intervals or ranges, not just p-values.",
            "Keep the analysis reproducible: a script or notebook that runs from raw data to the final figures.",
            "State the limitations and what additional data would change the answer."
        ],
        "A short report with the answer, key figures, caveats and a reproducible script."
    ),
    skill!(
        "debugging",
        "software-development",
        ["engineering", "debugging"],
        "Find the root cause of a bug systematically and fix it with a regression test.",
        [
            "Reproduce the bug reliably and write down the exact steps, inputs and the observed versus expected result.",
            "Read the full error message and stack trace; note the first frame in our own code.",
            "Form one hypothesis at a time and test it with the smallest experiment (a log line, a debugger break, a unit test).",
            "Bisect when the cause is unclear: by commit (`git bisect`), by input, or by disabling components.",
            "Fix the root cause, not the symptom, and add a test that fails before the fix and passes after.",
            "Write a short note: cause, fix, and how to spot the same class of bug."
        ],
        "A fix with a regression test and a root-cause note."
    ),
    skill!(
        "dependency-mapping",
        "project-management",
        ["pm", "planning"],
        "Map which tasks, teams and systems depend on which, and find the critical path.",
        [
            "List the work items and, for each, what it needs before it can start or finish.",
            "Include external dependencies: other teams, vendors, approvals, environments, data.",
            "Draw the graph (a list of 'A → B' edges or a Mermaid diagram) and check it has no cycles.",
            "Find the critical path and the items with no slack; mark owners and due dates on them.",
            "Flag each dependency that is late or unowned, and propose a mitigation (parallelise, stub, descope)."
        ],
        "A dependency graph with the critical path and a list of at-risk links."
    ),
    skill!(
        "documentation",
        "software-development",
        ["engineering", "docs"],
        "Write documentation people can act on: how to install, use and change the thing.",
        [
            "Identify the reader (new user, operator, contributor) and the task they came to do.",
            "Start with a working example the reader can copy and run; then explain the options.",
            "Keep reference material (flags, config keys, error messages) complete and in tables.",
            "Check every command and code sample by running it; update docs in the same change as the code.",
            "Link related pages and remove or mark anything out of date."
        ],
        "A tested page with an example first, then reference tables."
    ),
    skill!(
        "email-drafting",
        "communication",
        ["communication", "email"],
        "Draft clear emails that get a reply: one purpose, the ask up front, and the right tone.",
        [
            "Identify the recipient, the relationship, and the single thing you need from them.",
            "Put the ask or the key information in the first two sentences, with any deadline.",
            "Give only the context needed to act; move detail into bullets or an attachment.",
            "Match the tone to the relationship; remove hedging and apologies that add nothing.",
            "Write a subject line that says what the email is about and whether action is needed."
        ],
        "A ready-to-send draft with a subject line."
    ),
    skill!(
        "fact-checking",
        "research",
        ["research", "verification"],
        "Verify claims against reliable sources and report what holds, what does not and what is unknown.",
        [
            "Extract each checkable claim as a single sentence (who, what, when, how much).",
            "Find the primary source for each claim (original data, document, or direct statement).",
            "Look for at least one independent confirmation; note contradicting evidence.",
            "Rate each claim: true, mostly true, misleading, false, or unverifiable, with the reason.",
            "Cite the sources used for each rating, with links and dates."
        ],
        "A claim-by-claim verdict table with sources."
    ),
    skill!(
        "file-ops",
        "hermes-core",
        ["hermes", "files"],
        "Read, create, move and edit files safely inside the agent's workspace.",
        [
            "Confirm the working directory and the exact paths before acting; never guess paths.",
            "Read a file before editing it and make the smallest edit that does the job.",
            "Write changes atomically where possible (write a temp file, then rename) and keep file permissions.",
            "Never delete or overwrite files outside the task's scope; ask before removing anything.",
            "After changing files, list what changed (paths and a one-line summary each)."
        ],
        "The requested file changes and a list of touched paths."
    ),
    skill!(
        "financial-modeling",
        "business",
        ["business", "finance"],
        "Build a simple, auditable financial model: drivers, assumptions and scenarios.",
        [
            "Write down the question the model must answer (runway, pricing, break-even, unit economics).",
            "List the drivers and their assumptions in one inputs section, each with a source or rationale.",
            "Build the calculations from the drivers only; no hard-coded numbers in formulas.",
            "Add base, optimistic and pessimistic scenarios, and a sensitivity table for the two biggest drivers.",
            "Check the model: totals reconcile, signs are right, units are consistent.",
            "Summarise the answer and the assumptions it is most sensitive to."
        ],
        "A model with an inputs sheet, scenarios and a one-paragraph summary."
    ),
    skill!(
        "git-workflow",
        "software-development",
        ["engineering", "git"],
        "Work with git cleanly: small branches, clear commits, safe merges.",
        [
            "Start from an up-to-date main branch and create a branch named for the task.",
            "Commit small, coherent steps with messages in the imperative that say why, not only what.",
            "Run the tests and the formatter before each commit; never commit secrets or build artefacts.",
            "Rebase or merge main before opening a pull request, and resolve conflicts by understanding both sides.",
            "Never force-push shared branches; use `git revert` to undo published commits."
        ],
        "A clean branch with focused commits, ready for review."
    ),
    skill!(
        "habit-tracking",
        "personal",
        ["personal", "habits"],
        "Help build habits: define them precisely, track them daily and review them weekly.",
        [
            "Define each habit as a specific action, a cue and a minimum version (e.g. 'after coffee, write 1 sentence').",
            "Track each day as done or missed; never rewrite past entries.",
            "Show the current streak and the completion rate over the last 7 and 30 days.",
            "When a habit is missed twice in a row, suggest making it smaller or changing the cue.",
            "Review weekly: keep, adjust or drop each habit, at most 3 active habits at a time."
        ],
        "A habit log with streaks and a weekly review note."
    ),
    skill!(
        "image-prompting",
        "creative",
        ["creative", "images"],
        "Write precise prompts for image generators and iterate on the results.",
        [
            "Capture the intent: subject, purpose, aspect ratio, and where the image will be used.",
            "Write the prompt in this order: subject, action, setting, composition, lighting, style, colour palette.",
            "Add negative prompts for common failures (extra fingers, text artefacts, watermarks).",
            "Generate variations by changing one element at a time, and record which change helped.",
            "Check the result for brand fit, legibility at the target size, and rights issues."
        ],
        "A final prompt, its variations, and notes on what changed."
    ),
    skill!(
        "journaling",
        "personal",
        ["personal", "reflection"],
        "Guide short, regular journal entries and surface patterns over time.",
        [
            "Offer one prompt per entry (e.g. 'What gave you energy today?'), varying prompts across the week.",
            "Keep entries short: three to five sentences is enough.",
            "Never judge or diagnose; reflect back what the person wrote in their own words.",
            "Once a week, summarise recurring themes, moods and wins from the entries.",
            "Keep entries private: store them only where the person asked, and never share them."
        ],
        "A dated entry and, weekly, a short summary of themes."
    ),
    skill!(
        "literature-review",
        "research",
        ["research", "reading"],
        "Survey what is known on a question: find, read and organise the relevant work.",
        [
            "Write the research question and inclusion criteria (years, fields, types of source).",
            "Search several databases or engines with a recorded list of queries, and keep every hit's metadata.",
            "Screen titles and abstracts against the criteria; record why each excluded item was dropped.",
            "For each included work, note the question, method, main finding and limitations.",
            "Group the works by theme, and describe agreements, disagreements and gaps.",
            "End with what the evidence supports and which questions remain open."
        ],
        "A thematic review with a table of included works and the search log."
    ),
    skill!(
        "market-analysis",
        "business",
        ["business", "market"],
        "Size and describe a market: who buys, how much, why, and how it is changing.",
        [
            "Define the market precisely: customer segment, geography, and the problem being paid for.",
            "Estimate size both top-down (reports, census data) and bottom-up (customers × price), and reconcile them.",
            "Describe buyers: who decides, who pays, budget cycle, and current alternatives.",
            "List trends and drivers (regulation, technology, behaviour) with dated sources.",
            "Summarise the opportunity, the main risks, and the assumptions that most affect the size."
        ],
        "A sourced market summary with TAM/SAM/SOM estimates and key assumptions."
    ),
    skill!(
        "meeting-notes",
        "business",
        ["business", "meetings"],
        "Turn a meeting into notes people use: decisions, action items with owners, and open questions.",
        [
            "Record the date, attendees and the purpose of the meeting at the top.",
            "Capture decisions as single sentences, each with the reason if it was given.",
            "List action items as 'owner — action — due date'; ask when the owner or date is missing.",
            "Keep discussion summaries short and neutral; do not attribute opinions unless asked.",
            "List open questions and send the notes within the hour."
        ],
        "Notes with decisions, action items, and open questions."
    ),
    skill!(
        "memory",
        "hermes-core",
        ["hermes", "memory"],
        "Keep durable memory: save what will matter later and recall it when it is relevant.",
        [
            "Save facts that will matter in future sessions: the user's preferences, project names, decisions and their reasons.",
            "Do not save secrets, passwords, API keys or one-off details.",
            "Write each memory as one self-contained sentence with a date, so it makes sense later on its own.",
            "Before answering, check memory for relevant context and mention what you used.",
            "Update or remove memories that turn out to be wrong or outdated instead of adding contradictions."
        ],
        "Concise, dated memory entries and answers that use them."
    ),
    skill!(
        "model-scanner",
        "hermes-core",
        ["hermes", "models", "openrouter"],
        "Watch the OpenRouter catalog for better or cheaper models for each agent role, and report them.",
        [
            "Fetch the current model list from OpenRouter (`GET /api/v1/models`, no key needed).",
            "For each role, keep only models that meet its hard requirements (tool calling, minimum context).",
            "Compare candidates with the current model on context, capability, recency, reliability and price.",
            "Never spend chat requests to probe models; use catalog data and observed failures only.",
            "Report each suggested switch with the reasons and the expected cost change; do not switch without approval.",
            "Note models that are about to expire (`expiration_date`) and propose replacements."
        ],
        "A short report of suggested model changes per role, with reasons."
    ),
    skill!(
        "note-synthesis",
        "research",
        ["research", "notes"],
        "Turn scattered notes and sources into a structured synthesis with clear takeaways.",
        [
            "Gather all notes and tag each fragment with its source.",
            "Group fragments into themes; name each theme with a short claim, not a topic word.",
            "Within each theme, separate evidence, interpretation and open questions.",
            "Highlight contradictions between sources instead of smoothing them over.",
            "Write a summary of 5 or fewer takeaways, each linked to the supporting notes."
        ],
        "A themed synthesis with linked takeaways."
    ),
    skill!(
        "personal-finance",
        "personal",
        ["personal", "finance"],
        "Keep personal finances in order: budget, bills, savings goals and a monthly review.",
        [
            "Collect monthly net income and list fixed costs (rent, utilities, subscriptions, debt payments).",
            "Estimate variable spending per category from the last 2–3 months of statements.",
            "Set savings and debt-repayment goals first, then give each spending category a limit that fits.",
            "Keep a list of bills with due dates and remind before each one.",
            "Monthly, compare actual spending with the plan and suggest one concrete adjustment; never give regulated investment advice."
        ],
        "A one-page budget with bills, goals and the month's adjustments."
    ),
    skill!(
        "planning",
        "project-management",
        ["pm", "planning"],
        "Turn a goal into a plan: scope, milestones, owners and dates that the team can commit to.",
        [
            "Write the goal and how success will be measured, in one or two sentences.",
            "List what is in scope and, explicitly, what is out of scope.",
            "Break the work into 3–7 milestones, each with a visible deliverable and an owner.",
            "Estimate each milestone, add buffer for known risks, and set target dates.",
            "Identify assumptions and dependencies, and how you will check them early.",
            "Share the plan and agree how progress will be reported."
        ],
        "A one-page plan: goal, scope, milestones with owners and dates, risks."
    ),
    skill!(
        "podcast-planning",
        "media",
        ["media", "audio"],
        "Plan podcast episodes: topic, guests, run-of-show and the assets around each release.",
        [
            "Define the episode's angle and the one thing listeners should take away.",
            "Research the guest and write 8–10 questions, ordered from warm-up to depth.",
            "Write a run-of-show with timings: intro, segments, ads, outro.",
            "Prepare show notes: summary, timestamps, links and guest bio.",
            "Plan promotion: audiogram clips, social posts and the release date."
        ],
        "A run-of-show, question list and show notes draft."
    ),
    skill!(
        "prioritization",
        "project-management",
        ["pm", "prioritization"],
        "Rank competing work by value, cost and urgency so the team works on what matters most.",
        [
            "List the candidate items with a one-line description each.",
            "Score each with a simple, stated method (e.g. RICE: reach, impact, confidence, effort).",
            "Show the scores in a table and sort by them; call out items where the score feels wrong and why.",
            "Separate must-do commitments (legal, security, promised dates) from the ranked list.",
            "Recommend what to do now, next and not at all, and record the reasoning."
        ],
        "A scored, ranked table with a now / next / not-now recommendation."
    ),
    skill!(
        "refactoring",
        "software-development",
        ["engineering", "refactoring"],
        "Improve the structure of code without changing its behaviour, in small safe steps.",
        [
            "Make sure tests cover the behaviour you are about to touch; add characterisation tests if not.",
            "Name the smell you are fixing (duplication, long function, unclear name, tangled dependency).",
            "Apply one refactoring at a time (extract, inline, rename, move) and run the tests after each.",
            "Keep refactoring commits separate from behaviour changes.",
            "Stop when the code is clear enough for the next change; note any further cleanup as a follow-up."
        ],
        "A series of behaviour-preserving commits with tests still green."
    ),
    skill!(
        "risk-assessment",
        "project-management",
        ["pm", "risk"],
        "Find, rate and plan for the risks that could stop a project from succeeding.",
        [
            "List risks across scope, schedule, technology, people, vendors and compliance.",
            "Rate each for likelihood and impact (1–5) and sort by their product.",
            "For the top risks, write a mitigation (reduce likelihood) and a contingency (reduce impact), each with an owner.",
            "Define an early-warning signal for each top risk and when it will be checked.",
            "Review the register at every status update and close risks that no longer apply."
        ],
        "A risk register with ratings, owners, mitigations and warning signs."
    ),
    skill!(
        "seo-optimization",
        "media",
        ["media", "seo", "marketing"],
        "Make content findable: target queries, structure and metadata that match search intent.",
        [
            "Identify the primary query and 3–5 related queries, and the intent behind them.",
            "Check what currently ranks for the query and what those pages cover.",
            "Structure the page with one H1 matching the intent and H2s for the sub-questions.",
            "Write a title under 60 characters and a meta description under 155 characters.",
            "Add internal links, descriptive image alt text, and fix broken links."
        ],
        "An optimised outline or page with title, description and link suggestions."
    ),
    skill!(
        "session-search",
        "hermes-core",
        ["hermes", "sessions", "search"],
        "Search past Hermes sessions to recover earlier decisions, answers and context.",
        [
            "Turn the request into search terms: names, dates, file paths or distinctive phrases.",
            "Search the session history and read the matching excerpts in context, not in isolation.",
            "Prefer the most recent session when results conflict, and say that they conflicted.",
            "Quote the relevant lines with the session date so the user can check them.",
            "Say plainly when nothing relevant is found instead of guessing."
        ],
        "Quoted, dated excerpts from past sessions with a short answer."
    ),
    skill!(
        "shell-automation",
        "software-development",
        ["engineering", "shell", "automation"],
        "Automate repetitive work with safe, readable shell scripts.",
        [
            "Write scripts with `set -euo pipefail` and quote every variable expansion.",
            "Check required tools and inputs at the start and exit with a clear message when one is missing.",
            "Make scripts idempotent: running them twice must not break anything.",
            "Print what is being done for long steps, and support a dry-run flag for anything destructive.",
            "Test the script on a scratch directory before running it on real data."
        ],
        "A tested, idempotent script with usage notes."
    ),
    skill!(
        "skill-creator",
        "hermes-core",
        ["hermes", "skills"],
        "Create new Hermes skills: a SKILL.md with precise front matter and instructions that work.",
        [
            "Name the task the skill covers and when it should be used; check an existing skill does not already cover it.",
            "Create `skills/<category>/<name>/SKILL.md` with front matter: name, description, version, metadata.hermes.tags and category.",
            "Write the body as numbered, concrete steps and describe what a good output looks like.",
            "Keep helper scripts or references in the skill's own folder and mention them in the body.",
            "Check the skill shows up in `hermes skills list`, then try it on one real task and refine it."
        ],
        "A new skill directory that Hermes lists and that works on a real task."
    ),
    skill!(
        "social-media",
        "media",
        ["media", "social"],
        "Write and schedule social posts that fit each platform and drive a clear action.",
        [
            "Confirm the platform, audience, goal (reach, clicks, replies) and any campaign hashtags.",
            "Write each post for its platform's length and format limits; put the hook in the first line.",
            "Add a visual suggestion and alt text for every image.",
            "Write 2 variants to test, and a schedule aligned with when the audience is active.",
            "After posting, record reach and engagement, and note what to repeat."
        ],
        "Platform-ready posts with variants, visuals and a schedule."
    ),
    skill!(
        "source-evaluation",
        "research",
        ["research", "sources"],
        "Judge how far a source can be trusted before relying on it.",
        [
            "Identify the author or organisation, their expertise, and any conflicts of interest.",
            "Check the date and whether newer information supersedes it.",
            "Classify the source: primary data, peer-reviewed, reputable journalism, opinion, or unknown.",
            "Check the evidence it gives: data, methods, citations that can be followed.",
            "Give a trust rating (high, medium, low) with a one-line reason, and how it should be used."
        ],
        "A trust rating and reason for each source."
    ),
    skill!(
        "sprint-planning",
        "project-management",
        ["pm", "agile"],
        "Plan a sprint the team can finish: a goal, the right backlog items and an honest capacity.",
        [
            "Agree the sprint goal in one sentence, tied to the current milestone.",
            "Work out capacity: people-days available minus holidays, meetings and support duty.",
            "Pull ready backlog items in priority order until capacity is reached; every item needs acceptance criteria.",
            "Split items larger than a few days into smaller ones that deliver value on their own.",
            "Note dependencies and risks for the sprint and who handles each.",
            "Publish the sprint plan and the date of the review."
        ],
        "A sprint goal, a committed item list within capacity, and known risks."
    ),
    skill!(
        "stakeholder-comms",
        "project-management",
        ["pm", "communication"],
        "Keep stakeholders informed and aligned with messages fitted to each audience.",
        [
            "List the stakeholders, what each cares about, and how often they want to hear from you.",
            "Lead each message with what it means for that reader: a decision needed, a change, or no action.",
            "State facts and dates plainly; flag bad news early with the plan to address it.",
            "Keep a record of what was communicated to whom and when.",
            "Close the loop: confirm decisions in writing and follow up on open requests."
        ],
        "Audience-specific updates and a communication log."
    ),
    skill!(
        "status-reporting",
        "project-management",
        ["pm", "reporting"],
        "Write status reports that show progress, problems and the help needed, in a minute's reading.",
        [
            "Start with the overall status (on track, at risk, off track) and one sentence why.",
            "List what was done since the last report and what is planned next, with dates.",
            "List blockers and risks, each with an owner and the help needed.",
            "Include the key metrics or milestone dates and how they changed.",
            "Keep it under one page and send it at the agreed time."
        ],
        "A one-page status report with a clear overall status."
    ),
    skill!(
        "storytelling",
        "creative",
        ["creative", "writing", "narrative"],
        "Shape material into a story with a character, a tension and a resolution.",
        [
            "Identify the audience and the one feeling or idea they should leave with.",
            "Choose the protagonist (a person, a customer, a team) and what they want.",
            "Set up the tension: the obstacle or the stakes, early and concretely.",
            "Build to a turning point and resolve it; cut scenes that do not move the story.",
            "Use specific sensory details and dialogue sparingly; end on the takeaway."
        ],
        "A story draft with a clear arc and the intended takeaway."
    ),
    skill!(
        "style-editing",
        "creative",
        ["creative", "editing"],
        "Edit text for clarity, concision and consistency without changing its meaning.",
        [
            "Read the whole text once before editing to understand its purpose and audience.",
            "Fix structure first: order of sections, paragraph focus, and transitions.",
            "Then edit sentences: cut filler, prefer active voice and concrete words, split long sentences.",
            "Apply the style guide consistently (spelling variant, numbers, capitalisation, punctuation).",
            "Return the edited text with a short list of the main changes and any questions for the author."
        ],
        "Edited text plus a summary of changes and queries."
    ),
    skill!(
        "task-breakdown",
        "project-management",
        ["pm", "planning"],
        "Break a feature or goal into small, independent tasks with clear done criteria.",
        [
            "Restate the goal and the acceptance criteria for the whole piece of work.",
            "Split the work vertically into tasks that each deliver something testable.",
            "Keep each task small enough for one person in one or two days.",
            "Write done criteria for each task and note which tasks depend on others.",
            "Order the tasks so the riskiest or most uncertain parts come first."
        ],
        "An ordered task list with done criteria and dependencies."
    ),
    skill!(
        "testing",
        "software-development",
        ["engineering", "testing"],
        "Write tests that catch real bugs: behaviour-focused, deterministic and fast.",
        [
            "Test behaviour a user or caller would notice, not implementation details.",
            "Cover the happy path, edge cases (empty, maximum, unicode, zero) and every error path.",
            "Keep tests deterministic: inject clocks, random seeds and ports; never sleep and hope.",
            "Make each test fail first (or check it fails when the code is broken) so it can catch a regression.",
            "Name tests after the behaviour they check, and keep fixtures small and realistic."
        ],
        "Focused tests that fail on broken code and pass on correct code."
    ),
    skill!(
        "transcription",
        "media",
        ["media", "audio", "transcripts"],
        "Turn audio or video into accurate, readable transcripts with speakers and timestamps.",
        [
            "Use the local speech-to-text provider when configured (e.g. faster-whisper); otherwise ask which to use.",
            "Label speakers consistently and add a timestamp at each speaker change.",
            "Keep the words accurate; mark unclear passages as [inaudible hh:mm:ss] instead of guessing.",
            "Produce a clean version (fillers removed) alongside the verbatim one when asked.",
            "Add a short summary and key quotes with timestamps at the top."
        ],
        "A timestamped transcript with speakers and a summary."
    ),
    skill!(
        "travel-planning",
        "personal",
        ["personal", "travel"],
        "Plan trips end to end: dates, transport, stays, an itinerary and the documents needed.",
        [
            "Confirm dates, budget, travellers, departure city and the trip's purpose.",
            "Compare 2–3 transport and lodging options with price, duration and cancellation terms.",
            "Build a day-by-day itinerary with realistic travel times and free time.",
            "List documents and requirements (passport validity, visas, insurance) with deadlines.",
            "Put confirmations and addresses in one summary, and set reminders for check-ins."
        ],
        "An itinerary, a booking summary and a checklist."
    ),
    skill!(
        "usage-tracker",
        "hermes-core",
        ["hermes", "usage", "budget"],
        "Track model usage and spending per agent and warn before limits are reached.",
        [
            "Read usage from Hermes' state.db (`session_model_usage`: calls, tokens, cost per model per session).",
            "Sum requests and cost per agent and per model for today (UTC day) and the month.",
            "Compare with the free-tier daily request limit and any budget set in nxr.",
            "Warn at 80% of a limit and again at 100%, naming the agent and the model.",
            "Suggest a cheaper or free model when an agent keeps hitting its limit."
        ],
        "A usage summary per agent and model, with warnings."
    ),
    skill!(
        "video-scripting",
        "media",
        ["media", "video"],
        "Write video scripts that hold attention: a hook, a structure and visuals for each line.",
        [
            "Define the platform, target length, audience and the single takeaway.",
            "Open with a hook in the first 3 seconds that states the payoff.",
            "Write the script in two columns: what is said and what is shown.",
            "Keep sentences short and spoken; read it aloud and time it against the target length.",
            "End with one clear call to action and list the shots or assets needed."
        ],
        "A two-column script with timing and a shot list."
    ),
    skill!(
        "web-search",
        "research",
        ["research", "search", "web"],
        "Search the web effectively and report answers with their sources.",
        [
            "Turn the question into 2–3 precise queries with key terms, names and dates.",
            "Prefer primary and authoritative sources; note the publication date of each.",
            "Open and read the relevant part of each result rather than relying on snippets.",
            "Cross-check important facts in at least two independent sources.",
            "Answer concisely and cite every source with a link; say what could not be confirmed."
        ],
        "A concise answer with linked, dated sources."
    ),
];

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

/// The SKILL.md nxr writes for `def`: YAML front matter (name, description, version, metadata.hermes.tags
/// and category, and `metadata.nxr.managed: true` so nxr can tell its own skills from the user's) and a
/// body with the instructions.
pub fn render_skill_md(def: &SkillDef) -> String {
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
        for def in SKILLS {
            let md = render_skill_md(def);
            let fm = crate::domain::hermes::front_matter(&md).expect("front matter");
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
        let doc = include_str!("../../docs/skills.md");
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
        for d in SKILLS {
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
}
