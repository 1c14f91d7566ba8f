//! What the docker backend starts, as plain data: one [`ContainerSpec`] per container, rendered
//! from the environment's description (`crate::description`), exactly as the local backend
//! renders its properties files from it.
//!
//! Everything here is a pure function of the names, ports and passwords, so the tests check
//! every listener, port and grant without a Docker daemon, and the checked-in
//! docker/compose.yaml, docker/connect/connect-distributed.properties and the MariaDB init
//! script are compared with what these functions render (`WORKBOOK_BLESS=1` rewrites them).

use crate::credentials::Credentials;
use crate::description::{self, Address, KafkaNode, Listener, Setting, Worker};
use crate::layout::Layout;
use crate::versions;

/// KRaft needs a cluster id before the first start (`kafka-storage format`); every node of one
/// cluster must share it. Any 16 bytes in URL-safe base64 will do: these spell "kafka-workbook!!".
/// Fixed rather than random so that docker/compose.yaml can use the very same one.
pub const CLUSTER_ID: &str = "a2Fma2Etd29ya2Jvb2shIQ";

/// Ports inside the Kafka containers (the host side is chosen by `cargo xtask up`).
pub const KAFKA_HOST_LISTENER_PORT: u16 = 9092;
pub const KAFKA_INTERNAL_LISTENER_PORT: u16 = 19092;
pub const KAFKA_CONTROLLER_PORT: u16 = 9093;
/// MariaDB and Connect keep their usual ports inside their containers.
pub const MARIADB_PORT: u16 = 3306;
pub const CONNECT_PORT: u16 = 8083;

/// Where the Connect image keeps its plugins and its worker settings (see docker/connect/Dockerfile).
pub const CONNECT_PLUGIN_PATH: &str = "/opt/kafka/plugins";
pub const CONNECT_PROPERTIES_PATH: &str = "/opt/kafka/config/workbook-connect.properties";
/// `.workbook/files` inside the Connect container (`CONNECT_FILES_DIR`).
pub const CONNECT_FILES_DIR: &str = "/workbook/files";

/// Where the images keep their data; a named volume is mounted there, so `down` keeps it.
pub const KAFKA_DATA_DIR: &str = "/var/lib/kafka/data";
pub const MARIADB_DATA_DIR: &str = "/var/lib/mysql";

/// The init script that creates the database and the users, run once by the mariadb image on an
/// empty data directory (checked in as docker/mariadb-init/10-workbook-users.sh for compose).
pub const INIT_SCRIPT_NAME: &str = "10-workbook-users.sh";
pub const MARIADB_INIT_DIR: &str = "/docker-entrypoint-initdb.d";
/// MariaDB matches users by name and client address; containers connect from addresses of the
/// Docker network, and your programs from its gateway, so the users accept any host.
pub const USER_HOSTS: [&str; 1] = ["%"];

/// The names of one environment's containers, network and volumes.
///
/// Each environment (each `.workbook` directory) has its own prefix, so a second environment
/// (chapter 13's own cluster, a test's) never collides with the one you work in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    /// `workbook-<8 hex digits of the .workbook directory's path>`.
    pub fn for_layout(layout: &Layout) -> Names {
        let root = canonical(&layout.root);
        Names { prefix: format!("workbook-{:08x}", fnv1a(root.display().to_string().as_bytes()) as u32) }
    }

    pub fn network(&self) -> String {
        self.prefix.clone()
    }
    pub fn kafka(&self, id: u32) -> String {
        format!("{}-kafka-{id}", self.prefix)
    }
    pub fn mariadb(&self) -> String {
        format!("{}-mariadb", self.prefix)
    }
    pub fn connect(&self) -> String {
        format!("{}-connect", self.prefix)
    }
    pub fn kafka_volume(&self, id: u32) -> String {
        format!("{}-kafka-{id}-data", self.prefix)
    }
    pub fn mariadb_volume(&self) -> String {
        format!("{}-mariadb-data", self.prefix)
    }
}

