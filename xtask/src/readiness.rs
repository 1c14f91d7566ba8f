//! "Ready" means answering, not "the process started": each check asks the service itself.
//!
//! Every wait polls with a deadline and also asks `alive` whether the process is still there,
//! so a broker that crashed on start is reported at once with its log, not after a timeout.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use workbook_support::connect::{ConnectClient, Plugin};
use workbook_support::kafka::{self, Cluster};
use workbook_support::wait;

use crate::versions;

/// Kafka is ready when its metadata lists `expected` brokers.
pub async fn kafka(
    bootstrap: &str,
    expected: usize,
    timeout: Duration,
    alive: impl Fn() -> Result<()>,
) -> Result<Cluster> {
    wait::until(&format!("Kafka lists {expected} broker(s)"), timeout, Duration::from_millis(250), || {
        let alive = alive();
        async move {
            alive?;
            let cluster = kafka::fetch_metadata(bootstrap, None, Duration::from_secs(2)).await?;
            Ok((cluster.brokers.len() == expected).then_some(cluster))
        }
    })
    .await
}

/// Connect is ready when its REST API lists every plugin the chapters use.
pub async fn connect(url: &str, timeout: Duration, alive: impl Fn() -> Result<()>) -> Result<Vec<Plugin>> {
    let client = ConnectClient::for_url(url)?;
    wait::until("Kafka Connect lists its plugins", timeout, Duration::from_millis(500), || {
        let client = client.clone();
        let alive = alive();
        async move {
            alive?;
            let plugins = client.plugins().await?;
            let missing = missing_plugins(&plugins);
            if missing.is_empty() { Ok(Some(plugins)) } else { bail!("plugins missing so far: {}", missing.join(", ")) }
        }
    })
    .await
}

/// The required connector classes the worker does not list.
pub fn missing_plugins(plugins: &[Plugin]) -> Vec<&'static str> {
    versions::REQUIRED_PLUGINS.iter().copied().filter(|class| !plugins.iter().any(|p| p.class == *class)).collect()
}

/// MariaDB is ready when the workbook user can log in to `mydb` and run a query.
pub async fn mariadb(database_url: &str, timeout: Duration) -> Result<()> {
    mariadb_checked(database_url, timeout, || Ok(())).await
}

/// [`mariadb`], asking `alive` first on every try (so a crashed server is reported at once).
pub async fn mariadb_checked(database_url: &str, timeout: Duration, alive: impl Fn() -> Result<()>) -> Result<()> {
    wait::until("MariaDB accepts the workbook user", timeout, Duration::from_millis(250), || {
        let alive = alive();
        async move {
            alive?;
            let pool = workbook_support::db::pool_for_url(database_url).await?;
            sqlx::query("SELECT 1").execute(&pool).await?;
            pool.close().await;
            Ok(Some(()))
        }
    })
    .await
}

/// Reads the active controller's id from `kafka-metadata-quorum describe --status` output.
///
/// In KRaft the controller is the leader of the metadata quorum. (The Metadata API's
/// "controller id" is not it: KRaft brokers answer with a random live broker there.)
pub fn parse_quorum_leader(output: &str) -> Result<i32> {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix("LeaderId:"))
        .context("no LeaderId in kafka-metadata-quorum output")?
        .trim()
        .parse()
        .context("LeaderId is not a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_leader_from_quorum_status() {
        let output = "ClusterId:              abc\nLeaderId:               2\nLeaderEpoch:            1\n";
        assert_eq!(parse_quorum_leader(output).unwrap(), 2);
        assert!(parse_quorum_leader("nothing").is_err());
    }

    #[test]
    fn lists_missing_plugins() {
        let plugin = |class: &str| Plugin { class: class.into(), kind: "source".into(), version: String::new() };
        let plugins = vec![plugin(versions::FILE_SOURCE_CLASS), plugin(versions::FILE_SINK_CLASS)];
        assert_eq!(missing_plugins(&plugins), vec![versions::MARIADB_SOURCE_CLASS, versions::JDBC_SINK_CLASS]);
    }
}
