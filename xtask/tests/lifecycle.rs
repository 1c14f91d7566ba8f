//! `up` / `down` / `status` / `broker` as a learner meets them, each in an environment of its own
//! (its own `WORKBOOK_DIR`, its own ports), next to the one the test run shares.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{run, xtask};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use stand_in_docker::StandInDocker;
use tempfile::TempDir;
use workbook_support::{Env, envfile, kafka, names};

mod common;
mod stand_in_docker;

/// `cargo xtask ARGS` with `.workbook` in `dir`.
fn xtask_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = xtask(args);
    command
        .env("WORKBOOK_DIR", dir)
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("DATABASE_URL")
        .env_remove("CONNECT_URL");
    command
}

fn env_of(dir: &Path) -> Env {
    let vars = envfile::read(&dir.join("env")).expect("up wrote the env file");
    Env::from_sources(|key| vars.get(key).cloned()).expect("a complete env file")
}

/// The output of `up --brokers 3 --no-connect` that chapter 2 shows.
fn chapter_2s_up() -> String {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/ch02-brokers.md"))
        .expect("chapter 2's page");
    let command = "$ WORKBOOK_DIR=/tmp/ch02-three cargo xtask up --brokers 3 --no-connect\n";
    let start = page.find(command).expect("chapter 2 shows `up --brokers 3 --no-connect`") + command.len();
    page[start..start + page[start..].find("```").expect("the end of its block")].to_string()
}

/// `up`'s output with what differs between two runs made alike: the directory, numbers (ports,
/// times, node ids), the cluster id, where the jars are cached. The notes about taken ports depend on what else runs, and the
/// wait for another `up`'s ports on who else starts, so they are left out.
fn shape_of_up(output: &str, dir: &str) -> Vec<String> {
    output
        .lines()
        .filter(|line| !line.trim_start().starts_with("note: port") && !line.contains("waiting for another"))
        .map(|line| {
            let line = line.replace(dir, "DIR");
            let line = match (line.find("(cluster id "), line.find(" jars: ")) {
                (Some(at), _) => format!("{}(cluster id ID)", &line[..at]),
                // Under the home directory of whoever ran it.
                (None, Some(at)) => format!("{} jars: CACHE", &line[..at]),
                (None, None) => line,
            };
            let mut shape = String::new();
            for c in line.chars() {
                if !c.is_ascii_digit() {
                    shape.push(c);
                } else if !shape.ends_with('0') {
                    shape.push('0');
                }
            }
            shape
        })
        .collect()
}

/// Pids of live processes whose command line mentions `dir` (ours, by construction).
fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
            !zombie && String::from_utf8_lossy(&cmdline).contains(&needle)
        })
        .collect()
}

fn listening(address: &str) -> bool {
    std::net::TcpStream::connect_timeout(&address.parse().unwrap(), Duration::from_millis(300)).is_ok()
}

fn addresses_in_state(dir: &Path) -> Vec<String> {
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    state["components"].as_array().unwrap().iter().map(|c| c["address"].as_str().unwrap().to_string()).collect()
}

fn pid_in_state(dir: &Path, component: &str) -> u32 {
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).unwrap()).unwrap();
    let found = state["components"].as_array().unwrap().iter().find(|c| c["name"] == component);
    found.and_then(|c| c["pid"].as_u64()).unwrap_or_else(|| panic!("no pid for {component}")) as u32
}