/// The path with its nearest existing ancestor resolved (links, `..`), so that it reads the same
/// before `.workbook` exists and after (on macOS, `/tmp/x` is `/private/tmp/x` once it exists).
fn canonical(path: &std::path::Path) -> std::path::PathBuf {
    let mut missing = Vec::new();
    let mut existing = path.to_path_buf();
    loop {
        if let Ok(resolved) = existing.canonicalize() {
            return missing.iter().rev().fold(resolved, |acc, part| acc.join(part));
        }
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name);
                existing = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// FNV-1a, 64 bits: a stable hash (std's `DefaultHasher` may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3))
}

/// One container: what the backend asks Docker for, and what compose.yaml spells out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The compose service name, and the component name in `.workbook/state.json`: `kafka-1`, `mariadb`, `connect`.
    pub service: String,
    /// The container name, which is also its host name on the environment's network.
    pub container_name: String,
    /// The environment's network, where the containers find each other by name.
    pub network: String,
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
    /// Named volumes: (volume name, container path). They outlive the container.
    pub volumes: Vec<(String, String)>,
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

/// Kafka node `id` of this backend: its HOST listener is published on `host_port` of 127.0.0.1
/// (the address it advertises to your programs); INTERNAL and CONTROLLER are reached by the
/// container's name on the environment's network.
pub fn kafka_node(names: &Names, id: u32, host_port: u16) -> KafkaNode {
    let any = |port| Address::new("0.0.0.0", port);
    let name = names.kafka(id);
    KafkaNode {
        id,
        host: Listener {
            bind: any(KAFKA_HOST_LISTENER_PORT),
            advertised: Address::new(crate::ports::HOST.to_string(), host_port),
        },
        internal: Listener {
            bind: any(KAFKA_INTERNAL_LISTENER_PORT),
            advertised: Address::new(name.clone(), KAFKA_INTERNAL_LISTENER_PORT),
        },
        controller: Listener {
            bind: any(KAFKA_CONTROLLER_PORT),
            advertised: Address::new(name, KAFKA_CONTROLLER_PORT),
        },
    }
}

/// The `apache/kafka` image turns `KAFKA_*` variables into server.properties: the prefix is
/// dropped, `_` becomes `.`, `__` becomes `_`, `___` becomes `-`, and the rest is lowercased
/// (docker/resources/utility/utility.go, `ConvertKey`). This is the inverse.
pub fn kafka_env_name(property: &str) -> String {
    let encoded = property.replace('_', "__").replace('-', "___").replace('.', "_");
    format!("KAFKA_{}", encoded.to_uppercase())
}

/// The container of Kafka node `node` of the cluster `nodes`: the description's broker settings
/// as the image's variables, its data in a named volume.
pub fn kafka_spec(names: &Names, node: &KafkaNode, nodes: &[KafkaNode]) -> ContainerSpec {
    let settings: Vec<Setting> = description::broker_settings(node, nodes, KAFKA_DATA_DIR);
    let mut env: Vec<(String, String)> = settings.iter().map(|s| (kafka_env_name(s.key), s.value.clone())).collect();
    // Read by the image's start script (formats the storage) and by Kafka's run scripts.
    env.push(("CLUSTER_ID".to_string(), CLUSTER_ID.to_string()));
    env.push(("KAFKA_HEAP_OPTS".to_string(), description::JVM_HEAP.join(" ")));
    let (image, tag) = versions::KAFKA_IMAGE;
    ContainerSpec {
        service: format!("kafka-{}", node.id),
        container_name: names.kafka(node.id),
        network: names.network(),
        image: image.to_string(),
        tag: tag.to_string(),
        env,
        ports: vec![PortMapping { host: node.host.advertised.port, container: KAFKA_HOST_LISTENER_PORT }],
        cmd: Vec::new(),
        files: Vec::new(),
        binds: Vec::new(),
        volumes: vec![(names.kafka_volume(node.id), KAFKA_DATA_DIR.to_string())],
        user: None,
    }
}

