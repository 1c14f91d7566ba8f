//! MariaDB through sqlx, with timeouts and an "Access denied" that says what to do.

use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};

use crate::Env;

/// How long to wait for a connection before calling MariaDB unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// MariaDB's error number for a refused login (`ER_ACCESS_DENIED_ERROR`).
pub const ACCESS_DENIED: &str = "1045";

/// A small connection pool to `DATABASE_URL`; the first connection is opened now, so a wrong
/// password or a stopped server fails here with a clear message.
pub async fn pool(env: &Env) -> Result<MySqlPool> {
    pool_for_url(&env.database_url).await
}

/// A pool for any `mysql://user:password@host:port/db` URL (used to show what a wrong password does).
pub async fn pool_for_url(url: &str) -> Result<MySqlPool> {
    let options: MySqlConnectOptions =
        url.parse().with_context(|| format!("DATABASE_URL is not a valid URL: {}", redact(url)))?;
    MySqlPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| explain(e, url))
}

fn explain(error: sqlx::Error, url: &str) -> anyhow::Error {
    let shown = redact(url);
    let hint = match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some(ACCESS_DENIED) => {
            "MariaDB refused the login (Access denied): the user or password in DATABASE_URL is wrong. \
             `cargo xtask up` writes the right one to .workbook/env"
                .to_string()
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
            "MariaDB did not answer. Is the environment up? Try `cargo xtask status`".to_string()
        }
        _ => "could not connect to MariaDB".to_string(),
    };
    anyhow::Error::new(error).context(format!("{hint} (connecting to {shown})"))
}

/// The URL with its password replaced by `***`, safe to print.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("mysql://workbook:s3cret@127.0.0.1:3307/mydb"), "mysql://workbook:***@127.0.0.1:3307/mydb");
        assert_eq!(redact("mysql://127.0.0.1/mydb"), "mysql://127.0.0.1/mydb");
    }
}
