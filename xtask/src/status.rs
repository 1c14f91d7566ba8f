//! `cargo xtask status`: what runs, where, and whether it answers.
//!
//! "Healthy" is asked of each service, not inferred from a pid: Kafka answers a metadata
//! request, Connect lists the plugins, MariaDB lets the workbook user in.

use std::time::Duration;

use anyhow::{Result, bail};
use workbook_support::Env;
use workbook_support::connect::ConnectClient;
use workbook_support::kafka;

use crate::layout::Layout;
use crate::state::{Component, State};
use crate::{cli, readiness};

/// One row of the table.
struct Row {
    component: String,
    address: String,
    handle: String,
    healthy: bool,
    details: String,
}

pub async fn run() -> Result<()> {
    let Some(state) = State::load(&Layout::current().state_file())? else {
        bail!("no environment is running (no .workbook/state.json). Start one with `cargo xtask up`");
    };
    let env = Env::load()?;
    let rows = check_all(&state, &env).await;
    print_table(&state, &rows);
    let unhealthy: Vec<&str> = rows.iter().filter(|r| !r.healthy).map(|r| r.component.as_str()).collect();
    if !unhealthy.is_empty() {
        bail!(
            "not healthy: {}. Logs are in .workbook/logs/; `cargo xtask down` then `cargo xtask up` restarts everything",
            unhealthy.join(", ")
        );
    }
    Ok(())
}

async fn check_all(state: &State, env: &Env) -> Vec<Row> {
    let kafka = kafka_health(state, env).await;
    let connect = connect_health(env).await;
    let mariadb = mariadb_health(env).await;
    state
        .components
        .iter()
        .map(|component| {
            let (healthy, details) = match component.name.as_str() {
                name if name.starts_with("kafka") => kafka.for_node(name),
                "connect" => connect.clone(),
                "mariadb" => mariadb.clone(),
                _ => (false, "unknown component".to_string()),
            };
            let alive = state.backend.is_alive(state, component);
            Row {
                component: component.name.clone(),
                address: component.address.clone(),
                handle: handle(component),
                healthy: healthy && alive,
                details: if alive { details } else { "process is gone".to_string() },
            }
        })
        .collect()
}

fn handle(component: &Component) -> String {
    match (&component.pid, &component.container) {
        (Some(pid), _) => match crate::process::rss_kib(*pid) {
            Some(kib) => format!("pid {pid}, {} MiB", kib / 1024),
            None => format!("pid {pid}"),
        },
        (_, Some(id)) => format!("container {}", &id[..id.len().min(12)]),
        _ => "-".to_string(),
    }
}

/// What the cluster said: broker ids and the active controller.
struct KafkaHealth {
    brokers: Result<Vec<i32>, String>,
    controller: Option<i32>,
}

impl KafkaHealth {
    fn for_node(&self, name: &str) -> (bool, String) {
        let controller = self.controller.map(|id| id.to_string()).unwrap_or_else(|| "unknown".into());
        match &self.brokers {
            Err(e) => (false, e.clone()),
            Ok(ids) => {
                // "kafka-2" is node 2; "kafka" (external backend) is the whole cluster.
                let node: Option<i32> = name.strip_prefix("kafka-").and_then(|n| n.parse().ok());
                let listed = node.is_none_or(|id| ids.contains(&id));
                let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
                (listed, format!("brokers [{}], controller {controller}", ids.join(", ")))
            }
        }
    }
}

async fn kafka_health(state: &State, env: &Env) -> KafkaHealth {
    let brokers = match kafka::fetch_metadata(&env.bootstrap_servers, None, Duration::from_secs(3)).await {
        Ok(cluster) => Ok(cluster.brokers.iter().map(|b| b.id).collect()),
        Err(e) => Err(format!("{e:#}")),
    };
    let controller = match &brokers {
        Ok(_) => controller_id(state, env).await,
        Err(_) => None,
    };
    KafkaHealth { brokers, controller }
}

/// The active controller: the leader of the KRaft metadata quorum.
async fn controller_id(state: &State, env: &Env) -> Option<i32> {
    let state = state.clone();
    let args =
        vec!["--bootstrap-server".to_string(), env.bootstrap_servers.clone(), "describe".into(), "--status".into()];
    let output =
        tokio::task::spawn_blocking(move || cli::capture(&state, "kafka-metadata-quorum", &args)).await.ok()?;
    readiness::parse_quorum_leader(&output.ok()?).ok()
}

async fn connect_health(env: &Env) -> (bool, String) {
    let plugins = match ConnectClient::new(env) {
        Ok(client) => client.plugins().await,
        Err(e) => Err(e),
    };
    match plugins {
        Err(e) => (false, format!("{e:#}")),
        Ok(plugins) => {
            let missing = readiness::missing_plugins(&plugins);
            let names: Vec<&str> = plugins.iter().map(|p| p.class.rsplit('.').next().unwrap_or(&p.class)).collect();
            if missing.is_empty() {
                (true, format!("plugins: {}", names.join(", ")))
            } else {
                (false, format!("missing plugins: {}", missing.join(", ")))
            }
        }
    }
}

async fn mariadb_health(env: &Env) -> (bool, String) {
    match workbook_support::db::pool(env).await {
        Err(e) => (false, format!("{e:#}")),
        Ok(pool) => {
            let version: Result<String, _> = sqlx::query_scalar("SELECT VERSION()").fetch_one(&pool).await;
            pool.close().await;
            match version {
                Ok(version) => (true, format!("MariaDB {version}, user workbook on mydb")),
                Err(e) => (false, e.to_string()),
            }
        }
    }
}

fn print_table(state: &State, rows: &[Row]) {
    println!(
        "Backend: {}  Brokers: {}  Connect: {}",
        state.backend,
        state.brokers,
        if state.connect { "yes" } else { "no" }
    );
    let width = |f: fn(&Row) -> usize, title: &str| rows.iter().map(f).max().unwrap_or(0).max(title.len());
    let (w1, w2, w3) = (
        width(|r| r.component.len(), "COMPONENT"),
        width(|r| r.address.len(), "ADDRESS"),
        width(|r| r.handle.len(), "PROCESS"),
    );
    println!("{:<w1$}  {:<w2$}  {:<w3$}  {:<7}  DETAILS", "COMPONENT", "ADDRESS", "PROCESS", "HEALTHY");
    for row in rows {
        let healthy = if row.healthy { "yes" } else { "NO" };
        println!("{:<w1$}  {:<w2$}  {:<w3$}  {:<7}  {}", row.component, row.address, row.handle, healthy, row.details);
    }
}
