//! `cargo xtask broker stop|kill|start N`: lose one broker of the running environment, and
//! bring it back, on whichever backend runs it (chapter 13 breaks its own cluster this way).
//!
//! - `stop`: a controlled shutdown (SIGTERM): the broker first hands its partition leaderships
//!   over and leaves the ISRs;
//! - `kill`: a crash (SIGKILL): no goodbye; the controller notices when its heartbeats stop;
//! - `start`: the same node again, with the same settings and data, and waits until it has
//!   registered with the controller again.
//!
//! local backend: signals to the broker's process, and a new process from the same properties
//! file; docker backend: `docker stop`, `docker kill`, `docker start` of its container.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use nix::sys::signal::Signal;
use workbook_support::kafka;

use crate::backend::is_alive;
use crate::layout::Layout;
use crate::state::{Backend, State};
use crate::{docker, local, readiness};

/// How long a restarted broker may take to register again.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Args, Debug)]
pub struct BrokerOptions {
    /// stop (SIGTERM, a controlled shutdown), kill (SIGKILL, a crash), or start (again).
    pub action: Action,
    /// The broker's node id: 1, 2 or 3.
    pub id: u32,
    /// `start` only: return once the process or container runs, without waiting for the broker
    /// to register with the controller.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    Stop,
    Kill,
    Start,
}

pub async fn run(options: &BrokerOptions) -> Result<()> {
    let layout = Layout::current();
    let Some(mut state) = State::load(&layout.state_file())? else {
        bail!("no environment is running (no {}). Start one with `cargo xtask up`", layout.state_file().display());
    };
    let name = format!("kafka-{}", options.id);
    let Some(component) = state.component(&name).cloned() else {
        let ids: Vec<&str> = state.components.iter().filter_map(|c| c.name.strip_prefix("kafka-")).collect();
        bail!("this environment has no broker {} (its brokers: {})", options.id, ids.join(", "));
    };
    if state.backend == Backend::External {
        bail!("the external backend runs nothing of ours: stop your own brokers yourself");
    }
    let started = Instant::now();
    match options.action {
        Action::Stop | Action::Kill => {
            let kill = options.action == Action::Kill;
            match state.backend {
                Backend::Local => {
                    let signal = if kill { Signal::SIGKILL } else { Signal::SIGTERM };
                    let pid = local::signal_broker(&state, &component, signal)?;
                    println!("broker {} (pid {pid}) is gone after {signal}, in {:.1} s", options.id, secs(started));
                }
                _ => {
                    docker::stop_broker(&component, kill).await?;
                    let how = if kill { "docker kill" } else { "docker stop" };
                    println!("broker {} ({how}) is gone, in {:.1} s", options.id, secs(started));
                }
            }
        }
        Action::Start => {
            if is_alive(&state, &component) {
                bail!("broker {} is already running", options.id);
            }
            match state.backend {
                Backend::Local => {
                    let pid = local::start_broker(&layout, options.id)?;
                    if let Some(c) = state.components.iter_mut().find(|c| c.name == name) {
                        c.pid = Some(pid);
                    }
                    state.save(&layout.state_file())?;
                    println!("broker {} started again (pid {pid})", options.id);
                }
                _ => {
                    docker::start_broker(&component).await?;
                    println!(
                        "broker {} started again (container {})",
                        options.id,
                        component.container.as_deref().unwrap_or("?")
                    );
                }
            }
            if !options.no_wait {
                wait_registered(&state, &component.address, options.id).await?;
                println!("broker {} registered with the controller after {:.1} s", options.id, secs(started));
            }
        }
    }
    Ok(())
}

/// Waits until the broker answers on its own address and the cluster's metadata lists it.
async fn wait_registered(state: &State, address: &str, id: u32) -> Result<()> {
    let name = format!("kafka-{id}");
    let component = state.component(&name).cloned().with_context(|| format!("{name} vanished from state.json"))?;
    let alive = || -> Result<()> {
        match state.backend {
            Backend::Docker => docker::ensure_component_running(&component),
            _ if is_alive(state, &component) => Ok(()),
            _ => {
                let log = component.log.as_ref().map(|l| crate::process::log_tail(l, 25)).unwrap_or_default();
                Err(workbook_support::wait::fatal(format!("broker {id} exited while starting. Its log ends:\n{log}")))
            }
        }
    };
    workbook_support::wait::until(
        &format!("broker {id} registers with the controller"),
        REGISTER_TIMEOUT,
        Duration::from_millis(250),
        || {
            let alive = alive();
            let address = address.to_string();
            async move {
                alive?;
                let probe = readiness::env_with_bootstrap(&address);
                let cluster =
                    tokio::task::spawn_blocking(move || kafka::fetch_cluster(&probe, None, Duration::from_secs(2)))
                        .await??;
                Ok(cluster.brokers.iter().any(|b| b.id == id as i32).then_some(()))
            }
        },
    )
    .await
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}
