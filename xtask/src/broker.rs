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
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use workbook_support::kafka;

use crate::backend::is_alive;
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::{docker, local, process};

/// How long a restarted broker may take to register again.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a process may take to be seen stopped after SIGSTOP, or running after SIGCONT.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

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
                    if !kill && component.pid.is_some_and(is_paused) {
                        // SIGTERM would wait, undelivered, for a SIGCONT that nobody sends.
                        bail!("broker {0} is paused: `cargo xtask broker resume {0}` first, or `kill` it", options.id);
                    }
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
        Action::Pause | Action::Resume => {
            let pause = options.action == Action::Pause;
            if !is_alive(&state, &component) {
                bail!("broker {} is not running", options.id);
            }
            match state.backend {
                Backend::Local => {
                    let pid = freeze_local(&state, &component, pause)?;
                    let signal = if pause { Signal::SIGSTOP } else { Signal::SIGCONT };
                    println!(
                        "broker {} (pid {pid}) {} ({signal}){}",
                        options.id,
                        frozen_word(pause),
                        frozen_note(pause)
                    );
                }
                _ => {
                    let container =
                        component.container.as_deref().with_context(|| format!("{name} has no container id"))?;
                    if let docker::Daemon::Absent { endpoint, why } = docker::probe().await {
                        bail!(
                            "no Docker engine answers at {endpoint} ({why}): broker {} cannot be {}d now",
                            options.id,
                            options.action.verb()
                        );
                    }
                    let mut command = std::process::Command::new("docker");
                    command.args(docker_freeze_args(pause, container)).stdout(std::process::Stdio::null());
                    crate::command::output(command)?;
                    let how = if pause { "docker pause" } else { "docker unpause" };
                    println!("broker {} {} ({how}){}", options.id, frozen_word(pause), frozen_note(pause));
                }
            }
        }
    }
    Ok(())
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Kill => "kill",
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Resume => "resume",
        }
    }
}

fn frozen_word(pause: bool) -> &'static str {
    if pause { "paused" } else { "resumed" }
}

fn frozen_note(pause: bool) -> &'static str {
    if pause { ": it neither fetches, nor answers, nor sends heartbeats until resumed" } else { "" }
}

/// `docker pause <container>` (the cgroup freezer: every process of the container stops where
/// it is) or `docker unpause <container>`.
fn docker_freeze_args(pause: bool, container: &str) -> [&str; 2] {
    [if pause { "pause" } else { "unpause" }, container]
}

/// SIGSTOP (or SIGCONT) to the broker's process, then waits until the kernel reports it stopped
/// (or running again), so that the caller's next step starts from a frozen broker. Returns its pid.
fn freeze_local(state: &State, component: &Component, pause: bool) -> Result<u32> {
    let pid = component.pid.with_context(|| format!("{} has no pid in state.json", component.name))?;
    if !process::is_ours(pid, &state.marker) {
        bail!("{} is not running (pid {pid} is gone)", component.name);
    }
    let signal = if pause { Signal::SIGSTOP } else { Signal::SIGCONT };
    nix::sys::signal::kill(Pid::from_raw(pid as i32), signal)
        .with_context(|| format!("sending {signal} to {} (pid {pid})", component.name))?;
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        // Without /proc (macOS) there is nothing to watch: the signal was delivered.
        let Ok(stat) = stat else { return Ok(pid) };
        if proc_state(&stat).is_some_and(|state| is_stopped(state) == pause) {
            return Ok(pid);
        }
        if Instant::now() > deadline {
            bail!(
                "{} (pid {pid}) is still not {} {} s after {signal}",
                component.name,
                if pause { "stopped" } else { "running" },
                FREEZE_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Is process `pid` stopped (by `broker pause`)? No, where there is no /proc to tell.
fn is_paused(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|stat| proc_state(&stat)).is_some_and(is_stopped)
}

/// The state letter of a `/proc/<pid>/stat` line (`R`, `S`, `T`, `Z`, …). The command name in
/// parentheses may itself hold spaces and parentheses, so the state is read after the last `)`.
fn proc_state(stat: &str) -> Option<char> {
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `T` (stopped by a signal) or `t` (stopped under a tracer).
fn is_stopped(state: char) -> bool {
    matches!(state, 'T' | 't')
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
    fn broker_pause_and_resume_parse_with_a_node_id() {
        for (word, action) in [("pause", Action::Pause), ("resume", Action::Resume), ("kill", Action::Kill)] {
            let cli = crate::Cli::try_parse_from(["cargo xtask", "broker", word, "2"]).unwrap();
            let crate::Command::Broker(options) = cli.command else { panic!("`broker {word} 2` is not `broker`") };
            assert_eq!((options.action, options.id, options.no_wait), (action, 2, false));
            assert_eq!(action.verb(), word);
        }
        assert!(crate::Cli::try_parse_from(["cargo xtask", "broker", "freeze", "2"]).is_err());
    }

    #[test]
    fn broker_pause_freezes_the_container_and_resume_thaws_it() {
        assert_eq!(docker_freeze_args(true, "abc123"), ["pause", "abc123"]);
        assert_eq!(docker_freeze_args(false, "abc123"), ["unpause", "abc123"]);
    }

    #[test]
    fn broker_pause_reads_the_process_state_after_the_command_name() {
        // A command name may hold spaces and parentheses: the state follows the last `)`.
        assert_eq!(proc_state("4307 (java) T 1 4307 4307 0 -1"), Some('T'));
        assert_eq!(proc_state("4307 (a (b) c) S 1 4307"), Some('S'));
        assert_eq!(proc_state("garbage"), None);
        assert!(is_stopped('T') && is_stopped('t'));
        assert!(!is_stopped('S') && !is_stopped('R') && !is_stopped('Z'));
    }

    #[test]
    fn broker_pause_stops_a_real_process_and_resume_lets_it_run() {
        let marker = "29.75";
        let mut child = std::process::Command::new("sleep").arg(marker).spawn().unwrap();
        let pid = child.id();
        // The child runs `sleep` once it has exec'd: until then its command line is ours.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !process::is_ours(pid, marker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let state = State {
            backend: Backend::Local,
            brokers: 1,
            connect: false,
            marker: marker.to_string(),
            components: Vec::new(),
            started_at_ms: 0,
        };
        let component = Component {
            name: "kafka-1".to_string(),
            address: "127.0.0.1:9092".to_string(),
            pid: Some(pid),
            container: None,
            log: None,
        };
        assert_eq!(freeze_local(&state, &component, true).unwrap(), pid);
        assert!(is_paused(pid));
        freeze_local(&state, &component, false).unwrap();
        assert!(!is_paused(pid));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
