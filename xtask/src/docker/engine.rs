//! The few things we ask the `docker` command line directly: is a daemon there, pull and
//! build images (with their progress on your terminal), create the network, remove containers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::command;

/// How long `docker info` may take before we call the daemon absent.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(3);

/// The `docker` command line. Unit tests point it at a socket that does not exist, so they
/// never touch (or depend on) a real daemon, on any machine.
pub fn docker() -> Command {
    let mut command = Command::new("docker");
    if cfg!(test) {
        command.args(["--host", "unix:///nonexistent/kafka-workbook-test.sock"]);
    }
    command
}

/// Does a Docker daemon answer within a few seconds? (False when `docker` is not installed.)
pub fn daemon_answers() -> bool {
    let mut command = docker();
    command.args(["info", "--format", "{{.ServerVersion}}"]).stdout(Stdio::null()).stderr(Stdio::null());
    let Ok(mut child) = command.spawn() else {
        return false; // not installed, or not on PATH
    };
    let deadline = Instant::now() + DAEMON_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                // A daemon that hangs is as good as none; do not leave the client behind.
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// Is this container running? (Anything else, including "no such container", is no.)
pub fn is_running(container: &str) -> bool {
    let mut command = docker();
    command.args(["inspect", "--format", "{{.State.Running}}", container]).stderr(Stdio::null());
    command.output().is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "true")
}

/// Does a container with this name or id exist, running or not?
pub fn exists(container: &str) -> bool {
    let mut command = docker();
    command.args(["inspect", "--format", "{{.Id}}", container]).stdout(Stdio::null()).stderr(Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

/// Removes a container and its anonymous volumes (the data Kafka and MariaDB kept in it).
pub fn remove_container(container: &str) -> Result<()> {
    let mut command = docker();
    command.args(["rm", "--force", "--volumes", container]).stdout(Stdio::null());
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

/// Fails with `what` if the `docker` program itself is missing (for a clearer message).
pub fn cli_installed() -> bool {
    docker().arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Gives up with one message naming the fix when no daemon answers.
pub fn require_daemon() -> Result<()> {
    if daemon_answers() {
        return Ok(());
    }
    let why = if cli_installed() {
        "the `docker` command is installed, but no Docker daemon answers (is Docker running?)"
    } else {
        "the `docker` command is not installed"
    };
    bail!(
        "the docker backend needs a running Docker engine: {why}.\n\
         Start Docker (Docker Desktop, or `sudo systemctl start docker`) and run `cargo xtask up` again,\n\
         or run everything without Docker: `cargo xtask up --backend local`"
    )
}
