//! `cargo xtask`: the workbook's command line.
//!
//! One small program instead of a pile of shell scripts, so the same steps run on a learner's
//! laptop and in CI: bring the environment up, run the real Kafka tools against it, check the
//! exercises, build the book. Run `cargo xtask --help` for the list.

// One module per command: `up` and `down` (backend), then the others by name.
mod backend;
mod bench;
mod book;
mod broker;
mod check;
mod ci;
mod cli;
mod logs;
mod status;

// The environment, described once and shared by the backends: what `up` is asked for and hands
// back, the services' settings, the Kafka tools, versions, ports, paths and passwords.
mod credentials;
mod description;
mod environment;
mod layout;
mod ports;
mod secrets;
mod state;
mod tools;
mod versions;

// The three backends; `impl Backend` in `backend` is the only code that tells them apart.
mod docker;
mod external;
mod local;

// What the rest uses: running programs and processes, waiting for services, files.
mod command;
mod envfile;
mod prereqs;
mod process;
mod readiness;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::environment::{DownOptions, UpOptions};

#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", about = "The kafka-workbook command line", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start Kafka, Kafka Connect and MariaDB, wait until they are ready, and write .workbook/env.
    Up(UpOptions),
    /// Stop everything `up` started (by pid or container). Data is kept unless --purge.
    Down(DownOptions),
    /// Show what runs, where, and whether it is healthy.
    Status,
    /// Stop (SIGTERM), kill (SIGKILL), start again, pause (SIGSTOP) or resume (SIGCONT) one broker of the
    /// environment, e.g. `cargo xtask broker kill 2`.
    Broker(broker::BrokerOptions),
    /// Run a real Kafka command-line tool against the environment, e.g. `cargo xtask cli kafka-topics --list`.
    Cli(cli::CliOptions),
    /// Print one service's log (a local file or a container's output), e.g. `cargo xtask logs kafka-1 --tail 50`.
    Logs(logs::LogsOptions),
    /// Check your exercises against the running environment (starts it if needed): the next unfinished one,
    /// a chapter (ch03), one exercise (ch03::ensure_partitions), or --all.
    Check(check::CheckOptions),
    /// Print the hint of one exercise, e.g. `cargo xtask hint ch03::create_topic_idempotently`.
    Hint(check::HintOptions),
    /// Put one exercise's original stub back (asks first), e.g. `cargo xtask reset ch03::ensure_partitions`.
    Reset(check::ResetOptions),
    /// Build the book (English in book/book/, Korean in book/book/ko/), or serve it with live reload.
    Book(book::BookOptions),
    /// Measure the workbook's performance claims as ratios against Kafka's own perf tools.
    Bench(bench::BenchOptions),
    /// Everything CI runs: build, bring the environment up once, all tests, exercises honest, book, down.
    Ci(ci::CiOptions),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if needs_docker_endpoint(&cli.command) {
        // testcontainers reads DOCKER_HOST; the docker CLI follows `docker context`. Make them
        // agree before any thread exists (setting a variable later would race with readers).
        docker::adopt_cli_context();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(options) => backend::up(&options).await,
            Command::Down(options) => backend::down(&options).await,
            Command::Status => status::run().await,
            Command::Broker(options) => broker::run(&options).await,
            Command::Cli(options) => cli::run(&options).await,
            Command::Logs(options) => logs::run(&options),
            Command::Check(options) => check::run(&options).await,
            Command::Hint(options) => check::hint(&options),
            Command::Reset(options) => check::reset(&options),
            Command::Book(options) => book::run(&options).await,
            Command::Bench(options) => bench::run(&options).await,
            Command::Ci(options) => ci::run(&options).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Commands that may talk to a Docker engine: those that may start one (`up` without a backend
/// or with docker, and those that start the environment when it is not up), and those that act
/// on a running docker environment. (`down --purge` may remove the volumes of a stopped one.)
fn needs_docker_endpoint(command: &Command) -> bool {
    let running_on_docker = || {
        let layout = layout::Layout::current();
        let state = state::State::load(&layout.state_file()).ok().flatten();
        state.is_some_and(|s| s.backend == state::Backend::Docker) || layout.docker_record().exists()
    };
    match command {
        Command::Up(options) => matches!(options.backend, None | Some(state::Backend::Docker)),
        Command::Check(_) | Command::Bench(_) | Command::Ci(_) => true,
        Command::Down(_) | Command::Status | Command::Broker(_) | Command::Cli(_) | Command::Logs(_) => {
            running_on_docker()
        }
        Command::Hint(_) | Command::Reset(_) | Command::Book(_) => false,
    }
}
