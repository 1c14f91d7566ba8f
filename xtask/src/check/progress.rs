//! Where a learner stands, remembered between runs in `.workbook/progress.json`.
//!
//! `cargo xtask check` shows the table from here at once, before checking anything, and counts
//! failures in a row per exercise (the hint is printed after the second one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where a learner stands on one exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not checked yet (nothing saved).
    Unchecked,
    /// Its function is still the untouched `todo!()` stub.
    NotStarted,
    /// The chapter's exercise file does not compile.
    DoesNotCompile,
    /// Its test fails.
    Failing,
    /// Its test was still running at the exercise's deadline.
    TimedOut,
    /// Its test passes.
    Done,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Unchecked => "not checked yet",
            Status::NotStarted => "not started",
            Status::DoesNotCompile => "does not compile",
            Status::Failing => "failing",
            Status::TimedOut => "timed out",
            Status::Done => "done",
        }
    }
}

/// The saved result of one exercise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub status: Status,
    /// How many checks in a row ended in anything but "done" after the learner started.
    #[serde(default)]
    pub failures_in_a_row: u32,
}

/// Every exercise's saved result, by `ch04::name`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub exercises: BTreeMap<String, Entry>,
}

impl Progress {
    pub fn file(workbook_dir: &Path) -> PathBuf {
        workbook_dir.join("progress.json")
    }

    /// The saved progress; none yet (or an unreadable file) is a fresh start, not an error.
    pub fn load(path: &Path) -> Progress {
        std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }

    pub fn status(&self, exercise: &str) -> Status {
        self.exercises.get(exercise).map_or(Status::Unchecked, |e| e.status)
    }

    pub fn failures_in_a_row(&self, exercise: &str) -> u32 {
        self.exercises.get(exercise).map_or(0, |e| e.failures_in_a_row)
    }

    /// Records a new result: a failure after the learner started counts towards the hint.
    pub fn record(&mut self, exercise: &str, status: Status) {
        let failures = match status {
            Status::Done | Status::NotStarted | Status::Unchecked => 0,
            Status::Failing | Status::TimedOut | Status::DoesNotCompile => self.failures_in_a_row(exercise) + 1,
        };
        self.exercises.insert(exercise.to_string(), Entry { status, failures_in_a_row: failures });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_started_then_failing_then_done() {
        let mut progress = Progress::default();
        assert_eq!(progress.status("ch04::a"), Status::Unchecked);
        progress.record("ch04::a", Status::NotStarted);
        assert_eq!(progress.failures_in_a_row("ch04::a"), 0, "an untouched stub is no failure");
        progress.record("ch04::a", Status::Failing);
        progress.record("ch04::a", Status::DoesNotCompile);
        assert_eq!(progress.failures_in_a_row("ch04::a"), 2);
        progress.record("ch04::a", Status::TimedOut);
        assert_eq!(progress.failures_in_a_row("ch04::a"), 3);
        progress.record("ch04::a", Status::Done);
        assert_eq!((progress.status("ch04::a"), progress.failures_in_a_row("ch04::a")), (Status::Done, 0));
    }

    #[test]
    fn saved_and_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = Progress::file(dir.path());
        assert_eq!(Progress::load(&path), Progress::default(), "no file yet: a fresh start");
        let mut progress = Progress::default();
        progress.record("ch01::x", Status::Failing);
        progress.save(&path).unwrap();
        assert_eq!(Progress::load(&path), progress);
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(Progress::load(&path), Progress::default(), "a damaged file is a fresh start");
    }
}
