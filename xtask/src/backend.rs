//! `up` and `down`: one contract, three backends, and the one place that tells them apart.
//!
//! Whatever runs the services, `up` ends the same way: a `.workbook/state.json` that says
//! what is ours, and a `.workbook/env` with the addresses every chapter reads (each as your
//! programs see it and as the Connect worker sees it). What differs between the backends
//! (starting, stopping, one broker's fate, running a Kafka tool) is dispatched in
//! `impl Backend` below and nowhere else: the rest of xtask asks `state.backend`.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use workbook_support::Env;
use workbook_support::env as contract;

use crate::environment::{BrokerDone, DownOptions, Running, UpOptions};
use crate::layout::Layout;
use crate::state::{Backend, Component, State};
use crate::tools::Tool;
use crate::{docker, external, local, ports};

pub async fn up(options: &UpOptions) -> Result<()> {
    let layout = Layout::current();
    if let Some(state) = State::load(&layout.state_file())? {
        match liveness(&state) {
            Liveness::Everything => return already_up(&state, options),
            Liveness::Partly(names) => bail!(
                "the environment is only partly running ({} still up, the rest stopped).\n\
                 Run `cargo xtask down` and then `cargo xtask up` again",
                names.join(", ")
            ),
            Liveness::Nothing => {
                println!("Found a stale .workbook/state.json (nothing of it runs); starting afresh.");
                std::fs::remove_file(layout.state_file())?;
            }
        }
    }
    let backend = match options.backend {
        Some(backend) => backend,
        None => detect_backend(options).await,
    };
    let started = Instant::now();
    println!(
        "Starting the workbook environment ({backend} backend, {} broker(s){})",
        options.brokers,
        if options.no_connect { ", no Connect" } else { "" }
    );
    // Another `up` on this machine chooses its ports after ours are taken (the external backend
    // starts nothing, so takes no port).
    let ports_lock = (backend != Backend::External).then(ports::lock_while_starting).transpose()?;
    let running = backend.up(options, &layout).await?;
    drop(ports_lock);
    running.state.save(&layout.state_file())?;
    write_env_file(&layout, &running.env)?;
    println!("\nReady in {:.1} s. Wrote {}:", started.elapsed().as_secs_f64(), layout.env_file().display());
    let show = |keys: &[&str]| {
        for key in keys {
            if let Some(value) = running.env.get(*key) {
                println!("  {key}={}", workbook_support::db::redact(value));
            }
        }
    };
    show(&[
        contract::KAFKA_BOOTSTRAP_SERVERS,
        contract::CONNECT_URL,
        contract::DATABASE_URL,
        contract::WORKBOOK_FILES_DIR,
    ]);
    let connect_view =
        [contract::CONNECT_BOOTSTRAP_SERVERS, contract::CONNECT_DATABASE_URL, contract::CONNECT_FILES_DIR];
    if connect_view.iter().any(|key| running.env.contains_key(*key)) {
        println!("and the same services as the Connect worker reaches them (for connector configs):");
        show(&connect_view);
    }
    println!("\nNext: `cargo run -p ch01-why-kafka`, `cargo xtask status`, `cargo xtask down` when you are done.");
    Ok(())
}

fn already_up(state: &State, options: &UpOptions) -> Result<()> {
    if state.backend != Backend::External && (state.brokers != options.brokers || state.connect == options.no_connect) {
        bail!(
            "the environment is already up with {} broker(s){}; you asked for {}{}.\n\
             Run `cargo xtask down` first, then `cargo xtask up` with the new flags",
            state.brokers,
            if state.connect { " and Connect" } else { " without Connect" },
            options.brokers,
            if options.no_connect { " without Connect" } else { " and Connect" },
        );
    }
    println!(
        "The environment is already up ({} backend); nothing was started. `cargo xtask status` shows it.",
        state.backend
    );
    Ok(())
}

