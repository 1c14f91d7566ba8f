//! `cargo xtask broker stop|kill|start|pause|resume N`: lose one broker of the running
//! environment, and bring it back, on whichever backend runs it (chapter 13 breaks its own
//! cluster this way).
//!
//! - `stop`: a controlled shutdown (SIGTERM): the broker first hands its partition leaderships
//!   over and leaves the ISRs;
//! - `kill`: a crash (SIGKILL): no goodbye; the controller notices when its heartbeats stop;
//! - `start`: the same node again, with the same settings and data, and waits until it has
//!   registered with the controller again;
//! - `pause`: the broker freezes where it is (SIGSTOP): its process and connections stay, but it
//!   neither fetches, nor answers, nor sends heartbeats, like a machine stuck in a long GC pause
//!   or cut off by the network;
//! - `resume`: it carries on from where it froze (SIGCONT).
//!
//! local backend: signals to the broker's process, and a new process from the same properties
//! file; docker backend: `docker stop`, `docker kill`, `docker start`, `docker pause`,
//! `docker unpause` of its container.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use workbook_support::kafka;

use crate::layout::Layout;
use crate::state::State;

/// How long a restarted broker may take to register again.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Args, Debug)]
pub struct BrokerOptions {
    /// stop (SIGTERM, a controlled shutdown), kill (SIGKILL, a crash), start (again), pause
    /// (SIGSTOP or `docker pause`: frozen, silent, not gone), or resume (SIGCONT or `docker unpause`).
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
    Pause,
    Resume,
}

pub async fn run(options: &BrokerOptions) -> Result<()> {
    let layout = Layout::current();
    let Some(mut state) = State::load(&layout.state_file())? else {
        bail!("no environment is running (no {}). Start one with `cargo xtask up`", layout.state_file().display());
    };
    let id = options.id;
    let Some(component) = state.component(&format!("kafka-{id}")).cloned() else {
        let ids: Vec<&str> = state.components.iter().filter_map(|c| c.name.strip_prefix("kafka-")).collect();
        bail!("this environment has no broker {id} (its brokers: {})", ids.join(", "));
    };
    let backend = state.backend;
    let started = Instant::now();
    match options.action {
        Action::Stop | Action::Kill => {
            let done = backend.stop_broker(&state, &component, options.action == Action::Kill).await?;
            println!("broker {id} ({}) is gone after {}, in {:.1} s", done.target, done.how, secs(started));
        }
        Action::Start => {
            if backend.is_alive(&state, &component) {
                bail!("broker {id} is already running");
            }
            let done = backend.start_broker(&mut state, &layout, id).await?;
            println!("broker {id} started again ({})", done.target);
            if !options.no_wait {
                wait_registered(&state, id).await?;
                println!("broker {id} registered with the controller after {:.1} s", secs(started));
            }
        }
        Action::Pause | Action::Resume => {
            let pause = options.action == Action::Pause;
            if !backend.is_alive(&state, &component) {
                bail!("broker {id} is not running");
            }
            let done = backend.freeze_broker(&state, &component, pause).await?;
            let (word, note) = match pause {
                true => ("paused", ": it neither fetches, nor answers, nor sends heartbeats until resumed"),
                false => ("resumed", ""),
            };
            println!("broker {id} ({}) {word} ({}){note}", done.target, done.how);
        }
    }
    Ok(())
}

/// Waits until broker `id` answers on its own address and the cluster's metadata lists it.
async fn wait_registered(state: &State, id: u32) -> Result<()> {
    let name = format!("kafka-{id}");
    let component = state.component(&name).cloned().with_context(|| format!("{name} vanished from state.json"))?;
    workbook_support::wait::until(
        &format!("broker {id} registers with the controller"),
        REGISTER_TIMEOUT,
        Duration::from_millis(250),
        || {
            let running = state.backend.ensure_running(state, &component);
            let address = component.address.clone();
            async move {
                running?;
                let cluster = kafka::fetch_metadata(&address, None, Duration::from_secs(2)).await?;
                Ok(cluster.brokers.iter().any(|b| b.id == id as i32).then_some(()))
            }
        },
    )
    .await
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn every_action_parses_with_a_node_id() {
        for (word, action) in [
            ("stop", Action::Stop),
            ("kill", Action::Kill),
            ("start", Action::Start),
            ("pause", Action::Pause),
            ("resume", Action::Resume),
        ] {
            let cli = crate::Cli::try_parse_from(["cargo xtask", "broker", word, "2"]).unwrap();
            let crate::Command::Broker(options) = cli.command else { panic!("`broker {word} 2` is not `broker`") };
            assert_eq!((options.action, options.id, options.no_wait), (action, 2, false));
        }
        assert!(crate::Cli::try_parse_from(["cargo xtask", "broker", "freeze", "2"]).is_err());
    }
}
