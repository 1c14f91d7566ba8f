//! The environment contract: three addresses every chapter, test and exercise reads.
//!
//! | variable                  | meaning                                   |
//! |---------------------------|-------------------------------------------|
//! | `KAFKA_BOOTSTRAP_SERVERS` | broker list, e.g. `127.0.0.1:9092`        |
//! | `DATABASE_URL`            | MariaDB, user `workbook`, database `mydb` |
//! | `CONNECT_URL`             | Kafka Connect REST, e.g. `http://127.0.0.1:8083` |
//!
//! A variable already set in the process wins over the file, so `KAFKA_BOOTSTRAP_SERVERS=...
//! cargo run -p ch01-why-kafka` talks to your own cluster.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::envfile;

pub const KAFKA_BOOTSTRAP_SERVERS: &str = "KAFKA_BOOTSTRAP_SERVERS";
pub const DATABASE_URL: &str = "DATABASE_URL";
pub const CONNECT_URL: &str = "CONNECT_URL";
/// MariaDB as the Kafka Connect worker reaches it: the same as `DATABASE_URL`, except when
/// Connect runs in a container (docker backend), where `127.0.0.1` would be the container itself.
pub const CONNECT_DATABASE_URL: &str = "CONNECT_DATABASE_URL";
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
    pub connect_url: String,
    /// MariaDB's URL as seen from the Connect worker (what connector configs use).
    pub connect_database_url: String,
    /// The MariaDB user the CDC source connector logs in as (only the `local` and `docker` backends create one).
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
                    "the workbook environment is not configured ({} not found).\n\
                     Start it with `cargo xtask up`, or export {KAFKA_BOOTSTRAP_SERVERS}, {DATABASE_URL} and {CONNECT_URL}",
                    file.display()
                )
            })
    }

    /// Builds the contract from any lookup function (the process environment, a file, a test map).
    pub fn from_sources(lookup: impl Fn(&str) -> Option<String>) -> Result<Env> {
        let required = |key: &str| lookup(key).with_context(|| format!("{key} is not set"));
        let database_url = required(DATABASE_URL)?;
        Ok(Env {
            bootstrap_servers: required(KAFKA_BOOTSTRAP_SERVERS)?,
            connect_database_url: lookup(CONNECT_DATABASE_URL).unwrap_or_else(|| database_url.clone()),
            database_url,
            connect_url: required(CONNECT_URL)?.trim_end_matches('/').to_string(),
            cdc_user: lookup(CDC_USER),
            cdc_password: lookup(CDC_PASSWORD),
        })
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
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
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
        assert_eq!(env.connect_url, "http://127.0.0.1:8083", "trailing slash trimmed");
        assert_eq!(env.cdc_user, None);
        assert_eq!(env.connect_database_url, env.database_url, "defaults to DATABASE_URL");
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
