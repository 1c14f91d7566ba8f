//! What the workbook-level tests in `tests/tests/` share.
//!
//! These tests run the real `xtask` binary (as a learner types `cargo xtask …`) and talk to the
//! real services `cargo xtask up` started; nothing is mocked. (The tests of `up`, `down`, `status`,
//! `broker` and `cli` themselves are xtask's own, in xtask/tests/.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use workbook_support::Env;
pub use workbook_support::env::workspace_root;

/// `cargo xtask ARGS…` as a command, run from the workspace root.
pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(xtask_binary());
    command.args(args).current_dir(workspace_root());
    command
}

/// The `xtask` binary, as `cargo build -p xtask` leaves it: built, or found up to date, once per
/// test program, so a test never runs one older than the sources.
fn xtask_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .current_dir(workspace_root())
            .args(["build", "--quiet", "--package", "xtask", "--bin", "xtask", "--message-format", "json"])
            .output()
            .expect("running cargo");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "`cargo build -p xtask` failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        // cargo names each artifact it built or found fresh, with where the executable is.
        stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "xtask")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the xtask executable it built")
    })
}

/// Runs the command and returns its output as text (stdout + stderr) and whether it succeeded.
pub fn run(mut command: Command) -> (bool, String) {
    let Output { status, stdout, stderr } = command.output().expect("xtask runs");
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.success(), text)
}

/// Where a connector config names an address or a file the Connect worker does not see that
/// way: the address as *your* programs reach it (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`,
/// `WORKBOOK_FILES_DIR`) instead of Connect's (`CONNECT_*`). Empty when the config uses
/// Connect's view only.
pub fn host_view_in_connector(env: &Env, config: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    let connect_brokers: Vec<&str> = env.connect_bootstrap_servers.split(',').map(str::trim).collect();
    let host_only_brokers: Vec<&str> =
        env.bootstrap_servers.split(',').map(str::trim).filter(|b| !connect_brokers.contains(b)).collect();
    let connect_db = host_port_of(&env.connect_database_url);
    let host_db = host_port_of(&env.database_url).filter(|db| Some(db) != connect_db.as_ref());
    let files = env.files_dir.display().to_string();
    let host_files = (files != env.connect_files_dir).then_some(files);
    for (key, value) in config {
        if key.ends_with("bootstrap.servers") {
            for broker in value.split(',').map(str::trim).filter(|b| !connect_brokers.contains(b)) {
                found.push(format!("{key}={value}: {broker} is not in CONNECT_BOOTSTRAP_SERVERS"));
            }
        }
        if key == "database.hostname"
            && let Some((host, _)) = &connect_db
            && value != host
        {
            found.push(format!("{key}={value}: Connect reaches MariaDB at {host} (CONNECT_DATABASE_URL)"));
        }
        if key == "database.port"
            && let Some((_, port)) = &connect_db
            && value != port
        {
            found.push(format!("{key}={value}: Connect reaches MariaDB on port {port} (CONNECT_DATABASE_URL)"));
        }
        if key == "file" && !value.starts_with(&format!("{}/", env.connect_files_dir)) {
            found.push(format!("{key}={value}: not under CONNECT_FILES_DIR ({})", env.connect_files_dir));
        }
        for broker in &host_only_brokers {
            if value.contains(broker) {
                found.push(format!("{key}={value}: {broker} is KAFKA_BOOTSTRAP_SERVERS (your view)"));
            }
        }
        if let Some((host, port)) = &host_db
            && value.contains(&format!("{host}:{port}"))
        {
            found.push(format!("{key}={value}: {host}:{port} is DATABASE_URL's (your view)"));
        }
        if let Some(files) = &host_files
            && value.contains(files.as_str())
        {
            found.push(format!("{key}={value}: {files} is WORKBOOK_FILES_DIR (your view)"));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// `mysql://user:password@host:port/db` → (host, port)
fn host_port_of(url: &str) -> Option<(String, String)> {
    let rest = url.rsplit_once('@')?.1;
    let address = rest.split('/').next()?;
    let (host, port) = address.rsplit_once(':')?;
    Some((host.to_string(), port.to_string()))
}

/// The name of the Connect worker's config topic (xtask/src/description.rs, `CONNECT_CONFIG_TOPIC`;
/// the same on every backend the workbook starts).
pub const CONNECT_CONFIG_TOPIC: &str = "workbook-connect-configs";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Env::from_sources(|key| map.get(key).cloned()).unwrap()
    }

    fn local_env() -> Env {
        env(&[
            ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            ("CONNECT_BOOTSTRAP_SERVERS", "127.0.0.1:9192"),
            ("DATABASE_URL", "mysql://workbook:pw@127.0.0.1:3307/mydb"),
            ("CONNECT_DATABASE_URL", "mysql://workbook:pw@127.0.0.1:3308/mydb"),
            ("CONNECT_URL", "http://127.0.0.1:8083"),
            ("WORKBOOK_FILES_DIR", "/w/.workbook/files"),
            ("CONNECT_FILES_DIR", "/w/.workbook/connect-files"),
        ])
    }

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_connector_with_connects_view_passes() {
        let source = config(&[
            ("connector.class", "io.debezium.connector.mariadb.MariaDbConnector"),
            ("database.hostname", "127.0.0.1"),
            ("database.port", "3308"),
            ("schema.history.internal.kafka.bootstrap.servers", "127.0.0.1:9192"),
        ]);
        assert_eq!(host_view_in_connector(&local_env(), &source), Vec::<String>::new());
        let sink = config(&[
            ("connection.url", "jdbc:mariadb://127.0.0.1:3308/mydb"),
            ("file", "/w/.workbook/connect-files/ch07/out.txt"),
        ]);
        assert_eq!(host_view_in_connector(&local_env(), &sink), Vec::<String>::new());
    }

    #[test]
    fn each_kind_of_host_view_is_caught() {
        let env = local_env();
        for (key, value) in [
            ("schema.history.internal.kafka.bootstrap.servers", "127.0.0.1:9092"),
            ("database.port", "3307"),
            ("connection.url", "jdbc:mariadb://127.0.0.1:3307/mydb"),
            ("file", "/w/.workbook/files/ch07/input.txt"),
            ("file", "/tmp/ch07-lines/input.txt"),
        ] {
            let found = host_view_in_connector(&env, &config(&[(key, value)]));
            assert!(!found.is_empty(), "{key}={value} should be caught");
        }
    }
}
