//! What the docker backend starts, as plain data: one [`ContainerSpec`] per container.
//!
//! Everything here is a pure function of the chosen ports and passwords, so the tests can
//! check every listener, port and grant without a Docker daemon, and `docker/compose.yaml`
//! is checked against the same functions (see [`render_compose`]).

use crate::versions;

/// The one Docker network all containers join; on it they find each other by container name.
pub const NETWORK: &str = "kafka-workbook";

/// KRaft needs a cluster id before the first start (`kafka-storage format`); every node of one
/// cluster must share it. Any 16 bytes in URL-safe base64 will do: these spell "kafka-workbook!!".
/// Fixed rather than random so that docker/compose.yaml can use the very same one.
pub const CLUSTER_ID: &str = "a2Fma2Etd29ya2Jvb2shIQ";

/// Ports inside the Kafka containers (the host side is chosen by `cargo xtask up`).
pub const KAFKA_HOST_LISTENER_PORT: u16 = 9092;
pub const KAFKA_DOCKER_LISTENER_PORT: u16 = 19092;
pub const KAFKA_CONTROLLER_PORT: u16 = 9093;
/// MariaDB and Connect keep their usual ports inside their containers.
pub const MARIADB_PORT: u16 = 3306;
pub const CONNECT_PORT: u16 = 8083;

/// The database, users and the CDC user every backend creates (the seed notes' `mydb`).
pub const DATABASE: &str = "mydb";
pub const DATABASE_USER: &str = "workbook";
pub const CDC_USER: &str = "cdc";

/// Where the Connect image keeps its plugins and its worker settings (see docker/connect/Dockerfile).
pub const CONNECT_PLUGIN_PATH: &str = "/opt/kafka/plugins";
pub const CONNECT_PROPERTIES_PATH: &str = "/opt/kafka/config/workbook-connect.properties";

/// The init script that creates the CDC user, run once by the mariadb image on an empty datadir.
pub const CDC_INIT_SCRIPT: &str = include_str!("../../../docker/mariadb-init/10-cdc-user.sh");
pub const CDC_INIT_SCRIPT_NAME: &str = "10-cdc-user.sh";
pub const MARIADB_INIT_DIR: &str = "/docker-entrypoint-initdb.d";

/// Heap of each JVM container, as the local backend gives each of its JVMs (a 3-broker
/// cluster plus Connect must fit on a laptop; Kafka's own default is 1 GiB per broker).
const JVM_HEAP: &str = "-Xms128m -Xmx512m";

/// One container: what the backend asks Docker for, and what compose.yaml spells out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The compose service name, and the component name in `.workbook/state.json`: `kafka-1`, `mariadb`, `connect`.
    pub service: String,
    /// The container name, which is also its host name on [`NETWORK`]: `workbook-kafka-1`.
    pub container_name: String,
    pub image: String,
    pub tag: String,
    pub env: Vec<(String, String)>,
    pub ports: Vec<PortMapping>,
    /// Arguments after the image's entrypoint (empty: the image's own command).
    pub cmd: Vec<String>,
    /// Files written into the container before it starts: (path in the container, contents).
    pub files: Vec<(String, String)>,
    /// Host directories shared with the container: (host path, container path).
    pub binds: Vec<(String, String)>,
    /// Run as this `uid:gid` instead of the image's user.
    pub user: Option<String>,
}

/// A container port published on the host, on 127.0.0.1 only (as every backend listens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMapping {
    pub host: u16,
    pub container: u16,
}

impl ContainerSpec {
    pub fn image_ref(&self) -> String {
        format!("{}:{}", self.image, self.tag)
    }

    #[cfg(test)]
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// One combined broker + controller node, and the host port its clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaNode {
    pub id: u32,
    pub host_port: u16,
}

impl KafkaNode {
    pub fn container_name(&self) -> String {
        format!("workbook-kafka-{}", self.id)
    }

    /// Where programs on your machine reach this broker.
    pub fn host_address(&self) -> String {
        format!("127.0.0.1:{}", self.host_port)
    }

