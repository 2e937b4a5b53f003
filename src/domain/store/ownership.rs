//! Which databases are nxr's: an empty one, or one with nxr's own migration history (or the tables an
//! early nxr made without recording it). Anything else is refused before nxr writes a byte.

use super::{MIGRATIONS, Result, Store, StoreError};
use libsql::{Builder, params};

impl Store {
    /// The database's own tables (not SQLite's or the server's internal ones).
    pub(super) async fn user_tables(&self) -> Result<Vec<String>> {
        let mut rows = self
            .conn
            .query(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
                 AND name NOT LIKE 'sqlite!_%' ESCAPE '!' AND name NOT LIKE 'libsql!_%' ESCAPE '!' \
                 AND name NOT LIKE '!_%' ESCAPE '!' ORDER BY name",
                (),
            )
            .await?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await? {
            out.push(row.get::<String>(0)?);
        }
        Ok(out)
    }

    /// Refuses a database that belongs to something else: nxr works only on an empty database or one
    /// whose `schema_migrations` history is nxr's own (a newer nxr's versions are allowed here and
    /// refused by [`Store::migrate`] as too new). Reads only.
    pub async fn check_ours(&self) -> Result<()> {
        let tables = self.user_tables().await?;
        let foreign = |tables: &[String]| {
            let mut shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            if tables.len() > 5 {
                shown.push("…");
            }
            StoreError::Foreign {
                location: self.location.clone(),
                tables: format!("the tables {}", shown.join(", ")),
            }
        };
        if tables.is_empty() {
            return Ok(());
        }
        if !tables.iter().any(|t| t == "schema_migrations") {
            return match self.is_unrecorded_baseline(&tables).await? {
                true => Ok(()),
                false => Err(foreign(&tables)),
            };
        }
        let Ok(mut rows) = self
            .conn
            .query("SELECT version, name FROM schema_migrations", ())
            .await
        else {
            return Err(foreign(&tables));
        };
        let mut recorded = 0;
        loop {
            let row = match rows.next().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(_) => return Err(foreign(&tables)),
            };
            let (Ok(version), Ok(name)) = (row.get::<i64>(0), row.get::<String>(1)) else {
                return Err(foreign(&tables));
            };
            recorded += 1;
            if let Some(m) = MIGRATIONS.iter().find(|m| m.version == version)
                && m.name != name
            {
                return Err(foreign(&tables));
            }
        }
        // An empty history is nxr's only when nothing else is there (an older nxr's `db status` on
        // an empty database left just that table).
        if recorded == 0 && tables.len() > 1 {
            let rest: Vec<String> = tables
                .iter()
                .filter(|t| *t != "schema_migrations")
                .cloned()
                .collect();
            if !self.is_unrecorded_baseline(&rest).await? {
                return Err(foreign(&tables));
            }
        }
        Ok(())
    }

    /// True when `tables` are nxr's baseline tables, each with at least the baseline's columns: an
    /// early nxr made them without recording the migration. (A table that only shares a name, such
    /// as another application's `agents(x)`, is not.)
    async fn is_unrecorded_baseline(&self, tables: &[String]) -> Result<bool> {
        let reference = Builder::new_local(":memory:").build().await?;
        let reference = super::Conn::local(reference.connect()?);
        reference.execute_batch(MIGRATIONS[0].sql).await?;
        for table in tables {
            let want = table_columns(&reference, table).await?;
            if want.is_empty() {
                return Ok(false);
            }
            let have = table_columns(&self.conn, table).await?;
            if !want.iter().all(|c| have.contains(c)) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The column names of `table` (empty when there is no such table).
async fn table_columns(conn: &super::Conn, table: &str) -> Result<Vec<String>> {
    let mut rows = conn
        .query("SELECT name FROM pragma_table_info(?1)", params![table])
        .await?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().await? {
        out.push(row.get::<String>(0)?);
    }
    Ok(out)
}
