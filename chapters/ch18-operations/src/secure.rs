//! A Kafka broker of the chapter's own that wants a user name and a password (SASL/SCRAM on one
//! listener, SASL/PLAIN on another) and checks every request against ACLs: one KRaft node
//! (broker + controller), in a temporary directory, on free loopback ports. The workbook's shared
//! broker is never touched.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

use crate::tools::{self, Kafka};

/// The broker's own administrator: a super user, also used by the broker for its own connections.
pub const ADMIN: (&str, &str) = ("admin", "admin-secret");

/// The user the example creates. Her SCRAM credentials are added at run time (kafka-configs);
/// her PLAIN password is written in the PLAIN listener's configuration.
pub const ALICE: (&str, &str) = ("alice", "alice-secret");

/// The ports the secure broker listens on (all on 127.0.0.1).
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    /// Clients logging in with SCRAM-SHA-256.
    pub scram: u16,
    /// Clients logging in with PLAIN.
    pub plain: u16,
    /// The controller (this node's own broker part is its only client).
    pub controller: u16,
}

// ANCHOR: server_properties
/// The broker's configuration: two SASL listeners for clients (SCRAM-SHA-256 and PLAIN) and the
/// standard authorizer. Everything not listed here keeps Kafka's defaults.
pub fn server_properties(ports: &Ports, log_dir: &Path) -> String {
    let Ports { scram: port, plain: plain_port, controller: controller_port } = *ports;
    let (user, password) = ADMIN;
    let (alice, alice_password) = ALICE;
    format!(
        "process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
# Listener names are ours; the map says which security protocol each one speaks.
listeners=CLIENTS://127.0.0.1:{port},PLAIN_CLIENTS://127.0.0.1:{plain_port},\
CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=CLIENTS://127.0.0.1:{port},PLAIN_CLIENTS://127.0.0.1:{plain_port}
listener.security.protocol.map=CLIENTS:SASL_PLAINTEXT,PLAIN_CLIENTS:SASL_PLAINTEXT,\
CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENTS
controller.listener.names=CONTROLLER
# Clients: SCRAM. The credentials live in the cluster metadata (kafka-storage --add-scram,
# kafka-configs --entity-type users), salted and hashed, never the password itself.
listener.name.clients.sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.clients.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required \
username=\"{user}\" password=\"{password}\";
# A second client listener, PLAIN, for clients without SCRAM; its users are listed here, one
# user_NAME entry each. PLAIN sends the password itself: in production, only inside TLS
# (SASL_SSL). The principal is User:alice on either listener, so the same ACLs apply.
listener.name.plain_clients.sasl.enabled.mechanisms=PLAIN
listener.name.plain_clients.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required \
user_{user}=\"{password}\" user_{alice}=\"{alice_password}\";
# The controller listener cannot use SCRAM (the credentials are in the metadata the controller
# serves); PLAIN with its user list in the configuration is the usual choice.
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required \
username=\"{user}\" password=\"{password}\" user_{user}=\"{password}\";
# Authorization: ACLs are kept in the cluster metadata. A request that no ACL allows is
# denied, except for super users.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:{user}
log.dirs={log_dir}
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
",
        log_dir = log_dir.display()
    )
}
// ANCHOR_END: server_properties

// ANCHOR: client_properties
/// What a Java client (a CLI tool's `--command-config`) needs to log in as `user`.
pub fn java_client_properties(user: &str, password: &str) -> String {
    format!(
        "security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
username=\"{user}\" password=\"{password}\";
"
    )
}

/// The same for a Rust (librdkafka) client: `SCRAM-SHA-256` on the `CLIENTS` listener, `PLAIN` on
/// the `PLAIN_CLIENTS` one.
pub fn sasl_client_config(
    bootstrap: &str,
    mechanism: &str,
    user: &str,
    password: &str,
) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        // SASL on a plain TCP connection; SASL_SSL would add TLS (encryption, broker identity).
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", mechanism)
        .set("sasl.username", user)
        .set("sasl.password", password)
        .set("socket.connection.setup.timeout.ms", "5000");
    config
}
// ANCHOR_END: client_properties

// ANCHOR: client_errors
/// A client context that keeps the errors librdkafka reports outside any request. A refused
/// login is one: the client is not closed, librdkafka logs in again after a pause (the password
/// may be fixed on the broker in the meantime) and reports each refusal here.
#[derive(Clone, Default)]
pub struct ClientErrors(Arc<Mutex<Vec<String>>>);

impl ClientErrors {
    /// The first error reported so far.
    pub fn first(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).first().cloned()
    }
}

