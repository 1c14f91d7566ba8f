//! The `local` backend: Kafka and Connect as JVM child processes from Maven Central jars,
//! MariaDB as a private `mariadbd`. Everything listens on 127.0.0.1; pids, logs and data
//! live under .workbook/.
//!
//! The Connect worker gets addresses of its own, as it does in Docker: each broker's INTERNAL
//! listener, MariaDB's extra port, and `.workbook/connect-files` (a second name for
//! `.workbook/files`). Nothing needs them on one machine; they are there so that a connector
//! configured with your view of an address (rather than Connect's) is caught here too.

mod broker;
mod connect;
pub mod jars;
mod java;
mod kafka;
mod mariadb;

pub use broker::{freeze_broker, start_broker, stop_broker};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use workbook_support::env as contract;
use workbook_support::wait;

use crate::description::{self, KafkaNode};
use crate::environment::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::tools::Tool;
use crate::{ports, prereqs, process, readiness};

/// How long each service may take to become ready on a slow machine.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(90);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(180);
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Are this backend's prerequisites installed (Java 17+, MariaDB, and the jars or a way to get
/// them)? Checked without downloading anything, so `up` can choose a backend.
pub fn prerequisites(with_connect: bool) -> Result<()> {
    prereqs::java()?;
    prereqs::mariadb()?;
    jars::available(with_connect)
}

/// The ports of one `up`.
struct Ports {
    connect: Option<u16>,
    mariadb: u16,
    mariadb_connect: u16,
}

pub async fn up(options: &UpOptions, layout: &Layout) -> Result<Running> {
    // Every prerequisite is checked before anything starts, so a missing one leaves nothing behind.
    let java = prereqs::java()?;
    let mariadb_bin = prereqs::mariadb()?;
    let with_connect = !options.no_connect;
    let runtime = jars::ensure(with_connect)?;
    println!("  Kafka {} jars: {}", crate::versions::KAFKA, runtime.libs.display());

    let mut taken = Vec::new();
    let nodes = kafka::plan(options.brokers, options.kafka_port, &mut taken)?;
    let connect_port = match with_connect {
        true => Some(ports::choose("Kafka Connect", options.connect_port, ports::CONNECT_PORT, &taken)?),
        false => None,
    };
    taken.extend(connect_port);
    let mariadb_port = ports::choose("MariaDB", options.mariadb_port, ports::MARIADB_PORT, &taken)?;
    taken.push(mariadb_port);
    let mariadb_connect = ports::choose(
        "MariaDB's Connect port",
        None,
        options.mariadb_port.map_or(ports::MARIADB_CONNECT_PORT, |p| p.saturating_add(1)),
        &taken,
    )?;
    let ports = Ports { connect: connect_port, mariadb: mariadb_port, mariadb_connect };

    std::fs::create_dir_all(layout.logs())?;
    prepare_files_dir(layout)?;
    kafka::write_configs(layout, &nodes)?;
    kafka::format_storage(&java, &runtime, layout, &nodes)?;
    let fresh_database = mariadb::install_if_new(&mariadb_bin, layout)?;

    let mut launch = Launch { started: Vec::new() };
    let result =
        start_and_wait(&mut launch, &java, &runtime, layout, &nodes, &ports, &mariadb_bin, fresh_database).await;
    match result {
        Ok(env) => {
            let components = launch.started.iter().map(|s| s.component.clone()).collect();
            let state = State::new(Backend::Local, options.brokers, with_connect, layout, components);
            Ok(Running { state, env })
        }
        Err(error) => {
            eprintln!("Start failed; stopping what was started.");
            launch.stop_all();
            Err(error)
        }
    }
}

/// `.workbook/files` (yours) and `.workbook/connect-files`, the same directory under the name
/// the Connect worker is given.
fn prepare_files_dir(layout: &Layout) -> Result<()> {
    let files = layout.files();
    std::fs::create_dir_all(&files).with_context(|| format!("creating {}", files.display()))?;
    let link = layout.connect_files_link();
    if std::fs::read_link(&link).is_ok_and(|target| target == Path::new("files")) {
        return Ok(());
    }
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(&link).with_context(|| format!("replacing {}", link.display()))?;
    }
    std::os::unix::fs::symlink("files", &link).with_context(|| format!("creating the link {}", link.display()))
}