    /// Where other containers (Connect, the CLI tools) reach this broker.
    pub fn network_address(&self) -> String {
        format!("{}:{KAFKA_DOCKER_LISTENER_PORT}", self.container_name())
    }
}

/// `1@workbook-kafka-1:9093,2@…`: every node lists every voter of the controller quorum.
pub fn quorum_voters(nodes: &[KafkaNode]) -> String {
    let voters: Vec<String> =
        nodes.iter().map(|n| format!("{}@{}:{KAFKA_CONTROLLER_PORT}", n.id, n.container_name())).collect();
    voters.join(",")
}

/// The broker list for programs on the host (`KAFKA_BOOTSTRAP_SERVERS`).
pub fn host_bootstrap(nodes: &[KafkaNode]) -> String {
    nodes.iter().map(KafkaNode::host_address).collect::<Vec<_>>().join(",")
}

/// The broker list for programs inside the network (Connect, the CLI tools).
pub fn network_bootstrap(nodes: &[KafkaNode]) -> String {
    nodes.iter().map(KafkaNode::network_address).collect::<Vec<_>>().join(",")
}

/// Internal topics (consumer offsets, transactions, Connect's own) get one copy per broker;
/// with 3 brokers a write with `acks=all` needs 2 copies in sync, so one broker may be down.
fn replication(nodes: usize) -> (usize, usize) {
    let factor = nodes.min(3);
    let min_isr = if factor >= 3 { 2 } else { 1 };
    (factor, min_isr)
}

/// A Kafka node of an `nodes.len()`-node cluster.
///
/// Why two client listeners? A Kafka client asks any broker for the cluster's metadata, and
/// the answer lists every broker by its *advertised* address; the client then connects to
/// those addresses, not to the one it bootstrapped from. No single address works everywhere:
///
/// - a program on your machine reaches the container through the published port, so it
///   must be told `127.0.0.1:<host port>` (the `HOST` listener; this is why the host port is
///   fixed by us rather than picked by Docker: the broker must know it to advertise it);
/// - a program in another container (the Connect worker) would reach its *own* loopback at
///   127.0.0.1, so it must be told `workbook-kafka-1:19092`, a name Docker's network resolves
///   (the `DOCKER` listener, also used between brokers).
///
/// A client is answered in the listener it connected to, so each side only ever sees addresses
/// it can reach. The third listener, `CONTROLLER`, carries the KRaft quorum's Raft traffic.
pub fn kafka_spec(node: &KafkaNode, nodes: &[KafkaNode]) -> ContainerSpec {
    let (factor, min_isr) = replication(nodes.len());
    let (factor, min_isr) = (factor.to_string(), min_isr.to_string());
    let env = [
        // Identity: each container is broker and controller at once (KRaft "combined" mode).
        ("KAFKA_NODE_ID", node.id.to_string()),
        ("KAFKA_PROCESS_ROLES", "broker,controller".to_string()),
        ("CLUSTER_ID", CLUSTER_ID.to_string()),
        ("KAFKA_CONTROLLER_QUORUM_VOTERS", quorum_voters(nodes)),
        // Listeners: bound on every interface of the container, advertised as explained above.
        (
            "KAFKA_LISTENERS",
            format!(
                "HOST://0.0.0.0:{KAFKA_HOST_LISTENER_PORT},DOCKER://0.0.0.0:{KAFKA_DOCKER_LISTENER_PORT},CONTROLLER://0.0.0.0:{KAFKA_CONTROLLER_PORT}"
            ),
        ),
        ("KAFKA_ADVERTISED_LISTENERS", format!("HOST://{},DOCKER://{}", node.host_address(), node.network_address())),
        ("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "HOST:PLAINTEXT,DOCKER:PLAINTEXT,CONTROLLER:PLAINTEXT".to_string()),
        ("KAFKA_INTER_BROKER_LISTENER_NAME", "DOCKER".to_string()),
        ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER".to_string()),
        ("KAFKA_LOG_DIRS", "/var/lib/kafka/data".to_string()),
        // Topics are created on purpose: a typo in a topic name is an error, not a new topic.
        ("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false".to_string()),
        ("KAFKA_NUM_PARTITIONS", "1".to_string()),
        ("KAFKA_DEFAULT_REPLICATION_FACTOR", factor.clone()),
        ("KAFKA_MIN_INSYNC_REPLICAS", min_isr.clone()),
        // Internal topics must not ask for more copies than there are brokers.
        ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", factor.clone()),
        ("KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS", "1".to_string()),
        ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", factor.clone()),
        ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", min_isr.clone()),
        ("KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS", "1".to_string()),
        ("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", factor),
        ("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", min_isr),
        // The first consumer of a group starts at once instead of waiting 3 s for more members.
        ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0".to_string()),
        ("KAFKA_HEAP_OPTS", JVM_HEAP.to_string()),
    ];
    let (image, tag) = versions::KAFKA_IMAGE;
    ContainerSpec {
        service: format!("kafka-{}", node.id),
        container_name: node.container_name(),
        image: image.to_string(),
        tag: tag.to_string(),
        env: owned(&env),
        ports: vec![PortMapping { host: node.host_port, container: KAFKA_HOST_LISTENER_PORT }],
        cmd: Vec::new(),
        files: Vec::new(),
        binds: Vec::new(),
        user: None,
    }
}

/// The passwords of one environment (generated by `up`; `${…}` placeholders in compose.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwords {
    pub root: String,
    pub workbook: String,
    pub cdc: String,
}

