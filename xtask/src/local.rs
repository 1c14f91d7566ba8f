//! The `local` backend: Kafka and Connect as JVM child processes, MariaDB as a private `mariadbd`.

use anyhow::{Result, bail};

use crate::backend::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::State;

pub async fn up(_options: &UpOptions, _layout: &Layout) -> Result<Running> {
    bail!("not yet")
}

pub fn down(_state: &State) -> Result<()> {
    Ok(())
}
