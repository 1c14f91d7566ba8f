//! Chapter 08 exercises: the reference solutions.

use anyhow::{Context, Result};
use sqlx::mysql::MySqlPool;

// ANCHOR: create_users_table
pub async fn create_users_table(pool: &MySqlPool, table: &str) -> Result<()> {
    // Without DEFAULT CHARSET the table inherits the database's (latin1 on a server started
    // with its built-in defaults): Korean text would then fail with "Incorrect string value".
    // `utf8` would not do either: in MariaDB it is the 3-byte utf8mb3, which has no room for 🚀.
    let sql = format!(
        "CREATE TABLE {table} (
            id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
            email      VARCHAR(255) NOT NULL UNIQUE,
            name       VARCHAR(100) NOT NULL,
            -- (6): microseconds. DEFAULT fills it on INSERT, ON UPDATE on every UPDATE
            -- that changes the row.
            updated_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                                    ON UPDATE CURRENT_TIMESTAMP(6)
        ) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await
        .with_context(|| format!("creating {table}"))?;
    Ok(())
}
// ANCHOR_END: create_users_table

// ANCHOR: database_url
pub fn database_url(user: &str, password: &str, host: &str, port: u16, database: &str) -> String {
    format!("mysql://{}:{}@{host}:{port}/{database}", encode(user), encode(password))
}

/// Percent-encodes every byte but RFC 3986's unreserved characters, so `@`, `:`, `/`, `#`,
/// `?` inside a user or password cannot be read as the URL's own separators, a `%` cannot start an
/// escape, and a space is `%20` (a `+` would stay a `+`: only HTML forms write a space that way).
fn encode(part: &str) -> String {
    let mut out = String::new();
    for byte in part.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
// ANCHOR_END: database_url
