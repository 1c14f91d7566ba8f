//! The `docker` backend: the same three services as the `local` one, with the same settings
//! (`crate::description`), as containers started through testcontainers: `apache/kafka` nodes,
//! `mariadb`, and a Connect worker image built from docker/connect. docker/compose.yaml
//! describes the very same containers for use by hand.
//!
//! Each environment (each `.workbook` directory) has containers, a network and volumes of its
//! own names (`spec::Names`). The containers are marked reusable, so they outlive
//! `cargo xtask up`; their ids go to `.workbook/state.json`. `cargo xtask down` removes the
//! containers and the network and keeps the data (named volumes); `down --purge` removes those too.

mod broker;
mod cli;
mod engine;
pub mod spec;

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use testcontainers::bollard::models::HostConfig;
use testcontainers::core::{IntoContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerRequest, GenericImage, ImageExt, ReuseDirective};
use workbook_support::env as contract;
use workbook_support::wait;

use self::spec::{ConnectHost, ContainerSpec, Names};
use crate::credentials::{self, Credentials};
use crate::description::{self, Address, KafkaNode};
use crate::environment::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::{ports, readiness, versions};
pub use broker::{freeze_broker, start_broker, stop_broker};
pub use cli::tool_command;
pub use engine::{Daemon, MIN_ENGINE, adopt_cli_context, docker as docker_cli, probe};

/// Deadlines for readiness; generous because a first start on a small machine is slow.
const KAFKA_READY: Duration = Duration::from_secs(120);
const MARIADB_READY: Duration = Duration::from_secs(120);
const CONNECT_READY: Duration = Duration::from_secs(180);
/// How many log lines of a failed container to show.
const LOG_LINES: usize = 40;

/// Is this component's container running?
pub fn is_alive(component: &Component) -> bool {
    component.container.as_deref().is_some_and(engine::is_running)
}

/// What the docker backend keeps in `.workbook/data/docker.json` while its volumes exist, so
/// that a later `up` knows what the data was made for, and `down --purge` what to remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub prefix: String,
    pub brokers: u32,
    pub volumes: Vec<String>,
}

