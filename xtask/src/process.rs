//! Background processes of the `local` backend: started detached with their output in a log
//! file, remembered by pid, and stopped by that pid only (after checking it is still ours).

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Starts `command` as a daemon: in a session of its own (so neither Ctrl-C nor closing the
/// terminal reaches it), with stdout and stderr appended to `log`.
pub fn spawn_logged(mut command: Command, log: &Path) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let out =
        File::options().create(true).append(true).open(log).with_context(|| format!("opening {}", log.display()))?;
    let err = out.try_clone()?;
    command.stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: setsid() is async-signal-safe, which is all a pre_exec hook may call.
    unsafe {
        command.pre_exec(|| nix::unistd::setsid().map(drop).map_err(std::io::Error::from));
    }
    let shown = crate::command::display(&command);
    command.spawn().with_context(|| format!("could not start `{shown}`"))
}

/// Is `pid` a live (not zombie) process whose command line contains `marker`?
///
/// The marker (a path under `.workbook/`) makes sure a pid reused by the OS for some
/// other program is never mistaken for ours.
pub fn is_ours(pid: u32, marker: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return is_alive_without_proc(pid);
    };
    !is_zombie(pid) && String::from_utf8_lossy(&cmdline).contains(marker)
}

/// Where there is no /proc (macOS), fall back to "a process with this pid exists".
fn is_alive_without_proc(pid: u32) -> bool {
    !Path::new("/proc/self").exists() && kill(Pid::from_raw(pid as i32), None).is_ok()
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// Stops our processes `pids`: SIGTERM to all first (Kafka and MariaDB shut down cleanly on
/// it), then SIGKILL to any still there after `grace`.
///
/// The nodes of a 3-node KRaft quorum must go together: stopped one by one, the last one
/// has lost its quorum and waits minutes for a controller before it gives up.
/// Returns how many were running.
pub fn stop_together(pids: &[u32], marker: &str, grace: Duration) -> Result<usize> {
    let running: Vec<u32> = pids.iter().copied().filter(|pid| is_ours(*pid, marker)).collect();
    for pid in &running {
        kill(Pid::from_raw(*pid as i32), Signal::SIGTERM).with_context(|| format!("sending SIGTERM to pid {pid}"))?;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && running.iter().any(|pid| is_ours(*pid, marker)) {
        std::thread::sleep(Duration::from_millis(100));
    }
    for pid in running.iter().copied().filter(|pid| is_ours(*pid, marker)) {
        eprintln!("  pid {pid} did not stop within {} s; killing it", grace.as_secs());
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_ours(pid, marker) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(running.len())
}

/// Sends `signal` to our process `pid` and waits until it is gone; fails after `timeout`.
pub fn signal_and_wait(pid: u32, marker: &str, signal: Signal, timeout: Duration) -> Result<()> {
    kill(Pid::from_raw(pid as i32), signal).with_context(|| format!("sending {signal} to pid {pid}"))?;
    let deadline = Instant::now() + timeout;
    while is_ours(pid, marker) {
        if Instant::now() > deadline {
            anyhow::bail!("pid {pid} is still running {} s after {signal}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// How long a process may take to be seen stopped after SIGSTOP, or running after SIGCONT.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(5);

/// SIGSTOP (`pause`) or SIGCONT to `pid`, then waits until the kernel reports it stopped (or
/// running again), so that the caller's next step starts from a frozen process. Returns the signal.
pub fn freeze(pid: u32, pause: bool) -> Result<Signal> {
    let signal = if pause { Signal::SIGSTOP } else { Signal::SIGCONT };
    kill(Pid::from_raw(pid as i32), signal).with_context(|| format!("sending {signal} to pid {pid}"))?;
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    loop {
        // Without /proc (macOS) there is nothing to watch: the signal was delivered.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return Ok(signal) };
        if proc_state(&stat).is_some_and(|state| is_stopped(state) == pause) {
            return Ok(signal);
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "pid {pid} is still not {} {} s after {signal}",
                if pause { "stopped" } else { "running" },
                FREEZE_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Is process `pid` stopped (by SIGSTOP)? No, where there is no /proc to tell.
pub fn is_paused(pid: u32) -> bool {
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

/// The resident memory of `pid` in KiB now (from /proc), if known.
pub fn rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmRSS:")
}

/// The most resident memory `pid` ever had, in KiB (its high-water mark).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    proc_status_kib(pid, "VmHWM:")
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The last `lines` lines of a log file, to show why something failed to start.
pub fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_checks_and_stops_a_process_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker-file");
        let log = dir.path().join("sleep.log");
        // `sh -c SCRIPT NAME` keeps NAME in the command line, which is what `is_ours` looks for.
        let mut command = Command::new("sh");
        command.arg("-c").arg("sleep 60; : \"$0\"").arg(&marker);
        let mut child = spawn_logged(command, &log).unwrap();
        let pid = child.id();
        let marker = marker.to_string_lossy().into_owned();
        assert!(is_ours(pid, &marker));
        assert!(!is_ours(pid, "some-other-marker"), "a foreign pid is never ours");
        let reaper = std::thread::spawn(move || child.wait());
        assert_eq!(stop_together(&[pid], &marker, Duration::from_secs(5)).unwrap(), 1);
        reaper.join().unwrap().unwrap();
        assert!(!is_ours(pid, &marker));
        assert_eq!(stop_together(&[pid], &marker, Duration::from_secs(1)).unwrap(), 0, "stopping twice is a no-op");
    }

    #[test]
    fn the_process_state_is_read_after_the_command_name() {
        // A command name may hold spaces and parentheses: the state follows the last `)`.
        assert_eq!(proc_state("4307 (java) T 1 4307 4307 0 -1"), Some('T'));
        assert_eq!(proc_state("4307 (a (b) c) S 1 4307"), Some('S'));
        assert_eq!(proc_state("garbage"), None);
        assert!(is_stopped('T') && is_stopped('t'));
        assert!(!is_stopped('S') && !is_stopped('R') && !is_stopped('Z'));
    }

    #[test]
    fn freeze_stops_a_real_process_and_thaw_lets_it_run() {
        let mut child = Command::new("sleep").arg("29.75").spawn().unwrap();
        let pid = child.id();
        assert_eq!(freeze(pid, true).unwrap(), Signal::SIGSTOP);
        assert!(is_paused(pid));
        assert_eq!(freeze(pid, false).unwrap(), Signal::SIGCONT);
        assert!(!is_paused(pid));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        std::fs::write(&log, "1\n2\n3\n4\n").unwrap();
        assert_eq!(log_tail(&log, 2), "3\n4");
    }
}
