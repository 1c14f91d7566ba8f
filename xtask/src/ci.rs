//! `cargo xtask ci`: everything CI runs, in order, with the environment up once.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct CiOptions {}

pub async fn run(_options: &CiOptions) -> Result<()> {
    bail!("not yet")
}
