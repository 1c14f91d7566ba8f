//! The Docker engine: which one we talk to, whether it is new enough, and the few things we
//! ask the `docker` command line directly (pull and build with their progress on your
//! terminal, networks, volumes, stopping and removing containers, their state and logs).
//!
//! Two clients talk to the engine, and they must reach the same one and both be understood:
//! - the `docker` CLI follows your `docker context` and negotiates its API version;
//! - testcontainers (through bollard) reads `DOCKER_HOST` or a few well-known sockets.
//!
//! So, before anything is created, [`adopt_cli_context`] points `DOCKER_HOST` at the CLI's
//! context (when you have not set it) and [`probe`] asks the engine, through testcontainers' own
//! client, which API version it speaks.
//!
//! Which engines are new enough? bollard announces API 1.52 (`API_DEFAULT_VERSION`), but the
//! pinned bollard 0.20.2 sends every request without the version in its path (`GET /version`,
//! `POST /containers/create`: `Uri::parse` joins an absolute path onto `/v1.52/`, which drops
//! it), so an engine serves it at its own API version rather than refusing it with "client version
//! 1.52 is too new". Docker Engine 20.10.24 (API 1.41) was checked to serve testcontainers'
//! requests; older engines are refused as unverified ([`MIN_API`]). A test pins bollard's
//! unversioned paths: should a bollard upgrade start sending the version, it fails, and
//! [`MIN_API`] must become bollard's version.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testcontainers::bollard;

use crate::command;

/// How long the engine may take to answer before we call it absent.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(5);

/// The `docker` command line. Unit tests point it at a socket that does not exist, so they
/// never touch (or depend on) a real daemon, on any machine.
pub fn docker() -> Command {
    let mut command = Command::new("docker");
    if cfg!(test) {
        command.args(["--host", "unix:///nonexistent/kafka-workbook-test.sock"]);
    }
    command
}

/// The oldest Docker API the docker backend accepts, and the engine release that introduced it.
pub const MIN_API: (u32, u32) = (1, 41);
pub const MIN_ENGINE: &str = "20.10";

fn min_api() -> String {
    format!("{}.{}", MIN_API.0, MIN_API.1)
}

/// `1.41` → (1, 41)
fn parse_api(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// What answers at the endpoint testcontainers uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Daemon {
    /// Nothing (no socket, refused, no answer in time, or a scheme testcontainers cannot use).
    Absent { endpoint: String, why: String },
    /// An engine older than [`MIN_API`], or one that refuses testcontainers' requests.
    TooOld { endpoint: String, engine: String, api: String },
    /// An engine testcontainers can drive.
    Ready { endpoint: String, engine: String, api: String },
}

/// Set when `DOCKER_HOST` came from `docker context` (to say so).
static FROM_CONTEXT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The endpoint testcontainers uses, for messages: `DOCKER_HOST`, else the sockets it tries.
pub fn endpoint() -> String {
    if cfg!(test) {
        return TEST_ENDPOINT.to_string();
    }
    match std::env::var("DOCKER_HOST") {
        Ok(host) if FROM_CONTEXT.load(std::sync::atomic::Ordering::Relaxed) => {
            format!("{host} (from `docker context`)")
        }
        Ok(host) => host,
        Err(_) => "unix:///var/run/docker.sock (or ~/.docker/run/docker.sock)".into(),
    }
}

const TEST_ENDPOINT: &str = "unix:///nonexistent/kafka-workbook-test.sock";

/// Asks the engine testcontainers would use which API version it speaks.
pub async fn probe() -> Daemon {
    let endpoint = endpoint();
    let client = if cfg!(test) {
        bollard::Docker::connect_with_unix(TEST_ENDPOINT, 5, bollard::API_DEFAULT_VERSION).map_err(|e| e.to_string())
    } else {
        // testcontainers' own client: the same DOCKER_HOST, TLS settings and API version `up` uses.
        testcontainers::core::client::docker_client_instance().await.map_err(|e| e.to_string())
    };
    match client {
        Ok(client) => probe_with(client, &endpoint).await,
        Err(why) => Daemon::Absent { endpoint, why },
    }
}

