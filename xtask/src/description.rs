//! The workbook environment, described once.
//!
//! Both backends start the same services with the same settings. Only *where* each process
//! listens differs (loopback ports for `local`, container names for `docker`), so a backend
//! hands in the addresses and everything else comes from here: listener names, the controller
//! quorum, replication and min-ISR, the Connect worker's settings, MariaDB's flags, the database,
//! its users and their grants. `local` renders the settings as properties files, `docker` as the
//! `apache/kafka` image's `KAFKA_*` variables and a generated init script; docker/compose.yaml
//! and docker/connect/connect-distributed.properties are rendered from here too, and checked in
//! CI against what this module renders (see `docker::spec`).

use std::fmt;

/// The database every backend creates (`mydb`, the name the book and the chapters use), and its users.
pub const DATABASE: &str = "mydb";
/// The chapters' own user: every right on `mydb`, none elsewhere.
pub const APP_USER: &str = "workbook";
/// The user the Debezium MariaDB source connector logs in as: read everything, read the binlog.
pub const CDC_USER: &str = "cdc";
/// What Debezium's MariaDB connector needs: read the tables (snapshot), see the databases,
/// RELOAD for the snapshot's FLUSH, and read the binary log as a replica would.
pub const CDC_GRANTS: &str = "SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT";

/// The three Kafka listeners, by name (the same names on both backends):
/// - `HOST`: programs on your machine (`KAFKA_BOOTSTRAP_SERVERS`);
/// - `INTERNAL`: the Connect worker and its connectors (`CONNECT_BOOTSTRAP_SERVERS`), and the
///   brokers among themselves;
/// - `CONTROLLER`: the KRaft quorum's Raft traffic.
pub const HOST_LISTENER: &str = "HOST";
pub const INTERNAL_LISTENER: &str = "INTERNAL";
pub const CONTROLLER_LISTENER: &str = "CONTROLLER";

/// Workers with the same group id form one Connect cluster; its state lives in these topics.
/// The book shows these names (chapters 3 and 7), on both backends.
pub const CONNECT_GROUP_ID: &str = "workbook-connect";
pub const CONNECT_CONFIG_TOPIC: &str = "workbook-connect-configs";
pub const CONNECT_OFFSET_TOPIC: &str = "workbook-connect-offsets";
pub const CONNECT_STATUS_TOPIC: &str = "workbook-connect-status";

/// Heap of every server JVM (brokers, Connect): a 3-broker cluster plus Connect must fit on a
/// laptop; Kafka's own default is 1 GiB per broker.
pub const JVM_HEAP: [&str; 2] = ["-Xms128m", "-Xmx512m"];

/// Where a process listens, or where it is reached: `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub host: String,
    pub port: u16,
}

impl Address {
    pub fn new(host: impl Into<String>, port: u16) -> Address {
        Address { host: host.into(), port }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// One listener: the socket the broker binds, and the address it tells clients to use.
///
/// A Kafka client connects to the bootstrap address, then to whatever addresses the brokers
/// *advertise* for the listener it came in on. So each kind of client gets a listener of its
/// own, advertising an address that client can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub bind: Address,
    pub advertised: Address,
}

impl Listener {
    /// Bound and advertised at the same address (the local backend's loopback listeners).
    pub fn at(address: Address) -> Listener {
        Listener { bind: address.clone(), advertised: address }
    }
}

/// One combined broker + controller node (KRaft "combined mode") and its three listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaNode {
    pub id: u32,
    pub host: Listener,
    pub internal: Listener,
    pub controller: Listener,
}

/// `1@host:9093,2@…`: every node lists every voter of the controller quorum (a static quorum:
/// storage is formatted without `--standalone`/`--initial-controllers`).
pub fn quorum_voters(nodes: &[KafkaNode]) -> String {
    nodes.iter().map(|n| format!("{}@{}", n.id, n.controller.advertised)).collect::<Vec<_>>().join(",")
}

