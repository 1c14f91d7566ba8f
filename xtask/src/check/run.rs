//! Running one exercise's test, alone, with a deadline.
//!
//! The test binary runs with an exact name filter (`<name> --exact`), so one exercise costs one
//! test, and with `--nocapture`, so what the test prints ("waiting for the connector…") arrives
//! as it happens: the checker shows it while it runs and names it when the deadline passes.
//! The test runs in a process group of its own, so a deadline stops it and anything it started.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// How one run of one exercise's test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub ending: Ending,
    /// Everything the test printed (stdout and stderr, interleaved as written).
    pub output: String,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Passed,
    Failed,
    /// Still running at the deadline; stopped.
    TimedOut,
    /// The binary has no test with that name.
    NoSuchTest,
}

/// Runs the test `name` of `binary`, naming `mistake` (for the audit) if any, for at most `deadline`.
/// `on_line` sees each line the test prints, as it prints it.
pub fn run_one(
    binary: &Path,
    name: &str,
    mistake: Option<&str>,
    deadline: Duration,
    mut on_line: impl FnMut(&str),
) -> Result<TestRun> {
    let (reader, writer) = std::io::pipe().context("creating a pipe for the test's output")?;
    let mut cmd = Command::new(binary);
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUST_BACKTRACE", "0")
        .env_remove(workbook_support::mistakes::VARIABLE)
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    if let Some(mistake) = mistake {
        cmd.env(workbook_support::mistakes::VARIABLE, mistake);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("could not start {}", binary.display()))?;
    // The Command still holds the pipe's write ends: drop it, or the reader never sees the end.
    drop(cmd);

    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut output = String::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_sub(started.elapsed());
        match lines.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                on_line(&line);
                output.push_str(&line);
                output.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if left.is_zero() => {
                timed_out = true;
                stop_group(child.id());
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    let status = child.wait().context("waiting for the test")?;
    let ending = if timed_out {
        Ending::TimedOut
    } else if output.lines().any(|l| l.trim() == "running 0 tests") {
        Ending::NoSuchTest
    } else if status.success() {
        Ending::Passed
    } else {
        Ending::Failed
    };
    Ok(TestRun { ending, output, elapsed: started.elapsed() })
}

/// SIGKILL the test's whole process group (it may have started consumers, clusters, children).
fn stop_group(pid: u32) {
    let group = nix::unistd::Pid::from_raw(pid as i32);
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
}

/// The failure as a learner wants to read it: where the test panicked and its message, without
/// libtest's summary and notes; at most `max_lines` lines.
pub fn failure_message(output: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("thread '") && l.contains("panicked at")) else {
        // No panic (the binary crashed or was killed): the end of what it printed.
        return lines[lines.len().saturating_sub(max_lines)..].join("\n");
    };
    let mut message: Vec<&str> = Vec::new();
    for line in &lines[start..] {
        let end = line.starts_with("note: run with `RUST_BACKTRACE")
            || line.starts_with("test ") && (line.ends_with(" ... FAILED") || line.ends_with(" ... ok"))
            || line.starts_with("stack backtrace:");
        if end {
            break;
        }
        message.push(line);
    }
    let hidden = message.len().saturating_sub(max_lines);
    message.truncate(max_lines);
    let mut text = message.join("\n").trim_end().to_string();
    if hidden > 0 {
        text.push_str(&format!("\n… ({hidden} more lines)"));
    }
    text
}

/// The last "waiting for …" line the test printed: what it was doing when the deadline passed.
pub fn last_wait(output: &str) -> Option<&str> {
    output.lines().rev().map(str::trim).find(|l| l.to_ascii_lowercase().starts_with("waiting for"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "\nrunning 1 test\nwaiting for the records\nthread 'keyed' panicked at chapters/ch04-producers/tests/exercises.rs:44:5:\nkey user-1 went to two partitions\n  left: 1\n right: 2\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\ntest keyed ... FAILED\n\nfailures:\n\nfailures:\n    keyed\n\ntest result: FAILED. 0 passed; 1 failed\n";

    #[test]
    fn the_message_is_the_panic_and_its_place() {
        let message = failure_message(FAILED, 30);
        assert_eq!(
            message,
            "thread 'keyed' panicked at chapters/ch04-producers/tests/exercises.rs:44:5:\nkey user-1 went to two partitions\n  left: 1\n right: 2"
        );
        assert_eq!(failure_message(FAILED, 2).lines().last(), Some("… (2 more lines)"));
        assert_eq!(last_wait(FAILED), Some("waiting for the records"));
        assert_eq!(failure_message("segfault\n", 5), "segfault");
    }

    /// A real process: a shell script stands in for a test binary.
    #[test]
    fn a_deadline_stops_the_test_and_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-test");
        std::fs::write(&script, "#!/bin/sh\necho 'running 1 test'\necho \"mistake=$WORKBOOK_MISTAKE\"\necho 'waiting for Godot'\nsleep 30 &\nsleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut seen = Vec::new();
        let run =
            run_one(&script, "x", Some("typo"), Duration::from_millis(1500), |l| seen.push(l.to_string())).unwrap();
        assert_eq!(run.ending, Ending::TimedOut);
        assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
        assert!(seen.contains(&"mistake=typo".to_string()), "{seen:?}");
        assert_eq!(last_wait(&run.output), Some("waiting for Godot"));

        std::fs::write(&script, "#!/bin/sh\necho 'running 0 tests'\n").unwrap();
        let run = run_one(&script, "x", None, Duration::from_secs(5), |_| {}).unwrap();
        assert_eq!(run.ending, Ending::NoSuchTest);
        std::fs::write(&script, "#!/bin/sh\necho 'running 1 test'\nexit 101\n").unwrap();
        assert_eq!(run_one(&script, "x", None, Duration::from_secs(5), |_| {}).unwrap().ending, Ending::Failed);
    }
}
