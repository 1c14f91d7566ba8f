//! `cargo xtask check` and `cargo xtask hint`: the exercise checker.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct CheckOptions {
    /// Chapters to check (e.g. ch03); all when omitted.
    pub chapters: Vec<String>,
    /// Check the reference solutions instead of your code.
    #[arg(long)]
    pub solutions: bool,
}

#[derive(Args, Debug)]
pub struct HintOptions {
    /// The exercise, e.g. ch03::create_topic_idempotently.
    pub exercise: String,
}

pub async fn run(_options: &CheckOptions) -> Result<()> {
    bail!("not yet")
}

pub fn hint(_options: &HintOptions) -> Result<()> {
    bail!("not yet")
}