/// The mariadb image's first start runs this (sourced, so `docker_process_sql` is there): the
/// database and the users of the description, with the passwords from the container's variables.
pub fn init_script() -> String {
    let statements = description::user_statements(&USER_HOSTS, "${WORKBOOK_PASSWORD}", "${CDC_PASSWORD}");
    format!(
        "# Creates the database and the users every backend has (xtask/src/description.rs).\n\
         # Generated by xtask/src/docker/spec.rs; `cargo test -p xtask docker` checks this file against it.\n\
         #\n\
         # The mariadb image runs this once, when it initialises an empty data directory. It is *sourced*\n\
         # (this file must not be executable), so it can use the entrypoint's docker_process_sql, which\n\
         # talks to the not-yet-public server as root. WORKBOOK_PASSWORD and CDC_PASSWORD come from the\n\
         # container's environment (`cargo xtask up` generates them; see docker/compose.yaml by hand).\n\
         docker_process_sql <<EOSQL\n{};\nEOSQL\n",
        statements.join(";\n")
    )
}

/// MariaDB: the description's flags and users, root's password, its data in a named volume.
pub fn mariadb_spec(names: &Names, host_port: u16, credentials: &Credentials) -> ContainerSpec {
    let env = [
        ("MARIADB_ROOT_PASSWORD", credentials.root.clone()),
        // Read by the init script.
        ("WORKBOOK_PASSWORD", credentials.app.clone()),
        ("CDC_PASSWORD", credentials.cdc.clone()),
    ];
    let (image, tag) = versions::MARIADB_IMAGE;
    ContainerSpec {
        service: "mariadb".to_string(),
        container_name: names.mariadb(),
        network: names.network(),
        image: image.to_string(),
        tag: tag.to_string(),
        env: owned(&env),
        ports: vec![PortMapping { host: host_port, container: MARIADB_PORT }],
        // Arguments starting with `-` go to mariadbd.
        cmd: description::mariadb_flags(),
        files: vec![(format!("{MARIADB_INIT_DIR}/{INIT_SCRIPT_NAME}"), init_script())],
        binds: Vec::new(),
        volumes: vec![(names.mariadb_volume(), MARIADB_DATA_DIR.to_string())],
        user: None,
    }
}

/// How the Connect container runs on this machine (differs per user; placeholders in compose.yaml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectHost {
    /// `.workbook/files` on the host, shared as [`CONNECT_FILES_DIR`].
    pub files_dir: String,
    /// Your `uid:gid`, so files the FileStream sink writes there are yours.
    pub user: String,
}

/// The worker of this backend: the brokers' INTERNAL listeners, REST on every interface of the
/// container (published on 127.0.0.1 only).
pub fn worker(names: &Names, nodes: &[KafkaNode]) -> Worker {
    Worker {
        bootstrap: description::internal_bootstrap(nodes),
        rest: Address::new("0.0.0.0", CONNECT_PORT),
        rest_advertised_host: names.connect(),
        plugin_path: CONNECT_PLUGIN_PATH.to_string(),
        brokers: nodes.len(),
    }
}

/// The worker settings file: the description's, rendered.
pub fn connect_properties(names: &Names, nodes: &[KafkaNode]) -> String {
    let title = format!(
        "Kafka Connect {} distributed worker of the workbook's docker backend.\n\
         Generated from xtask/src/description.rs by xtask/src/docker/spec.rs; `cargo test -p xtask docker`\n\
         checks the checked-in copy (docker/connect/, one broker) against it.",
        versions::KAFKA
    );
    description::render_properties(&title, &description::worker_settings(&worker(names, nodes)))
}