#[allow(clippy::too_many_arguments)]
async fn start_and_wait(
    launch: &mut Launch,
    java: &Path,
    runtime: &jars::Runtime,
    layout: &Layout,
    nodes: &[KafkaNode],
    ports: &Ports,
    mariadb_bin: &prereqs::MariaDbBinaries,
    fresh_database: bool,
) -> Result<BTreeMap<String, String>> {
    let started = Instant::now();
    // MariaDB and the brokers start side by side; Connect needs the brokers, so it comes after.
    let (child, log) = mariadb::start(mariadb_bin, layout, ports.mariadb, ports.mariadb_connect)?;
    launch.add("mariadb", format!("{}:{}", ports::HOST, ports.mariadb), child, log);
    for node in nodes {
        let (child, log) = kafka::start(java, runtime, layout, node.id)?;
        launch.add(&format!("kafka-{}", node.id), node.host.advertised.to_string(), child, log);
    }
    println!("  started MariaDB and {} Kafka node(s); waiting for them to answer", nodes.len());

    let bootstrap = description::host_bootstrap(nodes);
    let internal = description::internal_bootstrap(nodes);
    let cluster = readiness::kafka(&bootstrap, nodes.len(), KAFKA_TIMEOUT, || launch.ensure_alive("kafka")).await?;
    let ids: Vec<String> = cluster.brokers.iter().map(|b| b.id.to_string()).collect();
    println!("  Kafka ready after {:.1} s: brokers [{}]", started.elapsed().as_secs_f64(), ids.join(", "));
    // Ask the metadata quorum for its leader (the active controller) while Connect and MariaDB
    // start: the tool's JVM takes a second or two, time those two need anyway.
    let controller = tokio::task::spawn_blocking({
        let command = quorum_status(java, runtime, &bootstrap);
        move || crate::command::output(command)
    });

    let plugin_path = runtime.plugin_path.clone();
    if let (Some(port), Some(plugin_path)) = (ports.connect, &plugin_path) {
        let config = connect::write_config(layout, &connect::worker(&internal, port, plugin_path, nodes.len()))?;
        let (child, log) = connect::start(java, runtime, layout, &config)?;
        launch.add("connect", connect_url(port), child, log);
    }

    let quorum = controller.await.context("the quorum query panicked")??;
    let leader = readiness::parse_quorum_leader(&String::from_utf8_lossy(&quorum.stdout))?;
    println!("  Kafka's active controller (metadata quorum leader): node {leader}");

    let credentials = mariadb::initialise(layout, fresh_database, || launch.ensure_alive("mariadb")).await?;
    let database_url = mariadb::database_url(&credentials, ports.mariadb);
    let connect_database_url = mariadb::database_url(&credentials, ports.mariadb_connect);
    readiness::mariadb(&database_url, Duration::from_secs(30)).await?;
    readiness::mariadb(&connect_database_url, Duration::from_secs(10)).await?;
    println!("  MariaDB ready after {:.1} s: database mydb, users workbook and cdc", started.elapsed().as_secs_f64());

    if let Some(port) = ports.connect {
        let plugins =
            readiness::connect(&connect_url(port), CONNECT_TIMEOUT, || launch.ensure_alive("connect")).await?;
        println!("  Kafka Connect ready after {:.1} s: {} plugins", started.elapsed().as_secs_f64(), plugins.len());
    }

    let mut env = BTreeMap::from([
        (contract::KAFKA_BOOTSTRAP_SERVERS.to_string(), bootstrap),
        (contract::CONNECT_BOOTSTRAP_SERVERS.to_string(), internal),
        (contract::DATABASE_URL.to_string(), database_url),
        (contract::CONNECT_DATABASE_URL.to_string(), connect_database_url),
        (contract::WORKBOOK_FILES_DIR.to_string(), layout.files().display().to_string()),
        (contract::CONNECT_FILES_DIR.to_string(), layout.connect_files_link().display().to_string()),
        (contract::CDC_USER.to_string(), description::CDC_USER.to_string()),
        (contract::CDC_PASSWORD.to_string(), credentials.cdc.clone()),
        (contract::MARIADB_ROOT_PASSWORD.to_string(), credentials.root.clone()),
    ]);
    if let Some(plugin_path) = plugin_path {
        env.insert(contract::CONNECT_PLUGIN_PATH.to_string(), plugin_path.display().to_string());
    }
    // Without Connect (`--no-connect`) there is no URL: a chapter that needs the worker says so.
    if let Some(port) = ports.connect {
        env.insert(contract::CONNECT_URL.to_string(), connect_url(port));
    }
    Ok(env)
}

