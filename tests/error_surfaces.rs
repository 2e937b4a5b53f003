//! Domain errors say what went wrong, never which command, key or page fixes it; each surface adds
//! that in its own words from its own table. Every hinted error kind is rendered on the CLI, the TUI
//! and the web, and one real error goes through each surface end to end.

mod common;

use common::Homes;
use nxr::domain::agents::gateway_control::GatewayError;
use nxr::domain::agents::{AgentError, RevertKind};
use nxr::domain::base::hint::Hint;
use nxr::domain::base::roles::Role;
use nxr::domain::budget::queue::QueueError;
use nxr::domain::catalog::openrouter::OpenRouterError;
use nxr::domain::onboarding::OnboardingError;
use nxr::domain::paperclip::client::PaperclipError;
use nxr::domain::scoring::rescore::ScoringError;
use nxr::domain::setup::errors::hints_of;
use nxr::domain::setup::service::ServiceError;
use nxr::domain::setup::settings::SettingError;
use nxr::domain::store::StoreError;
use nxr::domain::upgrade::UpgradeError;
use nxr::domain::view::model_switch::SwitchError;
use std::error::Error;
use std::mem::discriminant;

/// One error of every kind that carries a hint.
fn samples() -> Vec<Box<dyn Error + Send + Sync>> {
    vec![
        Box::new(AgentError::NotFound("ghost".into())),
        Box::new(AgentError::InvalidModel("a b".into())),
        Box::new(AgentError::NotInCatalog {
            model: "x/y".into(),
            close: vec!["x/z".into()],
        }),
        Box::new(AgentError::NoReachableModel {
            role: Role::Engineer,
            ollama_url: "http://127.0.0.1:11434".into(),
            why: "Ollama is not running".into(),
            local_model: "qwen3:8b".into(),
        }),
        Box::new(AgentError::NothingToRevert {
            agent: "pm".into(),
            kind: RevertKind::UserModel,
        }),
        Box::new(AgentError::NothingToRevert {
            agent: "pm".into(),
            kind: RevertKind::Earlier,
        }),
        Box::new(AgentError::ModelFailsRole {
            model: "a/b".into(),
            role: Role::Engineer,
            exclusions: Vec::new(),
        }),
        Box::new(GatewayError::AlreadyRunning { pid: 42 }),
        Box::new(QueueError::NotQueued(7)),
        Box::new(PaperclipError::NotConnected),
        Box::new(PaperclipError::Unreachable {
            url: "http://127.0.0.1:3100".into(),
            reason: "connection refused".into(),
        }),
        Box::new(ScoringError::UnknownModel {
            given: "x/y".into(),
            suggestions: vec!["x/z".into()],
        }),
        Box::new(SettingError::Invalid {
            name: "scan-interval-hours",
            value: "soon".into(),
            expected: "a number of hours",
            example: "6",
        }),
        Box::new(StoreError::Migration {
            name: "0013_example",
            reason: libsql::Error::ConnectionFailed("disk full".into()),
        }),
        Box::new(SwitchError::NoSuchSlot("nope".into())),
        Box::new(SwitchError::NoSuchModel("x/y".into())),
        Box::new(SwitchError::NoImageInput {
            model: "x/y".into(),
            inputs: "text".into(),
        }),
        Box::new(SwitchError::OwnEndpoint {
            slot: "vision".into(),
            provider: "custom".into(),
            base_url: "http://127.0.0.1:9000".into(),
        }),
        Box::new(OnboardingError::KeyCheck(OpenRouterError::Unavailable {
            reason: "timed out".into(),
        })),
        Box::new(OnboardingError::OutOfOrder {
            step: "agents",
            needs: "catalog",
        }),
        Box::new(OnboardingError::AlreadyDone {
            completed_at: "2026-12-01T00:00:00Z".into(),
        }),
        Box::new(UpgradeError::NoKey),
        Box::new(UpgradeError::EmptyKey),
        Box::new(OpenRouterError::NoKey),
        Box::new(OpenRouterError::Unauthorized {
            status: 401,
            message: "User not found".into(),
        }),
        Box::new(ServiceError::LaunchdNeedsToken),
        Box::new(ServiceError::NotOurs {
            path: "/home/u/.config/systemd/user/nxr.service".into(),
        }),
    ]
}

/// What only a surface may say: nxr's commands and flags, TUI keys and tabs, web pages.
fn surface_words(text: &str) -> Vec<&'static str> {
    const WORDS: &[&str] = &[
        "`nxr ",
        "nxr init",
        " --",
        "`--",
        "Tab ",
        "press ",
        "(key ",
        "/setup",
        "/models",
        "/agents",
        "/budget",
        "/doctor",
        "/hermes",
        "/notifications",
        "/api/",
    ];
    WORDS.iter().copied().filter(|w| text.contains(w)).collect()
}