/// `KAFKA_BOOTSTRAP_SERVERS`: the brokers as programs on your machine reach them.
pub fn host_bootstrap(nodes: &[KafkaNode]) -> String {
    nodes.iter().map(|n| n.host.advertised.to_string()).collect::<Vec<_>>().join(",")
}

/// `CONNECT_BOOTSTRAP_SERVERS`: the brokers as the Connect worker (and the brokers) reach them.
pub fn internal_bootstrap(nodes: &[KafkaNode]) -> String {
    nodes.iter().map(|n| n.internal.advertised.to_string()).collect::<Vec<_>>().join(",")
}

/// Copies of each internal topic and of new topics, and how many must be in sync for `acks=all`:
/// one per broker up to 3; with 3 brokers a write needs 2 copies in sync, so one broker may be down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replication {
    pub factor: usize,
    pub min_isr: usize,
}

pub fn replication(brokers: usize) -> Replication {
    let factor = brokers.clamp(1, 3);
    Replication { factor, min_isr: if factor >= 3 { 2 } else { 1 } }
}

/// One setting, and why it is set (the comment above it in a rendered properties file; empty:
/// it belongs with the setting before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
    pub why: &'static str,
}

fn set(key: &'static str, value: impl ToString, why: &'static str) -> Setting {
    Setting { key, value: value.to_string(), why }
}

/// Every setting of Kafka node `node` of the cluster `nodes`, storing its log in `log_dir`.
pub fn broker_settings(node: &KafkaNode, nodes: &[KafkaNode], log_dir: &str) -> Vec<Setting> {
    let r = replication(nodes.len());
    let listeners = format!(
        "{HOST_LISTENER}://{},{INTERNAL_LISTENER}://{},{CONTROLLER_LISTENER}://{}",
        node.host.bind, node.internal.bind, node.controller.bind
    );
    let advertised =
        format!("{HOST_LISTENER}://{},{INTERNAL_LISTENER}://{}", node.host.advertised, node.internal.advertised);
    vec![
        set("process.roles", "broker,controller", "KRaft combined mode: every node is a broker and a controller."),
        set("node.id", node.id, ""),
        set(
            "controller.quorum.voters",
            quorum_voters(nodes),
            "A static quorum: every node lists every voter (storage is formatted without --standalone).",
        ),
        set(
            "listeners",
            listeners,
            "HOST: programs on your machine. INTERNAL: the Connect worker, and the brokers among themselves.\n\
             CONTROLLER: the quorum's Raft traffic. Each client is answered with the addresses of the\n\
             listener it came in on, so each only ever sees addresses it can reach.",
        ),
        set("advertised.listeners", advertised, ""),
        set(
            "listener.security.protocol.map",
            format!("{HOST_LISTENER}:PLAINTEXT,{INTERNAL_LISTENER}:PLAINTEXT,{CONTROLLER_LISTENER}:PLAINTEXT"),
            "",
        ),
        set("controller.listener.names", CONTROLLER_LISTENER, ""),
        set("inter.broker.listener.name", INTERNAL_LISTENER, ""),
        set("log.dirs", log_dir, "This node's own data directory."),
        set(
            "auto.create.topics.enable",
            false,
            "Topics are created on purpose: a typo in a topic name is an error, not a new, empty topic.",
        ),
        set("num.partitions", 1, ""),
        set(
            "default.replication.factor",
            r.factor,
            "One copy per broker (up to 3); with 3 brokers, acks=all needs 2 copies in sync.",
        ),
        set("min.insync.replicas", r.min_isr, ""),
        set("offsets.topic.replication.factor", r.factor, "Internal topics: never more copies than brokers."),
        set("offsets.topic.num.partitions", 1, ""),
        set("transaction.state.log.replication.factor", r.factor, ""),
        set("transaction.state.log.min.isr", r.min_isr, ""),
        set("transaction.state.log.num.partitions", 1, ""),
        set("share.coordinator.state.topic.replication.factor", r.factor, ""),
        set("share.coordinator.state.topic.min.isr", r.min_isr, ""),
        set(
            "group.initial.rebalance.delay.ms",
            0,
            "The first consumer of a group starts at once instead of waiting 3 s for more members.",
        ),
        set("num.network.threads", 2, "A small machine."),
        set("num.io.threads", 4, ""),
        set("num.recovery.threads.per.data.dir", 1, ""),
        set("log.retention.hours", 168, ""),
    ]
}