impl Record {
    pub fn load(layout: &Layout) -> Result<Option<Record>> {
        match std::fs::read_to_string(layout.docker_record()) {
            Ok(text) => serde_json::from_str(&text).map(Some).context("reading .workbook/data/docker.json"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context("reading .workbook/data/docker.json"),
        }
    }

    fn save(&self, layout: &Layout) -> Result<()> {
        let path = layout.docker_record();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// Everything `up` decided before starting anything: names, ports, passwords, containers.
struct Plan {
    names: Names,
    nodes: Vec<KafkaNode>,
    mariadb_port: u16,
    /// `None` without Connect (`--no-connect`).
    connect_port: Option<u16>,
    credentials: Credentials,
    files_dir: String,
    kafka: Vec<ContainerSpec>,
    mariadb: ContainerSpec,
    connect: Option<ContainerSpec>,
}

impl Plan {
    fn all(&self) -> impl Iterator<Item = &ContainerSpec> {
        self.kafka.iter().chain([&self.mariadb]).chain(&self.connect)
    }

    fn volumes(&self) -> Vec<String> {
        self.all().flat_map(|spec| spec.volumes.iter().map(|(name, _)| name.clone())).collect()
    }
}

pub async fn up(options: &UpOptions, layout: &Layout) -> Result<Running> {
    // First, before anything is created or pulled: an engine that cannot run our containers
    // (absent, or older than the API testcontainers speaks) leaves nothing to clean up.
    let daemon = engine::require_usable().await?;
    if let Daemon::Ready { endpoint, engine, api } = &daemon {
        println!("  Docker {engine} (API {api}) at {endpoint}");
    }
    let names = Names::for_layout(layout);
    let credentials = prepare_data(options, layout, &names)?;
    let plan = plan(options, layout, names, credentials)?;
    // What the volumes are made for, from before they exist: a failed start leaves them (and
    // this record) for the next `up` to reuse, or for `down --purge` to delete.
    Record { prefix: plan.names.prefix.clone(), brokers: options.brokers, volumes: plan.volumes() }.save(layout)?;
    prepare_images(&plan)?;
    remove_leftovers(&plan)?;
    let network = plan.names.network();
    let created_network = !engine::network_exists(&network);
    if created_network {
        engine::create_network(&network)?;
    }
    let mut started = Vec::new();
    match start_and_wait(&plan, &mut started).await {
        Ok(()) => Ok(running(&plan, &started, layout)),
        Err(error) => {
            eprintln!("Start failed; removing the containers that were started (their volumes stay).");
            // By name: a container that was created but failed to start has no id of ours yet.
            let names: Vec<String> = plan.all().map(|spec| spec.container_name.clone()).collect();
            remove_all(&names, created_network.then_some(network.as_str()));
            Err(error)
        }
    }
}

/// Kept volumes are reused when they fit: Kafka's when made for as many brokers, MariaDB's when
/// its passwords are still known. Returns the passwords (kept, or new ones).
fn prepare_data(options: &UpOptions, layout: &Layout, names: &Names) -> Result<Credentials> {
    let record = Record::load(layout)?;
    let kafka_volumes: Vec<String> = (1..=3).map(|id| names.kafka_volume(id)).collect();
    let made_for = record.as_ref().filter(|r| r.prefix == names.prefix).map(|r| r.brokers);
    if made_for != Some(options.brokers) && kafka_volumes.iter().any(|v| engine::volume_exists(v)) {
        println!("  Kafka data was made for another cluster size: starting with empty brokers");
        for volume in kafka_volumes.iter().filter(|v| engine::volume_exists(v)) {
            engine::remove_volume(volume)?;
        }
    }
    let mariadb_volume = names.mariadb_volume();
    if !credentials::exists(layout) && engine::volume_exists(&mariadb_volume) {
        println!("  the passwords of the kept MariaDB data are gone: starting with an empty database");
        engine::remove_volume(&mariadb_volume)?;
    }
    credentials::load_or_generate(layout)
}

fn plan(options: &UpOptions, layout: &Layout, names: Names, credentials: Credentials) -> Result<Plan> {
    let mut taken = Vec::new();
    let mut nodes = Vec::new();
    for index in 0..options.brokers {
        // 9092, 9094, 9096: the local backend's broker ports, so addresses look the same.
        let offset = 2 * index as u16;
        let id = index + 1;
        let what = format!("Kafka broker {id}");
        let host_port =
            ports::choose(&what, options.kafka_port.map(|p| p + offset), ports::KAFKA_PORT + offset, &taken)?;
        taken.push(host_port);
        nodes.push(spec::kafka_node(&names, id, host_port));
    }
    let connect_port = match options.no_connect {
        true => None,
        false => Some(ports::choose("Kafka Connect", options.connect_port, ports::CONNECT_PORT, &taken)?),
    };
    taken.extend(connect_port);
    let mariadb_port = ports::choose("MariaDB", options.mariadb_port, ports::MARIADB_PORT, &taken)?;
    let files_dir = layout.files();
    std::fs::create_dir_all(&files_dir).with_context(|| format!("creating {}", files_dir.display()))?;
    let connect = match connect_port {
        None => None,
        Some(port) => {
            let host = ConnectHost { files_dir: files_dir.display().to_string(), user: engine::owner_of(&files_dir)? };
            Some(spec::connect_spec(&names, port, &nodes, &host))
        }
    };
    Ok(Plan {
        kafka: nodes.iter().map(|node| spec::kafka_spec(&names, node, &nodes)).collect(),
        mariadb: spec::mariadb_spec(&names, mariadb_port, &credentials),
        connect,
        names,
        nodes,
        mariadb_port,
        connect_port,
        credentials,
        files_dir: files_dir.display().to_string(),
    })
}

/// Pulls and builds up front, with progress on the terminal, so that starting is quick and a
/// download that fails leaves no container behind.
fn prepare_images(plan: &Plan) -> Result<()> {
    engine::ensure_image(&plan.kafka[0].image_ref())?;
    engine::ensure_image(&plan.mariadb.image_ref())?;
    if let Some(connect) = &plan.connect {
        let context = workbook_support::env::workspace_root().join("docker").join("connect");
        engine::build_image(&connect.image_ref(), &context, &[("KAFKA_VERSION", versions::KAFKA)])?;
    }
    Ok(())
}

/// A stopped container with one of our names is a leftover of an earlier run: remove it (its
/// data is in the named volumes). A running one is not ours to touch.
fn remove_leftovers(plan: &Plan) -> Result<()> {
    for spec in plan.all() {
        let name = &spec.container_name;
        if !engine::exists(name) {
            continue;
        }
        if engine::is_running(name) {
            bail!(
                "a container named {name} is already running, but this environment's state.json does not list it\n\
                 (an earlier `up` of this environment that lost its .workbook/state.json).\n\
                 Remove it (`docker rm -f {name}`) and run `cargo xtask up` again"
            );
        }
        println!("  removing the stopped container {name} left by an earlier run");
        engine::remove_container(name)?;
    }
    Ok(())
}

/// A container we started: its spec and its id.
struct Started {
    service: String,
    id: String,
    address: String,
}

async fn start_and_wait(plan: &Plan, started: &mut Vec<Started>) -> Result<()> {
    // All Kafka nodes first: a 3-node quorum only elects a controller once a majority is up.
    for (spec, node) in plan.kafka.iter().zip(&plan.nodes) {
        started.push(start(spec, node.host.advertised.to_string()).await?);
    }
    started.push(start(&plan.mariadb, format!("{}:{}", ports::HOST, plan.mariadb_port)).await?);
    let kafka: Vec<String> = plan.kafka.iter().map(|s| s.container_name.clone()).collect();
    wait_for_kafka(&plan.nodes, &kafka).await?;
    wait_for_mariadb(&database_url(plan), &plan.mariadb.container_name).await?;
    // Connect stores its state in Kafka topics, so it starts once the brokers answer.
    if let (Some(connect), Some(url)) = (&plan.connect, connect_url(plan)) {
        started.push(start(connect, url.clone()).await?);
        wait_for_connect(&url, &connect.container_name).await?;
    }
    Ok(())
}

async fn start(spec: &ContainerSpec, address: String) -> Result<Started> {
    println!("  starting {} ({}) on {address}", spec.container_name, spec.image_ref());
    let container = request(spec)
        .start()
        .await
        .with_context(|| format!("starting the container {} ({})", spec.container_name, spec.image_ref()))?;
    Ok(Started { service: spec.service.clone(), id: container.id().to_string(), address })
    // `container` drops here; being reusable, the container keeps running.
}

/// The testcontainers request for one spec.
fn request(spec: &ContainerSpec) -> ContainerRequest<GenericImage> {
    let mut request = GenericImage::new(spec.image.as_str(), spec.tag.as_str())
        .with_container_name(&spec.container_name)
        .with_network(&spec.network)
        .with_label("org.kafka-workbook.service", &spec.service)
        // Reusable containers are not removed when this process ends: `down` removes them.
        .with_reuse(ReuseDirective::Always)
        .with_host_config_modifier(publish_on_loopback_only);
    for (key, value) in &spec.env {
        request = request.with_env_var(key, value);
    }
    for port in &spec.ports {
        request = request.with_mapped_port(port.host, port.container.tcp());
    }
    if !spec.cmd.is_empty() {
        request = request.with_cmd(&spec.cmd);
    }
    for (target, contents) in &spec.files {
        request = request.with_copy_to(target.as_str(), contents.clone().into_bytes());
    }
    for (host, container) in &spec.binds {
        request = request.with_mount(Mount::bind_mount(host, container));
    }
    for (volume, container) in &spec.volumes {
        request = request.with_mount(Mount::volume_mount(volume, container));
    }
    if let Some(user) = &spec.user {
        request = request.with_user(user);
    }
    request
}

/// Docker publishes ports on every interface by default; like the local backend, we listen
/// on 127.0.0.1 only, so nobody else on your network reaches an unauthenticated broker.
fn publish_on_loopback_only(host_config: &mut HostConfig) {
    let bindings = host_config.port_bindings.iter_mut().flat_map(|map| map.values_mut()).flatten();
    for binding in bindings.flatten() {
        binding.host_ip = Some(ports::HOST.to_string());
    }
}

/// Fails at once, with its last log lines, when one of `containers` is no longer running: a
/// container that crashed on start is reported now, not when the wait times out.
fn ensure_running_all(containers: &[String]) -> Result<()> {
    for container in containers {
        match engine::state(container) {
            Some(state) if state.running => {}
            Some(state) => {
                return Err(wait::fatal(format!(
                    "{container} stopped during start-up ({}, exit code {}). Its last log lines:\n{}",
                    state.status,
                    state.exit_code,
                    engine::logs(container, LOG_LINES)
                )));
            }
            None => return Err(wait::fatal(format!("{container} is gone (removed while starting?)"))),
        }
    }
    Ok(())
}

/// Fails with the container's logs if it stopped (for `broker start`'s wait).
pub fn ensure_running(component: &Component) -> Result<()> {
    match &component.container {
        Some(id) => {
            ensure_running_all(std::slice::from_ref(id)).map_err(|e| anyhow::anyhow!("{}: {e:#}", component.name))
        }
        None => Ok(()),
    }
}

/// A readiness timeout, with the last log lines of each container concerned.
fn with_logs(error: anyhow::Error, containers: &[String]) -> anyhow::Error {
    if error.to_string().contains("stopped during start-up") {
        return error;
    }
    let logs: Vec<String> = containers
        .iter()
        .map(|c| format!("--- {c}, last {LOG_LINES} lines ---\n{}", engine::logs(c, LOG_LINES)))
        .collect();
    error.context(format!("{} not ready; their logs:\n{}", containers.join(", "), logs.join("\n")))
}

/// Ready when the cluster's metadata lists every broker (which needs an elected controller).
async fn wait_for_kafka(nodes: &[KafkaNode], containers: &[String]) -> Result<()> {
    let bootstrap = description::host_bootstrap(nodes);
    println!("  waiting for Kafka at {bootstrap} to list {} broker(s)", nodes.len());
    readiness::kafka(&bootstrap, nodes.len(), KAFKA_READY, || ensure_running_all(containers))
        .await
        .map(drop)
        .map_err(|e| with_logs(e, containers))
}

/// Ready when the workbook user can log in (after the image's first-start initialisation).
async fn wait_for_mariadb(database_url: &str, container: &str) -> Result<()> {
    println!("  waiting for MariaDB to accept the workbook user");
    let containers = [container.to_string()];
    readiness::mariadb_checked(database_url, MARIADB_READY, || ensure_running_all(&containers))
        .await
        .map_err(|e| with_logs(e, &containers))
}

/// Ready when the REST API lists every connector plugin the chapters use.
async fn wait_for_connect(connect_url: &str, container: &str) -> Result<()> {
    println!("  waiting for Kafka Connect at {connect_url} to list its plugins");
    let containers = [container.to_string()];
    readiness::connect(connect_url, CONNECT_READY, || ensure_running_all(&containers))
        .await
        .map(drop)
        .map_err(|e| with_logs(e, &containers))
}

fn database_url(plan: &Plan) -> String {
    description::database_url(&plan.credentials.app, &Address::new(ports::HOST.to_string(), plan.mariadb_port))
}

fn connect_url(plan: &Plan) -> Option<String> {
    plan.connect_port.map(|port| format!("http://{}:{port}", ports::HOST))
}

fn running(plan: &Plan, started: &[Started], layout: &Layout) -> Running {
    let components = started
        .iter()
        .map(|s| Component {
            name: s.service.clone(),
            address: s.address.clone(),
            pid: None,
            container: Some(s.id.clone()),
            log: None,
        })
        .collect();
    let state = State::new(Backend::Docker, plan.nodes.len() as u32, plan.connect.is_some(), layout, components);
    Running { state, env: env_vars(plan) }
}

/// The `.workbook/env` variables: each address as your programs see it and as Connect does.
fn env_vars(plan: &Plan) -> BTreeMap<String, String> {
    let connect_database = Address::new(plan.names.mariadb(), spec::MARIADB_PORT);
    let vars = [
        (contract::KAFKA_BOOTSTRAP_SERVERS, description::host_bootstrap(&plan.nodes)),
        (contract::CONNECT_BOOTSTRAP_SERVERS, description::internal_bootstrap(&plan.nodes)),
        (contract::DATABASE_URL, database_url(plan)),
        (contract::CONNECT_DATABASE_URL, description::database_url(&plan.credentials.app, &connect_database)),
        (contract::WORKBOOK_FILES_DIR, plan.files_dir.clone()),
        (contract::CONNECT_FILES_DIR, spec::CONNECT_FILES_DIR.to_string()),
        (contract::CONNECT_PLUGIN_PATH, spec::CONNECT_PLUGIN_PATH.to_string()),
        (contract::CDC_USER, description::CDC_USER.to_string()),
        (contract::CDC_PASSWORD, plan.credentials.cdc.clone()),
        (contract::MARIADB_ROOT_PASSWORD, plan.credentials.root.clone()),
    ];
    // Without Connect (`--no-connect`) there is no URL: a chapter that needs the worker says so.
    let connect = connect_url(plan).map(|url| (contract::CONNECT_URL, url));
    vars.into_iter().chain(connect).map(|(k, v)| (k.to_string(), v)).collect()
}

/// Best effort: remove these containers of ours (not the volumes), then the network if it is ours.
fn remove_all(containers: &[String], network: Option<&str>) {
    for container in containers.iter().rev().filter(|c| engine::exists(c)) {
        if let Err(e) = engine::remove_container(container) {
            eprintln!("  warning: could not remove {container}: {e:#}");
        }
    }
    if let Some(network) = network
        && let Err(e) = engine::remove_network(network)
    {
        eprintln!("  warning: could not remove the network {network}: {e:#}");
    }
}

/// A daemon that answers the CLI (for `down`, `broker`, `purge`).
async fn require_daemon(what: &str) -> Result<()> {
    match engine::probe().await {
        Daemon::Absent { endpoint, why } => bail!(
            "no Docker engine answers at {endpoint} ({why}), so {what} cannot be done now.\n\
             Start Docker and run the command again"
        ),
        _ => Ok(()),
    }
}

/// Removes the containers and the network; the named volumes (the data) stay.
pub async fn down(state: &State, layout: &Layout) -> Result<()> {
    require_daemon("the workbook's containers cannot be removed").await?;
    let mut failed = Vec::new();
    for component in state.components.iter().rev() {
        let Some(id) = &component.container else {
            continue;
        };
        if !engine::exists(id) {
            println!("  {} is already gone", component.name);
            continue;
        }
        println!("  removing {} (container {})", component.name, short(id));
        if let Err(e) = engine::remove_container(id) {
            failed.push(format!("{}: {e:#}", component.name));
        }
    }
    // The names `up` recorded (they are what was created), else this directory's.
    let names = match Record::load(layout)? {
        Some(record) => Names { prefix: record.prefix },
        None => Names::for_layout(layout),
    };
    let network = names.network();
    if engine::network_exists(&network)
        && let Err(e) = engine::remove_network(&network)
    {
        failed.push(format!("network {network}: {e:#}"));
    }
    if !failed.is_empty() {
        bail!("could not remove everything:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

/// `down --purge`: the named volumes recorded in `.workbook/data/docker.json`, if any.
pub async fn purge(layout: &Layout) -> Result<()> {
    let Some(record) = Record::load(layout)? else { return Ok(()) };
    if let Err(e) = require_daemon("the data volumes cannot be deleted").await {
        bail!("{e:#}\nThe volumes are: {} (`docker volume rm` them by hand)", record.volumes.join(" "));
    }
    for volume in record.volumes.iter().filter(|v| engine::volume_exists(v)) {
        engine::remove_volume(volume).with_context(|| format!("removing the volume {volume}"))?;
        println!("  removed the volume {volume}");
    }
    Ok(())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use testcontainers::bollard::models::PortBinding;

    use super::*;

    fn options(brokers: u32) -> UpOptions {
        UpOptions { backend: Some(Backend::Docker), brokers, ..UpOptions::default() }
    }

    #[tokio::test]
    async fn up_without_a_daemon_says_how_to_fix_it_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join(".workbook") };
        let error = up(&options(1), &layout).await.err().expect("no daemon in unit tests").to_string();
        assert!(error.contains("needs a running Docker Engine 20.10 or newer"), "{error}");
        assert!(error.contains("Start Docker") && error.contains("cargo xtask up --backend local"), "{error}");
        assert!(!layout.root.exists(), "nothing may be created when Docker is missing");
    }

    #[test]
    fn without_a_daemon_nothing_counts_as_running() {
        let component = Component {
            name: "kafka-1".into(),
            address: "127.0.0.1:9092".into(),
            pid: None,
            container: Some("workbook-kafka-1".into()),
            log: None,
        };
        assert!(!is_alive(&component));
    }

    #[tokio::test]
    async fn down_without_a_daemon_keeps_the_state_for_a_retry() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join(".workbook") };
        let state = State::new(Backend::Docker, 1, false, &layout, vec![]);
        let error = down(&state, &layout).await.unwrap_err().to_string();
        assert!(error.contains("Start Docker"), "{error}");
    }

    #[tokio::test]
    async fn purge_without_a_daemon_names_the_volumes_left() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join(".workbook") };
        purge(&layout).await.expect("no record, nothing to do");
        let record =
            Record { prefix: "workbook-x".into(), brokers: 1, volumes: vec!["workbook-x-kafka-1-data".into()] };
        record.save(&layout).unwrap();
        assert_eq!(Record::load(&layout).unwrap(), Some(record));
        let error = purge(&layout).await.unwrap_err().to_string();
        assert!(error.contains("workbook-x-kafka-1-data"), "{error}");
    }