/// The Kafka Connect worker, built from docker/connect/Dockerfile.
pub fn connect_spec(names: &Names, host_port: u16, nodes: &[KafkaNode], host: &ConnectHost) -> ContainerSpec {
    let (image, tag) = versions::CONNECT_IMAGE;
    ContainerSpec {
        service: "connect".to_string(),
        container_name: names.connect(),
        network: names.network(),
        image: image.to_string(),
        tag: tag.to_string(),
        // kafka-run-class.sh writes logs under $LOG_DIR; the image's default is not writable for
        // your uid, so Connect logs to /tmp (and to the container's output: `docker logs`).
        env: owned(&[
            ("KAFKA_HEAP_OPTS", description::JVM_HEAP.join(" ")),
            ("LOG_DIR", "/tmp/connect-logs".to_string()),
        ]),
        ports: vec![PortMapping { host: host_port, container: CONNECT_PORT }],
        cmd: Vec::new(),
        files: vec![(CONNECT_PROPERTIES_PATH.to_string(), connect_properties(names, nodes))],
        binds: vec![(host.files_dir.clone(), CONNECT_FILES_DIR.to_string())],
        volumes: Vec::new(),
        user: Some(host.user.clone()),
    }
}

fn owned(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The names compose.yaml uses (one environment, started by hand).
#[cfg(test)]
pub fn compose_names() -> Names {
    Names { prefix: "workbook".to_string() }
}

/// docker/compose.yaml as it must read: the default environment (one broker, default ports),
/// with `${…}` placeholders where `up` fills in generated passwords and your uid.
#[cfg(test)]
pub fn render_compose() -> String {
    let names = compose_names();
    let node = kafka_node(&names, 1, crate::ports::KAFKA_PORT);
    let credentials = Credentials {
        root: "${MARIADB_ROOT_PASSWORD:-root-password}".to_string(),
        app: "${WORKBOOK_PASSWORD:-workbook-password}".to_string(),
        cdc: "${CDC_PASSWORD:-cdc-password}".to_string(),
    };
    let host = ConnectHost {
        files_dir: "${PWD}/.workbook/files".to_string(),
        user: "${WORKBOOK_UID:-1000}:${WORKBOOK_GID:-1000}".to_string(),
    };
    let services = [
        kafka_spec(&names, &node, std::slice::from_ref(&node)),
        mariadb_spec(&names, crate::ports::MARIADB_PORT, &credentials),
        connect_spec(&names, crate::ports::CONNECT_PORT, std::slice::from_ref(&node), &host),
    ];
    let mut out = String::from(
        "# The docker backend's containers, for running by hand: see docker/README.md.\n\
         # Generated from xtask/src/description.rs by xtask/src/docker/spec.rs\n\
         # (`cargo test -p xtask docker` fails if they differ).\n\
         name: kafka-workbook\n\
         \n\
         services:\n",
    );
    for spec in &services {
        out.push_str(&render_service(spec));
    }
    out.push_str(&format!("\nnetworks:\n  default:\n    name: {}\n", names.network()));
    out.push_str(
        "\n# Named volumes keep the data when the containers are removed (`down -v` deletes them).\nvolumes:\n",
    );
    for spec in &services {
        for (volume, _) in &spec.volumes {
            out.push_str(&format!("  {volume}:\n    name: {volume}\n"));
        }
    }
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
    let mut volumes: Vec<String> = spec.volumes.iter().map(|(name, path)| format!("{name}:{path}")).collect();
    volumes.extend(spec.binds.iter().map(|(host, container)| format!("{host}:{container}")));
    for (target, _) in &spec.files {
        if target.starts_with(MARIADB_INIT_DIR) {
            volumes.push(format!("./mariadb-init/{INIT_SCRIPT_NAME}:{target}:ro"));
        }
        // The Connect properties are baked into the image (docker/connect/), nothing to mount.
    }
    volumes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn names() -> Names {
        Names { prefix: "workbook-0a1b2c3d".into() }
    }

    fn nodes(count: u32) -> Vec<KafkaNode> {
        (1..=count).map(|id| kafka_node(&names(), id, 9090 + 2 * id as u16)).collect()
    }

    fn docker_dir() -> PathBuf {
        workbook_support::env::workspace_root().join("docker")
    }

    fn read(path: PathBuf) -> String {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// `ConvertKey` of the apache/kafka image's utility.go, as written there: a regex replaces each
    /// `[^_]_[^_]` match's underscore with a dot (non-overlapping, left to right), then `___` → `-`,
    /// `__` → `_`, and everything is lowercased.
    fn image_convert_key(key: &str) -> String {
        let chars: Vec<char> = key.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i] != '_' && chars[i + 1] == '_' && chars[i + 2] != '_' {
                out.push(chars[i]);
                out.push('.');
                out.push(chars[i + 2]);
                i += 3;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out.replace("___", "-").replace("__", "_").to_lowercase()
    }

    #[test]
    fn every_broker_setting_survives_the_images_variable_naming() {
        let cluster = nodes(3);
        for setting in description::broker_settings(&cluster[0], &cluster, KAFKA_DATA_DIR) {
            let name = kafka_env_name(setting.key);
            let back = image_convert_key(name.strip_prefix("KAFKA_").unwrap());
            assert_eq!(back, setting.key, "{name} would become {back} in the container");
        }
        // The image excludes a few KAFKA_ variables from server.properties; none of ours is one.
        let excluded = ["KAFKA_VERSION", "KAFKA_OPTS", "KAFKA_LOG4J_OPTS", "KAFKA_JMX_OPTS"];
        let spec = kafka_spec(&names(), &cluster[0], &cluster);
        assert!(spec.env.iter().all(|(k, _)| !excluded.contains(&k.as_str())));
        // Its utility splits every variable at '=' and drops those with more than one.
        assert!(spec.env.iter().all(|(_, v)| !v.contains('=')), "a value with '=' would be dropped");
    }

    #[test]
    fn a_name_does_not_change_when_the_directory_comes_into_being() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join("link").join(".workbook") };
        std::os::unix::fs::symlink(dir.path(), dir.path().join("link")).unwrap();
        let before = Names::for_layout(&layout);
        std::fs::create_dir_all(&layout.root).unwrap();
        assert_eq!(Names::for_layout(&layout), before);
        let direct = Layout { root: dir.path().join(".workbook") };
        assert_eq!(Names::for_layout(&direct), before, "a link to the same directory names the same environment");
    }

    #[test]
    fn names_differ_per_environment_and_stay_the_same_for_one() {
        let a = Layout { root: PathBuf::from("/home/me/kw/.workbook") };
        let b = Layout { root: PathBuf::from("/tmp/ch13-reliability-x1y2") };
        assert_eq!(Names::for_layout(&a), Names::for_layout(&a));
        assert_ne!(Names::for_layout(&a), Names::for_layout(&b));
        let names = Names::for_layout(&a);
        assert!(names.prefix.starts_with("workbook-") && names.prefix.len() == "workbook-".len() + 8);
        assert_eq!(names.kafka(2), format!("{}-kafka-2", names.prefix));
        assert_eq!(names.kafka_volume(2), format!("{}-kafka-2-data", names.prefix));
    }

    #[test]
    fn one_node_advertises_the_host_port_and_its_network_name() {
        let cluster = nodes(1);
        let spec = kafka_spec(&names(), &cluster[0], &cluster);
        assert_eq!(spec.container_name, "workbook-0a1b2c3d-kafka-1");
        assert_eq!(spec.image_ref(), format!("apache/kafka:{}", versions::KAFKA));
        assert_eq!(
            spec.env_var("KAFKA_ADVERTISED_LISTENERS"),
            Some("HOST://127.0.0.1:9092,INTERNAL://workbook-0a1b2c3d-kafka-1:19092")
        );
        assert_eq!(
            spec.env_var("KAFKA_LISTENERS"),
            Some("HOST://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093")
        );
        assert_eq!(spec.env_var("KAFKA_CONTROLLER_QUORUM_VOTERS"), Some("1@workbook-0a1b2c3d-kafka-1:9093"));
        assert_eq!(spec.env_var("KAFKA_INTER_BROKER_LISTENER_NAME"), Some("INTERNAL"));
        assert_eq!(spec.env_var("KAFKA_LOG_DIRS"), Some(KAFKA_DATA_DIR));
        assert_eq!(spec.env_var("KAFKA_NUM_RECOVERY_THREADS_PER_DATA_DIR"), Some("1"));
        assert_eq!(spec.env_var("CLUSTER_ID"), Some(CLUSTER_ID));
        assert_eq!(spec.ports, vec![PortMapping { host: 9092, container: 9092 }]);
        assert_eq!(spec.volumes, vec![("workbook-0a1b2c3d-kafka-1-data".to_string(), KAFKA_DATA_DIR.to_string())]);
    }

    #[test]
    fn three_nodes_form_one_quorum_each_with_its_own_addresses() {
        let cluster = nodes(3);
        let voters =
            "1@workbook-0a1b2c3d-kafka-1:9093,2@workbook-0a1b2c3d-kafka-2:9093,3@workbook-0a1b2c3d-kafka-3:9093";
        for node in &cluster {
            let spec = kafka_spec(&names(), node, &cluster);
            let id = node.id;
            assert_eq!(spec.env_var("KAFKA_NODE_ID"), Some(id.to_string().as_str()));
            assert_eq!(spec.env_var("KAFKA_CONTROLLER_QUORUM_VOTERS"), Some(voters));
            assert_eq!(spec.env_var("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), Some("3"));
            assert_eq!(spec.env_var("KAFKA_MIN_INSYNC_REPLICAS"), Some("2"));
        }
        assert_eq!(description::host_bootstrap(&cluster), "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096");
        assert_eq!(
            description::internal_bootstrap(&cluster),
            "workbook-0a1b2c3d-kafka-1:19092,workbook-0a1b2c3d-kafka-2:19092,workbook-0a1b2c3d-kafka-3:19092"
        );
    }

    #[test]
    fn both_backends_render_the_same_broker_settings_apart_from_addresses() {
        let docker = nodes(3);
        let local: Vec<KafkaNode> = (1..=3u16)
            .map(|id| crate::local::node_for_tests(id as u32, 9090 + 2 * id, 9190 + 2 * id, 9091 + 2 * id))
            .collect();
        let keys = |nodes: &[KafkaNode]| -> Vec<(&'static str, String)> {
            description::broker_settings(&nodes[1], nodes, "/data")
                .into_iter()
                .filter(|s| !["listeners", "advertised.listeners", "controller.quorum.voters"].contains(&s.key))
                .map(|s| (s.key, s.value))
                .collect()
        };
        assert_eq!(keys(&docker), keys(&local));
    }

    #[test]
    fn the_cluster_id_is_sixteen_bytes_of_url_safe_base64() {
        assert_eq!(CLUSTER_ID.len(), 22);
        assert!(CLUSTER_ID.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn mariadb_gets_the_shared_flags_the_users_script_and_a_volume() {
        let credentials = Credentials { root: "r00t".into(), app: "w0rk".into(), cdc: "c0c".into() };
        let spec = mariadb_spec(&names(), 3307, &credentials);
        assert_eq!(spec.image_ref(), "mariadb:11.4");
        assert_eq!(spec.env_var("MARIADB_ROOT_PASSWORD"), Some("r00t"));
        assert_eq!(spec.env_var("WORKBOOK_PASSWORD"), Some("w0rk"));
        assert_eq!(spec.env_var("CDC_PASSWORD"), Some("c0c"));
        assert_eq!(spec.cmd, description::mariadb_flags());
        assert!(spec.cmd.contains(&"--binlog-format=ROW".to_string()));
        assert_eq!(spec.ports, vec![PortMapping { host: 3307, container: 3306 }]);
        assert_eq!(spec.files, vec![(format!("/docker-entrypoint-initdb.d/{INIT_SCRIPT_NAME}"), init_script())]);
        assert_eq!(spec.volumes, vec![("workbook-0a1b2c3d-mariadb-data".to_string(), MARIADB_DATA_DIR.to_string())]);
    }

    #[test]
    fn the_init_script_creates_what_the_local_backend_creates() {
        let script = init_script();
        assert!(script.contains("CREATE USER IF NOT EXISTS 'cdc'@'%' IDENTIFIED BY '${CDC_PASSWORD}'"), "{script}");
        assert!(
            script.contains(
                "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%'"
            ),
            "{script}"
        );
        assert!(script.contains("GRANT ALL PRIVILEGES ON mydb.* TO 'workbook'@'%'"), "{script}");
        assert!(script.contains("docker_process_sql <<EOSQL\n"), "runs through the image's own SQL helper");
    }

    #[test]
    fn the_init_script_is_sourced_not_executed() {
        // The mariadb entrypoint *sources* a non-executable .sh (so docker_process_sql and the
        // root password are available) but *runs* an executable one in a fresh shell without them.
        use std::os::unix::fs::PermissionsExt;
        let path = docker_dir().join("mariadb-init").join(INIT_SCRIPT_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0, "{} must not be executable", path.display());
    }

    #[test]
    fn connect_reaches_the_brokers_and_its_files_inside_the_network() {
        let cluster = nodes(3);
        let host = ConnectHost { files_dir: "/home/me/kw/.workbook/files".into(), user: "1000:1000".into() };
        let spec = connect_spec(&names(), 8083, &cluster, &host);
        assert_eq!(spec.image_ref(), format!("kafka-workbook/connect:{}", versions::KAFKA));
        assert_eq!(spec.container_name, "workbook-0a1b2c3d-connect");
        assert_eq!(spec.ports, vec![PortMapping { host: 8083, container: 8083 }]);
        assert_eq!(spec.binds, vec![(host.files_dir.clone(), CONNECT_FILES_DIR.to_string())]);
        assert_eq!(spec.user.as_deref(), Some("1000:1000"));
        let properties = &spec.files[0].1;
        for line in [
            "bootstrap.servers=workbook-0a1b2c3d-kafka-1:19092,workbook-0a1b2c3d-kafka-2:19092,workbook-0a1b2c3d-kafka-3:19092",
            "offset.storage.replication.factor=3",
            "listeners=http://0.0.0.0:8083",
            "rest.advertised.host.name=workbook-0a1b2c3d-connect",
            "plugin.path=/opt/kafka/plugins",
            "group.id=workbook-connect",
            "offset.flush.interval.ms=1000",
            "plugin.discovery=service_load",
        ] {
            assert!(properties.lines().any(|l| l == line), "{line} missing:\n{properties}");
        }
        assert!(!properties.contains("127.0.0.1"), "127.0.0.1 would be the Connect container itself");
    }

    #[test]
    fn both_backends_give_the_worker_the_same_settings_apart_from_addresses() {
        let docker = description::worker_settings(&worker(&names(), &nodes(1)));
        let local = description::worker_settings(&crate::local::worker_for_tests("127.0.0.1:9192", 8083, 1));
        let differ = ["bootstrap.servers", "listeners", "rest.advertised.host.name", "plugin.path"];
        let strip = |settings: Vec<Setting>| -> Vec<(&'static str, String)> {
            settings.into_iter().filter(|s| !differ.contains(&s.key)).map(|s| (s.key, s.value)).collect()
        };
        assert_eq!(strip(docker), strip(local));
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
        let names = compose_names();
        let node = kafka_node(&names, 1, crate::ports::KAFKA_PORT);
        assert_file_is(
            docker_dir().join("connect").join("connect-distributed.properties"),
            &connect_properties(&names, &[node]),
        );
    }

    #[test]
    fn compose_yaml_is_what_the_backend_starts() {
        assert_file_is(docker_dir().join("compose.yaml"), &render_compose());
    }

    #[test]
    fn the_checked_in_init_script_is_the_one_the_backend_copies_in() {
        assert_file_is(docker_dir().join("mariadb-init").join(INIT_SCRIPT_NAME), &init_script());
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