/// Asks the engine behind `docker` (a testcontainers client) for `GET /version`: its release and
/// API version, compared with [`MIN_API`]. An engine that refuses the request for its version
/// ("client version 1.52 is too new", what a bollard that sends its version in the path would
/// get) is asked again without it, which every engine answers.
pub async fn probe_with(docker: bollard::Docker, endpoint: &str) -> Daemon {
    let endpoint = endpoint.to_string();
    match tokio::time::timeout(DAEMON_TIMEOUT, docker.version()).await {
        Err(_) => Daemon::Absent { endpoint, why: format!("no answer within {} s", DAEMON_TIMEOUT.as_secs()) },
        Ok(Ok(version)) => {
            let engine = version.version.unwrap_or_else(|| "?".into());
            let api = version.api_version.unwrap_or_else(|| "?".into());
            match parse_api(&api) {
                Some(found) if found >= MIN_API => Daemon::Ready { endpoint, engine, api },
                _ => Daemon::TooOld { endpoint, engine, api },
            }
        }
        Ok(Err(bollard::errors::Error::DockerResponseServerError { status_code, message }))
            if (400..500).contains(&status_code) =>
        {
            let unversioned = docker.with_request_modifier(without_api_version);
            let (engine, api) = match tokio::time::timeout(DAEMON_TIMEOUT, unversioned.version()).await {
                Ok(Ok(version)) => (
                    version.version.unwrap_or_else(|| "?".into()),
                    version.api_version.unwrap_or_else(|| max_api_in(&message).unwrap_or_else(|| "?".into())),
                ),
                _ => ("?".to_string(), max_api_in(&message).unwrap_or_else(|| "?".into())),
            };
            Daemon::TooOld { endpoint, engine, api }
        }
        Ok(Err(e)) => Daemon::Absent { endpoint, why: e.to_string() },
    }
}

/// `…/v1.52/version` → `…/version`: the one request every engine answers whatever its API.
fn without_api_version(mut request: bollard::BollardRequest) -> bollard::BollardRequest {
    let uri = request.uri().to_string();
    if let Some(rewritten) = strip_api_version(&uri)
        && let Ok(parsed) = rewritten.parse()
    {
        *request.uri_mut() = parsed;
    }
    request
}

/// `scheme://authority/v1.52/path?query` → `scheme://authority/path?query`.
fn strip_api_version(uri: &str) -> Option<String> {
    let after_scheme = uri.find("://")? + 3;
    let path_start = after_scheme + uri[after_scheme..].find('/')?;
    let rest = uri[path_start..].strip_prefix("/v")?;
    let end = rest.find('/')?;
    let version = &rest[..end];
    let is_version = version.split('.').count() == 2 && version.split('.').all(|p| p.parse::<u32>().is_ok());
    is_version.then(|| format!("{}{}", &uri[..path_start], &rest[end..]))
}

/// "… Maximum supported API version is 1.41" → 1.41
fn max_api_in(message: &str) -> Option<String> {
    let at = message.find("supported API version is")? + "supported API version is".len();
    let version: String = message[at..].trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    (!version.is_empty()).then(|| version.trim_end_matches('.').to_string())
}

/// The one message for an engine `up --backend docker` cannot use: what was found, what is
/// needed, and the ways forward.
pub fn unusable(daemon: &Daemon) -> Option<String> {
    let local = "or run everything without Docker: `cargo xtask up --backend local` (Java 17+, Maven and MariaDB; see the README)";
    match daemon {
        Daemon::Ready { .. } => None,
        Daemon::TooOld { endpoint, engine, api } => Some(format!(
            "the docker backend needs Docker Engine {MIN_ENGINE} or newer (Docker API {min} or newer);\n\
             the engine at {endpoint} is Docker {engine}, which speaks API {api}.\n\
             Update Docker (Docker Desktop, or Docker's own docker-ce packages), point DOCKER_HOST at a newer engine,\n\
             {local}",
            min = min_api()
        )),
        Daemon::Absent { endpoint, why } => {
            let found = if cli_installed() {
                format!("no Docker engine answers at {endpoint} ({why})")
            } else {
                "the `docker` command is not installed".to_string()
            };
            Some(format!(
                "the docker backend needs a running Docker Engine {MIN_ENGINE} or newer: {found}.\n\
                 Start Docker (Docker Desktop, or `sudo systemctl start docker`) and run `cargo xtask up` again,\n\
                 {local}"
            ))
        }
    }
}