/// Where the Connect worker runs: how it reaches the brokers, where its REST API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// The brokers as the worker reaches them ([`internal_bootstrap`]).
    pub bootstrap: String,
    /// The REST API's socket.
    pub rest: Address,
    /// The host name other workers of the group reach this one's REST API by.
    pub rest_advertised_host: String,
    /// One folder per connector plugin.
    pub plugin_path: String,
    /// Brokers in the cluster (Connect's own topics get one copy per broker, up to 3).
    pub brokers: usize,
}

/// Every setting of the Connect worker (distributed mode).
pub fn worker_settings(worker: &Worker) -> Vec<Setting> {
    let factor = replication(worker.brokers).factor;
    vec![
        set(
            "bootstrap.servers",
            &worker.bootstrap,
            "Connect is itself a Kafka client: it uses the brokers' INTERNAL listener.",
        ),
        set(
            "group.id",
            CONNECT_GROUP_ID,
            "Workers with the same group.id form one Connect cluster and share the connectors' tasks.",
        ),
        set("listeners", format!("http://{}", worker.rest), "The REST API (CONNECT_URL)."),
        set("rest.advertised.host.name", &worker.rest_advertised_host, ""),
        set("rest.advertised.port", worker.rest.port, ""),
        set(
            "config.storage.topic",
            CONNECT_CONFIG_TOPIC,
            "Distributed mode keeps connector configs, source offsets and statuses in Kafka topics\n\
             (created by the worker itself), so any worker of the group can take over a task.",
        ),
        set("offset.storage.topic", CONNECT_OFFSET_TOPIC, ""),
        set("status.storage.topic", CONNECT_STATUS_TOPIC, ""),
        set("config.storage.replication.factor", factor, ""),
        set("offset.storage.replication.factor", factor, ""),
        set("status.storage.replication.factor", factor, ""),
        set("offset.storage.partitions", 1, ""),
        set("status.storage.partitions", 1, ""),
        set(
            "key.converter",
            "org.apache.kafka.connect.json.JsonConverter",
            "JSON with embedded schemas: what the Debezium JDBC sink needs to create and alter tables.",
        ),
        set("value.converter", "org.apache.kafka.connect.json.JsonConverter", ""),
        set("key.converter.schemas.enable", true, ""),
        set("value.converter.schemas.enable", true, ""),
        set(
            "offset.flush.interval.ms",
            1000,
            "Source offsets are committed every 60 s by default; 1 s makes restarts in exercises less surprising.",
        ),
        set("plugin.path", &worker.plugin_path, "One folder per connector plugin, each with its own class loader."),
        set(
            "plugin.discovery",
            "service_load",
            "Find plugins through their META-INF/services manifests only: a start in about 2 s instead of 15 s\n\
             (every plugin used here ships manifests; Kafka's default also scans every jar).",
        ),
        set("scheduled.rebalance.max.delay.ms", 0, "Connectors and tasks get their first rebalance at once."),
    ]
}

/// Renders settings as a Java properties file, each group under its reason.
pub fn render_properties(title: &str, settings: &[Setting]) -> String {
    let mut out = String::new();
    for line in title.lines() {
        out.push_str(&format!("# {line}\n"));
    }
    for setting in settings {
        if !setting.why.is_empty() {
            out.push('\n');
            for line in setting.why.lines() {
                out.push_str(&format!("# {}\n", line.trim_start()));
            }
        }
        out.push_str(&format!("{}={}\n", setting.key, setting.value));
    }
    out
}