#[test]
fn domain_messages_name_no_command_key_or_page() {
    for e in samples() {
        let text = e.to_string();
        assert!(
            surface_words(&text).is_empty(),
            "{text:?} names {:?}",
            surface_words(&text)
        );
    }
    // And no `#[error(…)]` text in the domain's source does either.
    let mut files = Vec::new();
    let mut dirs = vec![common::root().join("src/domain")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 50, "the domain's files were not found");
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        for attr in src.split("#[error(").skip(1) {
            let text = attr.split(")]").next().unwrap_or_default();
            assert!(
                surface_words(text).is_empty(),
                "{}: #[error({text})] names {:?}",
                f.display(),
                surface_words(text)
            );
        }
    }
}

#[test]
fn every_hint_kind_is_worded_on_every_surface() {
    let mut kinds = std::collections::HashSet::new();
    for e in samples() {
        let e: &(dyn Error + 'static) = e.as_ref();
        let hints = hints_of(e);
        assert!(!hints.is_empty(), "{e} carries no hint");
        let message = e.to_string();
        let cli = nxr::cli::hints::explain(e);
        let tui = nxr::app::hints::explain(e);
        let web = nxr::web::hints::explain(e);
        // The TUI has no way to force a model, so an error whose only hint is forcing gets none there.
        let tui_has_one = hints.iter().any(|h| nxr::app::hints::say(h).is_some());
        for (text, has_hint) in [(&cli, true), (&tui, tui_has_one), (&web, true)] {
            assert!(text.starts_with(&message), "{text:?}");
            assert_eq!(text.len() > message.len(), has_hint, "{text:?}");
        }
        for h in &hints {
            kinds.insert(discriminant(h));
            let c = nxr::cli::hints::say(h);
            assert!(cli.contains(&c), "{cli:?} lacks {c:?}");
            assert!(
                c.contains("nxr ") || c.contains("--") || c.contains("ollama"),
                "the CLI names no command for {h:?}: {c:?}"
            );
            let w = nxr::web::hints::say(h);
            assert!(web.contains(&w), "{web:?} lacks {w:?}");
            assert!(
                w.contains('/') || w.contains('`') || w.starts_with("tick "),
                "the web names no page or form for {h:?}: {w:?}"
            );
            match nxr::app::hints::say(h) {
                Some(t) => {
                    assert!(tui.contains(&t), "{tui:?} lacks {t:?}");
                    let names_key = t.contains("Tab ")
                        || t.contains("press ")
                        || t.starts_with("q, then")
                        || t.contains(" on Tab ")
                        || t.contains('`');
                    assert!(names_key, "the TUI names no key for {h:?}: {t:?}");
                }
                None => assert_eq!(*h, Hint::ForceModel),
            }
        }
    }
    for h in Hint::examples() {
        assert!(
            kinds.contains(&discriminant(&h)),
            "no sample error carries {h:?}"
        );
    }
}

/// An agent that does not exist, asked for on each surface: the same message, and each surface's own
/// way to see the agents.
#[test]
fn an_unknown_agent_reads_the_same_with_each_surface_hint() {
    let homes = Homes::new();
    let env = homes.env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = std::sync::Arc::new(rt.block_on(nxr::domain::store::Store::open(&env)).unwrap());
    let message = "no agent named \"ghost\"";

    let out = homes
        .nxr()
        .args(["agents", "revert", "ghost"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(message), "{stderr}");
    assert!(
        stderr.contains("`nxr agents list` shows the agents"),
        "{stderr}"
    );

    let outcome = rt.block_on(async {
        let clock = nxr::domain::base::clock::FixedClock(chrono::Utc::now());
        nxr::app::run_effect(
            &store,
            &env,
            &clock,
            nxr::app::Queued {
                id: nxr::app::EffectId(1),
                effect: nxr::app::state::Effect::RevertAgentModel {
                    agent: "ghost".into(),
                },
            },
        )
        .await
    });
    let shown = match outcome {
        nxr::app::Action::Finished {
            outcome: nxr::app::action::Outcome::Failed(text),
            ..
        } => text,
        other => panic!("the revert did not fail: {other:?}"),
    };
    assert!(shown.contains(message), "{shown}");
    assert!(shown.contains("Tab 3 (key 3) lists the agents"), "{shown}");
    assert!(!shown.contains("`nxr agents"), "{shown}");

    let server = nxr::web::server::start(
        env.clone(),
        store.clone(),
        rt.handle().clone(),
        "127.0.0.1",
        0,
        false,
    )
    .unwrap();
    let (status, page) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/agents/ghost/revert", server.base_url()))
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("no agent named &quot;ghost&quot;"), "{page}");
    assert!(
        page.contains("the Agents page (/agents) lists the agents"),
        "{page}"
    );
    assert!(!page.contains("`nxr agents"), "{page}");
}
