//! A stand-in Docker installation for the tests of `up`.

use std::path::PathBuf;
use std::process::Command;

use crate::common::run;

// The engine the unit tests of `docker/engine.rs` probe.
#[path = "../../src/docker/engine/stand_in.rs"]
mod stand_in_engine;

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
    dir: tempfile::TempDir,
    pub socket: PathBuf,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl StandInDocker {
    pub fn start(engine: &'static str, api: &'static str) -> StandInDocker {
        // A short name: a unix socket's path must fit in 108 bytes.
        let dir = tempfile::Builder::new().prefix("docker-").tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let requests = stand_in_engine::serve(&socket, engine, api, false);
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
