//! The instance's tables and how they come to exist: numbered SQL migrations, embedded in the
//! binary and applied at start-up.

use anyhow::{Context, Result, anyhow, ensure};
use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, SqlSafeStr};

// ANCHOR: tables
/// The tables of one service instance.
///
/// In production each service has a database of its own and the tables are just `orders` and
/// `outbox`. The workbook's MariaDB has one database (`mydb`) for everybody, so each instance
/// prefixes its tables instead: instance `shop` owns `shop_orders`, `shop_outbox` and
/// `shop_migrations` (sqlx's record of applied migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub orders: String,
    pub outbox: String,
    pub migrations: String,
}

impl Tables {
    pub fn for_instance(instance: &str) -> Result<Tables> {
        let valid = !instance.is_empty()
            && instance.len() <= 40
            && instance.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        ensure!(
            valid,
            "instance name {instance:?}: use 1-40 of a-z, 0-9 and _ (it prefixes table names)"
        );
        Ok(Tables {
            orders: format!("{instance}_orders"),
            outbox: format!("{instance}_outbox"),
            migrations: format!("{instance}_migrations"),
        })
    }

    /// Replaces `{orders}` and `{outbox}` in a SQL text by this instance's table names.
    pub fn sql(&self, template: &str) -> String {
        template.replace("{orders}", &self.orders).replace("{outbox}", &self.outbox)
    }
}
// ANCHOR_END: tables

// ANCHOR: migrate
/// The migrations in `migrations/`, embedded in the binary at compile time, for this instance's
/// tables.
pub fn migrator(tables: &Tables) -> Migrator {
    let embedded: Migrator = sqlx::migrate!("./migrations");
    let migrations: Vec<Migration> = embedded
        .iter()
        .map(|m| {
            let sql = AssertSqlSafe(tables.sql(m.sql.as_str())).into_sql_str();
            Migration::new(m.version, m.description.clone(), m.migration_type, sql, m.no_tx)
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.dangerous_set_table_name(tables.migrations.clone());
    migrator
}

/// Brings the instance's tables up to the latest migration; returns the versions this call
/// applied.
pub async fn migrate(pool: &MySqlPool, tables: &Tables) -> Result<Vec<(i64, String)>> {
    let migrator = migrator(tables);
    let before = applied_versions(pool, tables).await?;
    migrator.run(pool).await.map_err(|error| match error {
        // sqlx keeps each applied migration's checksum: an applied file was edited since.
        MigrateError::VersionMismatch(version) => anyhow!(
            "migration {version} was applied to {} from a different file than this program's \
             (the file was edited after it ran). A real service never edits an applied migration, \
             it adds a new one. Here, start this instance afresh: DROP TABLE {}, {}, {} (or use \
             another --instance)",
            tables.orders,
            tables.orders,
            tables.outbox,
            tables.migrations
        ),
        other => {
            anyhow::Error::new(other).context(format!("migrating the tables of {}", tables.orders))
        }
    })?;
    Ok(migrator
        .iter()
        .filter(|m| !before.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect())
}
// ANCHOR_END: migrate

async fn applied_versions(pool: &MySqlPool, tables: &Tables) -> Result<Vec<i64>> {
    let exists: Option<(String,)> = sqlx::query_as(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND \
         table_name = ?",
    )
    .bind(&tables.migrations)
    .fetch_optional(pool)
    .await
    .context("looking for the migrations table")?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT version FROM {} WHERE success", tables.migrations);
    let rows: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .context("reading applied migrations")?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

impl Tables {
    /// All three names, e.g. for `workbook_support::cleanup::Cleanup::tables`.
    pub fn all(&self) -> [String; 3] {
        [self.orders.clone(), self.outbox.clone(), self.migrations.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_become_table_prefixes() {
        let tables = Tables::for_instance("shop_a").unwrap();
        assert_eq!(tables.orders, "shop_a_orders");
        assert_eq!(tables.sql("INSERT INTO {outbox}"), "INSERT INTO shop_a_outbox");
        assert!(Tables::for_instance("Robert'); DROP TABLE x").is_err());
    }

    #[test]
    fn every_migration_names_only_placeholder_tables() {
        let tables = Tables::for_instance("t").unwrap();
        for migration in migrator(&tables).iter() {
            assert!(!migration.sql.as_str().contains('{'), "{}", migration.description);
        }
    }
}
