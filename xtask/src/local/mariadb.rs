//! A private MariaDB server: its own data directory under .workbook/, its own ports, binlog in
//! ROW format (what change data capture reads), and three users with their own passwords:
//! `root` (admin, password-protected), `workbook` (the chapters' user, rights on `mydb` only)
//! and `cdc` (the Debezium source connector: read + replication rights, nothing else).
//!
//! Two TCP ports: the main one for your programs (`DATABASE_URL`) and an extra one for the
//! Connect worker alone (`CONNECT_DATABASE_URL`), as the docker backend's Connect reaches MariaDB
//! by another address than you do.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use workbook_support::wait;

use crate::credentials::{self, Credentials};
use crate::description::{self, Address};
use crate::layout::Layout;
use crate::prereqs::MariaDbBinaries;
use crate::{ports, process};

/// Users are created for both ways in: TCP (matched by IP, 127.0.0.1) and the socket (`localhost`).
pub const USER_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

/// `mysql://workbook:…@127.0.0.1:<port>/mydb`
pub fn database_url(credentials: &Credentials, port: u16) -> String {
    description::database_url(&credentials.app, &Address::new(ports::HOST.to_string(), port))
}

fn socket(layout: &Layout) -> PathBuf {
    layout.run_dir().join("mariadb.sock")
}

/// Creates the data directory on first use (`mariadb-install-db`, under a second).
/// Returns true when it is new, so the users still have to be created.
pub fn install_if_new(bin: &MariaDbBinaries, layout: &Layout) -> Result<bool> {
    let data = layout.mariadb_data();
    if data.join("mysql").is_dir() && credentials::exists(layout) {
        return Ok(false);
    }
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    std::fs::create_dir_all(&data)?;
    println!("  creating a private MariaDB data directory in {}", data.display());
    let mut command = Command::new(&bin.install_db);
    // --no-defaults: ignore /etc/mysql/my.cnf, this instance is configured by flags only.
    // normal root authentication: root gets a password (set below) instead of unix-socket login.
    command
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db");
    if is_root() {
        command.arg("--user=root");
    }
    crate::command::output(command).context("initialising the MariaDB data directory")?;
    Ok(true)
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Starts `mariadbd` in the background, listening on `port` (yours) and `connect_port` (Connect's).
pub fn start(bin: &MariaDbBinaries, layout: &Layout, port: u16, connect_port: u16) -> Result<(Child, PathBuf)> {
    std::fs::create_dir_all(layout.run_dir())?;
    remove_stale_socket(&socket(layout))?;
    let log = layout.logs().join("mariadb.log");
    let mut command = Command::new(&bin.server);
    command
        .arg("--no-defaults") // must come first
        .arg(format!("--datadir={}", layout.mariadb_data().display()))
        .arg(format!("--bind-address={}", ports::HOST))
        .arg(format!("--port={port}"))
        // The Connect worker's own way in: connections on it are served like any other.
        .arg(format!("--extra-port={connect_port}"))
        .arg("--extra-max-connections=100")
        .arg(format!("--socket={}", socket(layout).display()))
        .arg(format!("--pid-file={}", layout.run_dir().join("mariadb.pid").display()))
        .arg(format!("--log-error={}", log.display()))
        // Binlog, character set, name resolution: the settings every backend shares.
        .args(description::mariadb_flags());
    if is_root() {
        // mariadbd refuses to run as root unless told to.
        command.arg("--user=root");
    }
    Ok((process::spawn_logged(command, &layout.logs().join("mariadb.out"))?, log))
}

/// A server that was killed (not stopped) leaves its socket file behind, and the next
/// `mariadbd` refuses to start ("Another process is already listening on the socket file").
/// A socket nobody answers on is stale: remove it.
fn remove_stale_socket(socket: &Path) -> Result<()> {
    if socket.exists() && std::os::unix::net::UnixStream::connect(socket).is_err() {
        std::fs::remove_file(socket).with_context(|| format!("removing the stale socket {}", socket.display()))?;
    }
    Ok(())
}

/// Waits until the server accepts root on its socket, then (first start only) secures root
/// and creates the database and users. Returns the credentials.
pub async fn initialise(layout: &Layout, fresh: bool, alive: impl Fn() -> Result<()>) -> Result<Credentials> {
    let socket = socket(layout);
    let (credentials, mut root) = if fresh {
        let credentials = Credentials::generate()?;
        let mut root = connect_root(&socket, "", &alive).await?;
        run_all(&mut root, &setup_statements(&credentials)).await?;
        credentials::save(layout, &credentials)?;
        (credentials, root)
    } else {
        let credentials = credentials::load(layout)?;
        let mut root = connect_root(&socket, &credentials.root, &alive).await?;
        // Data directories made by earlier versions of the workbook get the same settings.
        let database = description::DATABASE;
        run_all(&mut root, &[format!("ALTER DATABASE {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")])
            .await?;
        (credentials, root)
    };
    drop_passwordless_accounts(&mut root).await?;
    root.close().await.context("closing the admin connection")?;
    Ok(credentials)
}

async fn run_all(connection: &mut MySqlConnection, statements: &[String]) -> Result<()> {
    for statement in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.as_str()))
            .execute(&mut *connection)
            .await
            .with_context(|| format!("running `{}`", first_words(statement)))?;
    }
    Ok(())
}