/// MariaDB: database `mydb`, user `workbook`, and a binary log in the format CDC needs.
pub fn mariadb_spec(host_port: u16, passwords: &Passwords) -> ContainerSpec {
    let env = [
        ("MARIADB_ROOT_PASSWORD", passwords.root.clone()),
        ("MARIADB_DATABASE", DATABASE.to_string()),
        ("MARIADB_USER", DATABASE_USER.to_string()),
        ("MARIADB_PASSWORD", passwords.workbook.clone()),
        // Read by docker/mariadb-init/10-cdc-user.sh.
        ("CDC_USER", CDC_USER.to_string()),
        ("CDC_PASSWORD", passwords.cdc.clone()),
    ];
    let (image, tag) = versions::MARIADB_IMAGE;
    ContainerSpec {
        service: "mariadb".to_string(),
        container_name: "workbook-mariadb".to_string(),
        image: image.to_string(),
        tag: tag.to_string(),
        env: owned(&env),
        ports: vec![PortMapping { host: host_port, container: MARIADB_PORT }],
        // Arguments starting with `-` go to mariadbd. Change data capture (Debezium) reads the
        // binary log, which must record whole rows: ROW format with the FULL row image.
        cmd: binlog_flags().iter().map(|f| f.to_string()).collect(),
        files: vec![(format!("{MARIADB_INIT_DIR}/{CDC_INIT_SCRIPT_NAME}"), CDC_INIT_SCRIPT.to_string())],
        binds: Vec::new(),
        user: None,
    }
}

pub fn binlog_flags() -> [&'static str; 5] {
    [
        "--server-id=1",
        "--log-bin=mysql-bin",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        // MariaDB 11.4+: binlog positions a CDC reader can resume from (Debezium needs them).
        "--binlog-legacy-event-pos=ON",
    ]
}

/// How the Connect container runs on this machine (differs per user; placeholders in compose.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectHost {
    /// `.workbook/files`, shared at the same path so FileStream connectors see the paths you see.
    pub files_dir: String,
    /// Your `uid:gid`, so files the FileStream sink writes there are yours.
    pub user: String,
}

