//! Running one exercise's test, alone, with a deadline.
//!
//! The test binary runs with an exact name filter (`<name> --exact`), so one exercise costs one
//! test, and with `--nocapture`, so what the test prints ("waiting for the connector…") arrives
//! as it happens: the checker shows it while it runs and names it when the deadline passes.
//! The test runs in a process group of its own, so a deadline stops it and anything it started.
//! That group is not the terminal's foreground group, so Ctrl-C does not reach it: the checker
//! stops it itself before it exits (see [`stop_tests_on_interrupt`]).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Once, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigHandler, Signal, killpg};
use nix::unistd::Pid;

use anyhow::{Context, Result};

/// How one run of one exercise's test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub ending: Ending,
    /// Everything the test printed (stdout and stderr, interleaved as written).
    pub output: String,
    pub elapsed: Duration,
    /// The test's process id: the workbook's tests put it in every name they make
    /// (`names::unique`), so it tells this test's connectors and topics from anyone else's.
    pub pid: u32,
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
    stop_tests_on_interrupt();
    let mut child = cmd.spawn().with_context(|| format!("could not start {}", binary.display()))?;
    let pid = child.id();
    let _running = Running::register(pid);
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
    let header = format!("test {name} ... ");
    loop {
        let left = deadline.saturating_sub(started.elapsed());
        match lines.recv_timeout(left.min(Duration::from_millis(200))) {
            Ok(line) => {
                for line in own_lines(&line, &header) {
                    on_line(line);
                    output.push_str(line);
                    output.push('\n');
                }
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
    Ok(TestRun { ending, output, elapsed: started.elapsed(), pid })
}

/// libtest writes `test name ... ` before the test runs and `ok` or `FAILED` after it, so the
/// first line the test prints ("waiting for …") shares a line with that header: give it its own.
fn own_lines<'a>(line: &'a str, header: &str) -> Vec<&'a str> {
    match line.strip_prefix(header) {
        Some(printed) if !matches!(printed.trim(), "" | "ok" | "FAILED" | "ignored") => {
            vec![&line[..header.trim_end().len()], printed]
        }
        _ => vec![line],
    }
}

/// SIGKILL the test's whole process group (it may have started consumers, clusters, children).
fn stop_group(pid: u32) {
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// The process groups of the tests running now (0: a free slot), for the signal handler: a
/// handler may not take a lock, so this is a fixed row of atomics (the audit runs a few at once).
static RUNNING: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];

/// One running test's slot in [`RUNNING`], freed when the run ends.
struct Running(Option<usize>);

impl Running {
    fn register(pid: u32) -> Running {
        let group = pid as i32;
        Running(
            RUNNING.iter().position(|slot| slot.compare_exchange(0, group, Ordering::SeqCst, Ordering::SeqCst).is_ok()),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(index) = self.0 {
            RUNNING[index].store(0, Ordering::SeqCst);
        }
    }
}

/// Ctrl-C (or the terminal closing, or `kill`) while a test runs: stop the test's group too, or a
/// learner's endless consumer loop would go on running after the checker is gone.
fn stop_tests_on_interrupt() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            // SAFETY: the handler calls only async-signal-safe functions (kill, signal, raise).
            let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::Handler(stop_tests_then_die)) };
        }
    });
}

extern "C" fn stop_tests_then_die(signal: nix::libc::c_int) {
    for slot in &RUNNING {
        let group = slot.load(Ordering::SeqCst);
        if group > 0 {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
    }
    // Then end as the signal would have ended us without a handler (the shell sees 130 for Ctrl-C).
    if let Ok(signal) = Signal::try_from(signal) {
        // SAFETY: restoring the default action is async-signal-safe.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
        let _ = nix::sys::signal::raise(signal);
    }
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

        // libtest's header and the test's first line share a line; the wait is still found.
        std::fs::write(
            &script,
            "#!/bin/sh\necho 'running 1 test'\necho 'test x ... waiting for the group'\nsleep 30\n",
        )
        .unwrap();
        let run = run_one(&script, "x", None, Duration::from_millis(1500), |_| {}).unwrap();
        assert_eq!((run.ending, last_wait(&run.output)), (Ending::TimedOut, Some("waiting for the group")));
        assert_eq!(own_lines("test x ... ok", "test x ... "), ["test x ... ok"]);

        std::fs::write(&script, "#!/bin/sh\necho 'running 0 tests'\n").unwrap();
        let run = run_one(&script, "x", None, Duration::from_secs(5), |_| {}).unwrap();
        assert_eq!(run.ending, Ending::NoSuchTest);
        std::fs::write(&script, "#!/bin/sh\necho 'running 1 test'\nexit 101\n").unwrap();
        assert_eq!(run_one(&script, "x", None, Duration::from_secs(5), |_| {}).unwrap().ending, Ending::Failed);
    }
}
