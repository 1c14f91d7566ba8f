//! Chapter 08 — MariaDB: the database we sync.
//!
//! Who you are to MariaDB (an account is `user@host`), what you may do (grants), why "Access
//! denied" happens, and how a Rust service keeps its schema in step with its code (migrations).

use anyhow::{Context, Result};
use sqlx::Row;
use sqlx::mysql::MySqlPool;

// ANCHOR: whoami
/// `USER()` is who you said you are and where you came from; `CURRENT_USER()` is the account
/// (`user@host` row of `mysql.user`) MariaDB matched you to. Grants belong to the account.
pub async fn whoami(pool: &MySqlPool) -> Result<(String, String, String)> {
    let row = sqlx::query("SELECT VERSION(), USER(), CURRENT_USER()")
        .fetch_one(pool)
        .await
        .context("asking MariaDB who we are")?;
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// `SHOW GRANTS`: what the current account may do (password hashes hidden).
pub async fn grants(pool: &MySqlPool) -> Result<Vec<String>> {
    let rows = sqlx::query("SHOW GRANTS").fetch_all(pool).await.context("SHOW GRANTS")?;
    let mut grants = Vec::new();
    for row in rows {
        let grant: String = row.try_get(0)?;
        grants.push(hide_password_hash(&grant));
    }
    Ok(grants)
}

fn hide_password_hash(grant: &str) -> String {
    match grant.find(" IDENTIFIED BY PASSWORD '") {
        Some(at) => format!("{} IDENTIFIED BY PASSWORD '*…'", &grant[..at]),
        None => grant.to_string(),
    }
}
// ANCHOR_END: whoami

// ANCHOR: migrate
/// Applies the SQL files of `migrations/` that this database has not seen yet, in version order.
/// `sqlx::migrate!` embeds the files in the binary at compile time; the bookkeeping (version,
/// checksum, time) lives in a table of its own, so other chapters' migrations in `mydb`
/// never get mixed up with ours.
pub async fn migrate(pool: &MySqlPool) -> Result<Vec<(i64, String)>> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name("_ch08_migrations");
    migrator.run(pool).await.context("running chapter 08's migrations")?;
    let applied = sqlx::query_as::<_, (i64, String)>(
        "SELECT version, description FROM _ch08_migrations ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    Ok(applied)
}
// ANCHOR_END: migrate

// ANCHOR: upsert
/// Inserts a customer, or updates the name of the one with that email (the unique key decides).
pub async fn upsert_customer(pool: &MySqlPool, email: &str, name: &str) -> Result<()> {
    let upsert = "INSERT INTO ch08_customers (email, name) VALUES (?, ?) \
                  ON DUPLICATE KEY UPDATE name = VALUES(name)";
    sqlx::query(upsert)
        .bind(email)
        .bind(name)
        .execute(pool)
        .await
        .with_context(|| format!("upserting customer {email}"))?;
    Ok(())
}
// ANCHOR_END: upsert

pub async fn customers(pool: &MySqlPool) -> Result<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query_as("SELECT id, email, name, tier FROM ch08_customers ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(rows)
}

// ANCHOR: denied
/// MariaDB's error for a failed attempt: `ERROR 1045 (28000): Access denied …`,
/// as the `mariadb` client prints it.
pub fn mariadb_error(error: &anyhow::Error) -> String {
    for cause in error.chain() {
        if let Some(sqlx::Error::Database(db)) = cause.downcast_ref::<sqlx::Error>() {
            let code = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|e| e.number())
                .unwrap_or(0);
            return format!("ERROR {code} ({}): {}", db.code().unwrap_or_default(), db.message());
        }
    }
    format!("{error:#}")
}

/// Runs one statement and returns MariaDB's refusal, if any.
pub async fn try_statement(pool: &MySqlPool, sql: &str) -> Option<String> {
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await;
    result.err().map(|e| mariadb_error(&anyhow::Error::new(e)))
}
// ANCHOR_END: denied

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_password_hashes() {
        assert_eq!(
            hide_password_hash("GRANT USAGE ON *.* TO `w`@`h` IDENTIFIED BY PASSWORD '*ABC'"),
            "GRANT USAGE ON *.* TO `w`@`h` IDENTIFIED BY PASSWORD '*…'"
        );
    }
}