/// Points testcontainers at the daemon the `docker` CLI uses: when `DOCKER_HOST` is not set,
/// the current `docker context`'s endpoint (Colima, Rancher Desktop, Podman machine, Docker
/// Desktop and remote contexts all live there) becomes `DOCKER_HOST`, with its TLS files.
/// Returns what it set, to say so. Must run before any other thread exists.
pub fn adopt_cli_context() -> Vec<(String, String)> {
    if std::env::var_os("DOCKER_HOST").is_some() || cfg!(test) {
        return Vec::new();
    }
    let mut command = docker();
    command.args(["context", "inspect"]).stderr(Stdio::null());
    let Some(output) = output_within(command, Duration::from_secs(3)) else { return Vec::new() };
    let vars = context_env(&output);
    for (key, value) in &vars {
        // SAFETY: called from `main` before the async runtime (or any other thread) starts.
        unsafe { std::env::set_var(key, value) };
    }
    FROM_CONTEXT.store(!vars.is_empty(), std::sync::atomic::Ordering::Relaxed);
    vars
}

/// The variables that make testcontainers reach a context: `docker context inspect` output
/// (a JSON array with the current context) → `DOCKER_HOST`, and for a TLS endpoint
/// `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.
pub fn context_env(inspect_output: &str) -> Vec<(String, String)> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(inspect_output) else { return Vec::new() };
    let context = value.get(0).unwrap_or(&value);
    let Some(host) = context.pointer("/Endpoints/docker/Host").and_then(|h| h.as_str()).filter(|h| !h.is_empty())
    else {
        return Vec::new();
    };
    let mut vars = vec![("DOCKER_HOST".to_string(), host.to_string())];
    let has_tls = context.pointer("/TLSMaterial/docker").and_then(|m| m.as_array()).is_some_and(|m| !m.is_empty());
    let tls_path = context.pointer("/Storage/TLSPath").and_then(|p| p.as_str());
    if let (true, Some(tls_path)) = (has_tls, tls_path) {
        vars.push(("DOCKER_TLS_VERIFY".to_string(), "1".to_string()));
        vars.push(("DOCKER_CERT_PATH".to_string(), Path::new(tls_path).join("docker").display().to_string()));
    }
    vars
}

/// Runs `command` and returns its stdout if it succeeds within `timeout` (else kills it).
fn output_within(mut command: Command, timeout: Duration) -> Option<String> {
    let mut child = command.stdout(Stdio::piped()).spawn().ok()?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let output = child.wait_with_output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Is this container running? (Anything else, including "no such container", is no.)
pub fn is_running(container: &str) -> bool {
    state(container).is_some_and(|s| s.running)
}

/// What `docker inspect` says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    /// `created`, `running`, `exited`, `dead`, …
    pub status: String,
    pub exit_code: i64,
}

pub fn state(container: &str) -> Option<ContainerState> {
    let mut command = docker();
    command
        .args(["inspect", "--format", "{{.State.Running}} {{.State.Status}} {{.State.ExitCode}}", container])
        .stderr(Stdio::null());
    let output = command.output().ok().filter(|out| out.status.success())?;
    parse_state(&String::from_utf8_lossy(&output.stdout))
}

fn parse_state(text: &str) -> Option<ContainerState> {
    let mut parts = text.split_whitespace();
    let running = parts.next()? == "true";
    let status = parts.next()?.to_string();
    let exit_code = parts.next()?.parse().ok()?;
    Some(ContainerState { running, status, exit_code })
}

/// The last `lines` lines a container wrote (stdout and stderr).
pub fn logs(container: &str, lines: usize) -> String {
    let mut command = docker();
    command.args(["logs", "--tail", &lines.to_string(), container]);
    match command.output() {
        Ok(out) => format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
            .trim_end()
            .to_string(),
        Err(e) => format!("(could not read its logs: {e})"),
    }
}

