//! Helpers for the workbook-level tests in `tests/tests/`.
//!
//! These tests drive the real `xtask` binary (as a learner types `cargo xtask …`) and the real
//! services it starts; nothing is mocked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use workbook_support::Env;
pub use workbook_support::env::workspace_root;

/// The built `xtask` binary (`cargo test` builds it first as part of the workspace).
pub fn xtask_binary() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join("debug").join("xtask");
    assert!(binary.exists(), "{} is missing: run `cargo build -p xtask` first", binary.display());
    binary
}

/// `cargo xtask ARGS…` as a command, run from the workspace root.
pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(xtask_binary());
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs the command and returns its output as text (stdout + stderr) and whether it succeeded.
pub fn run(mut command: Command) -> (bool, String) {
    let Output { status, stdout, stderr } = command.output().expect("xtask runs");
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.success(), text)
}

/// A stand-in Docker installation for tests that must not depend on (or touch) a real one: a
/// `docker` program on `PATH` and an engine answering on a unix socket, both behaving like an
/// installed Docker of a given release.
///
/// - `docker context inspect` prints a context whose endpoint is the stand-in socket (so the
///   test also proves that `up` follows `docker context` when `DOCKER_HOST` is unset);
/// - `docker --version` answers; every other `docker` command fails and is logged, so a test can
///   assert that nothing was pulled, built or created;
/// - the engine answers `GET /version` (unversioned) with the release and API version, and a
///   request for a newer API version with dockerd's own "client version … is too new".
pub struct StandInDocker {
    dir: tempfile_free::Dir,
    pub socket: PathBuf,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl StandInDocker {
    pub fn start(engine: &'static str, api: &'static str) -> StandInDocker {
        let dir = tempfile_free::Dir::new("stand-in-docker");
        let socket = dir.path().join("docker.sock");
        let requests = serve_engine(&socket, engine, api);
        let context = format!(
            r#"[{{"Name":"stand-in","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"unix://{}","SkipTLSVerify":false}}}},"TLSMaterial":{{}},"Storage":{{"MetadataPath":"x","TLSPath":"x"}}}}]"#,
            socket.display()
        );
        std::fs::write(dir.path().join("context.json"), context).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             echo \"$*\" >> '{log}'\n\
             case \"$1 $2\" in\n\
             'context inspect') cat '{context}' ;;\n\
             '--version '*) echo 'Docker version {engine}, build stand-in' ;;\n\
             *) echo \"stand-in docker: '$*' was not expected\" >&2; exit 1 ;;\n\
             esac\n",
            log = dir.path().join("cli.log").display(),
            context = dir.path().join("context.json").display(),
        );
        let program = dir.path().join("bin").join("docker");
        std::fs::create_dir_all(program.parent().unwrap()).unwrap();
        std::fs::write(&program, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        StandInDocker { dir, socket, requests }
    }

    /// `PATH` with the stand-in `docker` first, then the test's own `PATH` (java, mariadbd, …).
    pub fn path(&self) -> std::ffi::OsString {
        let mut dirs = vec![self.dir.path().join("bin")];
        dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        std::env::join_paths(dirs).unwrap()
    }

    /// Runs `command` against this Docker: the stand-in first on `PATH`, no `DOCKER_HOST` (so
    /// the context is followed), no other Docker settings.
    pub fn apply(&self, command: &mut Command) {
        command
            .env("PATH", self.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
    }

    /// Every `docker …` command line run so far.
    pub fn cli_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("cli.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Every HTTP request line the engine received so far.
    pub fn engine_requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve_engine(
    socket: &Path,
    engine: &'static str,
    api: &'static str,
) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    use std::io::{BufRead, BufReader, Write};
    let parse = |v: &str| -> Option<(u32, u32)> {
        let (a, b) = v.split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            seen.lock().unwrap().push(request_line.trim().to_string());
            let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let asked = path.strip_prefix("/v").and_then(|rest| rest.split('/').next()).map(str::to_string);
            let too_new = asked.as_deref().and_then(parse).is_some_and(|a| Some(a) > parse(api));
            let (status, body) = if too_new {
                let asked = asked.unwrap_or_default();
                (
                    "400 Bad Request",
                    format!(
                        r#"{{"message":"client version {asked} is too new. Maximum supported API version is {api}"}}"#
                    ),
                )
            } else if path == "/version" || path.ends_with("/version") {
                (
                    "200 OK",
                    format!(r#"{{"Version":"{engine}","ApiVersion":"{api}","MinAPIVersion":"1.12","Os":"linux"}}"#),
                )
            } else {
                ("404 Not Found", r#"{"message":"the stand-in engine only answers /version"}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    requests
}

/// A temporary directory without the `tempfile` crate (a dev-dependency, which this library
/// part of the test crate cannot use); removed on drop.
mod tempfile_free {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(prefix: &str) -> Dir {
            static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Short: a unix socket path must fit in 108 bytes.
            let path = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
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

    #[test]
    fn the_stand_in_docker_answers_like_an_old_installation() {
        let docker = StandInDocker::start("19.03.15", "1.40");
        let mut command = Command::new("docker");
        command.args(["context", "inspect"]);
        docker.apply(&mut command);
        let (ok, output) = run(command);
        assert!(ok && output.contains(&format!("unix://{}", docker.socket.display())), "{output}");
        let mut pull = Command::new("docker");
        pull.args(["pull", "x"]);
        docker.apply(&mut pull);
        assert!(!run(pull).0, "only context and --version are answered");
        assert_eq!(docker.cli_calls(), ["context inspect", "pull x"]);
    }
}
