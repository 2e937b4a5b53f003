//! Agents as Hermes profiles: role skillsets, category templates, the Paperclip skill contract (domain, CLI
//! and HTTP), and the promise that a bad input leaves the database and the disk exactly as they were.

mod common;

use common::Homes;
use nxr::domain::agents::hermes;
use nxr::domain::agents::skills;
use nxr::domain::agents::{self, AgentError, NewAgent};
use nxr::domain::base::env::Env;
use nxr::domain::base::roles::Role;
use nxr::domain::paperclip;
use nxr::domain::scoring::Exclusion;
use nxr::domain::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FREE: &str = "meta-llama/llama-3.3-70b-instruct:free";
const PAID: &str = "openai/gpt-4o";

fn new_agent(name: &str, role: Role, model: Option<&str>) -> NewAgent {
    NewAgent {
        name: name.into(),
        role,
        category: None,
        model: model.map(String::from),
        skills: None,
        is_default: false,
        host: None,
    }
}

/// Every file under `root` with its bytes (and every directory), for before/after comparisons.
fn tree(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if p.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

/// Every row of the agent tables, as text.
async fn db_rows(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["agents", "agent_model_history"] {
        let mut rows = store
            .conn()
            .query(&format!("SELECT * FROM {table} ORDER BY id"), ())
            .await
            .unwrap();
        while let Some(row) = rows.next().await.unwrap() {
            let mut cells = vec![table.to_string()];
            for i in 0..row.column_count() {
                cells.push(format!("{:?}", row.get_value(i).unwrap()));
            }
            out.push(cells.join("|"));
        }
    }
    out
}

/// The skill directories nxr wrote in a profile.
fn nxr_skill_dirs(profile_dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(profile_dir.join("skills/nxr"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("SKILL.md").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn sorted(v: &[impl AsRef<str>]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.as_ref().to_string()).collect();
    v.sort();
    v
}

async fn open(homes: &Homes) -> (Env, Store) {
    let env = homes.env();
    let store = Store::open(&env).await.unwrap();
    (env, store)
}

#[tokio::test]
async fn pm_engineer_and_hermes_get_exactly_their_eight_skills_in_db_on_disk_and_in_the_snapshot() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let cases = [
        ("pm", Role::Pm, skills::PM_SKILLS),
        ("eng", Role::Engineer, skills::ENGINEER_SKILLS),
        ("Hermes", Role::Hermes, skills::HERMES_SKILLS),
    ];
    for (name, role, expected) in cases {
        let agent = agents::create(&store, &env, new_agent(name, role, Some(FREE)))
            .await
            .unwrap();
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        // Database.
        let row = agents::get_by_name(&store, &env, name).await.unwrap();
        assert_eq!(row.skillset, expected, "{name}: agents.skillset");
        assert_eq!(agent, row);
        // Disk: exactly these 8 dirs, each a real SKILL.md.
        let dir = PathBuf::from(&agent.hermes_profile_path);
        assert_eq!(
            nxr_skill_dirs(&dir),
            sorted(&expected),
            "{name}: skills on disk"
        );
        for s in &expected {
            let md =
                std::fs::read_to_string(dir.join("skills/nxr").join(s).join("SKILL.md")).unwrap();
            let fm = hermes::front_matter(&md).expect("front matter");
            assert_eq!(fm["name"].as_str(), Some(s.as_str()));
            assert!(fm["description"].as_str().is_some_and(|d| d.len() > 20));
            assert!(fm["version"].as_str().is_some());
            assert!(
                fm["metadata"]["hermes"]["tags"]
                    .as_sequence()
                    .is_some_and(|t| !t.is_empty())
            );
            assert!(fm["metadata"]["hermes"]["category"].as_str().is_some());
            assert!(
                md.contains("## Steps") && md.contains("\n4. "),
                "{s}: concrete steps"
            );
        }
        // Snapshot.
        let snap = paperclip::list_skills(&store, &env, name).await.unwrap();
        assert_eq!(snap.adapter_type, "hermes_local");
        assert!(snap.supported);
        assert_eq!(snap.mode, "persistent");
        assert_eq!(snap.desired_skills, expected);
        let managed: Vec<&str> = snap
            .entries
            .iter()
            .filter(|e| e.managed && e.desired && e.state == "installed")
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(managed, expected, "{name}: snapshot entries");
        assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    }
    // Profiles: hermes uses the root, the others profiles/<slug>.
    let all = agents::list(&store, &env).await.unwrap();
    let profiles: Vec<(&str, PathBuf)> = all
        .iter()
        .map(|a| {
            (
                a.hermes_profile.as_str(),
                PathBuf::from(&a.hermes_profile_path),
            )
        })
        .collect();
    assert_eq!(
        profiles,
        vec![
            ("pm", env.hermes_home.join("profiles/pm")),
            ("eng", env.hermes_home.join("profiles/eng")),
            ("default", env.hermes_home.clone()),
        ]
    );
    for a in &all {
        let cfg = PathBuf::from(&a.hermes_profile_path).join("config.yaml");
        assert_eq!(
            hermes::get_config(&cfg, "model.default")
                .unwrap()
                .as_deref(),
            Some(FREE)
        );
        assert_eq!(
            hermes::get_config(&cfg, "model.provider")
                .unwrap()
                .as_deref(),
            Some("openrouter")
        );
        assert_eq!(
            hermes::get_config(&cfg, "auxiliary.free_only")
                .unwrap()
                .as_deref(),
            Some("true")
        );
        let soul =
            std::fs::read_to_string(PathBuf::from(&a.hermes_profile_path).join("SOUL.md")).unwrap();
        assert!(soul.contains(&a.name), "SOUL.md names the agent: {soul}");
    }
}

#[tokio::test]
async fn without_a_model_the_agent_gets_the_best_free_model_for_its_role() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    for (name, role) in [
        ("p", Role::Pm),
        ("e", Role::Engineer),
        ("r", Role::Research),
    ] {
        // The same pick as `nxr models best-free --role R`.
        let want = nxr::domain::scoring::rescore::best_free(&store, &env, role, chrono::Utc::now())
            .await
            .unwrap()
            .pick;
        let agent = agents::create(&store, &env, new_agent(name, role, None))
            .await
            .unwrap();
        assert_eq!(agent.model, want.model_id, "{role}");
        assert!(agent.model_auto_assigned);
        assert_eq!(
            agent.model_score,
            want.score.as_ref().map(|s| i64::from(s.total))
        );
        let cfg = agent.profile().config_path();
        assert_eq!(
            hermes::get_config(&cfg, "model.default").unwrap(),
            Some(want.model_id.clone())
        );
        // A user would check: it is free and meets the role's hard requirements.
        let catalog = nxr::domain::catalog::load(&store).await.unwrap();
        let m = catalog.get(&agent.model).expect("a catalog model");
        let req = role.default_requirements();
        assert!(m.is_free(), "{}", m.id);
        assert!(
            m.context_length >= req.min_context,
            "{} context {}",
            m.id,
            m.context_length
        );
        assert!(
            !req.needs_tools || m.supports_tools(),
            "{} lacks tools",
            m.id
        );
        assert_eq!(
            hermes::get_config(&cfg, "auxiliary.free_only")
                .unwrap()
                .as_deref(),
            Some("true")
        );
    }
}

#[tokio::test]
async fn set_model_changes_config_and_db_and_records_history() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let agent = agents::create(&store, &env, new_agent("pm", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    let cfg = agent.profile().config_path();
    let moved = agents::set_model(&store, &env, "pm", PAID, "upgrade: key added")
        .await
        .unwrap();
    assert_eq!(moved.model, PAID);
    assert!(!moved.model_auto_assigned);
    assert_eq!(
        hermes::get_config(&cfg, "model.default")
            .unwrap()
            .as_deref(),
        Some(PAID)
    );
    assert_eq!(
        hermes::get_config(&cfg, "auxiliary.free_only").unwrap(),
        None,
        "paid: free_only gone"
    );
    let mut rows = store
        .conn()
        .query(
            "SELECT from_model, to_model, reason FROM agent_model_history WHERE agent_id = ?1 ORDER BY id",
            [agent.id],
        )
        .await
        .unwrap();
    let mut history = Vec::new();
    while let Some(r) = rows.next().await.unwrap() {
        history.push((
            r.get::<Option<String>>(0).unwrap(),
            r.get::<String>(1).unwrap(),
            r.get::<String>(2).unwrap(),
        ));
    }
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].0, None);
    assert_eq!(history[0].1, FREE);
    assert_eq!(
        history[1],
        (
            Some(FREE.to_string()),
            PAID.to_string(),
            "upgrade: key added".to_string()
        )
    );
    // Back to free: free_only returns.
    agents::set_model(&store, &env, &agent.id.to_string(), FREE, "downgrade")
        .await
        .unwrap();
    assert_eq!(
        hermes::get_config(&cfg, "auxiliary.free_only")
            .unwrap()
            .as_deref(),
        Some("true")
    );
    // An unknown or hostile model changes nothing.
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    for bad in ["openai/gpt-99", "x\nmodel: evil", "a: b"] {
        let err = agents::set_model(&store, &env, "pm", bad, "x")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                AgentError::InvalidModel(_) | AgentError::NotInCatalog { .. }
            ),
            "{bad:?}: {err}"
        );
    }
    let err = agents::set_model(&store, &env, "pm", "gpt-4o", "x")
        .await
        .unwrap_err();
    // The domain names the close ids; the CLI adds where to see every id.
    assert!(err.to_string().contains("openai/gpt-4o"), "{err}");
    let said = nxr::cli::hints::explain(&err);
    assert!(said.contains("`nxr models list`"), "{said}");
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));
}

