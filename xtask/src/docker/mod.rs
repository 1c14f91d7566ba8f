//! The `docker` backend: the same three services as the `local` one, as containers started
//! through testcontainers: `apache/kafka` nodes, `mariadb`, and a Connect worker image built
//! from docker/connect. docker/compose.yaml describes the very same containers for use by hand.
//!
//! The containers are marked reusable, so they outlive `cargo xtask up`; their ids go to
//! `.workbook/state.json`, and `cargo xtask down` removes them (and the network) by id.

mod engine;
mod spec;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use testcontainers::bollard::models::HostConfig;
use testcontainers::core::{IntoContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerRequest, GenericImage, ImageExt, ReuseDirective};
use workbook_support::env as contract;

use self::spec::{ConnectHost, ContainerSpec, KafkaNode, Passwords};
use crate::backend::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::{ports, readiness, secrets, versions};

/// Deadlines for readiness; generous because a first start on a small machine is slow.
const KAFKA_READY: Duration = Duration::from_secs(120);
const MARIADB_READY: Duration = Duration::from_secs(120);
const CONNECT_READY: Duration = Duration::from_secs(180);

pub fn daemon_answers() -> bool {
    engine::daemon_answers()
}

pub fn is_running(container: &str) -> bool {
    engine::is_running(container)
}

/// Everything `up` decided before starting anything: ports, passwords, containers.
struct Plan {
    nodes: Vec<KafkaNode>,
    mariadb_port: u16,
    connect_port: u16,
    passwords: Passwords,
    kafka: Vec<ContainerSpec>,
    mariadb: ContainerSpec,
    connect: Option<ContainerSpec>,
}

impl Plan {
    fn all(&self) -> impl Iterator<Item = &ContainerSpec> {
        self.kafka.iter().chain([&self.mariadb]).chain(&self.connect)
    }
}

pub async fn up(options: &UpOptions, layout: &Layout) -> Result<Running> {
    // First, before anything is created: without a daemon there is nothing to clean up.
    engine::require_daemon()?;
    let plan = plan(options, layout)?;
    prepare_images(&plan)?;
    remove_leftovers(&plan)?;
    let created_network = !engine::network_exists(spec::NETWORK);
    if created_network {
        engine::create_network(spec::NETWORK)?;
    }
    let mut started = Vec::new();
    match start_and_wait(&plan, &mut started).await {
        Ok(()) => Ok(running(&plan, &started, layout)),
        Err(error) => {
            println!("  starting failed; removing what was started");
            remove_all(&started, created_network);
            Err(error)
        }
    }
}

