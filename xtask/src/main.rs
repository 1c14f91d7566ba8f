//! `cargo xtask`: the workbook's command line.
//!
//! One small program instead of a pile of shell scripts, so the same steps run on a learner's
//! laptop and in CI: bring the environment up, run the real Kafka tools against it, check the
//! exercises, build the book. Run `cargo xtask --help` for the list.

mod backend;
mod bench;
mod book;
mod check;
mod ci;
mod cli;
mod command;
mod docker;
mod external;
mod layout;
mod local;
mod ports;
mod prereqs;
mod process;
mod readiness;
mod secrets;
mod state;
mod status;
mod versions;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::backend::{DownOptions, UpOptions};

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
    /// Run a real Kafka command-line tool against the environment, e.g. `cargo xtask cli kafka-topics --list`.
    Cli(cli::CliOptions),
    /// Check your exercises against the running environment (starts it if needed): the next unfinished one,
    /// a chapter (ch03), one exercise (ch03::ensure_partitions), or --all.
    Check(check::CheckOptions),
    /// Print the hint of one exercise, e.g. `cargo xtask hint ch03::create_topic_idempotently`.
    Hint(check::HintOptions),
    /// Put one exercise's original stub back (asks first), e.g. `cargo xtask reset ch03::ensure_partitions`.
    Reset(check::ResetOptions),
    /// Build the book (book/book/index.html), or serve it with live reload.
    Book(book::BookOptions),
    /// Measure the workbook's performance claims as ratios against Kafka's own perf tools.
    Bench(bench::BenchOptions),
    /// Everything CI runs: build, bring the environment up once, all tests, exercises honest, book, down.
    Ci(ci::CiOptions),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Cli(options) => cli::run(&options).await,
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