    #[test]
    fn a_request_carries_the_spec_on_the_environments_network_with_its_volume() {
        let names = Names { prefix: "workbook-0a1b2c3d".into() };
        let cluster = [spec::kafka_node(&names, 1, 9092)];
        let spec = spec::kafka_spec(&names, &cluster[0], &cluster);
        let request = request(&spec);
        assert_eq!(request.container_name().as_deref(), Some("workbook-0a1b2c3d-kafka-1"));
        assert_eq!(request.network().as_deref(), Some("workbook-0a1b2c3d"));
        assert_eq!(request.reuse(), ReuseDirective::Always);
        assert_eq!(request.descriptor(), format!("apache/kafka:{}", versions::KAFKA));
        let env: Vec<(Cow<str>, Cow<str>)> = request.env_vars().collect();
        assert!(env.iter().any(|(k, v)| k == "KAFKA_ADVERTISED_LISTENERS" && v.contains("HOST://127.0.0.1:9092")));
        let ports = request.ports().unwrap();
        assert_eq!((ports[0].host_port(), ports[0].container_port()), (9092, 9092.tcp()));
        let mounts: Vec<(Option<&str>, Option<&str>)> = request.mounts().map(|m| (m.source(), m.target())).collect();
        assert_eq!(mounts, [(Some("workbook-0a1b2c3d-kafka-1-data"), Some(spec::KAFKA_DATA_DIR))]);
    }

