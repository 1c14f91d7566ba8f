//! Chapter 8: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
// Every exercise is dispatched below; the re-export stays for exercises added later.
#[allow(unused_imports)]
pub use solution::*;

use anyhow::{Context, Result};
use sqlx::mysql::MySqlPool;
use workbook_support::mistakes;

/// The reference table's columns and options, for the mistakes to change one thing each.
const COLUMNS: &str = "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, \
                       name VARCHAR(100) NOT NULL, \
                       updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)";
const UTF8MB4: &str = "DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci";

pub async fn create_users_table(pool: &MySqlPool, table: &str) -> Result<()> {
    match mistakes::chosen().as_deref() {
        None => solution::create_users_table(pool, table).await,
        Some("no_charset") => no_charset(pool, table).await,
        Some("utf8_not_utf8mb4") => utf8_not_utf8mb4(pool, table).await,
        Some("alters_database") => alters_database(pool, table).await,
        Some("int_id") => int_id(pool, table).await,
        Some("email_not_unique") => email_not_unique(pool, table).await,
        Some("no_on_update") => no_on_update(pool, table).await,
        Some("second_precision") => second_precision(pool, table).await,
        Some(other) => mistakes::unknown("create_users_table", other),
    }
}

/// Mistake: no character set, like the seed notes' `create database mydb`: the table inherits the
/// database's default, latin1 here, and `김민수` is refused ("Incorrect string value").
async fn no_charset(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, COLUMNS, "").await
}

/// Mistake: `utf8`, which in MariaDB is the 3-byte `utf8mb3`: Korean fits, `🚀` (4 bytes) does not.
async fn utf8_not_utf8mb4(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, COLUMNS, "DEFAULT CHARSET = utf8").await
}

/// Mistake: fixes the database instead of the table (`ALTER DATABASE … CHARACTER SET utf8mb4`): the table
/// works, but a database shared with other services changed under them.
async fn alters_database(pool: &MySqlPool, table: &str) -> Result<()> {
    let alter = "ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
    sqlx::raw_sql(alter).execute(pool).await.context("changing the database's default")?;
    create(pool, table, COLUMNS, "").await
}

/// Mistake: `INT` ids: a signed 32-bit column runs out after 2,147,483,647 rows.
async fn int_id(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, &COLUMNS.replace("id BIGINT", "id INT"), UTF8MB4).await
}

/// Mistake: no unique key on `email`: two accounts with one address get in.
async fn email_not_unique(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, &COLUMNS.replace(" UNIQUE", ""), UTF8MB4).await
}

/// Mistake: `updated_at` has a DEFAULT only, like the chapter's `created_at`: set on INSERT, and never
/// touched again by an UPDATE.
async fn no_on_update(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, &COLUMNS.replace(" ON UPDATE CURRENT_TIMESTAMP(6)", ""), UTF8MB4).await
}

/// Mistake: `DATETIME` without `(6)`: whole seconds, so two changes within one second look simultaneous
/// and "changed since 12:00:00.250000" cannot be asked.
async fn second_precision(pool: &MySqlPool, table: &str) -> Result<()> {
    create(pool, table, &COLUMNS.replace("(6)", ""), UTF8MB4).await
}

async fn create(pool: &MySqlPool, table: &str, columns: &str, options: &str) -> Result<()> {
    let sql = format!("CREATE TABLE {table} ({columns}) {options}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .with_context(|| format!("creating {table}"))?;
    Ok(())
}

pub fn database_url(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    match mistakes::chosen().as_deref() {
        None => solution::database_url(user, password, host, port, database),
        Some("raw_password") => raw_password(user, password, host, port, database),
        Some("partial_encoding") => partial_encoding(user, password, host, port, database),
        Some("plus_for_space") => plus_for_space(user, password, host, port, database),
        Some("no_port") => no_port(user, password, host, port, database),
        Some("jdbc_url") => jdbc_url(user, password, host, port, database),
        Some(other) => mistakes::unknown("database_url", other),
    }
}

/// Mistake: pastes the password in as it is: its `/` ends the URL's authority early, so the parser sees a
/// host and port inside the password (or logs in as the wrong user).
fn raw_password(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    format!("mysql://{user}:{password}@{host}:{port}/{database}")
}

/// Mistake: encodes the separators it thought of (`@ : / # ?` and the space) but not `%`: the `%41` in the
/// password is then read as an escape, and MariaDB receives `A` instead of `%41`.
fn partial_encoding(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    let mut encoded = String::new();
    for c in password.chars() {
        match c {
            '@' | ':' | '/' | '#' | '?' | ' ' => encoded.push_str(&format!("%{:02X}", c as u32)),
            _ => encoded.push(c),
        }
    }
    format!("mysql://{user}:{encoded}@{host}:{port}/{database}")
}

/// Mistake: HTML-form encoding (`application/x-www-form-urlencoded`, what `url::form_urlencoded` does): a
/// space becomes `+`, which a URL's user part keeps as a `+`, so MariaDB receives another password.
fn plus_for_space(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    let mut encoded = String::new();
    for byte in password.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                encoded.push(byte as char)
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("mysql://{user}:{encoded}@{host}:{port}/{database}")
}

/// Mistake: leaves the port out, as in `mysql://user:pw@127.0.0.1/mydb`: the client then uses MySQL's
/// default 3306, where the workbook's MariaDB is not listening.
fn no_port(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    let url = solution::database_url(user, password, host, port, database);
    url.replace(&format!(":{port}/"), "/")
}

/// Mistake: the JDBC URL of a Java service (`jdbc:mariadb://host:port/db?user=…&password=…`, the seed
/// notes' driver): sqlx does not speak JDBC, and reads no host, user or password out of it.
fn jdbc_url(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    let url = solution::database_url(user, password, host, port, database);
    let encoded =
        url.trim_start_matches("mysql://").split('@').next().unwrap_or_default().to_string();
    let (user, password) = encoded.split_once(':').unwrap_or((user, ""));
    format!("jdbc:mariadb://{host}:{port}/{database}?user={user}&password={password}")
}
