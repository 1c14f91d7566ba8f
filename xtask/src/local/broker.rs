//! `cargo xtask broker` on the local backend: signals to one broker's process, and a new
//! process from the same properties file and data directory.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use super::{jars, kafka};
use crate::environment::BrokerDone;
use crate::layout::Layout;
use crate::state::{Component, State};
use crate::{prereqs, process};

/// A broker's controlled shutdown hands its leaderships over first; give it time.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// `cargo xtask broker stop|kill N`: SIGTERM (a controlled shutdown) or SIGKILL (a crash) to the
/// node's process, then waits until it is gone.
pub fn stop_broker(state: &State, component: &Component, kill: bool) -> Result<BrokerDone> {
    let pid = our_pid(state, component)?;
    if !kill && process::is_paused(pid) {
        // SIGTERM would wait, undelivered, for a SIGCONT that nobody sends.
        let id = component.name.trim_start_matches("kafka-");
        bail!("broker {id} is paused: `cargo xtask broker resume {id}` first, or `kill` it");
    }
    let signal = if kill { Signal::SIGKILL } else { Signal::SIGTERM };
    process::signal_and_wait(pid, &state.marker, signal, STOP_TIMEOUT)
        .with_context(|| format!("stopping {}", component.name))?;
    Ok(BrokerDone { target: format!("pid {pid}"), how: signal.to_string() })
}

/// `cargo xtask broker pause|resume N`: SIGSTOP (the broker freezes where it is) or SIGCONT to the
/// node's process, once the kernel reports it stopped (or running again).
pub fn freeze_broker(state: &State, component: &Component, pause: bool) -> Result<BrokerDone> {
    let pid = our_pid(state, component)?;
    let signal = process::freeze(pid, pause)
        .with_context(|| format!("{} {}", if pause { "pausing" } else { "resuming" }, component.name))?;
    Ok(BrokerDone { target: format!("pid {pid}"), how: signal.to_string() })
}

/// The component's pid, if it still runs a process of ours.
fn our_pid(state: &State, component: &Component) -> Result<u32> {
    let pid = component.pid.with_context(|| format!("{} has no pid in state.json", component.name))?;
    if !process::is_ours(pid, &state.marker) {
        bail!("{} is not running (pid {pid} is gone)", component.name);
    }
    Ok(pid)
}

/// `cargo xtask broker start N`: node `id` again, from the same properties file and data
/// directory `up` gave it. Returns the new pid (to record in state.json).
pub fn start_broker(layout: &Layout, id: u32) -> Result<u32> {
    let java = prereqs::java()?;
    let runtime = jars::ensure(false)?;
    let (child, _log) = kafka::start(&java, &runtime, layout, id)?;
    // The broker runs on when this command ends (it is in a session of its own); `down` stops it.
    Ok(child.id())
}