    #[test]
    fn a_mariadb_request_has_the_shared_flags_and_the_init_script() {
        let names = Names { prefix: "workbook-0a1b2c3d".into() };
        let credentials = Credentials { root: "a".into(), app: "b".into(), cdc: "c".into() };
        let request = request(&spec::mariadb_spec(&names, 3307, &credentials));
        let cmd: Vec<String> = request.cmd().map(|c| c.to_string()).collect();
        assert_eq!(cmd, description::mariadb_flags());
        assert_eq!(request.copy_to_sources().count(), 1);
        assert_eq!(request.descriptor(), "mariadb:11.4");
        assert_eq!(request.network().as_deref(), Some("workbook-0a1b2c3d"));
    }

    #[test]
    fn published_ports_bind_to_loopback() {
        let binding = PortBinding { host_ip: None, host_port: Some("9092".into()) };
        let mut host_config = HostConfig {
            port_bindings: Some([("9092/tcp".to_string(), Some(vec![binding]))].into_iter().collect()),
            ..HostConfig::default()
        };
        publish_on_loopback_only(&mut host_config);
        let bindings = host_config.port_bindings.unwrap();
        assert_eq!(bindings["9092/tcp"].as_ref().unwrap()[0].host_ip.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn the_env_file_gives_connect_its_own_view_of_every_address() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join(".workbook") };
        let names = Names { prefix: "workbook-0a1b2c3d".into() };
        let credentials = Credentials { root: "r".into(), app: "a".into(), cdc: "c".into() };
        let plan = plan(&options(3), &layout, names, credentials).unwrap();
        let vars = env_vars(&plan);
        let env = workbook_support::Env::from_sources(|key| vars.get(key).cloned()).unwrap();
        assert!(env.bootstrap_servers.starts_with("127.0.0.1:"));
        assert_eq!(
            env.connect_bootstrap_servers,
            "workbook-0a1b2c3d-kafka-1:19092,workbook-0a1b2c3d-kafka-2:19092,workbook-0a1b2c3d-kafka-3:19092"
        );
        assert_eq!(env.connect_database_url, "mysql://workbook:a@workbook-0a1b2c3d-mariadb:3306/mydb");
        assert_eq!(env.files_dir, layout.files());
        assert_eq!(env.connect_files_dir, "/workbook/files");
        assert_eq!(env.connect_plugin_path.as_deref(), Some("/opt/kafka/plugins"));
        let connect = plan.connect.as_ref().unwrap();
        assert_eq!(connect.binds, vec![(layout.files().display().to_string(), "/workbook/files".to_string())]);
    }
}