/// Does a container with this name or id exist, running or not?
pub fn exists(container: &str) -> bool {
    let mut command = docker();
    command.args(["inspect", "--format", "{{.Id}}", container]).stdout(Stdio::null()).stderr(Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

/// Removes a container, and its anonymous volumes; the named volumes holding the data stay.
pub fn remove_container(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["rm", "--force", "--volumes", container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// `docker stop`: SIGTERM, then SIGKILL after `grace` (a broker's controlled shutdown).
pub fn stop(container: &str, grace: Duration) -> Result<()> {
    let mut command = docker();
    command.args(["stop", "--time", &grace.as_secs().to_string(), container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// `docker kill`: SIGKILL at once (a crash).
pub fn kill(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["kill", container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// `docker pause`: every process of the container freezes where it is (the cgroup freezer).
pub fn pause(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["pause", container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// `docker unpause`: the container's processes carry on from where they froze.
pub fn unpause(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["unpause", container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// `docker start`: the same container again, with its volumes.
pub fn start(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["start", container]).stdout(Stdio::null());
    command::output(command).map(drop)
}

pub fn volume_exists(name: &str) -> bool {
    let mut command = docker();
    command.args(["volume", "inspect", name]).stdout(Stdio::null()).stderr(Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

pub fn remove_volume(name: &str) -> Result<()> {
    let mut command = docker();
    command.args(["volume", "rm", "--force", name]).stdout(Stdio::null());
    command::output(command).map(drop)
}

pub fn network_exists(name: &str) -> bool {
    let mut command = docker();
    command.args(["network", "inspect", name]).stdout(Stdio::null()).stderr(Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

/// Creates the network ourselves (rather than letting testcontainers do it), so that it
/// outlives this process like the containers do, and `down` removes it.
pub fn create_network(name: &str) -> Result<()> {
    let mut command = docker();
    command.args(["network", "create", name]).stdout(Stdio::null());
    command::output(command).map(drop).with_context(|| format!("creating the Docker network {name}"))
}

pub fn remove_network(name: &str) -> Result<()> {
    let mut command = docker();
    command.args(["network", "rm", name]).stdout(Stdio::null());
    command::output(command).map(drop)
}

/// Pulls `image` unless it is already here, showing Docker's download progress.
pub fn ensure_image(image: &str) -> Result<()> {
    let mut inspect = docker();
    inspect.args(["image", "inspect", image]).stdout(Stdio::null()).stderr(Stdio::null());
    if inspect.status().is_ok_and(|status| status.success()) {
        return Ok(());
    }
    println!("  pulling {image} (once; later runs reuse it)");
    let mut pull = docker();
    pull.args(["pull", image]);
    command::run(pull).with_context(|| format!("pulling the image {image}"))
}

/// Builds the Connect image from docker/connect, showing the build's progress. Docker's layer
/// cache makes a second build take a second, so we always build: a changed Dockerfile is never missed.
pub fn build_image(tag: &str, context: &Path, build_args: &[(&str, &str)]) -> Result<()> {
    println!("  building {tag} from {} (the first build downloads the connector plugins)", context.display());
    let mut build = docker();
    build.arg("build").arg("--tag").arg(tag);
    for (key, value) in build_args {
        build.arg("--build-arg").arg(format!("{key}={value}"));
    }
    build.arg(context);
    command::run(build).with_context(|| format!("building the Kafka Connect image {tag}"))
}

/// The host user's `uid:gid`, read from a directory we created (no libc call needed).
pub fn owner_of(dir: &Path) -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    Ok(format!("{}:{}", meta.uid(), meta.gid()))
}

/// Is the `docker` program itself installed?
pub fn cli_installed() -> bool {
    docker().arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Gives up with one message naming the fix unless the engine can run our containers.
pub async fn require_usable() -> Result<Daemon> {
    let daemon = probe().await;
    if let Some(message) = unusable(&daemon) {
        bail!("{message}");
    }
    Ok(daemon)
}

#[cfg(test)]
mod stand_in;

#[cfg(test)]
pub mod tests {
    use super::*;

    #[test]
    fn api_versions_compare_as_numbers() {
        assert_eq!(parse_api("1.41"), Some((1, 41)));
        assert!(parse_api("1.52").unwrap() > parse_api("1.9").unwrap());
        assert_eq!(parse_api("?"), None);
        assert_eq!(min_api(), "1.41");
    }

    #[test]
    fn the_api_version_is_taken_out_of_a_request_path() {
        assert_eq!(
            strip_api_version("unix://2f7661722f72756e2f646f636b65722e736f636b/v1.52/version").as_deref(),
            Some("unix://2f7661722f72756e2f646f636b65722e736f636b/version")
        );
        assert_eq!(
            strip_api_version("http://h:2375/v1.52/containers/json?all=1").as_deref(),
            Some("http://h:2375/containers/json?all=1")
        );
        assert_eq!(strip_api_version("http://h:2375/version"), None);
        assert_eq!(strip_api_version("http://h:2375/volumes/x"), None);
    }

    #[test]
    fn the_newest_api_is_read_from_the_refusal() {
        let message = "client version 1.52 is too new. Maximum supported API version is 1.41";
        assert_eq!(max_api_in(message).as_deref(), Some("1.41"));
        assert_eq!(max_api_in("something else"), None);
    }

    #[test]
    fn a_context_becomes_docker_host_with_its_tls_files() {
        let colima = r#"[{"Name":"colima","Endpoints":{"docker":{"Host":"unix:///Users/me/.colima/default/docker.sock","SkipTLSVerify":false}},"TLSMaterial":{},"Storage":{"TLSPath":"/Users/me/.docker/contexts/tls/abc"}}]"#;
        assert_eq!(
            context_env(colima),
            [("DOCKER_HOST".to_string(), "unix:///Users/me/.colima/default/docker.sock".to_string())]
        );
        let remote = r#"[{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376"}},"TLSMaterial":{"docker":["ca.pem","cert.pem","key.pem"]},"Storage":{"TLSPath":"/home/me/.docker/contexts/tls/f00"}}]"#;
        assert_eq!(
            context_env(remote),
            [
                ("DOCKER_HOST".to_string(), "tcp://10.0.0.5:2376".to_string()),
                ("DOCKER_TLS_VERIFY".to_string(), "1".to_string()),
                ("DOCKER_CERT_PATH".to_string(), "/home/me/.docker/contexts/tls/f00/docker".to_string()),
            ]
        );
        assert!(context_env("not json").is_empty());
        assert!(context_env("[]").is_empty());
    }

    #[test]
    fn container_states_are_read() {
        let crashed = parse_state("false exited 1\n").unwrap();
        assert_eq!(crashed, ContainerState { running: false, status: "exited".into(), exit_code: 1 });
        assert!(parse_state("true running 0").unwrap().running);
        assert_eq!(parse_state(""), None);
    }

    #[tokio::test]
    async fn without_a_daemon_the_probe_says_absent() {
        let daemon = probe().await;
        assert!(matches!(daemon, Daemon::Absent { .. }), "{daemon:?}");
        let message = unusable(&daemon).unwrap();
        assert!(message.contains("Start Docker") && message.contains("--backend local"), "{message}");
    }

    async fn probe_stand_in(
        engine: &'static str,
        api: &'static str,
        refuse_first: bool,
    ) -> (Daemon, String, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let seen = stand_in::serve(&socket, engine, api, refuse_first);
        let endpoint = format!("unix://{}", socket.display());
        // The client testcontainers builds: bollard at its default API version.
        let client = bollard::Docker::connect_with_unix(&endpoint, 5, bollard::API_DEFAULT_VERSION).unwrap();
        let daemon = probe_with(client, &endpoint).await;
        let seen = seen.lock().unwrap().clone();
        (daemon, endpoint, seen)
    }

    #[tokio::test]
    async fn an_engine_older_than_the_minimum_is_named_with_what_it_speaks() {
        let (daemon, endpoint, _) = probe_stand_in("19.03.15", "1.40", false).await;
        assert_eq!(
            daemon,
            Daemon::TooOld { endpoint: endpoint.clone(), engine: "19.03.15".into(), api: "1.40".into() }
        );
        let message = unusable(&daemon).unwrap();
        for expected in
            ["Docker 19.03.15", "API 1.40", "Docker Engine 20.10 or newer", "API 1.41", &endpoint, "--backend local"]
        {
            assert!(message.contains(expected), "{expected:?} missing in:\n{message}");
        }
    }

    #[tokio::test]
    async fn docker_20_10_serves_testcontainers_requests() {
        let (daemon, endpoint, _) = probe_stand_in("20.10.24", "1.41", false).await;
        assert_eq!(daemon, Daemon::Ready { endpoint, engine: "20.10.24".into(), api: "1.41".into() });
        assert_eq!(unusable(&daemon), None);
    }

    #[tokio::test]
    async fn an_engine_that_refuses_the_clients_version_is_asked_again_without_it() {
        let (daemon, endpoint, seen) = probe_stand_in("28.5.1", "1.51", true).await;
        assert_eq!(daemon, Daemon::TooOld { endpoint, engine: "28.5.1".into(), api: "1.51".into() });
        assert_eq!(seen, ["GET /version HTTP/1.1", "GET /version HTTP/1.1"]);
    }

    #[tokio::test]
    async fn the_pinned_bollard_sends_no_api_version_in_its_paths() {
        // Why Docker Engines older than bollard's API_DEFAULT_VERSION (1.52) serve testcontainers.
        // If this fails, bollard now sends `/v1.52/...`: every engine older than 29.0 will refuse
        // testcontainers with "client version 1.52 is too new". Raise MIN_API to bollard's version.
        let (_, _, seen) = probe_stand_in("20.10.24", "1.41", false).await;
        assert_eq!(
            seen,
            ["GET /version HTTP/1.1"],
            "bollard {} sends its version in the path now; MIN_API must become it",
            bollard::API_DEFAULT_VERSION
        );
    }
}
