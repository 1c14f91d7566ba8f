//! The environment contract: the addresses every chapter, test and exercise reads.
//!
//! Two programs reach the services: *your* code (chapters, tests, `cargo xtask cli`), and the
//! *Kafka Connect worker*, which runs the connectors. They do not always see the services at the
//! same address: with the docker backend, Connect runs in a container, where `127.0.0.1` is the
//! container itself. So every address a connector config needs comes twice:
//!
//! | your programs use         | a connector config uses     | what                               |
//! |---------------------------|-----------------------------|------------------------------------|
//! | `KAFKA_BOOTSTRAP_SERVERS` | `CONNECT_BOOTSTRAP_SERVERS` | the Kafka brokers                  |
//! | `DATABASE_URL`            | `CONNECT_DATABASE_URL`      | MariaDB, user `workbook`, `mydb`  |
//! | `WORKBOOK_FILES_DIR`      | `CONNECT_FILES_DIR`         | a directory both see (FileStream)  |
//! | `CONNECT_URL`             | —                           | Kafka Connect's REST API           |
//!
//! The local backend gives Connect its own Kafka listener, its own MariaDB port and its own name
//! for the files directory, so a connector config written with your view fails there too, not only
//! in Docker. A variable already set in the process wins over the file, so
//! `KAFKA_BOOTSTRAP_SERVERS=... cargo run -p ch01-why-kafka` talks to your own cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::envfile;

pub const KAFKA_BOOTSTRAP_SERVERS: &str = "KAFKA_BOOTSTRAP_SERVERS";
pub const DATABASE_URL: &str = "DATABASE_URL";
pub const CONNECT_URL: &str = "CONNECT_URL";
/// MariaDB as the Kafka Connect worker reaches it (what connector configs use). Docker backend:
/// MariaDB's container name; local backend: a second MariaDB port of its own.
pub const CONNECT_DATABASE_URL: &str = "CONNECT_DATABASE_URL";
/// The Kafka brokers as the Kafka Connect worker reaches them (what connector configs use, e.g.
/// Debezium's `schema.history.internal.kafka.bootstrap.servers`). Docker backend: the brokers'
/// container names; local backend: a second listener of each broker, on its own port.
pub const CONNECT_BOOTSTRAP_SERVERS: &str = "CONNECT_BOOTSTRAP_SERVERS";
/// A directory your programs and the Connect worker both see, as your programs see it: write a
/// FileStream source's input here, read a FileStream sink's output here.
pub const WORKBOOK_FILES_DIR: &str = "WORKBOOK_FILES_DIR";
/// The same directory as the Connect worker sees it: the `file` of a FileStream connector
/// (and any path in a connector or worker config) starts here.
pub const CONNECT_FILES_DIR: &str = "CONNECT_FILES_DIR";
/// Connect's `plugin.path` as the worker sees it (for a standalone worker's properties).
pub const CONNECT_PLUGIN_PATH: &str = "CONNECT_PLUGIN_PATH";
/// MariaDB's admin password (chapter 08 shows what root is for, and what it is not for).
pub const MARIADB_ROOT_PASSWORD: &str = "MARIADB_ROOT_PASSWORD";
pub const CDC_USER: &str = "CDC_USER";
pub const CDC_PASSWORD: &str = "CDC_PASSWORD";
/// Where `.workbook` lives; tests that need an environment of their own set it.
pub const WORKBOOK_DIR: &str = "WORKBOOK_DIR";

