//! `cargo xtask status`: what runs, where, and whether it answers.

use anyhow::Result;

pub async fn run() -> Result<()> {
    Ok(())
}