#[tokio::test]
async fn all_six_category_templates_exist_and_prefill_the_skills() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    assert_eq!(
        skills::CATEGORIES,
        [
            "tech", "creative", "business", "research", "media", "personal"
        ]
    );
    for cat in skills::CATEGORIES {
        let t = skills::category(cat).unwrap();
        assert!(
            (6..=8).contains(&t.skills.len()),
            "{cat}: {}",
            t.skills.len()
        );
        let agent = agents::create(
            &store,
            &env,
            NewAgent {
                category: Some(cat.to_string()),
                ..new_agent(&format!("custom {cat}"), Role::Custom, Some(FREE))
            },
        )
        .await
        .unwrap();
        let expected: Vec<String> = t.skills.iter().map(|s| s.to_string()).collect();
        assert_eq!(agent.skillset, expected, "{cat}");
        assert_eq!(
            nxr_skill_dirs(&agent.profile().dir),
            sorted(&expected),
            "{cat}"
        );
    }
    let err = agents::create(
        &store,
        &env,
        NewAgent {
            category: Some("cooking".into()),
            ..new_agent("chef", Role::Custom, Some(FREE))
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cooking") && err.contains("tech, creative, business"),
        "{err}"
    );
}

#[tokio::test]
async fn sync_round_trips_and_add_remove_show_exactly_the_change() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let agent = agents::create(&store, &env, new_agent("eng", Role::Engineer, Some(FREE)))
        .await
        .unwrap();
    let dir = agent.profile().dir;
    // Skills nxr did not write: one in another category, one hand-made under skills/nxr without nxr's mark.
    let foreign = dir.join("skills/local/my-deploy/SKILL.md");
    std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
    std::fs::write(
        &foreign,
        "---\nname: my-deploy\ndescription: Deploy my app\n---\nRun make deploy.\n",
    )
    .unwrap();
    let handmade = dir.join("skills/nxr/my-notes/SKILL.md");
    std::fs::create_dir_all(handmade.parent().unwrap()).unwrap();
    std::fs::write(
        &handmade,
        "---\nname: my-notes\ndescription: Notes\n---\nmine\n",
    )
    .unwrap();

    let first = paperclip::list_skills(&store, &env, "eng").await.unwrap();
    let externals: Vec<(&str, &str, bool, bool)> = first
        .entries
        .iter()
        .filter(|e| !e.managed)
        .map(|e| (e.key.as_str(), e.state.as_str(), e.read_only, e.desired))
        .collect();
    assert_eq!(
        externals,
        vec![
            ("local/my-deploy", "external", true, false),
            ("nxr/my-notes", "external", true, false)
        ]
    );
    // list → sync(same) → list: unchanged, on disk too.
    let disk_before = tree(&dir);
    let synced = paperclip::sync_skills(&store, &env, "eng", &first.desired_skills)
        .await
        .unwrap();
    assert_eq!(synced, first);
    assert_eq!(
        paperclip::list_skills(&store, &env, "eng").await.unwrap(),
        first
    );
    assert_eq!(tree(&dir), disk_before, "a no-op sync writes nothing");

    // Add one, remove one.
    let mut desired = first.desired_skills.clone();
    desired.retain(|s| s != "refactoring");
    desired.push("shell-automation".into());
    let after = paperclip::sync_skills(&store, &env, "eng", &desired)
        .await
        .unwrap();
    assert_eq!(after.desired_skills, desired);
    let keys = |s: &paperclip::AdapterSkillSnapshot| {
        s.entries
            .iter()
            .map(|e| e.key.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let added: Vec<_> = keys(&after).difference(&keys(&first)).cloned().collect();
    let removed: Vec<_> = keys(&first).difference(&keys(&after)).cloned().collect();
    assert_eq!(added, vec!["shell-automation"]);
    assert_eq!(removed, vec!["refactoring"]);
    assert!(
        !dir.join("skills/nxr/refactoring").exists(),
        "removed skill's dir is gone"
    );
    assert!(dir.join("skills/nxr/shell-automation/SKILL.md").is_file());
    assert_eq!(
        agents::get_by_name(&store, &env, "eng")
            .await
            .unwrap()
            .skillset,
        desired
    );
    // The round trip still holds after the change.
    let again = paperclip::sync_skills(&store, &env, "eng", &after.desired_skills)
        .await
        .unwrap();
    assert_eq!(again, after);
    // Paperclip may send back an external key it was shown: it is left alone, with a warning.
    let mut with_external = after.desired_skills.clone();
    with_external.push("local/my-deploy".into());
    let snap = paperclip::sync_skills(&store, &env, "eng", &with_external)
        .await
        .unwrap();
    assert_eq!(snap.desired_skills, after.desired_skills);
    assert_eq!(snap.entries, after.entries);
    assert!(
        snap.warnings
            .iter()
            .any(|w| w.contains("local/my-deploy") && w.contains("read-only")),
        "{:?}",
        snap.warnings
    );
    // Removing everything leaves the user's skills alone.
    paperclip::sync_skills(&store, &env, "eng", &[])
        .await
        .unwrap();
    assert_eq!(nxr_skill_dirs(&dir), vec!["my-notes"]);
    assert!(foreign.is_file() && handmade.is_file());
    // An unknown skill is refused with the valid names, and nothing changes.
    let before = (tree(&dir), db_rows(&store).await);
    let err = paperclip::sync_skills(&store, &env, "eng", &["coding".into(), "nope-skill".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope-skill") && err.contains("known skills"),
        "{err}"
    );
    assert_eq!(before, (tree(&dir), db_rows(&store).await));
}

#[tokio::test]
async fn bad_names_and_bad_inputs_give_clear_errors_and_change_nothing() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    agents::create(&store, &env, new_agent("taken", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    agents::create(&store, &env, new_agent("Hermes", Role::Hermes, Some(FREE)))
        .await
        .unwrap();
    // A profile someone else made.
    std::fs::create_dir_all(env.hermes_home.join("profiles/mine")).unwrap();
    std::fs::write(
        env.hermes_home.join("profiles/mine/config.yaml"),
        "model: x\n",
    )
    .unwrap();
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    let long = "a".repeat(65);
    let cases: Vec<(NewAgent, &str)> = vec![
        (new_agent("", Role::Pm, Some(FREE)), "empty"),
        (new_agent("   ", Role::Pm, Some(FREE)), "empty"),
        (new_agent(&long, Role::Pm, Some(FREE)), "65 characters"),
        (new_agent("a/b", Role::Pm, Some(FREE)), "path separator"),
        (new_agent("a\\b", Role::Pm, Some(FREE)), "path separator"),
        (new_agent("x..y", Role::Pm, Some(FREE)), "`..`"),
        (
            new_agent("bad\nname", Role::Pm, Some(FREE)),
            "control characters",
        ),
        (
            new_agent("bell\u{7}", Role::Pm, Some(FREE)),
            "control characters",
        ),
        (
            new_agent("taken", Role::Engineer, Some(FREE)),
            "already exists",
        ),
        (
            new_agent("TAKEN", Role::Engineer, Some(FREE)),
            "already exists",
        ),
        (
            new_agent("Taken!", Role::Engineer, Some(FREE)),
            "would share the Hermes profile \"taken\"",
        ),
        (
            new_agent("h2", Role::Hermes, Some(FREE)),
            "only one agent can have the hermes role",
        ),
        (
            new_agent("Mine", Role::Engineer, Some(FREE)),
            "nxr did not create it",
        ),
        (
            new_agent("ok", Role::Pm, Some("no/such-model")),
            "not in the catalog",
        ),
        (
            new_agent("ok", Role::Pm, Some("x\ndefault: evil")),
            "invalid model id",
        ),
        (
            NewAgent {
                skills: Some(vec!["coding".into(), "haxx".into()]),
                ..new_agent("ok", Role::Pm, Some(FREE))
            },
            "unknown skill \"haxx\"",
        ),
    ];
    for (new, expect) in cases {
        let name = new.name.clone();
        let err = agents::create(&store, &env, new)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expect), "{name:?}: {err}");
    }
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));
}