impl ClientContext for ClientErrors {
    fn error(&self, error: KafkaError, reason: &str) {
        let mut errors = self.0.lock().unwrap_or_else(|e| e.into_inner());
        errors.push(format!("{error}: {reason}"));
    }
}

impl ConsumerContext for ClientErrors {}
// ANCHOR_END: client_errors

// ANCHOR: features
/// The optional parts this build of librdkafka was compiled with (`builtin.features`), e.g.
/// `gzip, snappy, ssl, sasl, regex, …, sasl_scram, …`.
pub fn librdkafka_features() -> Result<Vec<String>> {
    let native =
        ClientConfig::new().create_native_config().context("creating a librdkafka config")?;
    let features = native.get("builtin.features").context("reading builtin.features")?;
    Ok(features.split(',').map(str::to_string).collect())
}
// ANCHOR_END: features

/// The running secure broker; stopped (by its pid) and deleted when dropped.
pub struct SecureBroker {
    /// The SCRAM listener (`CLIENTS`).
    pub bootstrap: String,
    /// The PLAIN listener (`PLAIN_CLIENTS`).
    pub plain_bootstrap: String,
    pub kafka: Kafka,
    dir: tempfile::TempDir,
    child: Child,
}

impl SecureBroker {
    /// Formats a new single-node cluster whose metadata already holds the admin's SCRAM
    /// credentials (KIP-900), starts it, and waits until it serves clients.
    pub fn start() -> Result<SecureBroker> {
        let kafka = Kafka::locate()?;
        let dir = tempfile::Builder::new()
            .prefix("ch18-secure-")
            .tempdir()
            .context("creating a temp dir")?;
        let [scram, plain, controller] = free_ports()?;
        let ports = Ports { scram, plain, controller };
        let config = tools::write_file(
            dir.path(),
            "server.properties",
            &server_properties(&ports, &dir.path().join("data")),
        )?;
        let config_arg = config.display().to_string();
        let cluster_id = kafka.run_ok("kafka-storage", &["random-uuid"])?.trim().to_string();
        let scram = format!("SCRAM-SHA-256=[name={},password={}]", ADMIN.0, ADMIN.1);
        let format = kafka.run_ok_quiet(
            "kafka-storage",
            &["format", "-t", &cluster_id, "-c", &config_arg, "--add-scram", &scram],
        )?;
        // The bootstrap metadata now holds the admin's credentials: a salt, two keys derived
        // from the password, and the iteration count. Not the password.
        if let Some(start) = format.find("UserScramCredentialRecord(") {
            let record = &format[start..];
            let record = &record[..record.find(" at version").unwrap_or(record.len())];
            println!("{}", elide_arrays(record));
        }

        let log_path = dir.path().join("broker.log");
        let log = File::create(&log_path)?;
        let mut command = kafka.java("kafka.Kafka", "log4j2.yaml");
        let child = command
            .arg(&config)
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C meant for the example must not kill it halfway.
            .process_group(0)
            .spawn()
            .context("starting the secure broker")?;
        let mut broker = SecureBroker {
            bootstrap: format!("127.0.0.1:{}", ports.scram),
            plain_bootstrap: format!("127.0.0.1:{}", ports.plain),
            kafka,
            dir,
            child,
        };
        println!(
            "waiting for the secure broker on {} (SCRAM) and {} (PLAIN) to start",
            broker.bootstrap, broker.plain_bootstrap
        );
        broker.wait_started(&log_path, Duration::from_secs(90))?;
        Ok(broker)
    }

    /// Waits for the broker's "Kafka Server started" log line; a broker that exits is an error.
    fn wait_started(&mut self, log: &Path, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("Kafka Server started") {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the secure broker exited ({status}):\n{}", tail(&text, 30));
            }
            if Instant::now() > deadline {
                bail!(
                    "the secure broker did not start within {} s:\n{}",
                    timeout.as_secs(),
                    tail(&text, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The temporary directory (configuration, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a `--command-config` file for `user` and returns its path.
    pub fn login_file(&self, user: &str, password: &str) -> Result<PathBuf> {
        tools::write_file(
            self.dir(),
            &format!("{user}.properties"),
            &java_client_properties(user, password),
        )
    }
}

impl Drop for SecureBroker {
    fn drop(&mut self) {
        // A clean shutdown first; a broker that has not stopped after 20 s is killed.
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.wait();
    }
}

/// `N` ports nobody listens on right now (the OS picks them; all are held until all are known,
/// so they differ).
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").context("finding a free port"))
        .collect::<Result<_>>()?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&held) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// `salt=[1, 2, 3]` -> `salt=[…]`.
fn elide_arrays(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '[' => {
                depth += 1;
                out.push_str("[…");
            }
            ']' => {
                depth -= 1;
                out.push(']');
            }
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
