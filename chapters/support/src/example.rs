//! A chapter's program, run from the chapter's tests the way a learner runs it.
//!
//! These helpers panic: they are made for `#[test]` functions, where a panic is a failed test that
//! shows what the program printed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How soon a program must give up on a broker that is not there.
pub const GIVE_UP_WITHIN: Duration = Duration::from_secs(15);

/// Runs `program` (`env!("CARGO_BIN_EXE_…")`) with `args` and returns what it printed on stdout.
/// A program that fails fails the test, with both its outputs.
pub fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} {args:?} failed.\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// Runs `program` with `args` against a broker that is not there
/// (`KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1`) and returns its stderr, once it has checked what every
/// chapter promises: the program fails, within [`GIVE_UP_WITHIN`], saying
/// `no answer from Kafka at 127.0.0.1:1`.
pub fn run_without_kafka(program: &str, args: &[&str]) -> String {
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{program} succeeded without a broker:\n{stderr}");
    assert!(stderr.contains("no answer from Kafka at 127.0.0.1:1"), "{stderr}");
    assert!(took < GIVE_UP_WITHIN, "{program} took {took:?} to give up");
    stderr
}