/// True when this process can write into a directory whose mode is 0555 (root can).
fn writes_ignore_modes(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::create_dir_all(&probe).unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o555)).unwrap();
    let can = std::fs::write(probe.join("x"), "x").is_ok();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).unwrap();
    can
}

#[tokio::test]
async fn a_read_only_hermes_home_gives_a_clear_error_and_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let homes = Homes::new();
    let scratch = homes.dir.path().join("scratch");
    let (hermes_home, cleanup): (PathBuf, Option<PathBuf>) = if writes_ignore_modes(&scratch) {
        // Running as root, where mode 0555 does not stop writes: put HERMES_HOME under a regular file,
        // so creating any directory in it fails the way a read-only mount does.
        let file = homes.dir.path().join("not-a-dir");
        std::fs::write(&file, "a file").unwrap();
        (file.join("hermes"), None)
    } else {
        let ro = homes.dir.path().join("ro-hermes");
        std::fs::create_dir_all(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        (ro.clone(), Some(ro))
    };
    let env = Env::for_dirs(homes.nxr_home(), &hermes_home);
    let store = Store::open(&env).await.unwrap();
    let watch = homes.dir.path().to_path_buf();
    let before_disk: Vec<PathBuf> = tree(&watch)
        .into_keys()
        .filter(|p| !p.starts_with("nxr"))
        .collect();
    for (name, role) in [("pm", Role::Pm), ("Hermes", Role::Hermes)] {
        let err = agents::create(&store, &env, new_agent(name, role, Some(FREE)))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("HERMES_HOME") && err.contains("cannot"),
            "{name}: {err}"
        );
    }
    assert!(db_rows(&store).await.is_empty());
    let after_disk: Vec<PathBuf> = tree(&watch)
        .into_keys()
        .filter(|p| !p.starts_with("nxr"))
        .collect();
    assert_eq!(before_disk, after_disk);
    if let Some(ro) = cleanup {
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[tokio::test]
async fn a_broken_config_yaml_is_named_with_its_line_and_nothing_changes() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    std::fs::create_dir_all(&env.hermes_home).unwrap();
    let cfg = env.hermes_home.join("config.yaml");
    let broken = "# my settings\nmodel:\n  default: [oops\nterminal:\n  backend: local\n";
    std::fs::write(&cfg, broken).unwrap();
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    let err = agents::create(&store, &env, new_agent("Hermes", Role::Hermes, Some(FREE)))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&cfg.display().to_string()) && err.contains("line 4"),
        "{err}"
    );
    assert!(err.contains("nxr changed nothing"), "{err}");
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));

    // An agent whose config breaks later: set_model refuses and keeps the DB as it was.
    let pm = agents::create(&store, &env, new_agent("pm", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    let pm_cfg = pm.profile().config_path();
    std::fs::write(&pm_cfg, "model: {default: x\n").unwrap();
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    let err = agents::set_model(&store, &env, "pm", PAID, "x")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&pm_cfg.display().to_string()) && err.contains("line"),
        "{err}"
    );
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));
}

