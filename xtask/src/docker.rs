//! The `docker` backend: the same three services as containers, through testcontainers.
//! (Being written; see docker/ for the compose file a Docker user can also run by hand.)

use anyhow::{Result, bail};

use crate::backend::{Running, UpOptions};
use crate::layout::Layout;
use crate::state::State;

pub async fn up(_options: &UpOptions, _layout: &Layout) -> Result<Running> {
    bail!("the docker backend is not available yet")
}

pub fn down(_state: &State) -> Result<()> {
    Ok(())
}

pub fn is_running(_container: &str) -> bool {
    false
}

pub fn daemon_answers() -> bool {
    false
}