/// The addresses of the running environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    pub bootstrap_servers: String,
    pub database_url: String,
    /// Kafka Connect's REST API; `None` when the environment was started without Connect
    /// (`cargo xtask up --no-connect`). [`crate::connect::ConnectClient::new`] says so.
    pub connect_url: Option<String>,
    /// MariaDB's URL as seen from the Connect worker (what connector configs use).
    pub connect_database_url: String,
    /// The brokers as seen from the Connect worker (what connector configs use). Defaults to
    /// `bootstrap_servers` when unset (your own cluster, where both see the same addresses).
    pub connect_bootstrap_servers: String,
    /// The shared files directory as your programs see it (`WORKBOOK_FILES_DIR`). Defaults to
    /// `.workbook/files`.
    pub files_dir: PathBuf,
    /// The same directory as the Connect worker sees it (`CONNECT_FILES_DIR`): connector configs
    /// name files here. Use [`Env::connect_path`] to turn a path under `files_dir` into this view.
    pub connect_files_dir: String,
    /// Connect's `plugin.path` as the worker sees it, when the workbook started the worker.
    pub connect_plugin_path: Option<String>,
    /// The MariaDB user the CDC source connector logs in as (only the `local` and `docker` backends
    /// create one).
    pub cdc_user: Option<String>,
    pub cdc_password: Option<String>,
}

impl Env {
    /// Loads the contract from the process environment, falling back to `.workbook/env`.
    pub fn load() -> Result<Env> {
        let file = env_file();
        let from_file = if file.exists() { envfile::read(&file)? } else { BTreeMap::new() };
        Env::from_sources(|key| std::env::var(key).ok().or_else(|| from_file.get(key).cloned()))
            .with_context(|| {
                format!(
                    "the workbook environment is not configured ({} not found).\nStart it with \
                     `cargo xtask up`, or export {KAFKA_BOOTSTRAP_SERVERS} and {DATABASE_URL} \
                     ({CONNECT_URL} too for the chapters that use Kafka Connect)",
                    file.display()
                )
            })
    }

    /// Builds the contract from any lookup function (the process environment, a file, a test map).
    pub fn from_sources(lookup: impl Fn(&str) -> Option<String>) -> Result<Env> {
        let required = |key: &str| lookup(key).with_context(|| format!("{key} is not set"));
        let database_url = required(DATABASE_URL)?;
        let bootstrap_servers = required(KAFKA_BOOTSTRAP_SERVERS)?;
        let files_dir = lookup(WORKBOOK_FILES_DIR)
            .map(PathBuf::from)
            .unwrap_or_else(|| workbook_dir().join("files"));
        Ok(Env {
            connect_bootstrap_servers: lookup(CONNECT_BOOTSTRAP_SERVERS)
                .unwrap_or_else(|| bootstrap_servers.clone()),
            bootstrap_servers,
            connect_database_url: lookup(CONNECT_DATABASE_URL)
                .unwrap_or_else(|| database_url.clone()),
            database_url,
            connect_url: lookup(CONNECT_URL).map(|url| url.trim_end_matches('/').to_string()),
            connect_files_dir: lookup(CONNECT_FILES_DIR)
                .unwrap_or_else(|| files_dir.display().to_string())
                .trim_end_matches('/')
                .to_string(),
            files_dir,
            connect_plugin_path: lookup(CONNECT_PLUGIN_PATH),
            cdc_user: lookup(CDC_USER),
            cdc_password: lookup(CDC_PASSWORD),
        })
    }

    /// A path under [`Env::files_dir`] as the Connect worker sees it, for a connector config:
    /// `files_dir/ch07/input.txt` becomes `connect_files_dir/ch07/input.txt`.
    ///
    /// Fails for a path outside `files_dir`: the Connect worker may not see it at all (in a
    /// container it does not), so a connector configured with it would fail, or read the wrong
    /// file.
    pub fn connect_path(&self, path: &Path) -> Result<String> {
        let relative = path.strip_prefix(&self.files_dir).with_context(|| {
            format!(
                "{} is outside {} ({WORKBOOK_FILES_DIR}), the only directory the Connect worker \
                 shares with you",
                path.display(),
                self.files_dir.display()
            )
        })?;
        let mut shown = self.connect_files_dir.clone();
        for part in relative.components() {
            shown.push('/');
            shown.push_str(&part.as_os_str().to_string_lossy());
        }
        Ok(shown)
    }
}

/// The workspace root (this crate lives in `chapters/support`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).expect("chapters/support has two parents").to_path_buf()
}

/// The `.workbook` directory: pid files, logs, data and the env file.
pub fn workbook_dir() -> PathBuf {
    match std::env::var_os(WORKBOOK_DIR) {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join(".workbook"),
    }
}

