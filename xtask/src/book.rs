//! `cargo xtask book`: build or serve the mdBook.

use anyhow::{Result, bail};
use clap::Args;

#[derive(Args, Debug)]
pub struct BookOptions {
    /// Serve the book with live reload instead of building it once.
    #[arg(long)]
    pub serve: bool,
}

pub async fn run(_options: &BookOptions) -> Result<()> {
    bail!("not yet")
}