/// `mariadbd` flags every backend passes (each adds only where its files and sockets are).
pub fn mariadb_flags() -> Vec<String> {
    [
        // The binary log, row by row with full before/after images: what CDC (chapter 09) reads.
        "--server-id=1",
        "--log-bin=binlog",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        // MariaDB 11.4+ must keep binlog positions a CDC reader can resume from; `loose-` makes
        // 10.11, which has no such option, ignore it.
        "--loose-binlog-legacy-event-pos=ON",
        // UTF-8 for every table by default (mariadbd's own default is latin1 before 11.6).
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        // Users are matched by IP, never by a reverse DNS lookup.
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=64M",
    ]
    .iter()
    .map(|flag| flag.to_string())
    .collect()
}

/// The database and the two users, for clients from `hosts` (MariaDB matches a user by name
/// *and* the host it connects from). Passwords are SQL string contents (generated hex, or a
/// shell `${VARIABLE}` in the docker init script).
pub fn user_statements(hosts: &[&str], app_password: &str, cdc_password: &str) -> Vec<String> {
    let mut statements =
        vec![format!("CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")];
    for host in hosts {
        statements.push(format!("CREATE USER IF NOT EXISTS '{APP_USER}'@'{host}' IDENTIFIED BY '{app_password}'"));
        // The chapters create, alter and drop their own tables, in mydb only.
        statements.push(format!("GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{APP_USER}'@'{host}'"));
        statements.push(format!("CREATE USER IF NOT EXISTS '{CDC_USER}'@'{host}' IDENTIFIED BY '{cdc_password}'"));
        statements.push(format!("GRANT {CDC_GRANTS} ON *.* TO '{CDC_USER}'@'{host}'"));
    }
    statements
}

