//! What every backend shares: what `up` and `down` are asked for ([`UpOptions`], [`DownOptions`]),
//! what a backend hands back once its services answer ([`Running`]), and what a broker action did
//! ([`BrokerDone`]). The services' settings
//! themselves (listeners, replication, the Connect worker, MariaDB) are described once, in
//! [`crate::description`].

use std::collections::BTreeMap;

use clap::Args;

use crate::state::{Backend, State};

/// Flags of `cargo xtask up`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct UpOptions {
    /// Which backend runs the services; default: docker if a Docker Engine 20.10+ answers, else local.
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Kafka brokers: 1 for learning, 3 to see replication and a controller quorum.
    #[arg(long, default_value_t = 1, value_parser = one_or_three)]
    pub brokers: u32,
    /// Do not start Kafka Connect (faster, less memory; chapters 07-12 need it).
    #[arg(long)]
    pub no_connect: bool,
    /// Port of the first broker (default 9092, or a free one if 9092 is taken).
    #[arg(long)]
    pub kafka_port: Option<u16>,
    /// Port of the Kafka Connect REST API (default 8083).
    #[arg(long)]
    pub connect_port: Option<u16>,
    /// Port of MariaDB (default 3307).
    #[arg(long)]
    pub mariadb_port: Option<u16>,
    /// external backend: your broker list.
    #[arg(long, requires = "backend")]
    pub bootstrap_servers: Option<String>,
    /// external backend: your MariaDB URL (mysql://user:password@host:port/mydb).
    #[arg(long, requires = "backend")]
    pub database_url: Option<String>,
    /// external backend: your Kafka Connect REST URL.
    #[arg(long, requires = "backend")]
    pub connect_url: Option<String>,
}

/// `--brokers`: 1 or 3. A controller quorum needs a majority of its voters: two nodes would stop
/// at the first one lost, so three is the smallest cluster that survives a failure.
fn one_or_three(text: &str) -> Result<u32, String> {
    match text {
        "1" => Ok(1),
        "3" => Ok(3),
        _ => Err("1 or 3 brokers (with 2, losing either one would stop the controller quorum)".to_string()),
    }
}

impl Default for UpOptions {
    /// What `cargo xtask up` without flags asks for: one broker and Connect, on the default ports,
    /// with the backend chosen by what is installed.
    fn default() -> UpOptions {
        UpOptions {
            backend: None,
            brokers: 1,
            no_connect: false,
            kafka_port: None,
            connect_port: None,
            mariadb_port: None,
            bootstrap_servers: None,
            database_url: None,
            connect_url: None,
        }
    }
}

/// Flags of `cargo xtask down`.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct DownOptions {
    /// Also delete the data (topics, tables, logs; the docker backend's volumes): the next `up`
    /// starts from scratch.
    #[arg(long)]
    pub purge: bool,
}

/// What a backend hands back once everything is ready.
pub struct Running {
    pub state: State,
    /// The `.workbook/env` variables: the addresses (each as your programs see it and as the
    /// Connect worker does), plus the CDC and admin credentials.
    pub env: BTreeMap<String, String>,
}

/// What `cargo xtask broker stop|kill|start|pause|resume` did, for its line of output: to what
/// (`pid 4242`, `container 1a2b3c4d5e6f`) and how (`SIGTERM`, `docker stop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerDone {
    pub target: String,
    pub how: String,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_default_is_what_up_without_flags_asks_for() {
        let cli = crate::Cli::try_parse_from(["cargo xtask", "up"]).unwrap();
        let crate::Command::Up(options) = cli.command else { panic!("`up` is not `up`") };
        assert_eq!(options, UpOptions::default());
        assert_eq!(UpOptions::default().brokers, 1);
        let cli = crate::Cli::try_parse_from(["cargo xtask", "down"]).unwrap();
        let crate::Command::Down(options) = cli.command else { panic!("`down` is not `down`") };
        assert_eq!(options, DownOptions::default());
    }

    #[test]
    fn one_or_three_brokers_are_offered() {
        let brokers = |n: &str| crate::Cli::try_parse_from(["cargo xtask", "up", "--brokers", n]);
        assert!(brokers("1").is_ok() && brokers("3").is_ok());
        let error = brokers("2").err().unwrap().to_string();
        assert!(error.contains("invalid value '2'") && error.contains("1 or 3"), "{error}");
    }
}
