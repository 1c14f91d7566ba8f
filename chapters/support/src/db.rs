//! MariaDB through sqlx, with timeouts and an "Access denied" that says what to do.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};

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

/// A pool for any `mysql://user:password@host:port/db` URL (used to show what a wrong password
/// does).
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
            "MariaDB refused the login (Access denied): the user or password in DATABASE_URL is \
             wrong. `cargo xtask up` writes the right one to .workbook/env"
                .to_string()
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
            "MariaDB did not answer. Is the environment up? Try `cargo xtask status`".to_string()
        }
        _ => "could not connect to MariaDB".to_string(),
    };
    anyhow::Error::new(error).context(format!("{hint} (connecting to {shown})"))
}

/// Runs `sql` as it is, without bind parameters: DDL, or a statement whose every part the program
/// itself wrote (never text that came from outside: that is what `sqlx::query(…).bind(…)` is for).
pub async fn execute(pool: &MySqlPool, sql: &str) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .with_context(|| format!("running {sql}"))?;
    Ok(())
}

/// The rows a `SELECT` read from `table`, a table that a sink connector creates when its first
/// record arrives: until then MariaDB answers 42S02 (no such table), which means no rows yet.
/// Any other error stays an error.
pub fn rows_once_created<T>(result: Result<Vec<T>, sqlx::Error>, table: &str) -> Result<Vec<T>> {
    match result {
        Ok(rows) => Ok(rows),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42S02") => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {table}")),
    }
}

/// How long [`ddl`] waits for the locks that other sessions hold on a table.
pub const DDL_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Runs the DDL statement `sql` (`ALTER TABLE …`) on a connection of its own, which waits at most
/// [`DDL_LOCK_WAIT`] for the locks other sessions hold on the table. MariaDB's default
/// `lock_wait_timeout` is a year: behind a transaction left open elsewhere, an `ALTER TABLE` would
/// wait that long instead of failing.
pub async fn ddl(env: &Env, sql: &str) -> Result<()> {
    let mut conn = MySqlConnection::connect(&env.database_url)
        .await
        .map_err(|e| explain(e, &env.database_url))?;
    let lock_wait = format!("SET SESSION lock_wait_timeout = {}", DDL_LOCK_WAIT.as_secs());
    sqlx::raw_sql(sqlx::AssertSqlSafe(lock_wait)).execute(&mut conn).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .with_context(|| format!("running {sql}"))?;
    conn.close().await.context("closing the connection")
}

/// A MariaDB address, read once from a `mysql://user:password@host:port/database` URL into the
/// pieces a connector config names one by one. Printing it (`{}` or `{:?}`) hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl Address {
    /// MariaDB as the Kafka Connect worker reaches it (`CONNECT_DATABASE_URL`): the address every
    /// connector config uses, which is not always yours (see [`crate::env`]).
    pub fn for_connect(env: &Env) -> Result<Address> {
        Address::parse(&env.connect_database_url).context("reading CONNECT_DATABASE_URL")
    }

    /// Parses a `mysql://` (or `mariadb://`) URL; user, password and database must be there, the
    /// port defaults to 3306. Percent-escapes in the user and password are decoded.
    pub fn parse(url: &str) -> Result<Address> {
        let parsed =
            reqwest::Url::parse(url).with_context(|| format!("{} is not a URL", redact(url)))?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            bail!("{} is not a mysql:// URL", redact(url));
        }
        let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
        let database = parsed.path().trim_start_matches('/');
        let address = Address {
            host: parsed.host_str().unwrap_or_default().to_string(),
            port: parsed.port().unwrap_or(3306),
            user: decode(parsed.username()),
            password: decode(parsed.password().unwrap_or_default()),
            database: decode(database),
        };
        for (part, value) in
            [("host", &address.host), ("user", &address.user), ("database", &address.database)]
        {
            if value.is_empty() {
                bail!("{} names no {part}", redact(url));
            }
        }
        Ok(address)
    }

    /// The URL a JDBC connector's `connection.url` takes: `jdbc:mariadb://host:port/database`.
    /// (`jdbc:mysql://` would load the MySQL driver and dialect, not MariaDB's.)
    pub fn jdbc_url(&self) -> String {
        format!("jdbc:mariadb://{}:{}/{}", self.host, self.port, self.database)
    }

    /// The address as a `mysql://` URL again, password included: for [`pool_for_url`], not for
    /// printing.
    pub fn url(&self) -> String {
        let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
        format!(
            "mysql://{}:{}@{}:{}/{}",
            encode(&self.user),
            encode(&self.password),
            self.host,
            self.port,
            self.database
        )
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mysql://{}:***@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Address({self})")
    }
}

/// `url` with its password replaced by `***`, safe to print; anything that is not a URL with a
/// password comes back as it is.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else { return url.to_string() };
    if parsed.password().is_none() || parsed.set_password(Some("***")).is_err() {
        return url.to_string();
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("mysql://workbook:s3cret@127.0.0.1:3307/mydb"),
            "mysql://workbook:***@127.0.0.1:3307/mydb"
        );
        assert_eq!(redact("mysql://127.0.0.1/mydb"), "mysql://127.0.0.1/mydb");
        assert_eq!(redact("127.0.0.1:9092"), "127.0.0.1:9092");
        assert_eq!(redact("http://127.0.0.1:8083"), "http://127.0.0.1:8083");
    }

    #[test]
    fn an_address_has_every_piece_a_connector_names() {
        let address = Address::parse("mysql://workbook:p%40ss@workbook-mariadb:3306/mydb").unwrap();
        assert_eq!((address.host.as_str(), address.port), ("workbook-mariadb", 3306));
        assert_eq!((address.user.as_str(), address.password.as_str()), ("workbook", "p@ss"));
        assert_eq!(address.database, "mydb");
        assert_eq!(address.jdbc_url(), "jdbc:mariadb://workbook-mariadb:3306/mydb");
        assert_eq!(Address::parse(&address.url()).unwrap(), address, "url() round-trips");
        assert_eq!(address.to_string(), "mysql://workbook:***@workbook-mariadb:3306/mydb");
        assert!(!format!("{address:?}").contains("p@ss"), "Debug hides the password too");
        assert_eq!(Address::parse("mysql://u:p@h/db").unwrap().port, 3306);
    }

    #[test]
    fn an_address_without_a_database_or_user_is_refused() {
        let err = Address::parse("mysql://u:secret@h:1").unwrap_err().to_string();
        assert!(err.contains("names no database") && !err.contains("secret"), "{err}");
        assert!(
            Address::parse("mysql://h:1/db").unwrap_err().to_string().contains("names no user")
        );
        assert!(
            Address::parse("http://u:p@h:1/db")
                .unwrap_err()
                .to_string()
                .contains("not a mysql:// URL")
        );
    }
}