/// The Kafka Connect worker, built from docker/connect/Dockerfile.
pub fn connect_spec(host_port: u16, nodes: &[KafkaNode], host: &ConnectHost) -> ContainerSpec {
    let (image, tag) = versions::CONNECT_IMAGE;
    ContainerSpec {
        service: "connect".to_string(),
        container_name: "workbook-connect".to_string(),
        image: image.to_string(),
        tag: tag.to_string(),
        // kafka-run-class.sh writes logs under $LOG_DIR; the image's default is not writable for
        // your uid, so Connect logs to /tmp (and to the container's output: `docker logs`).
        env: owned(&[("KAFKA_HEAP_OPTS", JVM_HEAP.to_string()), ("LOG_DIR", "/tmp/connect-logs".to_string())]),
        ports: vec![PortMapping { host: host_port, container: CONNECT_PORT }],
        cmd: Vec::new(),
        files: vec![(CONNECT_PROPERTIES_PATH.to_string(), connect_properties(nodes))],
        binds: vec![(host.files_dir.clone(), host.files_dir.clone())],
        user: Some(host.user.clone()),
    }
}

/// The worker settings (connect-distributed.properties), as the local worker has them.
pub fn connect_properties(nodes: &[KafkaNode]) -> String {
    let (factor, _) = replication(nodes.len());
    format!(
        "# Kafka Connect worker of the kafka-workbook docker backend (distributed mode).\n\
         # Generated by xtask/src/docker/spec.rs; `cargo test -p xtask docker` checks this file against it.\n\
         \n\
         # Connect is itself a Kafka client: it reaches the brokers by their in-network names.\n\
         bootstrap.servers={bootstrap}\n\
         \n\
         # Workers with the same group.id form one Connect cluster and share these three topics:\n\
         # connector configs, source offsets, and connector/task status.\n\
         group.id=connect-cluster\n\
         config.storage.topic=connect-configs\n\
         offset.storage.topic=connect-offsets\n\
         status.storage.topic=connect-status\n\
         config.storage.replication.factor={factor}\n\
         offset.storage.replication.factor={factor}\n\
         status.storage.replication.factor={factor}\n\
         \n\
         # Records as JSON with their schema inside, which the JDBC sink needs to create tables.\n\
         key.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\n\
         key.converter.schemas.enable=true\n\
         value.converter.schemas.enable=true\n\
         \n\
         # One folder per connector plugin (Debezium MariaDB source, Debezium JDBC sink, FileStream).\n\
         plugin.path={CONNECT_PLUGIN_PATH}\n\
         \n\
         # The REST API, published on the host as CONNECT_URL.\n\
         listeners=http://0.0.0.0:{CONNECT_PORT}\n\
         rest.advertised.host.name=workbook-connect\n\
         rest.advertised.port={CONNECT_PORT}\n",
        bootstrap = network_bootstrap(nodes),
    )
}

/// A `DATABASE_URL` as the Connect worker must use it: MariaDB by its in-network name.
pub fn database_url_from_connect(password: &str) -> String {
    format!("mysql://{DATABASE_USER}:{password}@workbook-mariadb:{MARIADB_PORT}/{DATABASE}")
}