/// The dotenv file `cargo xtask up` writes.
pub fn env_file() -> PathBuf {
    workbook_dir().join("env")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup_in(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |key| map.get(key).cloned()
    }

    #[test]
    fn reads_all_three_addresses() {
        let env = Env::from_sources(lookup_in(&[
            (KAFKA_BOOTSTRAP_SERVERS, "127.0.0.1:9092"),
            (DATABASE_URL, "mysql://workbook:pw@127.0.0.1:3307/mydb"),
            (CONNECT_URL, "http://127.0.0.1:8083/"),
        ]))
        .unwrap();
        assert_eq!(env.bootstrap_servers, "127.0.0.1:9092");
        assert_eq!(
            env.connect_url.as_deref(),
            Some("http://127.0.0.1:8083"),
            "trailing slash trimmed"
        );
        assert_eq!(env.cdc_user, None);
        assert_eq!(env.connect_database_url, env.database_url, "defaults to DATABASE_URL");
        assert_eq!(
            env.connect_bootstrap_servers, env.bootstrap_servers,
            "defaults to KAFKA_BOOTSTRAP_SERVERS"
        );
        assert_eq!(
            env.connect_files_dir,
            env.files_dir.display().to_string(),
            "defaults to the files dir"
        );
        assert_eq!(env.connect_plugin_path, None);
    }

    #[test]
    fn reads_connects_view_of_every_address() {
        let env = Env::from_sources(lookup_in(&[
            (KAFKA_BOOTSTRAP_SERVERS, "127.0.0.1:9092"),
            (CONNECT_BOOTSTRAP_SERVERS, "workbook-kafka-1:19092"),
            (DATABASE_URL, "mysql://workbook:pw@127.0.0.1:3307/mydb"),
            (CONNECT_DATABASE_URL, "mysql://workbook:pw@workbook-mariadb:3306/mydb"),
            (CONNECT_URL, "http://127.0.0.1:8083"),
            (WORKBOOK_FILES_DIR, "/home/me/kw/.workbook/files"),
            (CONNECT_FILES_DIR, "/workbook/files/"),
            (CONNECT_PLUGIN_PATH, "/opt/kafka/plugins"),
        ]))
        .unwrap();
        assert_eq!(env.connect_bootstrap_servers, "workbook-kafka-1:19092");
        assert_eq!(env.connect_database_url, "mysql://workbook:pw@workbook-mariadb:3306/mydb");
        assert_eq!(env.files_dir, PathBuf::from("/home/me/kw/.workbook/files"));
        assert_eq!(env.connect_files_dir, "/workbook/files", "trailing slash trimmed");
        assert_eq!(env.connect_plugin_path.as_deref(), Some("/opt/kafka/plugins"));
    }

    #[test]
    fn a_path_under_the_files_dir_is_translated_to_connects_view() {
        let env = Env::from_sources(lookup_in(&[
            (KAFKA_BOOTSTRAP_SERVERS, "x:1"),
            (DATABASE_URL, "mysql://u:p@h:1/mydb"),
            (CONNECT_URL, "http://h:2"),
            (WORKBOOK_FILES_DIR, "/home/me/kw/.workbook/files"),
            (CONNECT_FILES_DIR, "/workbook/files"),
        ]))
        .unwrap();
        let input = env.files_dir.join("ch07").join("input.txt");
        assert_eq!(env.connect_path(&input).unwrap(), "/workbook/files/ch07/input.txt");
        assert_eq!(env.connect_path(&env.files_dir).unwrap(), "/workbook/files");
        let err = env.connect_path(Path::new("/tmp/input.txt")).unwrap_err().to_string();
        assert!(err.contains("outside") && err.contains(WORKBOOK_FILES_DIR), "{err}");
    }

    #[test]
    fn names_the_missing_variable() {
        let err = Env::from_sources(lookup_in(&[(KAFKA_BOOTSTRAP_SERVERS, "x:1")])).unwrap_err();
        assert_eq!(err.to_string(), "DATABASE_URL is not set");
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
