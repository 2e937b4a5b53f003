//! Every migration compiled into the binary, in order (the SQL files under migrations/).

/// A migration compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Add new ones at the end; never edit a released one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_baseline",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0001_baseline.sql"
        )),
    },
    Migration {
        version: 2,
        name: "0002_agents_v14",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0002_agents_v14.sql"
        )),
    },
    Migration {
        version: 3,
        name: "0003_model_scores",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0003_model_scores.sql"
        )),
    },
    Migration {
        version: 4,
        name: "0004_onboarding",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0004_onboarding.sql"
        )),
    },
    Migration {
        version: 5,
        name: "0005_catalog_cache",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0005_catalog_cache.sql"
        )),
    },
    Migration {
        version: 6,
        name: "0006_agent_user_models",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0006_agent_user_models.sql"
        )),
    },
    Migration {
        version: 7,
        name: "0007_model_switch_journal",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0007_model_switch_journal.sql"
        )),
    },
    Migration {
        version: 8,
        name: "0008_scanner_budget_queue",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0008_scanner_budget_queue.sql"
        )),
    },
    Migration {
        version: 9,
        name: "0009_model_health",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0009_model_health.sql"
        )),
    },
    Migration {
        version: 11,
        name: "0011_paperclip_links",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0011_paperclip_links.sql"
        )),
    },
    Migration {
        version: 12,
        name: "0012_model_history_auto",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0012_model_history_auto.sql"
        )),
    },
    Migration {
        version: 13,
        name: "0013_relay_usage",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0013_relay_usage.sql"
        )),
    },
    Migration {
        version: 14,
        name: "0014_hosts",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0014_hosts.sql"
        )),
    },
    Migration {
        version: 15,
        name: "0015_agent_slots",
        sql: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/0015_agent_slots.sql"
        )),
    },
];