/// `kafka-metadata-quorum --bootstrap-server … describe --status`
fn quorum_status(java: &Path, runtime: &jars::Runtime, bootstrap: &str) -> std::process::Command {
    let mut command = java::tool(java, runtime, "org.apache.kafka.tools.MetadataQuorumCommand");
    command.args(["--bootstrap-server", bootstrap, "describe", "--status"]);
    command
}

fn connect_url(port: u16) -> String {
    format!("http://{}:{port}", ports::HOST)
}

/// What this `up` started so far, so a failure can stop exactly that.
struct Launch {
    started: Vec<Started>,
}

struct Started {
    component: Component,
    /// Our handle on the process: asking it is exact, while /proc may still show the
    /// parent's command line for a moment after a spawn.
    child: RefCell<Child>,
    log: PathBuf,
}

impl Launch {
    fn add(&mut self, name: &str, address: String, child: Child, log: PathBuf) {
        let component = Component {
            name: name.to_string(),
            address,
            pid: Some(child.id()),
            container: None,
            log: Some(log.clone()),
        };
        self.started.push(Started { component, child: RefCell::new(child), log });
    }

    /// Fails with the last lines of its log if a component whose name starts with `prefix` exited.
    fn ensure_alive(&self, prefix: &str) -> Result<()> {
        for started in self.started.iter().filter(|s| s.component.name.starts_with(prefix)) {
            let exited = started.child.borrow_mut().try_wait().context("asking a child process for its status")?;
            if let Some(status) = exited {
                return Err(wait::fatal(format!(
                    "{} exited during start-up ({status}). The end of {}:\n{}",
                    started.component.name,
                    started.log.display(),
                    process::log_tail(&started.log, 25)
                )));
            }
        }
        Ok(())
    }

    /// Stops everything started so far, through our own handles on the processes.
    fn stop_all(&mut self) {
        for started in &self.started {
            let pid = nix::unistd::Pid::from_raw(started.child.borrow().id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        for started in &self.started {
            let mut child = started.child.borrow_mut();
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Stops the processes recorded in `state`.
pub fn down(state: &State) -> Result<()> {
    stop_in_order(&state.components, &state.marker)
}

/// Connect first (it needs the brokers to shut down cleanly), then all brokers together
/// (a KRaft quorum must not lose its majority halfway), then MariaDB.
fn stop_in_order(components: &[Component], marker: &str) -> Result<()> {
    let groups: [&dyn Fn(&str) -> bool; 3] =
        [&|name| name == "connect", &|name| name.starts_with("kafka"), &|name| name == "mariadb"];
    for in_group in groups {
        let members: Vec<&Component> = components.iter().filter(|c| in_group(&c.name)).collect();
        let pids: Vec<u32> = members.iter().filter_map(|c| c.pid).collect();
        if pids.is_empty() {
            continue;
        }
        let names: Vec<&str> = members.iter().map(|c| c.name.as_str()).collect();
        let started = Instant::now();
        let stopped = process::stop_together(&pids, marker, STOP_GRACE)
            .with_context(|| format!("stopping {}", names.join(", ")))?;
        match stopped {
            0 => println!("  {} not running", names.join(", ")),
            _ => println!("  stopped {} in {:.1} s", names.join(", "), started.elapsed().as_secs_f64()),
        }
    }
    Ok(())
}

/// Is this component's process still there (and still ours)?
pub fn is_alive(state: &State, component: &Component) -> bool {
    component.pid.is_some_and(|pid| process::is_ours(pid, &state.marker))
}

/// Fails, with the end of its log, when the component's process has exited.
pub fn ensure_running(state: &State, component: &Component) -> Result<()> {
    if is_alive(state, component) {
        return Ok(());
    }
    let log = component.log.as_ref().map(|log| process::log_tail(log, 25)).unwrap_or_default();
    Err(wait::fatal(format!("{} exited while starting. Its log ends:\n{log}", component.name)))
}

/// The command that runs Kafka tool `tool` from the jars, as its `bin/` script would.
pub fn tool_command(tool: &Tool, args: &[String]) -> Result<std::process::Command> {
    let java = prereqs::java()?;
    let runtime = jars::ensure(false)?;
    let mut command = java::tool(&java, &runtime, tool.main_class);
    command.args(args);
    Ok(command)
}

#[cfg(test)]
pub fn node_for_tests(id: u32, host: u16, internal: u16, controller: u16) -> KafkaNode {
    kafka::node(id, host, internal, controller)
}

#[cfg(test)]
pub fn worker_for_tests(internal_bootstrap: &str, port: u16, brokers: usize) -> description::Worker {
    connect::worker(internal_bootstrap, port, Path::new("/cache/plugins"), brokers)
}
