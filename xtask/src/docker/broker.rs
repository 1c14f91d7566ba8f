//! `cargo xtask broker` on the docker backend: `docker stop`, `kill`, `start`, `pause` and
//! `unpause` of one broker's container, which keeps its volume (its data) throughout.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{engine, require_daemon, short};
use crate::environment::BrokerDone;
use crate::state::Component;

/// `cargo xtask broker stop|kill N`: `docker stop` (SIGTERM, a controlled shutdown) or
/// `docker kill` (SIGKILL, a crash) of the node's container, which keeps its volume.
pub async fn stop_broker(component: &Component, kill: bool) -> Result<BrokerDone> {
    require_daemon("a broker cannot be stopped").await?;
    let id = container_of(component)?;
    if !engine::is_running(id) {
        bail!("{} is not running", component.name);
    }
    if kill { engine::kill(id) } else { engine::stop(id, Duration::from_secs(60)) }?;
    Ok(done(id, if kill { "docker kill" } else { "docker stop" }))
}

/// `cargo xtask broker start N`: `docker start` of the node's container (same volume, same settings).
pub async fn start_broker(component: &Component) -> Result<BrokerDone> {
    require_daemon("a broker cannot be started").await?;
    let id = container_of(component)?;
    engine::start(id)?;
    Ok(done(id, "docker start"))
}

/// `cargo xtask broker pause|resume N`: `docker pause` (the cgroup freezer: every process of the
/// container stops where it is) or `docker unpause`.
pub async fn freeze_broker(component: &Component, pause: bool) -> Result<BrokerDone> {
    require_daemon(if pause { "a broker cannot be paused" } else { "a broker cannot be resumed" }).await?;
    let id = container_of(component)?;
    if pause { engine::pause(id) } else { engine::unpause(id) }?;
    Ok(done(id, if pause { "docker pause" } else { "docker unpause" }))
}

fn container_of(component: &Component) -> Result<&str> {
    component.container.as_deref().with_context(|| format!("{} has no container id", component.name))
}

fn done(container: &str, how: &str) -> BrokerDone {
    BrokerDone { target: format!("container {}", short(container)), how: how.to_string() }
}