/// The broker ids the cluster's metadata lists, once they are `expected` (or what they were after 60 s).
fn brokers_become(env: &Env, expected: &[i32]) -> Vec<i32> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ids: Vec<i32> = kafka::fetch_metadata_blocking(&env.bootstrap_servers, None, Duration::from_secs(5))
            .map(|c| c.brokers.iter().map(|b| b.id).collect())
            .unwrap_or_default();
        if ids == expected || std::time::Instant::now() > deadline {
            return ids;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn three_brokers_then_down_then_up_again() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();

    let (ok, output) = run(xtask_in(root, &["up", "--backend", "local", "--brokers", "3", "--no-connect"]));
    assert!(ok, "{output}");
    assert!(output.contains("active controller (metadata quorum leader): node"), "{output}");
    assert_eq!(
        shape_of_up(&output, &root.display().to_string()),
        shape_of_up(&chapter_2s_up(), "/tmp/ch02-three"),
        "chapter 2 shows this very command's output (book/src/ch02-brokers.md): run it again and paste it"
    );
    let env = env_of(root);
    assert_eq!(env.connect_url, None, "no Connect, no CONNECT_URL: a chapter needing it says why");
    let no_worker = workbook_support::connect::ConnectClient::new(&env).unwrap_err().to_string();
    assert!(no_worker.contains("--no-connect"), "{no_worker}");
    let cluster = kafka::fetch_metadata_blocking(&env.bootstrap_servers, None, Duration::from_secs(10)).unwrap();
    let ids: Vec<i32> = cluster.brokers.iter().map(|b| b.id).collect();
    assert_eq!(ids, vec![1, 2, 3]);

    let (ok, status) = run(xtask_in(root, &["status"]));
    assert!(ok, "{status}");
    assert!(["controller 1", "controller 2", "controller 3"].iter().any(|c| status.contains(c)), "{status}");

    let topic = names::unique("replicated");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let results = runtime
        .block_on(admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(3))], &AdminOptions::new()))
        .unwrap();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let described =
        kafka::fetch_metadata_blocking(&env.bootstrap_servers, Some(&topic), Duration::from_secs(10)).unwrap();
    for partition in &described.topics[0].partitions {
        assert_eq!(partition.replicas.len(), 3, "{partition:?}");
    }

    // One broker at a time, as chapter 13 does it: a controlled shutdown, then a crash, each
    // followed by the same node again (same properties, same data), through `cargo xtask broker`.
    let before = pid_in_state(root, "kafka-2");
    let (ok, output) = run(xtask_in(root, &["broker", "stop", "2"]));
    assert!(ok && output.contains(&format!("broker 2 (pid {before}) is gone after SIGTERM")), "{output}");
    assert_eq!(brokers_become(&env, &[1, 3]), vec![1, 3]);
    let (ok, output) = run(xtask_in(root, &["up", "--backend", "local", "--brokers", "3", "--no-connect"]));
    assert!(!ok && output.contains("only partly running"), "{output}");
    let (ok, output) = run(xtask_in(root, &["broker", "start", "2"]));
    assert!(ok && output.contains("broker 2 registered with the controller"), "{output}");
    let after = pid_in_state(root, "kafka-2");
    assert_ne!(after, before, "state.json records the new process");
    assert!(processes_using(root).contains(&after));
    assert_eq!(brokers_become(&env, &[1, 2, 3]), vec![1, 2, 3]);
    let (ok, output) = run(xtask_in(root, &["broker", "kill", "3"]));
    assert!(ok && output.contains("after SIGKILL"), "{output}");
    let (ok, output) = run(xtask_in(root, &["broker", "start", "3"]));
    assert!(ok && output.contains("broker 3 registered"), "{output}");
    let (ok, output) = run(xtask_in(root, &["broker", "start", "3"]));
    assert!(!ok && output.contains("already running"), "{output}");
    let described =
        kafka::fetch_metadata_blocking(&env.bootstrap_servers, Some(&topic), Duration::from_secs(10)).unwrap();
    assert_eq!(described.topics[0].partitions.len(), 3, "the data outlived the brokers' restarts");

    let addresses = addresses_in_state(root);
    let (ok, output) = run(xtask_in(root, &["down"]));
    assert!(ok, "{output}");
    assert_eq!(processes_using(root), Vec::<u32>::new(), "down leaves no process of ours");
    for address in &addresses {
        assert!(!listening(address), "{address} still listens after down");
    }

    // Without --backend, a Docker engine too old for the docker backend is passed over for the
    // local one, with a note saying so (the stand-in docker's context points at a Docker 19.03).
    let docker = StandInDocker::start("19.03.15", "1.40");
    let mut up = xtask_in(root, &["up", "--no-connect"]);
    docker.apply(&mut up);
    let (ok, output) = run(up);
    assert!(ok, "{output}");
    assert!(output.contains("note: Docker 19.03.15 answers, but speaks API 1.40"), "{output}");
    assert!(output.contains("local backend, 1 broker(s)"), "{output}");
    assert!(!output.contains("resolving with Maven"), "a second up downloads nothing:\n{output}");
    assert_eq!(docker.engine_requests(), ["GET /version HTTP/1.1"], "asked through DOCKER_HOST from the context");
    let (ok, output) = run(xtask_in(root, &["down"]));
    assert!(ok, "{output}");
    assert!(processes_using(root).is_empty());

    let (ok, output) = run(xtask_in(root, &["down"]));
    assert!(ok, "{output}");
    assert!(output.contains("Nothing to stop"), "{output}");
}