fn plan(options: &UpOptions, layout: &Layout) -> Result<Plan> {
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
        nodes.push(KafkaNode { id, host_port });
    }
    let connect_port = ports::choose("Kafka Connect", options.connect_port, ports::CONNECT_PORT, &taken)?;
    taken.push(connect_port);
    let mariadb_port = ports::choose("MariaDB", options.mariadb_port, ports::MARIADB_PORT, &taken)?;
    let passwords = Passwords { root: secrets::password()?, workbook: secrets::password()?, cdc: secrets::password()? };
    let connect = if options.no_connect {
        None
    } else {
        let files_dir = layout.connect_files();
        std::fs::create_dir_all(&files_dir).with_context(|| format!("creating {}", files_dir.display()))?;
        let host = ConnectHost { files_dir: files_dir.display().to_string(), user: engine::owner_of(&files_dir)? };
        Some(spec::connect_spec(connect_port, &nodes, &host))
    };
    Ok(Plan {
        kafka: nodes.iter().map(|node| spec::kafka_spec(node, &nodes)).collect(),
        mariadb: spec::mariadb_spec(mariadb_port, &passwords),
        connect,
        nodes,
        mariadb_port,
        connect_port,
        passwords,
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

/// Containers keep fixed names (the names other containers reach them by). A stopped one with
/// our name is a leftover of an earlier run: remove it, or testcontainers would reuse it with
/// its old passwords. A running one belongs to someone else's environment: do not touch it.
fn remove_leftovers(plan: &Plan) -> Result<()> {
    for spec in plan.all() {
        let name = &spec.container_name;
        if !engine::exists(name) {
            continue;
        }
        if engine::is_running(name) {
            bail!(
                "a container named {name} is already running, but this checkout's .workbook/state.json does not list it\n\
                 (another checkout of the workbook, or docker/compose.yaml started by hand).\n\
                 Stop it (`docker rm -f {name}`, or `docker compose -f docker/compose.yaml down`) and run `cargo xtask up` again"
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
    container_name: String,
    id: String,
    address: String,
}

async fn start_and_wait(plan: &Plan, started: &mut Vec<Started>) -> Result<()> {
    // All Kafka nodes first: a 3-node quorum only elects a controller once a majority is up.
    for (spec, node) in plan.kafka.iter().zip(&plan.nodes) {
        started.push(start(spec, node.host_address()).await?);
    }
    started.push(start(&plan.mariadb, format!("127.0.0.1:{}", plan.mariadb_port)).await?);
    wait_for_kafka(&plan.nodes).await.map_err(|e| with_logs(e, &plan.kafka[0].container_name))?;
    wait_for_mariadb(&database_url(plan)).await.map_err(|e| with_logs(e, &plan.mariadb.container_name))?;
    // Connect stores its state in Kafka topics, so it starts once the brokers answer.
    if let Some(connect) = &plan.connect {
        started.push(start(connect, connect_url(plan)).await?);
        wait_for_connect(&connect_url(plan)).await.map_err(|e| with_logs(e, &connect.container_name))?;
    }
    Ok(())
}

async fn start(spec: &ContainerSpec, address: String) -> Result<Started> {
    println!("  starting {} ({}) on {address}", spec.container_name, spec.image_ref());
    let container = request(spec)
        .start()
        .await
        .with_context(|| format!("starting the container {} ({})", spec.container_name, spec.image_ref()))?;
    Ok(Started {
        service: spec.service.clone(),
        container_name: spec.container_name.clone(),
        id: container.id().to_string(),
        address,
    })
    // `container` drops here; being reusable, the container keeps running.
}

/// The testcontainers request for one spec.
fn request(spec: &ContainerSpec) -> ContainerRequest<GenericImage> {
    let mut request = GenericImage::new(spec.image.as_str(), spec.tag.as_str())
        .with_container_name(&spec.container_name)
        .with_network(spec::NETWORK)
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

/// Ready when the cluster's metadata lists every broker (which needs an elected controller).
async fn wait_for_kafka(nodes: &[KafkaNode]) -> Result<()> {
    let bootstrap = spec::host_bootstrap(nodes);
    println!("  waiting for Kafka at {bootstrap} to list {} broker(s)", nodes.len());
    readiness::kafka(&bootstrap, nodes.len(), KAFKA_READY, || Ok(())).await.map(drop)
}

/// Ready when the workbook user can log in (after the image's first-start initialisation).
async fn wait_for_mariadb(database_url: &str) -> Result<()> {
    println!("  waiting for MariaDB to accept the workbook user");
    readiness::mariadb(database_url, MARIADB_READY).await
}

/// Ready when the REST API lists every connector plugin the chapters use.
async fn wait_for_connect(connect_url: &str) -> Result<()> {
    println!("  waiting for Kafka Connect at {connect_url} to list its plugins");
    readiness::connect(connect_url, CONNECT_READY, || Ok(())).await.map(drop)
}

/// A readiness error, with the container's last log lines: usually the actual reason.
fn with_logs(error: anyhow::Error, container: &str) -> anyhow::Error {
    let mut logs = engine::docker();
    logs.args(["logs", "--tail", "30", container]);
    match logs.output() {
        Ok(out) => {
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            error.context(format!("{container} is not ready; its last log lines:\n{}", text.trim_end()))
        }
        Err(_) => error,
    }
}

fn database_url(plan: &Plan) -> String {
    let (user, db) = (spec::DATABASE_USER, spec::DATABASE);
    format!("mysql://{user}:{}@127.0.0.1:{}/{db}", plan.passwords.workbook, plan.mariadb_port)
}

fn connect_url(plan: &Plan) -> String {
    format!("http://127.0.0.1:{}", plan.connect_port)
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
    let state = State {
        backend: Backend::Docker,
        brokers: plan.nodes.len() as u32,
        connect: plan.connect.is_some(),
        marker: layout.root.display().to_string(),
        components,
    };
    Running { state, env: env_vars(plan) }
}

/// The `.workbook/env` variables.
fn env_vars(plan: &Plan) -> BTreeMap<String, String> {
    let vars = [
        (contract::KAFKA_BOOTSTRAP_SERVERS, spec::host_bootstrap(&plan.nodes)),
        (contract::DATABASE_URL, database_url(plan)),
        (contract::CONNECT_URL, connect_url(plan)),
        (contract::CDC_USER, spec::CDC_USER.to_string()),
        (contract::CDC_PASSWORD, plan.passwords.cdc.clone()),
        (contract::MARIADB_ROOT_PASSWORD, plan.passwords.root.clone()),
        (contract::CONNECT_DATABASE_URL, spec::database_url_from_connect(&plan.passwords.workbook)),
    ];
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Best effort: remove every container we started, then the network if it is ours.
fn remove_all(started: &[Started], network: bool) {
    for container in started.iter().rev() {
        if let Err(e) = engine::remove_container(&container.id) {
            eprintln!("  warning: could not remove {}: {e:#}", container.container_name);
        }
    }
    if network && let Err(e) = engine::remove_network(spec::NETWORK) {
        eprintln!("  warning: could not remove the network {}: {e:#}", spec::NETWORK);
    }
}

pub fn down(state: &State) -> Result<()> {
    if !engine::daemon_answers() {
        bail!(
            "no Docker daemon answers, so the workbook's containers cannot be removed now.\n\
             Start Docker and run `cargo xtask down` again"
        );
    }
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
    if engine::network_exists(spec::NETWORK)
        && let Err(e) = engine::remove_network(spec::NETWORK)
    {
        failed.push(format!("network {}: {e:#}", spec::NETWORK));
    }
    if !failed.is_empty() {
        bail!("could not remove everything:\n  {}", failed.join("\n  "));
    }
    Ok(())
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// `docker exec -i <kafka container> /opt/kafka/bin/<tool>.sh <args>`: the real Kafka tools,
/// from the broker's own image.
///
/// Inside the Docker network, 127.0.0.1 is the container itself, so a broker's host address in
/// `args` is replaced by its in-network one, and `--bootstrap-server` is added when missing.
pub fn cli_command(state: &State, tool: &str, args: &[String]) -> Command {
    let brokers: Vec<(&Component, KafkaNode)> = kafka_components(state);
    let container = brokers
        .iter()
        .filter_map(|(component, _)| component.container.as_deref())
        .find(|id| engine::is_running(id))
        .map(str::to_string)
        .unwrap_or_else(|| KafkaNode { id: 1, host_port: 0 }.container_name());
    cli_command_in(&container, &brokers, tool, args)
}

fn kafka_components(state: &State) -> Vec<(&Component, KafkaNode)> {
    state
        .components
        .iter()
        .filter_map(|c| {
            let id = c.name.strip_prefix("kafka-")?.parse().ok()?;
            let host_port = c.address.rsplit(':').next()?.parse().ok()?;
            Some((c, KafkaNode { id, host_port }))
        })
        .collect()
}

fn cli_command_in(container: &str, brokers: &[(&Component, KafkaNode)], tool: &str, args: &[String]) -> Command {
    let tool = tool.trim_end_matches(".sh");
    let mut args: Vec<String> = args.iter().map(|arg| to_network_addresses(arg, brokers)).collect();
    let has_bootstrap =
        args.iter().any(|a| a.starts_with("--bootstrap-server") || a.starts_with("--bootstrap-controller"));
    if !has_bootstrap && takes_bootstrap_server(tool) {
        let nodes: Vec<KafkaNode> = brokers.iter().map(|(_, node)| *node).collect();
        args.push("--bootstrap-server".to_string());
        args.push(spec::network_bootstrap(&nodes));
    }
    let mut command = Command::new("docker");
    command.args(["exec", "-i", container]).arg(format!("/opt/kafka/bin/{tool}.sh")).args(args);
    command
}

/// `127.0.0.1:9092` → `workbook-kafka-1:19092`, also inside comma-separated lists.
fn to_network_addresses(arg: &str, brokers: &[(&Component, KafkaNode)]) -> String {
    let parts: Vec<String> = arg
        .split(',')
        .map(|part| match brokers.iter().find(|(_, node)| node.host_address() == part) {
            Some((_, node)) => node.network_address(),
            None => part.to_string(),
        })
        .collect();
    parts.join(",")
}

/// Tools that talk to brokers through `--bootstrap-server` (others, like kafka-storage, do not).
fn takes_bootstrap_server(tool: &str) -> bool {
    const TOOLS: &[&str] = &[
        "kafka-topics",
        "kafka-console-producer",
        "kafka-console-consumer",
        "kafka-consumer-groups",
        "kafka-metadata-quorum",
        "kafka-configs",
        "kafka-acls",
        "kafka-broker-api-versions",
        "kafka-get-offsets",
        "kafka-leader-election",
        "kafka-reassign-partitions",
        "kafka-delete-records",
        "kafka-log-dirs",
        "kafka-features",
        "kafka-transactions",
        "kafka-producer-perf-test",
        "kafka-consumer-perf-test",
        "kafka-groups",
        "kafka-share-groups",
    ];
    TOOLS.contains(&tool)
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
        assert!(error.contains("needs a running Docker engine"), "{error}");
        assert!(error.contains("Start Docker") && error.contains("cargo xtask up --backend local"), "{error}");
        assert!(!layout.root.exists(), "nothing may be created when Docker is missing");
    }

    #[test]
    fn without_a_daemon_nothing_counts_as_running() {
        assert!(!daemon_answers());
        assert!(!is_running("workbook-kafka-1"));
    }

    #[test]
    fn down_without_a_daemon_keeps_the_state_for_a_retry() {
        let state =
            State { backend: Backend::Docker, brokers: 1, connect: false, marker: String::new(), components: vec![] };
        let error = down(&state).unwrap_err().to_string();
        assert!(error.contains("cargo xtask down"), "{error}");
    }

    #[test]
    fn a_request_carries_the_spec_on_the_workbook_network() {
        let cluster = [KafkaNode { id: 1, host_port: 9092 }];
        let spec = spec::kafka_spec(&cluster[0], &cluster);
        let request = request(&spec);
        assert_eq!(request.container_name().as_deref(), Some("workbook-kafka-1"));
        assert_eq!(request.network().as_deref(), Some(spec::NETWORK));
        assert_eq!(request.reuse(), ReuseDirective::Always);
        assert_eq!(request.descriptor(), format!("apache/kafka:{}", versions::KAFKA));
        let env: Vec<(Cow<str>, Cow<str>)> = request.env_vars().collect();
        assert!(env.iter().any(|(k, v)| k == "KAFKA_ADVERTISED_LISTENERS" && v.contains("HOST://127.0.0.1:9092")));
        let ports = request.ports().unwrap();
        assert_eq!((ports[0].host_port(), ports[0].container_port()), (9092, 9092.tcp()));
    }

    #[test]
    fn a_mariadb_request_has_the_binlog_flags_and_the_init_script() {
        let passwords = Passwords { root: "a".into(), workbook: "b".into(), cdc: "c".into() };
        let request = request(&spec::mariadb_spec(3307, &passwords));
        let cmd: Vec<String> = request.cmd().map(|c| c.to_string()).collect();
        assert_eq!(cmd, spec::binlog_flags());
        assert_eq!(request.copy_to_sources().count(), 1);
        assert_eq!(request.descriptor(), "mariadb:11.4");
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

    fn docker_state(brokers: u32) -> State {
        let mut components: Vec<Component> = (1..=brokers)
            .map(|id| Component {
                name: format!("kafka-{id}"),
                address: format!("127.0.0.1:{}", 9090 + 2 * id),
                pid: None,
                container: Some(format!("id{id}")),
                log: None,
            })
            .collect();
        components.push(Component {
            name: "mariadb".into(),
            address: "127.0.0.1:3307".into(),
            pid: None,
            container: Some("idm".into()),
            log: None,
        });
        State { backend: Backend::Docker, brokers, connect: false, marker: String::new(), components }
    }

    fn args_of(command: &Command) -> Vec<String> {
        command.get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn the_cli_runs_the_tool_inside_the_broker_container_with_in_network_addresses() {
        let state = docker_state(3);
        let brokers = kafka_components(&state);
        assert_eq!(brokers.len(), 3, "mariadb is not a broker");
        let command = cli_command_in("id1", &brokers, "kafka-topics", &["--list".to_string()]);
        assert_eq!(command.get_program(), "docker");
        assert_eq!(
            args_of(&command),
            [
                "exec",
                "-i",
                "id1",
                "/opt/kafka/bin/kafka-topics.sh",
                "--list",
                "--bootstrap-server",
                "workbook-kafka-1:19092,workbook-kafka-2:19092,workbook-kafka-3:19092"
            ]
        );
    }

    #[test]
    fn host_addresses_given_to_the_cli_are_translated() {
        let state = docker_state(3);
        let brokers = kafka_components(&state);
        let args =
            ["--bootstrap-server".to_string(), "127.0.0.1:9094,127.0.0.1:9096".to_string(), "--list".to_string()];
        let command = cli_command_in("id1", &brokers, "kafka-topics.sh", &args);
        assert_eq!(
            args_of(&command)[4..],
            ["--bootstrap-server", "workbook-kafka-2:19092,workbook-kafka-3:19092", "--list"]
        );
    }

    #[test]
    fn tools_without_a_bootstrap_flag_get_none() {
        let state = docker_state(1);
        let command = cli_command_in("id1", &kafka_components(&state), "kafka-storage", &["random-uuid".to_string()]);
        assert_eq!(args_of(&command)[3..], ["/opt/kafka/bin/kafka-storage.sh", "random-uuid"]);
    }
}