pub async fn down(options: &DownOptions) -> Result<()> {
    let layout = Layout::current();
    match State::load(&layout.state_file())? {
        None => println!(
            "Nothing to stop: no environment of this workbook is running ({} does not exist).",
            layout.state_file().display()
        ),
        Some(state) => {
            println!("Stopping the {} environment", state.backend);
            state.backend.down(&state, &layout).await?;
            std::fs::remove_file(layout.state_file())?;
            let _ = std::fs::remove_file(layout.env_file());
            if !options.purge && state.backend != Backend::External {
                println!("  the data is kept for the next `up`; `cargo xtask down --purge` deletes it");
            }
        }
    }
    if options.purge {
        // The docker backend's data lives in volumes; they go first (while their record exists).
        docker::purge(&layout).await?;
        if layout.root.exists() {
            std::fs::remove_dir_all(&layout.root)?;
            println!("Deleted {} (data, logs, configs).", layout.root.display());
        }
    }
    Ok(())
}

/// Makes sure an environment runs, starting the default one if not; returns its addresses.
pub async fn ensure_up() -> Result<Env> {
    let layout = Layout::current();
    let running = matches!(State::load(&layout.state_file())?, Some(ref state) if matches!(liveness(state), Liveness::Everything));
    if !running {
        println!("The environment is not running, so starting it first (`cargo xtask up`).");
        up(&UpOptions::default()).await?;
    }
    Env::load()
}

/// How much of a recorded environment still runs.
enum Liveness {
    Everything,
    /// The names of the components still running.
    Partly(Vec<String>),
    Nothing,
}

fn liveness(state: &State) -> Liveness {
    let alive: Vec<&Component> = state.components.iter().filter(|c| state.backend.is_alive(state, c)).collect();
    if alive.len() == state.components.len() {
        Liveness::Everything
    } else if alive.is_empty() {
        Liveness::Nothing
    } else {
        Liveness::Partly(alive.iter().map(|c| c.name.clone()).collect())
    }
}

/// The answer to a broker action on the external backend, whose brokers are yours.
const NOTHING_OF_OURS: &str = "the external backend runs nothing of ours: stop and start your own brokers yourself";

impl Backend {
    /// Starts the services and waits until each one answers.
    pub async fn up(self, options: &UpOptions, layout: &Layout) -> Result<Running> {
        match self {
            Backend::Local => local::up(options, layout).await,
            Backend::Docker => docker::up(options, layout).await,
            Backend::External => external::up(options, layout).await,
        }
    }

    /// Stops what `up` started; the data stays.
    pub async fn down(self, state: &State, layout: &Layout) -> Result<()> {
        match self {
            Backend::Local => local::down(state),
            Backend::Docker => docker::down(state, layout).await,
            Backend::External => {
                println!("  external backend: nothing of ours runs; forgetting its addresses");
                Ok(())
            }
        }
    }

    /// Is this component's process or container still there?
    pub fn is_alive(self, state: &State, component: &Component) -> bool {
        match self {
            Backend::Local => local::is_alive(state, component),
            Backend::Docker => docker::is_alive(component),
            Backend::External => true,
        }
    }

    /// Fails at once, with the end of its log, when `component` has stopped: a wait on it ends
    /// there instead of at its deadline.
    pub fn ensure_running(self, state: &State, component: &Component) -> Result<()> {
        match self {
            Backend::Local => local::ensure_running(state, component),
            Backend::Docker => docker::ensure_running(component),
            Backend::External => Ok(()),
        }
    }

    /// Broker `component` goes away: a controlled shutdown, or a crash when `kill`.
    pub async fn stop_broker(self, state: &State, component: &Component, kill: bool) -> Result<BrokerDone> {
        match self {
            Backend::Local => local::stop_broker(state, component, kill),
            Backend::Docker => docker::stop_broker(component, kill).await,
            Backend::External => bail!(NOTHING_OF_OURS),
        }
    }

    /// Broker `id` again, with the same settings and data; `state` records what now runs it.
    pub async fn start_broker(self, state: &mut State, layout: &Layout, id: u32) -> Result<BrokerDone> {
        let name = format!("kafka-{id}");
        let component = state.component(&name).cloned().with_context(|| format!("no {name} in state.json"))?;
        match self {
            Backend::Local => {
                let pid = local::start_broker(layout, id)?;
                if let Some(recorded) = state.components.iter_mut().find(|c| c.name == name) {
                    recorded.pid = Some(pid);
                }
                state.save(&layout.state_file())?;
                Ok(BrokerDone { target: format!("pid {pid}"), how: "a new process".to_string() })
            }
            Backend::Docker => docker::start_broker(&component).await,
            Backend::External => bail!(NOTHING_OF_OURS),
        }
    }