#[tokio::test]
async fn delete_removes_the_profile_and_the_row() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let pm = agents::create(&store, &env, new_agent("pm", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    let h = agents::create(&store, &env, new_agent("Hermes", Role::Hermes, Some(FREE)))
        .await
        .unwrap();
    std::fs::write(env.hermes_home.join("skills/keep.txt"), "user file").unwrap();
    agents::delete(&store, &env, "pm").await.unwrap();
    assert!(!pm.profile().dir.exists());
    agents::delete(&store, &env, &h.id.to_string())
        .await
        .unwrap();
    assert!(
        env.hermes_home.join("config.yaml").is_file(),
        "the root profile stays"
    );
    assert!(env.hermes_home.join("skills/keep.txt").is_file());
    assert!(nxr_skill_dirs(&env.hermes_home).is_empty());
    assert!(agents::list(&store, &env).await.unwrap().is_empty());
    assert!(matches!(
        agents::delete(&store, &env, "pm").await,
        Err(AgentError::NotFound(_))
    ));
}

// ------------------------------------------------------------------------------------------------------
// CLI
// ------------------------------------------------------------------------------------------------------

fn run(homes: &Homes, args: &[&str]) -> (i32, String, String) {
    let out = homes.nxr().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_create_list_and_skills() {
    let homes = Homes::new();
    let (code, out, err) = run(
        &homes,
        &[
            "agents", "create", "--role", "pm", "--name", "Plan Bot", "--model", FREE,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let profile = homes.hermes_home().join("profiles/plan-bot");
    assert_eq!(out.lines().count(), 1, "one summary line: {out}");
    for part in [
        "Plan Bot",
        "pm",
        FREE,
        "8 skills",
        "plan-bot",
        &profile.display().to_string(),
    ] {
        assert!(out.contains(part), "{part:?} missing from {out}");
    }
    let (code, out, err) = run(
        &homes,
        &[
            "agents",
            "create",
            "--role",
            "custom",
            "--name",
            "Writer",
            "--category",
            "creative",
            "--free",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["skillset"].as_array().unwrap().len(),
        skills::category("creative").unwrap().skills.len()
    );
    assert_eq!(v["model_auto_assigned"], true);

    let (code, out, _) = run(&homes, &["agents", "list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Plan Bot", "Writer"]);
    assert_eq!(v[0]["hermes_profile"], "plan-bot");
    assert_eq!(v[0]["hermes_profile_path"], profile.display().to_string());
    assert_eq!(v[0]["model"], FREE);
    let (code, out, _) = run(&homes, &["agents", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("PROFILE") && out.contains("plan-bot") && out.contains("writer"),
        "{out}"
    );

    let (code, out, err) = run(
        &homes,
        &[
            "agents",
            "skills",
            "Plan Bot",
            "--json",
            "--sync",
            "planning,coding",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["desiredSkills"],
        serde_json::json!(["planning", "coding"])
    );
    assert_eq!(nxr_skill_dirs(&profile), ["coding", "planning"]);
    let (_, out2, _) = run(&homes, &["agents", "skills", "Plan Bot", "--json"]);
    assert_eq!(out, out2, "list after sync shows the synced snapshot");

    // Errors: stderr, non-zero, nothing changed.
    let before = tree(&homes.hermes_home());
    for (args, expect) in [
        (
            vec![
                "agents", "create", "--role", "wizard", "--name", "x", "--model", FREE,
            ],
            "unknown role",
        ),
        (
            vec![
                "agents", "create", "--role", "pm", "--name", "a/b", "--model", FREE,
            ],
            "path separator",
        ),
        (
            vec![
                "agents", "create", "--role", "pm", "--name", "Plan Bot", "--model", FREE,
            ],
            "already exists",
        ),
        (
            vec![
                "agents",
                "create",
                "--role",
                "pm",
                "--name",
                "z",
                "--model",
                "nope/nope",
            ],
            "not in the catalog",
        ),
        (vec!["agents", "skills", "ghost"], "no agent named"),
        (
            vec!["agents", "skills", "Plan Bot", "--sync", "planning,bogus"],
            "unknown skill",
        ),
    ] {
        let (code, out, err) = run(&homes, &args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
    let (code, _, err) = run(
        &homes,
        &[
            "agents", "create", "--role", "pm", "--name", "q", "--model", FREE, "--free",
        ],
    );
    assert_eq!(code, 2, "--model and --free conflict: {err}");
    assert_eq!(before, tree(&homes.hermes_home()));
}

// ------------------------------------------------------------------------------------------------------
// HTTP
// ------------------------------------------------------------------------------------------------------

#[test]
fn http_agents_and_skill_snapshot_sync() {
    use std::sync::Arc;
    let homes = Homes::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = homes.env();
    let store = Arc::new(rt.block_on(Store::open(&env)).unwrap());
    let pm = rt
        .block_on(agents::create(
            &store,
            &env,
            new_agent("pm", Role::Pm, Some(FREE)),
        ))
        .unwrap();
    let server = nxr::web::server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<&str>| {
        rt.block_on(async {
            let mut rb = client
                .request(method, format!("{}{path}", server.base_url()))
                .bearer_auth(&server.token);
            if let Some(b) = body {
                rb = rb
                    .header("Content-Type", "application/json")
                    .body(b.to_string());
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
            (status, ct, v)
        })
    };
    use reqwest::Method;
    let (s, ct, v) = call(Method::GET, "/api/agents", None);
    assert_eq!((s, ct.as_str()), (200, "application/json"));
    assert_eq!(v[0]["name"], "pm");
    assert_eq!(v[0]["hermes_profile"], "pm");

    let (s, _, snap) = call(Method::GET, &format!("/api/agents/{}/skills", pm.id), None);
    assert_eq!(s, 200);
    assert_eq!(snap["adapterType"], "hermes_local");
    assert_eq!(snap["mode"], "persistent");
    assert_eq!(snap["desiredSkills"].as_array().unwrap().len(), 8);
    let e = &snap["entries"][0];
    for key in [
        "key",
        "runtimeName",
        "desired",
        "managed",
        "state",
        "origin",
        "sourcePath",
    ] {
        assert!(e.get(key).is_some(), "entry lacks {key}: {e}");
    }
    // The same snapshot as the CLI/domain.
    let domain = rt
        .block_on(paperclip::list_skills(&store, &env, "pm"))
        .unwrap();
    assert_eq!(snap, serde_json::to_value(&domain).unwrap());

    // Round trip over HTTP.
    let body = serde_json::json!({ "desiredSkills": snap["desiredSkills"] }).to_string();
    let (s, _, same) = call(
        Method::POST,
        &format!("/api/agents/{}/skills/sync", pm.id),
        Some(&body),
    );
    assert_eq!(s, 200);
    assert_eq!(same, snap);
    let (s, _, changed) = call(
        Method::POST,
        "/api/agents/pm/skills/sync",
        Some(r#"{"desiredSkills": ["planning", "web-search"]}"#),
    );
    assert_eq!(s, 200);
    assert_eq!(
        changed["desiredSkills"],
        serde_json::json!(["planning", "web-search"])
    );
    assert_eq!(
        nxr_skill_dirs(&pm.profile().dir),
        ["planning", "web-search"]
    );

    // Errors are JSON with the right status, and change nothing.
    let before = (tree(&env.hermes_home), rt.block_on(db_rows(&store)));
    let sync_path = format!("/api/agents/{}/skills/sync", pm.id);
    for (method, path, body, status, expect) in [
        (
            Method::POST,
            sync_path.as_str(),
            Some("{not json"),
            400,
            "desiredSkills",
        ),
        (
            Method::POST,
            sync_path.as_str(),
            Some(r#"{"desired": []}"#),
            400,
            "desiredSkills",
        ),
        (
            Method::POST,
            sync_path.as_str(),
            Some(r#"{"desiredSkills": ["zzz"]}"#),
            400,
            "unknown skill",
        ),
        (Method::GET, "/api/agents/999/skills", None, 404, "no agent"),
        (
            Method::POST,
            "/api/agents/ghost/skills/sync",
            Some(r#"{"desiredSkills": []}"#),
            404,
            "no agent",
        ),
        (Method::GET, sync_path.as_str(), None, 405, "use POST"),
        (Method::DELETE, "/api/agents", None, 405, "use GET"),
    ] {
        let (s, ct, v) = call(method.clone(), path, body);
        assert_eq!(s, status, "{method} {path}: {v}");
        assert_eq!(ct, "application/json");
        assert!(
            v["error"].as_str().unwrap().contains(expect),
            "{method} {path}: {v}"
        );
    }
    assert_eq!(
        before,
        (tree(&env.hermes_home), rt.block_on(db_rows(&store)))
    );
    drop(server);
}

#[tokio::test]
async fn a_failing_database_write_rolls_the_disk_back() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let pm = agents::create(&store, &env, new_agent("pm", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    // A root profile the user already has: its config and SOUL.md must come back byte for byte.
    std::fs::write(
        env.hermes_home.join("config.yaml"),
        "# mine\ndisplay:\n  skin: mono\n",
    )
    .unwrap();
    std::fs::write(env.hermes_home.join("SOUL.md"), "my soul\n").unwrap();
    // Make every agents write fail inside the database.
    for sql in [
        "CREATE TRIGGER no_insert BEFORE INSERT ON agents BEGIN SELECT RAISE(ABORT, 'disk full'); END",
        "CREATE TRIGGER no_update BEFORE UPDATE ON agents BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    ] {
        store.conn().execute(sql, ()).await.unwrap();
    }
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    for (name, role) in [("eng", Role::Engineer), ("Hermes", Role::Hermes)] {
        let err = agents::create(&store, &env, new_agent(name, role, Some(FREE)))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("disk full"), "{err}");
        assert_eq!(
            before,
            (tree(&env.hermes_home), db_rows(&store).await),
            "{name}"
        );
    }
    let err = agents::set_skills(&store, &env, "pm", &["coding".into(), "planning".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("disk full"), "{err}");
    let err = agents::set_model(&store, &env, "pm", PAID, "x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("disk full"), "{err}");
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));
    assert_eq!(
        nxr_skill_dirs(&pm.profile().dir),
        sorted(&skills::PM_SKILLS)
    );
}

#[tokio::test]
async fn with_no_free_model_in_the_catalog_the_agent_runs_on_a_local_qwen_through_ollama() {
    let homes = Homes::new();
    let ollama = common::FakeServer::start();
    ollama.always(
        "/api/tags",
        common::Reply::json(
            200,
            r#"{"models":[{"name":"llama3:8b"},{"name":"qwen2.5:7b"}]}"#,
        ),
    );
    let mut env = homes.env();
    env.ollama_url = ollama.base.clone();
    let store = Store::open(&env).await.unwrap();
    // A catalog with one paid model only: no free model, no openrouter/free router.
    let parsed = nxr::domain::catalog::parse_catalog(
        r#"{"data":[{"id":"acme/big-paid","name":"Big","created":1767225600,"context_length":200000,
            "architecture":{"input_modalities":["text"],"output_modalities":["text"]},
            "pricing":{"prompt":"0.000003","completion":"0.000015"},
            "supported_parameters":["tools","tool_choice"]}]}"#,
    )
    .unwrap();
    nxr::domain::catalog::save(&store, &parsed, "2026-05-01T00:00:00Z", "test")
        .await
        .unwrap();
    let agent = agents::create(&store, &env, new_agent("pm", Role::Pm, None))
        .await
        .unwrap();
    assert_eq!(
        (agent.model.as_str(), agent.provider.as_str()),
        ("qwen2.5:7b", "ollama")
    );
    let cfg = agent.profile().config_path();
    let get = |k: &str| hermes::get_config(&cfg, k).unwrap();
    assert_eq!(get("model.default").as_deref(), Some("qwen2.5:7b"));
    assert_eq!(get("model.provider").as_deref(), Some("custom"));
    assert_eq!(get("model.base_url"), Some(format!("{}/v1", ollama.base)));
    assert_eq!(get("auxiliary.free_only").as_deref(), Some("true"));
    assert_eq!(ollama.hits("/api/tags"), 1);
    // Moving it to the paid catalog model drops the local endpoint and free_only.
    agents::set_model(&store, &env, "pm", "acme/big-paid", "key added")
        .await
        .unwrap();
    assert_eq!(get("model.provider").as_deref(), Some("openrouter"));
    assert_eq!(get("model.base_url"), None);
    assert_eq!(get("auxiliary.free_only"), None);
}

// ------------------------------------------------------------------------------------------------------
// Transactions: a real libSQL server, and concurrent callers on one store
// ------------------------------------------------------------------------------------------------------

/// `agent_model_history` rows of one agent: (from_model, to_model).
async fn history(store: &Store, agent_id: i64) -> Vec<(Option<String>, String)> {
    let mut rows = store
        .conn()
        .query(
            "SELECT from_model, to_model FROM agent_model_history WHERE agent_id = ?1 ORDER BY id",
            [agent_id],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().await.unwrap() {
        out.push((r.get(0).unwrap(), r.get(1).unwrap()));
    }
    out
}

async fn count(store: &Store, sql: &str) -> i64 {
    let mut rows = store.conn().query(sql, ()).await.unwrap();
    rows.next().await.unwrap().unwrap().get(0).unwrap()
}

/// Create, set_model, set_skills and delete against a real sqld, ten times in a row: every write commits
/// whole and the very next statement sees it (no SQLITE_INTERRUPT or late ROLLBACK from a previous
/// transaction racing it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_writes_on_a_real_libsql_server_commit_whole_every_time() {
    let server = common::Sqld::start();
    let env = server.env();
    let store = Store::open(&env).await.unwrap();
    assert!(store.is_remote());
    store
        .conn()
        .execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON agent_model_history WHEN NEW.reason = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'history is read-only'); END",
            (),
        )
        .await
        .unwrap();
    for i in 0..10 {
        let name = format!("pm{i}");
        let created = agents::create(&store, &env, new_agent(&name, Role::Pm, Some(FREE)))
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: create: {e}"));
        assert_eq!(created.model, FREE);
        assert_eq!(history(&store, created.id).await, vec![(None, FREE.into())]);

        let moved = agents::set_model(&store, &env, &name, PAID, "upgrade")
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: set_model: {e}"));
        assert_eq!(moved.model, PAID);
        assert_eq!(
            history(&store, created.id).await,
            vec![(None, FREE.into()), (Some(FREE.into()), PAID.into())],
            "iteration {i}"
        );
        assert_eq!(
            hermes::get_config(&created.profile().config_path(), "model.default")
                .unwrap()
                .as_deref(),
            Some(PAID)
        );

        // A write that fails half-way (the history insert after the UPDATE) rolls the UPDATE back, and
        // the next statements on the shared connection are unaffected by that rollback.
        let err = agents::set_model(&store, &env, &name, FREE, "refused")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("history is read-only"), "iteration {i}: {err}");
        assert_eq!(
            agents::get_by_name(&store, &env, &name)
                .await
                .unwrap()
                .model,
            PAID
        );
        assert_eq!(history(&store, created.id).await.len(), 2, "iteration {i}");

        let wanted = vec!["coding".to_string(), "planning".to_string()];
        let skilled = agents::set_skills(&store, &env, &name, &wanted)
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: set_skills: {e}"));
        assert_eq!(skilled.skillset, wanted);
        assert_eq!(nxr_skill_dirs(&created.profile().dir), wanted);

        agents::delete(&store, &env, &name)
            .await
            .unwrap_or_else(|e| panic!("iteration {i}: delete: {e}"));
        assert!(!created.profile().dir.exists(), "iteration {i}");
        assert!(agents::list(&store, &env).await.unwrap().is_empty());
        assert_eq!(
            count(&store, "SELECT count(*) FROM agent_model_history").await,
            0,
            "iteration {i}: the history goes with the agent"
        );
    }
    // A second connection to the server sees the same (empty) state: nothing was left uncommitted.
    let other = Store::open(&env).await.unwrap();
    assert_eq!(count(&other, "SELECT count(*) FROM agents").await, 0);
}

/// Eight callers creating different agents on ONE shared store at once (like the web server's threads and
/// the TUI's tasks): all succeed, each agent's history row points at its own id, and a ninth caller whose
/// database write fails undoes only its own disk work (not `profiles/`, which it created first).
// A local database waiting for its lock blocks its worker thread: one worker per caller, plus spare.
#[tokio::test(flavor = "multi_thread", worker_threads = 12)]
async fn eight_concurrent_creates_on_one_store_all_land_whole() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    store
        .conn()
        .execute(
            "CREATE TRIGGER doomed BEFORE INSERT ON agents WHEN NEW.name = 'doomed' \
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
            (),
        )
        .await
        .unwrap();
    // Nine creates at once on one shared store; nxr serialises them (the agents lock), and each
    // one's transaction runs on a connection of its own.
    let (env, store) = (std::sync::Arc::new(env), std::sync::Arc::new(store));
    let spawn_create = |name: String, model: &'static str| {
        let (env, store) = (env.clone(), store.clone());
        tokio::spawn(async move {
            agents::create(&store, &env, new_agent(&name, Role::Engineer, Some(model))).await
        })
    };
    let profile_dir = |name: &str| {
        hermes::profile_for(&env.hermes_home, Role::Engineer, name)
            .unwrap()
            .dir
    };
    let doomed = spawn_create("doomed".into(), FREE);
    let mut tasks = Vec::new();
    for i in 0..8 {
        tasks.push(spawn_create(
            format!("eng{i}"),
            if i % 2 == 0 { FREE } else { PAID },
        ));
    }
    let mut created = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let agent = t
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("eng{i} failed: {e}"));
        assert_eq!(agent.name, format!("eng{i}"));
        created.push(agent);
    }
    let err = doomed.await.unwrap().unwrap_err().to_string();
    assert!(err.contains("refused for the test"), "{err}");
    assert!(
        !profile_dir("doomed").exists(),
        "doomed's own profile is undone"
    );
    let listed = agents::list(&store, &env).await.unwrap();
    assert_eq!(listed.len(), 8);
    assert_eq!(
        sorted(&listed.iter().map(|a| a.name.clone()).collect::<Vec<_>>()),
        sorted(&(0..8).map(|i| format!("eng{i}")).collect::<Vec<_>>())
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM agent_model_history").await,
        8
    );
    for a in &created {
        assert_eq!(
            history(&store, a.id).await,
            vec![(None, a.model.clone())],
            "{}: its own history row",
            a.name
        );
        assert!(a.profile().config_path().is_file(), "{}", a.name);
        assert_eq!(
            hermes::get_config(&a.profile().config_path(), "model.default")
                .unwrap()
                .as_deref(),
            Some(a.model.as_str())
        );
    }
    let mut profiles: Vec<String> = std::fs::read_dir(env.hermes_home.join("profiles"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    profiles.sort();
    assert_eq!(
        profiles,
        sorted(
            &created
                .iter()
                .map(|a| a.hermes_profile.clone())
                .collect::<Vec<_>>()
        ),
        "exactly 8 profile dirs, no temp dirs left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_leave_one_agent_and_tell_the_others_it_exists() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    // Three creates of one name at once: exactly one lands, the others are told it exists.
    let (env, store) = (std::sync::Arc::new(env), std::sync::Arc::new(store));
    let spawn_create = || {
        let (env, store) = (env.clone(), store.clone());
        tokio::spawn(async move {
            agents::create(&store, &env, new_agent("Same", Role::Pm, Some(FREE))).await
        })
    };
    let tasks: Vec<_> = (0..3).map(|_| spawn_create()).collect();
    let mut created = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => created.push(a),
            Err(e) => refused.push(e),
        }
    }
    assert_eq!(created.len(), 1, "{refused:?}");
    assert_eq!(refused.len(), 2);
    for err in &refused {
        assert!(matches!(err, AgentError::Duplicate(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("an agent named \"Same\" already exists (or is being created right now)"),
            "{text}"
        );
        assert!(
            !text.contains("writable") && !text.contains("did not create it"),
            "{text}"
        );
    }
    let agent = created.remove(0);
    let listed = agents::list(&store, &env).await.unwrap();
    assert_eq!(listed, vec![agent.clone()]);
    assert_eq!(agent.hermes_profile, "same");
    let entries: Vec<String> = std::fs::read_dir(env.hermes_home.join("profiles"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["same".to_string()], "no temp dirs left");
}

#[test]
fn parallel_cli_creates_of_one_name_report_a_duplicate_not_a_permissions_problem() {
    let homes = Homes::new();
    let (code, _, err) = run(&homes, &["agents", "list"]);
    assert_eq!(code, 0, "{err}");
    let children: Vec<std::process::Child> = (0..3)
        .map(|_| {
            homes
                .nxr()
                .args(["agents", "create", "--role", "pm", "--name", "Same"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<std::process::Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "exactly one create wins");
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("already exists (or is being created right now)"),
            "{err}"
        );
        assert!(
            !err.contains("writable") && !err.contains("os error"),
            "{err}"
        );
    }
    let (code, out, err) = run(&homes, &["agents", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{out}");
}

#[tokio::test]
async fn a_chosen_model_that_fails_the_role_is_refused_unless_forced_and_gets_its_score() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let before = (tree(&env.hermes_home), db_rows(&store).await);
    let small = "google/gemma-3-4b-it:free";
    let err = agents::create(&store, &env, new_agent("eng", Role::Engineer, Some(small)))
        .await
        .unwrap_err();
    // The refusal is typed: the failed requirements as values, for each surface to word its own way
    // past them (the CLI's `--force`, the TUI's `c` key).
    let AgentError::ModelFailsRole {
        model,
        role,
        exclusions,
    } = &err
    else {
        panic!("not a typed refusal: {err:?}")
    };
    assert_eq!((model.as_str(), *role), (small, Role::Engineer));
    assert!(exclusions.contains(&Exclusion::MissingTools {
        role: Role::Engineer
    }));
    assert!(exclusions.iter().any(|x| matches!(
        x,
        Exclusion::ContextBelow {
            required: 64_000,
            ..
        }
    )));
    let err = err.to_string();
    for part in ["fails engineer", "no tool support", "context 32", "< 64"] {
        assert!(err.contains(part), "{part:?} missing from {err}");
    }
    assert!(
        !err.contains("--force") && !err.contains("`nxr "),
        "no surface's advice in the domain's words: {err}"
    );
    let err = agents::create(
        &store,
        &env,
        new_agent("eng", Role::Engineer, Some("openrouter/auto")),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("fails engineer") && err.contains("router"),
        "{err}"
    );
    assert_eq!(before, (tree(&env.hermes_home), db_rows(&store).await));

    // --force takes it anyway, on the user's word.
    let (forced, _) = agents::create_with(
        &store,
        &env,
        new_agent("eng", Role::Engineer, Some(small)),
        agents::CreateOptions {
            force: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(forced.model, small);
    assert!(!forced.model_auto_assigned);

    // The score is the model's score for the role, there from creation on.
    let inputs = nxr::domain::scoring::rescore::inputs(&store, chrono::Utc::now())
        .await
        .unwrap();
    let expect = |id: &str, role: Role| {
        let m = inputs.models.iter().find(|m| m.id == id).unwrap();
        i64::from(nxr::domain::scoring::score(m, role, &inputs.health, &inputs.cfg).total)
    };
    let (pm, warnings) = agents::create_with(
        &store,
        &env,
        new_agent("pm", Role::Pm, Some(FREE)),
        agents::CreateOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(pm.model_score, Some(expect(FREE, Role::Pm)));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        agents::get_by_name(&store, &env, "pm")
            .await
            .unwrap()
            .model_score,
        pm.model_score
    );

    // A paid model without an OpenRouter key: created, with a warning that names the fix.
    let (paid, warnings) = agents::create_with(
        &store,
        &env,
        new_agent("paid", Role::Engineer, Some(PAID)),
        agents::CreateOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(paid.model_score, Some(expect(PAID, Role::Engineer)));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for part in [
        "paid",
        "OPENROUTER_API_KEY",
        "nxr config set openrouter-key",
    ] {
        assert!(
            warnings[0].contains(part),
            "{part:?} missing from {warnings:?}"
        );
    }
    nxr::domain::store::secrets::set_openrouter_key(&env, &format!("sk-or-v1-{}", "ab".repeat(32)))
        .unwrap();
    let (_, warnings) = agents::create_with(
        &store,
        &env,
        new_agent("paid2", Role::Engineer, Some(PAID)),
        agents::CreateOptions::default(),
    )
    .await
    .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn cli_model_checks_empty_sync_none_and_oversized_input() {
    let homes = Homes::new();
    let small = "google/gemma-3-4b-it:free";
    let (code, out, err) = run(
        &homes,
        &[
            "agents", "create", "--role", "engineer", "--name", "E", "--model", small,
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("fails engineer") && err.contains("--force"),
        "{err}"
    );
    let (code, _, err) = run(
        &homes,
        &[
            "agents", "create", "--role", "engineer", "--name", "E", "--model", small, "--force",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        &homes,
        &[
            "agents", "create", "--role", "engineer", "--name", "P", "--model", PAID,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning:") && err.contains("OPENROUTER_API_KEY"),
        "{err}"
    );

    // An empty --sync (an unset shell variable) changes nothing; `none` removes every nxr skill.
    let skills_of = |name: &str| {
        let (code, out, err) = run(&homes, &["agents", "skills", name, "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["desiredSkills"].as_array().unwrap().len()
    };
    assert_eq!(skills_of("P"), 8);
    for bad in ["", " ", ",", "none,coding"] {
        let (code, _, err) = run(&homes, &["agents", "skills", "P", "--sync", bad]);
        assert_ne!(code, 0, "{bad:?}");
        assert!(err.contains("--sync none"), "{bad:?}: {err}");
        assert_eq!(skills_of("P"), 8, "{bad:?} changed nothing");
    }
    let (code, _, err) = run(&homes, &["agents", "skills", "P", "--sync", "none"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(skills_of("P"), 0);
    assert!(
        nxr_skill_dirs(&homes.hermes_home().join("profiles/p")).is_empty(),
        "the skill dirs are gone"
    );

    // Oversized input is echoed cut short.
    let huge = "a".repeat(10_000);
    for args in [
        vec!["agents", "create", "--role", "pm", "--name", huge.as_str()],
        vec!["agents", "skills", huge.as_str()],
    ] {
        let (code, _, err) = run(&homes, &args);
        assert_ne!(code, 0);
        assert!(err.len() < 500, "{} bytes of error", err.len());
        assert!(err.contains(&format!("{}…", "a".repeat(60))), "{err}");
    }
}

#[tokio::test]
async fn non_ascii_names_keep_their_letters_in_the_profile_name() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let a = agents::create(&store, &env, new_agent("Ünï", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    assert_eq!(a.name, "Ünï");
    assert_eq!(a.hermes_profile, "uni");
    assert!(env.hermes_home.join("profiles/uni/config.yaml").is_file());
    let b = agents::create(&store, &env, new_agent("默认", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    assert_eq!(b.name, "默认");
    assert!(
        b.hermes_profile
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
            && b.hermes_profile.len() > 1,
        "{}",
        b.hermes_profile
    );
    assert!(b.profile().config_path().is_file());
    let err = agents::create(&store, &env, new_agent("…", Role::Pm, Some(FREE)))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs at least one ASCII letter or digit"),
        "{err}"
    );
}

#[tokio::test]
async fn an_agent_from_an_older_nxr_without_a_profile_name_never_touches_other_profiles() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    let kept = agents::create(&store, &env, new_agent("Keeper", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    // An older nxr accepted any name; this one has no ASCII letter or digit to make a profile from.
    store
        .conn()
        .execute(
            "INSERT INTO agents (name, model, provider, status, created_at, updated_at, role) \
             VALUES ('!!!', ?1, 'openrouter', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'engineer')",
            libsql::params![FREE],
        )
        .await
        .unwrap();
    let old = agents::get_by_name(&store, &env, "!!!").await.unwrap();
    assert_eq!(old.hermes_profile, "");
    let err = agents::set_skills(&store, &env, "!!!", &["coding".to_string()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no usable Hermes profile name"), "{err}");
    let err = agents::set_model(&store, &env, "!!!", FREE, "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no usable Hermes profile name"), "{err}");
    agents::delete(&store, &env, "!!!").await.unwrap();
    assert!(
        kept.profile().config_path().is_file(),
        "the other profile is untouched"
    );
    let left: Vec<String> = agents::list(&store, &env)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(left, vec!["Keeper".to_string()]);
}

#[tokio::test]
async fn reverting_to_a_local_ollama_model_goes_back_to_ollama() {
    let homes = Homes::new();
    let (env, store) = open(&homes).await;
    agents::create(&store, &env, new_agent("Local", Role::Pm, Some(FREE)))
        .await
        .unwrap();
    let local = agents::ModelChoice {
        id: "qwen3:8b".into(),
        provider: "ollama".into(),
        is_free: true,
        score: None,
        notes: Vec::new(),
        fallbacks: None,
    };
    agents::set_model_choice(&store, &env, "Local", &local, "fallback", true)
        .await
        .unwrap();
    agents::set_model(&store, &env, "Local", FREE, "upgrade")
        .await
        .unwrap();
    let back = nxr::domain::upgrade::recommend::revert(&store, &env, "Local")
        .await
        .unwrap();
    assert_eq!(back.model, "qwen3:8b");
    assert_eq!(back.provider, "ollama");
    let config = back.profile().config_path();
    assert_eq!(
        hermes::get_config(&config, "model.provider")
            .unwrap()
            .as_deref(),
        Some("custom")
    );
    assert_eq!(
        hermes::get_config(&config, "model.base_url")
            .unwrap()
            .as_deref(),
        Some(format!("{}/v1", env.ollama_url).as_str())
    );
}
