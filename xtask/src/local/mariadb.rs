//! A private MariaDB server: its own data directory under .workbook/, its own port, binlog in
//! ROW format (what change data capture reads), and three users with their own passwords:
//! `root` (admin, password-protected), `workbook` (the chapters' user, rights on `mydb` only)
//! and `cdc` (the Debezium source connector: read + replication rights, nothing else).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use workbook_support::wait;

use crate::layout::Layout;
use crate::prereqs::MariaDbBinaries;
use crate::{ports, process, secrets};

pub const DATABASE: &str = "mydb";
pub const APP_USER: &str = "workbook";
pub const CDC_USER: &str = "cdc";

/// The three passwords, kept in .workbook/data/mariadb-credentials (they live as long as the data).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub root: String,
    pub app: String,
    pub cdc: String,
}

impl Credentials {
    pub fn database_url(&self, port: u16) -> String {
        format!("mysql://{APP_USER}:{}@{}:{port}/{DATABASE}", self.app, ports::HOST)
    }
}

fn socket(layout: &Layout) -> PathBuf {
    layout.run_dir().join("mariadb.sock")
}

fn credentials_file(layout: &Layout) -> PathBuf {
    layout.root.join("data").join("mariadb-credentials")
}

/// Creates the data directory on first use (`mariadb-install-db`, under a second).
/// Returns true when it is new, so the users still have to be created.
pub fn install_if_new(bin: &MariaDbBinaries, layout: &Layout) -> Result<bool> {
    let data = layout.mariadb_data();
    if data.join("mysql").is_dir() && credentials_file(layout).exists() {
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

/// Starts `mariadbd` in the background.
pub fn start(bin: &MariaDbBinaries, layout: &Layout, port: u16) -> Result<(Child, PathBuf)> {
    std::fs::create_dir_all(layout.run_dir())?;
    remove_stale_socket(&socket(layout))?;
    let log = layout.logs().join("mariadb.log");
    let mut command = Command::new(&bin.server);
    command
        .arg("--no-defaults") // must come first
        .arg(format!("--datadir={}", layout.mariadb_data().display()))
        .arg(format!("--bind-address={}", ports::HOST))
        .arg(format!("--port={port}"))
        .arg(format!("--socket={}", socket(layout).display()))
        .arg(format!("--pid-file={}", layout.run_dir().join("mariadb.pid").display()))
        .arg(format!("--log-error={}", log.display()))
        // Users are matched by IP, never by a reverse DNS lookup of 127.0.0.1.
        .arg("--skip-name-resolve")
        // The binary log, row by row with full before/after images: what CDC (chapter 09) reads.
        .arg("--server-id=1")
        .arg(format!("--log-bin={}", layout.mariadb_data().join("binlog").display()))
        .arg("--binlog-format=ROW")
        .arg("--binlog-row-image=FULL")
        // MariaDB 11.4+ (Homebrew's, say) must keep binlog positions a CDC reader can resume
        // from; `loose-` makes 10.11, which has no such option, ignore it.
        .arg("--loose-binlog-legacy-event-pos=ON")
        // UTF-8 for every table by default (mariadbd's own default is latin1).
        .arg("--character-set-server=utf8mb4")
        .arg("--collation-server=utf8mb4_unicode_ci")
        .arg("--innodb-buffer-pool-size=64M");
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
        let credentials =
            Credentials { root: secrets::password()?, app: secrets::password()?, cdc: secrets::password()? };
        let mut root = connect_root(&socket, "", &alive).await?;
        run_all(&mut root, &setup_statements(&credentials)).await?;
        save_credentials(layout, &credentials)?;
        (credentials, root)
    } else {
        let credentials = load_credentials(layout)?;
        let mut root = connect_root(&socket, &credentials.root, &alive).await?;
        // Data directories made by earlier versions of the workbook get the same settings.
        run_all(&mut root, &[format!("ALTER DATABASE {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")])
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

/// What the first start runs as root. Users exist for both ways in: TCP from 127.0.0.1 and the socket.
pub fn setup_statements(c: &Credentials) -> Vec<String> {
    let mut statements = vec![
        format!("ALTER USER 'root'@'localhost' IDENTIFIED BY '{}'", c.root),
        format!("CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
    ];
    for host in ["127.0.0.1", "localhost"] {
        statements.push(format!("CREATE USER IF NOT EXISTS '{APP_USER}'@'{host}' IDENTIFIED BY '{}'", c.app));
        // The chapters create, alter and drop their own tables, in mydb only.
        statements.push(format!("GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{APP_USER}'@'{host}'"));
        statements.push(format!("CREATE USER IF NOT EXISTS '{CDC_USER}'@'{host}' IDENTIFIED BY '{}'", c.cdc));
        // What Debezium's MariaDB connector needs: read the tables (snapshot), see the databases,
        // RELOAD for the snapshot's FLUSH, and read the binlog as a replica would.
        statements.push(format!(
            "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{CDC_USER}'@'{host}'"
        ));
    }
    statements.push("FLUSH PRIVILEGES".to_string());
    statements
}

fn first_words(statement: &str) -> String {
    statement.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
}

fn save_credentials(layout: &Layout, c: &Credentials) -> Result<()> {
    let vars = BTreeMap::from([
        (workbook_support::env::MARIADB_ROOT_PASSWORD.to_string(), c.root.clone()),
        ("WORKBOOK_PASSWORD".to_string(), c.app.clone()),
        ("CDC_PASSWORD".to_string(), c.cdc.clone()),
    ]);
    let path = credentials_file(layout);
    std::fs::write(
        &path,
        workbook_support::envfile::render("Passwords of the private MariaDB (deleted by `down --purge`)", &vars),
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

fn load_credentials(layout: &Layout) -> Result<Credentials> {
    let vars = workbook_support::envfile::read(&credentials_file(layout))?;
    let get = |key: &str| {
        vars.get(key).cloned().with_context(|| format!("{key} missing in {}", credentials_file(layout).display()))
    };
    Ok(Credentials {
        root: get(workbook_support::env::MARIADB_ROOT_PASSWORD)?,
        app: get("WORKBOOK_PASSWORD")?,
        cdc: get("CDC_PASSWORD")?,
    })
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
        assert_eq!(c.database_url(3307), "mysql://workbook:a@127.0.0.1:3307/mydb");
    }
}
