//! `cargo xtask cli`: the real Kafka command-line tools against the environment.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct CliOptions {
    /// The tool, as the Kafka distribution names it: kafka-topics, kafka-console-producer, ...
    pub tool: String,
    /// Its arguments (--bootstrap-server is added for you when missing).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub async fn run(_options: &CliOptions) -> Result<()> {
    bail!("not yet")
}
