//! `cargo xtask check` as a learner sees it: run in a real terminal (tmux), read off the screen.
//!
//! Needs tmux and the running environment (CI brings both).

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session of its own running one command in an 120×40 terminal; killed when dropped.
struct Terminal {
    session: String,
}

impl Terminal {
    fn run(command: &str) -> Terminal {
        let session = format!("xtask-check-{}-{}", std::process::id(), rand_suffix());
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "120", "-y", "40"])
            // Keep the pane after the command ends, so its last screen can be read.
            .arg(format!("{command}; echo '[exit '$?']'; sleep 600"))
            .status()
            .expect("tmux is installed");
        assert!(status.success(), "tmux could not start");
        Terminal { session }
    }

    /// The screen and everything scrolled off it.
    fn screen(&self) -> String {
        let output =
            Command::new("tmux").args(["capture-pane", "-p", "-S", "-", "-t", &self.session]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Polls the screen until `text` shows, for at most `timeout`.
    fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(started.elapsed() < timeout, "`{text}` never showed within {timeout:?}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.session]).status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 1_000_000
}

fn xtask() -> &'static str {
    env!("CARGO_BIN_EXE_xtask")
}

#[test]
fn one_exercise_shows_its_verdict_and_time() {
    let terminal = Terminal::run(&format!("{} check ch14::percentile --solutions", xtask()));
    let screen = terminal.wait_for("[exit ", Duration::from_secs(300));
    let verdict = screen.lines().find(|l| l.starts_with("✓ ch14::percentile")).unwrap_or_else(|| panic!("{screen}"));
    assert!(verdict.contains("  done  (") && verdict.ends_with(" s)"), "{verdict}");
    assert!(screen.contains("[exit 0]"), "{screen}");
}

#[test]
fn no_argument_shows_progress_then_the_next_exercise() {
    let terminal = Terminal::run(&format!("{} check", xtask()));
    let screen = terminal.wait_for("[exit ", Duration::from_secs(300));
    let table = screen.find("exercise ").unwrap_or_else(|| panic!("no table first:\n{screen}"));
    let next = screen.find("Next: ").unwrap_or_else(|| panic!("no next exercise:\n{screen}"));
    assert!(table < next, "the table comes first:\n{screen}");
    assert!(screen.contains("Progress: ["), "{screen}");
    assert!(screen.contains("edit chapters/ch") && screen.contains("/src/exercises.rs, function `"), "{screen}");
    assert!(screen.contains("Stuck? `cargo xtask hint ch"), "it says a hint exists:\n{screen}");
    assert!(screen.contains("[exit 1]"), "unfinished exercises are a non-zero exit:\n{screen}");
}

#[test]
fn an_unknown_exercise_is_a_clear_error() {
    let terminal = Terminal::run(&format!("{} check ch03::no_such_exercise", xtask()));
    let screen = terminal.wait_for("[exit ", Duration::from_secs(60));
    assert!(screen.contains("there is no exercise `ch03::no_such_exercise`"), "{screen}");
    assert!(screen.contains("ch03::ensure_partitions"), "it lists the exercises there are:\n{screen}");
}
