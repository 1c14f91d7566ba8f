//! The `local` backend: Kafka and Connect as JVM child processes from Maven Central jars,
//! MariaDB as a private `mariadbd`. Everything listens on 127.0.0.1; pids, logs and data
//! live under .workbook/.

mod connect;
pub mod jars;
mod java;
mod kafka;
mod mariadb;
mod template;

pub use java::tool as java_tool;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use workbook_support::env as contract;
use workbook_support::wait;

use crate::backend::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::{ports, prereqs, process, readiness};

/// How long each service may take to become ready on a slow machine.
const KAFKA_TIMEOUT: Duration = Duration::from_secs(90);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(180);
const STOP_GRACE: Duration = Duration::from_secs(30);

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

    std::fs::create_dir_all(layout.logs())?;
    kafka::write_configs(layout, &nodes)?;
    kafka::format_storage(&java, &runtime, layout, &nodes)?;
    let fresh_database = mariadb::install_if_new(&mariadb_bin, layout)?;

    let mut launch = Launch { marker: layout.root.display().to_string(), started: Vec::new() };
    let result = start_and_wait(
        &mut launch,
        &java,
        &runtime,
        layout,
        &nodes,
        connect_port,
        &mariadb_bin,
        mariadb_port,
        fresh_database,
    )
    .await;
    match result {
        Ok(env) => {
            let state = State {
                backend: Backend::Local,
                brokers: options.brokers,
                connect: with_connect,
                marker: launch.marker.clone(),
                components: launch.started.iter().map(|s| s.component.clone()).collect(),
            };
            Ok(Running { state, env })
        }
        Err(error) => {
            eprintln!("Start failed; stopping what was started.");
            launch.stop_all();
            Err(error)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn start_and_wait(
    launch: &mut Launch,
    java: &std::path::Path,
    runtime: &jars::Runtime,
    layout: &Layout,
    nodes: &[kafka::Node],
    connect_port: Option<u16>,
    mariadb_bin: &prereqs::MariaDbBinaries,
    mariadb_port: u16,
    fresh_database: bool,
) -> Result<BTreeMap<String, String>> {
    let started = Instant::now();
    // MariaDB and the brokers start side by side; Connect needs the brokers, so it comes after.
    let (child, log) = mariadb::start(mariadb_bin, layout, mariadb_port)?;
    launch.add("mariadb", format!("{}:{mariadb_port}", ports::HOST), child, log);
    for node in nodes {
        let (child, log) = kafka::start(java, runtime, layout, node)?;
        launch.add(&format!("kafka-{}", node.id), node.bootstrap(), child, log);
    }
    println!("  started MariaDB and {} Kafka node(s); waiting for them to answer", nodes.len());

    let bootstrap = kafka::bootstrap_servers(nodes);
    let cluster = readiness::kafka(&bootstrap, nodes.len(), KAFKA_TIMEOUT, || launch.ensure_alive("kafka")).await?;
    let ids: Vec<String> = cluster.brokers.iter().map(|b| b.id.to_string()).collect();
    println!("  Kafka ready after {:.1} s: brokers [{}]", started.elapsed().as_secs_f64(), ids.join(", "));
    // Ask the metadata quorum for its leader (the active controller) while Connect and MariaDB
    // start: the tool's JVM takes a second or two, time those two need anyway.
    let controller = tokio::task::spawn_blocking({
        let command = quorum_status(java, runtime, &bootstrap);
        move || crate::command::output(command)
    });

    if let Some(port) = connect_port {
        let config = connect::write_config(layout, runtime, &bootstrap, port, nodes.len() as u32)?;
        let (child, log) = connect::start(java, runtime, layout, &config)?;
        launch.add("connect", connect_url(port), child, log);
    }

    let quorum = controller.await.context("the quorum query panicked")??;
    let leader = readiness::parse_quorum_leader(&String::from_utf8_lossy(&quorum.stdout))?;
    println!("  Kafka's active controller (metadata quorum leader): node {leader}");

    let credentials = mariadb::initialise(layout, fresh_database, || launch.ensure_alive("mariadb")).await?;
    let database_url = credentials.database_url(mariadb_port);
    readiness::mariadb(&database_url, Duration::from_secs(30)).await?;
    println!("  MariaDB ready after {:.1} s: database mydb, users workbook and cdc", started.elapsed().as_secs_f64());

    if let Some(port) = connect_port {
        let plugins =
            readiness::connect(&connect_url(port), CONNECT_TIMEOUT, || launch.ensure_alive("connect")).await?;
        println!("  Kafka Connect ready after {:.1} s: {} plugins", started.elapsed().as_secs_f64(), plugins.len());
    }

    let mut env = BTreeMap::from([
        (contract::KAFKA_BOOTSTRAP_SERVERS.to_string(), bootstrap),
        (contract::DATABASE_URL.to_string(), database_url.clone()),
        // Connect runs on this machine too, so it reaches MariaDB at the same address.
        (contract::CONNECT_DATABASE_URL.to_string(), database_url),
        (contract::CDC_USER.to_string(), mariadb::CDC_USER.to_string()),
        (contract::CDC_PASSWORD.to_string(), credentials.cdc.clone()),
        (contract::MARIADB_ROOT_PASSWORD.to_string(), credentials.root.clone()),
    ]);
    // Chapters that do not use Connect still find a URL; it simply does not answer.
    let connect = connect_url(connect_port.unwrap_or(ports::CONNECT_PORT));
    env.insert(contract::CONNECT_URL.to_string(), connect);
    Ok(env)
}

/// `kafka-metadata-quorum --bootstrap-server … describe --status`
fn quorum_status(java: &std::path::Path, runtime: &jars::Runtime, bootstrap: &str) -> std::process::Command {
    let mut command = java::tool(java, runtime, "org.apache.kafka.tools.MetadataQuorumCommand");
    command.args(["--bootstrap-server", bootstrap, "describe", "--status"]);
    command
}

fn connect_url(port: u16) -> String {
    format!("http://{}:{port}", ports::HOST)
}

/// What this `up` started so far, so a failure can stop exactly that.
struct Launch {
    marker: String,
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
