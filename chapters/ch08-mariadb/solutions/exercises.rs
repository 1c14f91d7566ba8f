//! Chapter 08 exercises: the reference solutions.

use anyhow::{Context, Result};
use sqlx::mysql::MySqlPool;

// ANCHOR: create_users_table
pub async fn create_users_table(pool: &MySqlPool, table: &str) -> Result<()> {
    // Without DEFAULT CHARSET the table inherits the database's (latin1 on a server started with its
    // built-in defaults): Korean text would then fail with "Incorrect string value".
    let sql = format!(
        "CREATE TABLE {table} (
            id    BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
            email VARCHAR(255) NOT NULL UNIQUE,
            name  VARCHAR(100) NOT NULL
        ) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await.with_context(|| format!("creating {table}"))?;
    Ok(())
}
// ANCHOR_END: create_users_table

// ANCHOR: database_url
pub fn database_url(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    format!("mysql://{}:{}@{host}:{port}/{database}", encode(user), encode(password))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so `@`, `:`, `/`, `#`, `?` and `%`
/// inside a user or password cannot be read as the URL's own separators.
fn encode(part: &str) -> String {
    let mut out = String::new();
    for byte in part.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
// ANCHOR_END: database_url