    /// Broker `component` freezes where it is (`pause`), or carries on from there.
    pub async fn freeze_broker(self, state: &State, component: &Component, pause: bool) -> Result<BrokerDone> {
        match self {
            Backend::Local => local::freeze_broker(state, component, pause),
            Backend::Docker => docker::freeze_broker(component, pause).await,
            Backend::External => bail!(NOTHING_OF_OURS),
        }
    }

    /// The command that runs Kafka tool `tool` with `args` against the environment.
    pub fn tool_command(self, state: &State, env: &Env, tool: &Tool, args: &[String]) -> Result<Command> {
        match self {
            Backend::Docker => Ok(docker::tool_command(state, env, tool, args)),
            // Your own cluster is reached from here, with the jars the local backend runs.
            Backend::Local | Backend::External => local::tool_command(tool, args),
        }
    }
}

/// docker when an engine testcontainers can drive answers; local otherwise. An engine that is
/// too old for testcontainers is passed over for local when local's prerequisites are there
/// (with a note saying so), else chosen anyway so that `up` explains what to update.
async fn detect_backend(options: &UpOptions) -> Backend {
    let daemon = docker::probe().await;
    let local = local::prerequisites(!options.no_connect);
    let (backend, note) = choose_backend(&daemon, local.as_ref().err().map(|e| format!("{e:#}")));
    if let Some(note) = note {
        println!("{note}");
    }
    backend
}

/// The decision of [`detect_backend`], given what answered and whether local's prerequisites
/// are missing (and why).
fn choose_backend(daemon: &docker::Daemon, local_missing: Option<String>) -> (Backend, Option<String>) {
    match (daemon, local_missing) {
        (docker::Daemon::Ready { .. }, _) => (Backend::Docker, None),
        (docker::Daemon::Absent { .. }, _) => (Backend::Local, None),
        (docker::Daemon::TooOld { engine, api, .. }, None) => (
            Backend::Local,
            Some(format!(
                "note: Docker {engine} answers, but speaks API {api}, older than the docker backend needs \
                 (Docker Engine {} or newer), so the local backend runs everything instead \
                 (`--backend local` says so explicitly).",
                docker::MIN_ENGINE
            )),
        ),
        (docker::Daemon::TooOld { .. }, Some(_)) => (Backend::Docker, None),
    }
}

fn write_env_file(layout: &Layout, vars: &BTreeMap<String, String>) -> Result<()> {
    crate::envfile::write_private(
        &layout.env_file(),
        "Written by `cargo xtask up`; read by every chapter (see chapters/support/src/env.rs).\n\
         Variables set in your shell take precedence over this file.",
        vars,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old() -> docker::Daemon {
        docker::Daemon::TooOld { endpoint: "unix:///s".into(), engine: "19.03.15".into(), api: "1.40".into() }
    }

    #[test]
    fn a_new_enough_engine_means_docker_and_none_means_local() {
        let ready = docker::Daemon::Ready { endpoint: "e".into(), engine: "29.1.0".into(), api: "1.52".into() };
        assert_eq!(choose_backend(&ready, None), (Backend::Docker, None));
        let absent = docker::Daemon::Absent { endpoint: "e".into(), why: "no socket".into() };
        assert_eq!(choose_backend(&absent, Some("no java".into())), (Backend::Local, None));
    }

    #[test]
    fn an_old_engine_falls_back_to_local_with_a_note_when_local_can_run() {
        let (backend, note) = choose_backend(&old(), None);
        assert_eq!(backend, Backend::Local);
        let note = note.unwrap();
        assert!(note.contains("Docker 19.03.15") && note.contains("API 1.40") && note.contains("20.10"), "{note}");
    }

    #[test]
    fn an_old_engine_is_chosen_when_local_cannot_run_so_up_explains_the_update() {
        assert_eq!(choose_backend(&old(), Some("Java 17 or newer is needed".into())), (Backend::Docker, None));
    }
}