/// `mariadb-install-db` also creates `root@127.0.0.1`, `root@::1` and `root@<hostname>` (and,
/// on some versions, anonymous accounts), all without a password: anyone on this machine could
/// log in as root over TCP. Only `root@localhost` (the socket, password-protected) may stay.
async fn drop_passwordless_accounts(root: &mut MySqlConnection) -> Result<()> {
    let accounts: Vec<(String, String)> =
        sqlx::query_as("SELECT user, host FROM mysql.user WHERE (user = 'root' AND host <> 'localhost') OR user = ''")
            .fetch_all(&mut *root)
            .await
            .context("listing MariaDB accounts")?;
    let drops: Vec<String> =
        accounts.iter().map(|(user, host)| format!("DROP USER IF EXISTS '{user}'@'{host}'")).collect();
    run_all(root, &drops).await
}

async fn connect_root(socket: &Path, password: &str, alive: &impl Fn() -> Result<()>) -> Result<MySqlConnection> {
    let mut options = MySqlConnectOptions::new().socket(socket).username("root");
    if !password.is_empty() {
        // A fresh data directory's root has no password at all; sending an empty one is refused.
        options = options.password(password);
    }
    wait::until("MariaDB accepts connections", Duration::from_secs(60), Duration::from_millis(200), || {
        let options = options.clone();
        let alive = alive();
        async move {
            alive?;
            match MySqlConnection::connect_with(&options).await {
                Ok(connection) => Ok(Some(connection)),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(workbook_support::db::ACCESS_DENIED) => {
                    Err(wait::fatal(
                        "MariaDB refused root: the data directory does not match .workbook/data/mariadb-credentials. \
                         Run `cargo xtask down --purge` to start afresh",
                    ))
                }
                Err(_) => Ok(None),
            }
        }
    })
    .await
}

/// What the first start runs as root: root's password, then the database and users every
/// backend creates (`description::user_statements`).
pub fn setup_statements(c: &Credentials) -> Vec<String> {
    let mut statements = vec![format!("ALTER USER 'root'@'localhost' IDENTIFIED BY '{}'", c.root)];
    statements.extend(description::user_statements(&USER_HOSTS, &c.app, &c.cdc));
    statements.push("FLUSH PRIVILEGES".to_string());
    statements
}

fn first_words(statement: &str) -> String {
    statement.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_gives_each_user_only_its_rights() {
        let c = Credentials { root: "r".into(), app: "a".into(), cdc: "c".into() };
        let sql = setup_statements(&c).join(";\n");
        assert!(sql.contains("ALTER USER 'root'@'localhost' IDENTIFIED BY 'r'"));
        assert!(sql.contains("GRANT ALL PRIVILEGES ON mydb.* TO 'workbook'@'127.0.0.1'"));
        assert!(!sql.contains("ON *.* TO 'workbook'"), "the app user has no global rights");
        assert!(sql.contains("REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'127.0.0.1'"));
        assert_eq!(database_url(&c, 3307), "mysql://workbook:a@127.0.0.1:3307/mydb");
    }
}