fn owned(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// docker/compose.yaml as it must read: the default environment (one broker, default ports),
/// with `${…}` placeholders where `up` fills in generated passwords and your uid.
#[cfg(test)]
pub fn render_compose() -> String {
    let node = KafkaNode { id: 1, host_port: crate::ports::KAFKA_PORT };
    let passwords = Passwords {
        root: "${MARIADB_ROOT_PASSWORD:-root-password}".to_string(),
        workbook: "${MARIADB_PASSWORD:-workbook-password}".to_string(),
        cdc: "${CDC_PASSWORD:-cdc-password}".to_string(),
    };
    let host = ConnectHost {
        files_dir: "${PWD}/.workbook/files".to_string(),
        user: "${WORKBOOK_UID:-1000}:${WORKBOOK_GID:-1000}".to_string(),
    };
    let services = [
        kafka_spec(&node, &[node]),
        mariadb_spec(crate::ports::MARIADB_PORT, &passwords),
        connect_spec(crate::ports::CONNECT_PORT, &[node], &host),
    ];
    let mut out = String::from(
        "# The docker backend's containers, for running by hand: see docker/README.md.\n\
         # Generated from xtask/src/docker/spec.rs (`cargo test -p xtask docker` fails if they differ).\n\
         name: kafka-workbook\n\
         \n\
         services:\n",
    );
    for spec in &services {
        out.push_str(&render_service(spec));
    }
    out.push_str(&format!("\nnetworks:\n  default:\n    name: {NETWORK}\n"));
    out
}

#[cfg(test)]
fn render_service(spec: &ContainerSpec) -> String {
    let mut out = format!("  {}:\n", spec.service);
    out.push_str(&format!("    container_name: {}\n", spec.container_name));
    out.push_str(&format!("    image: {}\n", spec.image_ref()));
    if spec.service == "connect" {
        out.push_str("    build:\n      context: ./connect\n");
        out.push_str("    depends_on: [kafka-1]\n");
    }
    if let Some(user) = &spec.user {
        out.push_str(&format!("    user: \"{user}\"\n"));
    }
    out.push_str("    ports:\n");
    for port in &spec.ports {
        out.push_str(&format!("      - \"127.0.0.1:{}:{}\"\n", port.host, port.container));
    }
    out.push_str("    environment:\n");
    for (key, value) in &spec.env {
        out.push_str(&format!("      {key}: \"{value}\"\n"));
    }
    if !spec.cmd.is_empty() {
        let args: Vec<String> = spec.cmd.iter().map(|a| format!("\"{a}\"")).collect();
        out.push_str(&format!("    command: [{}]\n", args.join(", ")));
    }
    let volumes = compose_volumes(spec);
    if !volumes.is_empty() {
        out.push_str("    volumes:\n");
        for volume in volumes {
            out.push_str(&format!("      - \"{volume}\"\n"));
        }
    }
    out
}

/// The files `up` copies in are the very files in docker/, mounted read-only here.
#[cfg(test)]
fn compose_volumes(spec: &ContainerSpec) -> Vec<String> {
    let mut volumes: Vec<String> = spec.binds.iter().map(|(host, container)| format!("{host}:{container}")).collect();
    for (target, _) in &spec.files {
        if target.starts_with(MARIADB_INIT_DIR) {
            volumes.push(format!("./mariadb-init/{CDC_INIT_SCRIPT_NAME}:{target}:ro"));
        }
        // The Connect properties are baked into the image (docker/connect/), nothing to mount.
    }
    volumes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn nodes(count: u32) -> Vec<KafkaNode> {
        (1..=count).map(|id| KafkaNode { id, host_port: 9090 + 2 * id as u16 }).collect()
    }

    fn docker_dir() -> PathBuf {
        workbook_support::env::workspace_root().join("docker")
    }

    fn read(path: PathBuf) -> String {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    #[test]
    fn one_node_advertises_the_host_port_and_its_network_name() {
        let cluster = nodes(1);
        let spec = kafka_spec(&cluster[0], &cluster);
        assert_eq!(spec.container_name, "workbook-kafka-1");
        assert_eq!(spec.image_ref(), format!("apache/kafka:{}", versions::KAFKA));
        assert_eq!(
            spec.env_var("KAFKA_ADVERTISED_LISTENERS"),
            Some("HOST://127.0.0.1:9092,DOCKER://workbook-kafka-1:19092")
        );
        assert_eq!(
            spec.env_var("KAFKA_LISTENERS"),
            Some("HOST://0.0.0.0:9092,DOCKER://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093")
        );
        assert_eq!(spec.env_var("KAFKA_CONTROLLER_QUORUM_VOTERS"), Some("1@workbook-kafka-1:9093"));
        assert_eq!(spec.env_var("KAFKA_INTER_BROKER_LISTENER_NAME"), Some("DOCKER"));
        assert_eq!(spec.env_var("KAFKA_PROCESS_ROLES"), Some("broker,controller"));
        assert_eq!(spec.ports, vec![PortMapping { host: 9092, container: 9092 }]);
    }

    #[test]
    fn one_node_keeps_one_copy_of_internal_topics() {
        let cluster = nodes(1);
        let spec = kafka_spec(&cluster[0], &cluster);
        for key in [
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
            "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
            "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
            "KAFKA_DEFAULT_REPLICATION_FACTOR",
            "KAFKA_MIN_INSYNC_REPLICAS",
        ] {
            assert_eq!(spec.env_var(key), Some("1"), "{key}");
        }
        assert_eq!(spec.env_var("KAFKA_AUTO_CREATE_TOPICS_ENABLE"), Some("false"));
        assert_eq!(spec.env_var("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"), Some("0"));
    }

    #[test]
    fn three_nodes_form_one_quorum_each_with_its_own_addresses() {
        let cluster = nodes(3);
        let specs: Vec<ContainerSpec> = cluster.iter().map(|n| kafka_spec(n, &cluster)).collect();
        let voters = "1@workbook-kafka-1:9093,2@workbook-kafka-2:9093,3@workbook-kafka-3:9093";
        for (index, spec) in specs.iter().enumerate() {
            let id = index + 1;
            let host_port = 9090 + 2 * id;
            assert_eq!(spec.env_var("KAFKA_NODE_ID"), Some(id.to_string().as_str()));
            assert_eq!(spec.env_var("KAFKA_CONTROLLER_QUORUM_VOTERS"), Some(voters));
            assert_eq!(spec.env_var("CLUSTER_ID"), Some(CLUSTER_ID), "one cluster id for all nodes");
            assert_eq!(
                spec.env_var("KAFKA_ADVERTISED_LISTENERS"),
                Some(format!("HOST://127.0.0.1:{host_port},DOCKER://workbook-kafka-{id}:19092").as_str())
            );
            assert_eq!(spec.ports, vec![PortMapping { host: host_port as u16, container: 9092 }]);
            assert_eq!(spec.env_var("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), Some("3"));
            assert_eq!(spec.env_var("KAFKA_MIN_INSYNC_REPLICAS"), Some("2"));
        }
        assert_eq!(host_bootstrap(&cluster), "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096");
    }

    #[test]
    fn the_cluster_id_is_sixteen_bytes_of_url_safe_base64() {
        assert_eq!(CLUSTER_ID.len(), 22);
        assert!(CLUSTER_ID.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn mariadb_gets_mydb_the_workbook_user_and_a_row_binlog() {
        let passwords = Passwords { root: "r00t".into(), workbook: "w0rk".into(), cdc: "c0c".into() };
        let spec = mariadb_spec(3307, &passwords);
        assert_eq!(spec.image_ref(), "mariadb:11.4");
        assert_eq!(spec.env_var("MARIADB_ROOT_PASSWORD"), Some("r00t"));
        assert_eq!(spec.env_var("MARIADB_DATABASE"), Some("mydb"));
        assert_eq!(spec.env_var("MARIADB_USER"), Some("workbook"));
        assert_eq!(spec.env_var("MARIADB_PASSWORD"), Some("w0rk"));
        assert_eq!(spec.env_var("CDC_USER"), Some("cdc"));
        assert_eq!(spec.env_var("CDC_PASSWORD"), Some("c0c"));
        assert_eq!(
            spec.cmd,
            [
                "--server-id=1",
                "--log-bin=mysql-bin",
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
                "--binlog-legacy-event-pos=ON"
            ]
        );
        assert_eq!(spec.ports, vec![PortMapping { host: 3307, container: 3306 }]);
        assert_eq!(spec.files.len(), 1);
        assert_eq!(spec.files[0].0, "/docker-entrypoint-initdb.d/10-cdc-user.sh");
    }

    #[test]
    fn the_init_script_grants_the_cdc_user_what_debezium_needs() {
        let script = CDC_INIT_SCRIPT;
        assert!(script.contains("CREATE USER '${CDC_USER}'@'%' IDENTIFIED BY '${CDC_PASSWORD}'"), "{script}");
        assert!(
            script.contains(
                "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${CDC_USER}'@'%'"
            ),
            "{script}"
        );
        assert!(script.contains("docker_process_sql"), "runs through the image's own SQL helper");
    }

    #[test]
    fn the_init_script_is_sourced_not_executed() {
        // The mariadb entrypoint *sources* a non-executable .sh (so docker_process_sql and the
        // root password are available) but *runs* an executable one in a fresh shell without them.
        use std::os::unix::fs::PermissionsExt;
        let path = docker_dir().join("mariadb-init").join(CDC_INIT_SCRIPT_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0, "{} must not be executable", path.display());
    }

    #[test]
    fn connect_reaches_the_brokers_inside_the_network() {
        let cluster = nodes(3);
        let host = ConnectHost { files_dir: "/home/me/kw/.workbook/files".into(), user: "1000:1000".into() };
        let spec = connect_spec(8083, &cluster, &host);
        assert_eq!(spec.image_ref(), format!("kafka-workbook/connect:{}", versions::KAFKA));
        assert_eq!(spec.ports, vec![PortMapping { host: 8083, container: 8083 }]);
        assert_eq!(spec.binds, vec![(host.files_dir.clone(), host.files_dir.clone())]);
        assert_eq!(spec.user.as_deref(), Some("1000:1000"));
        let properties = &spec.files[0].1;
        assert!(
            properties
                .contains("bootstrap.servers=workbook-kafka-1:19092,workbook-kafka-2:19092,workbook-kafka-3:19092")
        );
        assert!(properties.contains("offset.storage.replication.factor=3"));
        assert!(properties.contains("listeners=http://0.0.0.0:8083"));
        assert!(properties.contains("plugin.path=/opt/kafka/plugins"));
        assert!(!properties.contains("127.0.0.1"), "127.0.0.1 would be the Connect container itself");
    }

    /// Golden files: `WORKBOOK_BLESS=1 cargo test -p xtask docker` rewrites them after a change here.
    fn assert_file_is(path: PathBuf, expected: &str) {
        if std::env::var_os("WORKBOOK_BLESS").is_some() {
            std::fs::write(&path, expected).unwrap();
        }
        let actual = read(path.clone());
        assert!(
            actual == expected,
            "{} differs from what the docker backend starts (WORKBOOK_BLESS=1 rewrites it); it should read:\n{expected}",
            path.display()
        );
    }

    #[test]
    fn one_broker_connect_properties_are_the_ones_baked_into_the_image() {
        assert_file_is(
            docker_dir().join("connect").join("connect-distributed.properties"),
            &connect_properties(&nodes(1)),
        );
    }

    #[test]
    fn compose_yaml_is_what_the_backend_starts() {
        assert_file_is(docker_dir().join("compose.yaml"), &render_compose());
    }

    #[test]
    fn the_dockerfile_installs_the_local_backends_plugins() {
        let dockerfile = read(docker_dir().join("connect").join("Dockerfile"));
        let pom = read(crate::layout::runtime_templates().join("pom.xml"));
        let pom_property = |name: &str| {
            let open = format!("<{name}>");
            let start = pom.find(&open).map(|i| i + open.len()).unwrap_or_else(|| panic!("{name} in pom.xml"));
            pom[start..pom[start..].find('<').unwrap() + start].to_string()
        };
        for (arg, value) in [
            ("KAFKA_VERSION", versions::KAFKA.to_string()),
            ("DEBEZIUM_MARIADB_VERSION", pom_property("debezium.mariadb.version")),
            ("DEBEZIUM_JDBC_VERSION", pom_property("debezium.jdbc.version")),
        ] {
            assert!(dockerfile.contains(&format!("ARG {arg}={value}\n")), "Dockerfile should pin {arg}={value}");
        }
        for artifact in [
            "org.apache.kafka:connect-file",
            "io.debezium:debezium-connector-mariadb",
            "io.debezium:debezium-connector-jdbc",
        ] {
            assert!(dockerfile.contains(artifact), "Dockerfile should install {artifact}");
        }
        assert!(dockerfile.contains(CONNECT_PLUGIN_PATH) && dockerfile.contains(CONNECT_PROPERTIES_PATH));
    }
}