/// `mysql://workbook:<password>@host:port/mydb`
pub fn database_url(password: &str, at: &Address) -> String {
    format!("mysql://{APP_USER}:{password}@{at}/{DATABASE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback_nodes(count: u32) -> Vec<KafkaNode> {
        (1..=count)
            .map(|id| {
                let offset = 2 * (id as u16 - 1);
                KafkaNode {
                    id,
                    host: Listener::at(Address::new("127.0.0.1", 9092 + offset)),
                    internal: Listener::at(Address::new("127.0.0.1", 9192 + offset)),
                    controller: Listener::at(Address::new("127.0.0.1", 9093 + offset)),
                }
            })
            .collect()
    }

    fn value<'a>(settings: &'a [Setting], key: &str) -> &'a str {
        settings.iter().find(|s| s.key == key).map(|s| s.value.as_str()).unwrap_or_else(|| panic!("{key} missing"))
    }

    #[test]
    fn three_nodes_share_one_quorum_and_keep_two_copies_in_sync() {
        let nodes = loopback_nodes(3);
        let settings = broker_settings(&nodes[1], &nodes, "/data/kafka-2");
        assert_eq!(value(&settings, "node.id"), "2");
        assert_eq!(value(&settings, "controller.quorum.voters"), "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097");
        assert_eq!(
            value(&settings, "listeners"),
            "HOST://127.0.0.1:9094,INTERNAL://127.0.0.1:9194,CONTROLLER://127.0.0.1:9095"
        );
        assert_eq!(value(&settings, "advertised.listeners"), "HOST://127.0.0.1:9094,INTERNAL://127.0.0.1:9194");
        assert_eq!(value(&settings, "inter.broker.listener.name"), "INTERNAL");
        assert_eq!(value(&settings, "default.replication.factor"), "3");
        assert_eq!(value(&settings, "min.insync.replicas"), "2");
        assert_eq!(value(&settings, "transaction.state.log.min.isr"), "2");
        assert_eq!(host_bootstrap(&nodes), "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096");
        assert_eq!(internal_bootstrap(&nodes), "127.0.0.1:9192,127.0.0.1:9194,127.0.0.1:9196");
    }

    #[test]
    fn one_node_keeps_one_copy() {
        let nodes = loopback_nodes(1);
        let settings = broker_settings(&nodes[0], &nodes, "/d");
        for key in ["default.replication.factor", "min.insync.replicas", "offsets.topic.replication.factor"] {
            assert_eq!(value(&settings, key), "1", "{key}");
        }
        assert_eq!(value(&settings, "auto.create.topics.enable"), "false");
    }

    #[test]
    fn every_setting_is_set_once() {
        let nodes = loopback_nodes(3);
        let worker = Worker {
            bootstrap: internal_bootstrap(&nodes),
            rest: Address::new("127.0.0.1", 8083),
            rest_advertised_host: "127.0.0.1".into(),
            plugin_path: "/p".into(),
            brokers: 3,
        };
        for settings in [broker_settings(&nodes[0], &nodes, "/d"), worker_settings(&worker)] {
            let mut keys: Vec<&str> = settings.iter().map(|s| s.key).collect();
            keys.sort();
            let count = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), count, "a key is set twice");
        }
    }

    #[test]
    fn the_worker_uses_the_books_names_and_the_fast_settings() {
        let worker = Worker {
            bootstrap: "b:1".into(),
            rest: Address::new("0.0.0.0", 8083),
            rest_advertised_host: "connect".into(),
            plugin_path: "/opt/kafka/plugins".into(),
            brokers: 1,
        };
        let text = render_properties("title", &worker_settings(&worker));
        for line in [
            "group.id=workbook-connect",
            "config.storage.topic=workbook-connect-configs",
            "offset.storage.topic=workbook-connect-offsets",
            "status.storage.topic=workbook-connect-status",
            "offset.flush.interval.ms=1000",
            "scheduled.rebalance.max.delay.ms=0",
            "plugin.discovery=service_load",
            "listeners=http://0.0.0.0:8083",
            "rest.advertised.port=8083",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in:\n{text}");
        }
        assert!(text.starts_with("# title\n"));
    }

    /// Every Connect topic or group name the book shows is the one both backends use.
    #[test]
    fn the_books_connect_names_are_the_description_s() {
        let book = workbook_support::env::workspace_root().join("book").join("src");
        let ours = [CONNECT_CONFIG_TOPIC, CONNECT_OFFSET_TOPIC, CONNECT_STATUS_TOPIC];
        let mut shown = 0;
        for entry in std::fs::read_dir(&book).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
                if ["connect-configs", "connect-offsets", "connect-status"].iter().any(|t| word.ends_with(t)) {
                    assert!(
                        ours.contains(&word),
                        "{} shows the topic {word}; both backends use {ours:?}",
                        path.display()
                    );
                    shown += 1;
                }
            }
            assert!(!text.contains("connect-cluster"), "{} shows the group connect-cluster", path.display());
        }
        assert!(shown > 0, "the book shows Connect's topics somewhere");
        let tests = workbook_support::env::workspace_root().join("tests").join("src").join("lib.rs");
        let tests = std::fs::read_to_string(tests).unwrap();
        assert!(
            tests.contains(&format!("pub const CONNECT_CONFIG_TOPIC: &str = \"{CONNECT_CONFIG_TOPIC}\";")),
            "the connector audit in tests/ reads another config topic"
        );
    }

    #[test]
    fn users_get_only_their_rights() {
        let sql = user_statements(&["%"], "a", "c").join(";\n");
        assert!(sql.contains("GRANT ALL PRIVILEGES ON mydb.* TO 'workbook'@'%'"));
        assert!(!sql.contains("ON *.* TO 'workbook'"), "the app user has no global rights");
        assert!(sql.contains("REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%'"));
        assert!(sql.contains("CHARACTER SET utf8mb4"));
        assert_eq!(database_url("pw", &Address::new("127.0.0.1", 3307)), "mysql://workbook:pw@127.0.0.1:3307/mydb");
    }
}