#[test]
fn an_old_docker_engine_is_refused_before_anything_is_created() {
    let docker = StandInDocker::start("19.03.15", "1.40");
    let dir = TempDir::new().unwrap();
    let mut up = xtask_in(dir.path(), &["up", "--backend", "docker"]);
    docker.apply(&mut up);
    let (ok, output) = run(up);
    assert!(!ok, "{output}");
    let endpoint = format!("unix://{} (from `docker context`)", docker.socket.display());
    for expected in [
        "the docker backend needs Docker Engine 20.10 or newer (Docker API 1.41 or newer)",
        &format!("the engine at {endpoint} is Docker 19.03.15, which speaks API 1.40"),
        "cargo xtask up --backend local",
    ] {
        assert!(output.contains(expected), "{expected:?} missing in:\n{output}");
    }
    assert_eq!(output.matches("error:").count(), 1, "one message:\n{output}");
    // The CLI was asked for its context, the engine for its version: nothing pulled, built or created.
    assert_eq!(docker.cli_calls(), ["context inspect"]);
    assert_eq!(docker.engine_requests(), ["GET /version HTTP/1.1"]);
    assert!(!dir.path().join("state.json").exists() && !dir.path().join("data").exists(), "nothing recorded");
}

/// Runs a failing `up` and checks the message and that nothing was left behind.
fn up_fails_cleanly(configure: impl FnOnce(&mut Command), args: &[&str], expected: &str) {
    let dir = TempDir::new().unwrap();
    let mut command = xtask_in(dir.path(), args);
    configure(&mut command);
    let (ok, output) = run(command);
    assert!(!ok, "up should have failed:\n{output}");
    assert!(output.contains(expected), "expected {expected:?} in:\n{output}");
    assert!(!dir.path().join("state.json").exists(), "a failed up records nothing");
    assert!(processes_using(dir.path()).is_empty(), "a failed up leaves no process behind");
}

/// A directory holding links to just the programs named (a PATH without the others).
fn path_with(programs: &[&str]) -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    for program in programs {
        let found = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(program))
            .find(|p| p.exists());
        let found = found.unwrap_or_else(|| panic!("{program} is installed on the test machine"));
        std::os::unix::fs::symlink(found, dir.path().join(program)).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn isolate(command: &mut Command, path: &Path) {
    command.env("PATH", path).env("WORKBOOK_EXTRA_BIN_DIRS", "").env_remove("JAVA_HOME").env_remove("KAFKA_HOME");
}

#[test]
fn without_java_up_says_how_to_install_it() {
    let (_keep, path) = path_with(&[]);
    up_fails_cleanly(|c| isolate(c, &path), &["up", "--backend", "local"], "Java 17 or newer is needed");
}

#[test]
fn without_mariadb_up_says_how_to_install_it() {
    let (_keep, path) = path_with(&["java"]);
    up_fails_cleanly(|c| isolate(c, &path), &["up", "--backend", "local"], "MariaDB is not installed");
}

#[test]
fn without_maven_or_kafka_home_up_says_what_to_do() {
    let (_keep, path) = path_with(&["java", "mariadbd", "mariadb-install-db"]);
    let empty_cache = TempDir::new().unwrap();
    up_fails_cleanly(
        |c| {
            isolate(c, &path);
            c.env("WORKBOOK_CACHE", empty_cache.path());
        },
        &["up", "--backend", "local"],
        "neither was found",
    );
}

#[test]
fn a_port_taken_by_another_program_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    up_fails_cleanly(
        |_| {},
        &["up", "--backend", "local", "--no-connect", "--kafka-port", &port],
        &format!("port {port}"),
    );
}

#[test]
fn the_docker_backend_without_a_daemon_says_so() {
    // A socket nobody listens on: no daemon answers, on any machine.
    let no_daemon = |c: &mut Command| {
        c.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    };
    up_fails_cleanly(no_daemon, &["up", "--backend", "docker"], "Docker");
}

#[test]
fn only_one_or_three_brokers_are_offered() {
    up_fails_cleanly(|_| {}, &["up", "--brokers", "2"], "invalid value '2'");
}

#[test]
fn the_external_backend_records_addresses_starts_nothing_and_status_checks_them() {
    let shared = Env::load().expect("the test run's environment");
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    let mut up = xtask_in(root, &["up", "--backend", "external"]);
    up.args(["--bootstrap-servers", &shared.bootstrap_servers])
        .args(["--database-url", &shared.database_url])
        .args(["--connect-url", shared.connect_url.as_deref().expect("the shared environment has Connect")]);
    let (ok, output) = run(up);
    assert!(ok, "{output}");
    assert!(processes_using(root).is_empty(), "the external backend starts nothing");
    assert_eq!(env_of(root).bootstrap_servers, shared.bootstrap_servers);

    let (ok, status) = run(xtask_in(root, &["status"]));
    assert!(ok, "{status}");
    assert!(status.contains("Backend: external") && status.contains("controller"), "{status}");

    let (ok, output) = run(xtask_in(root, &["down"]));
    assert!(ok && output.contains("nothing of ours runs"), "{output}");
    assert!(!root.join("env").exists());
}
