//! Running one chapter's exercise tests and judging each exercise.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use super::chapters::{Chapter, Exercise};
use super::libtest::{self, TestRun, Verdict};
use crate::command;

/// Where a learner stands on one exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its test passes.
    Done,
    /// Its test fails inside a `todo!()`: the learner has not touched it yet.
    NotStarted,
    /// Its test fails for any other reason, or the crate does not compile.
    Failing,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::NotStarted => "not started",
            Status::Failing => "failing",
        }
    }
}

/// The verdict on one exercise, with what went wrong when it is not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The panic message, the compiler's errors, or what is missing; empty when done.
    pub message: String,
}

impl Outcome {
    fn failing(message: impl Into<String>) -> Outcome {
        Outcome { status: Status::Failing, message: message.into() }
    }
}

/// What one `cargo test --test exercises` of a chapter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterResult {
    /// One outcome per exercise, in `exercises.toml` order.
    pub outcomes: Vec<Outcome>,
    /// Slips of the chapter's author, not the learner's: an exercise without a test, an ignored
    /// test, a test that `exercises.toml` does not list.
    pub defects: Vec<String>,
    /// The crate did not compile.
    pub compile_error: bool,
}

/// How many lines of a failure the checker shows.
const FAILURE_LINES: usize = 30;

/// The command that runs a chapter's exercise tests (the learner's code, or the reference solutions).
pub fn test_command(root: &Path, chapter: &Chapter, solutions: bool) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["test", "--package", &chapter.package, "--test", "exercises"]);
    if solutions {
        cmd.args(["--features", "solutions"]);
    }
    // No backtraces: the checker shows the panic message; a learner who wants the trace runs the
    // command above by hand. No colours: we parse the output.
    cmd.env("RUST_BACKTRACE", "0").env("CARGO_TERM_COLOR", "never");
    cmd
}

/// Runs the chapter's exercise tests (blocking: cargo holds the build lock anyway) and judges them.
pub fn run(root: &Path, chapter: &Chapter, solutions: bool) -> Result<ChapterResult> {
    let cmd = test_command(root, chapter, solutions);
    let shown = command::display(&cmd);
    let mut cmd = cmd;
    let output = cmd.output().with_context(|| format!("could not start `{shown}`"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(judge(&chapter.exercises, &libtest::parse(&stdout), &stderr))
}

/// Judges every exercise from the parsed test output (and cargo's stderr, for compile errors).
pub fn judge(exercises: &[Exercise], run: &TestRun, stderr: &str) -> ChapterResult {
    if !run.started {
        let errors = libtest::compiler_errors(stderr);
        let message = format!("the chapter does not compile:\n{errors}");
        return ChapterResult {
            outcomes: exercises.iter().map(|_| Outcome::failing(message.clone())).collect(),
            defects: Vec::new(),
            compile_error: true,
        };
    }
    let outcomes = exercises.iter().map(|exercise| judge_one(&exercise.name, run)).collect();
    let mut defects = Vec::new();
    for exercise in exercises {
        match run.verdict(&exercise.name) {
            None => defects.push(format!("tests/exercises.rs has no test `{}`", exercise.name)),
            Some((test, Verdict::Ignored)) => defects.push(format!("the test `{test}` is #[ignore]d")),
            Some(_) => {}
        }
    }
    let listed =
        |test: &str| exercises.iter().any(|e| test == e.name || test.rsplit("::").next() == Some(e.name.as_str()));
    for test in run.verdicts.keys().filter(|test| !listed(test)) {
        defects.push(format!("the test `{test}` is not an exercise listed in exercises.toml"));
    }
    ChapterResult { outcomes, defects, compile_error: false }
}

fn judge_one(name: &str, run: &TestRun) -> Outcome {
    match run.verdict(name) {
        Some((_, Verdict::Ok)) => Outcome { status: Status::Done, message: String::new() },
        Some((_, Verdict::Ignored)) => {
            Outcome::failing(format!("the test `{name}` is marked #[ignore], so it proves nothing"))
        }
        Some((test, Verdict::Failed)) => {
            let failure = run.failures.get(test).map(String::as_str).unwrap_or("");
            let status = if libtest::is_todo_panic(failure) { Status::NotStarted } else { Status::Failing };
            Outcome { status, message: libtest::trim_failure(failure, FAILURE_LINES) }
        }
        None => Outcome::failing(format!(
            "tests/exercises.rs has no test named `{name}`, or the test binary stopped before reporting it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercises(names: &[&str]) -> Vec<Exercise> {
        names.iter().map(|n| Exercise { name: n.to_string(), title: String::new(), hint: String::new() }).collect()
    }

    fn statuses(result: &ChapterResult) -> Vec<Status> {
        result.outcomes.iter().map(|o| o.status).collect()
    }

    #[test]
    fn judges_the_captured_stub_run() {
        let run = libtest::parse(include_str!("testdata/stubs.stdout"));
        let result = judge(&exercises(&["add", "double", "name", "three", "absent"]), &run, "");
        use Status::*;
        assert_eq!(statuses(&result), [NotStarted, Failing, NotStarted, Done, Failing]);
        assert!(result.outcomes[1].message.contains("double(4) should be 8"));
        assert!(result.outcomes[4].message.contains("no test named `absent`"));
        assert_eq!(result.defects, ["tests/exercises.rs has no test `absent`"]);
        assert!(!result.compile_error);
    }

    #[test]
    fn reports_tests_missing_from_the_manifest() {
        let run = libtest::parse(include_str!("testdata/solutions.stdout"));
        let result = judge(&exercises(&["add", "double"]), &run, "");
        assert_eq!(statuses(&result), [Status::Done, Status::Done]);
        assert_eq!(
            result.defects,
            [
                "the test `name` is not an exercise listed in exercises.toml",
                "the test `three` is not an exercise listed in exercises.toml"
            ]
        );
    }

    #[test]
    fn a_compile_error_fails_every_exercise_with_the_compiler_message() {
        let stderr = include_str!("testdata/compile-error.stderr");
        let result = judge(&exercises(&["add", "double"]), &libtest::parse(""), stderr);
        assert!(result.compile_error);
        assert_eq!(statuses(&result), [Status::Failing, Status::Failing]);
        assert!(result.outcomes[0].message.contains("error[E0277]"), "{}", result.outcomes[0].message);
    }

    /// The whole convention for real: a throwaway workspace with one chapter crate, tested by
    /// cargo twice (stubs, then solutions). No dependencies, so it builds in a second or two.
    #[test]
    fn checks_a_real_chapter_crate() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let crate_dir = root.join("chapters/ch99-probe");
        let write = |path: &str, text: &str| {
            let path = crate_dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        std::fs::write(root.join("Cargo.toml"), "[workspace]\nresolver = \"3\"\nmembers = [\"chapters/*\"]\n").unwrap();
        write(
            "Cargo.toml",
            "[package]\nname = \"ch99-probe\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[features]\nsolutions = []\n\n\
             [[test]]\nname = \"exercises\"\npath = \"tests/exercises.rs\"\ntest = false\n",
        );
        write(
            "src/lib.rs",
            "#[cfg_attr(feature = \"solutions\", path = \"../solutions/exercises.rs\")]\npub mod exercises;\n",
        );
        write(
            "src/exercises.rs",
            "#![allow(unused_variables)]\npub fn add(a: u32, b: u32) -> u32 { todo!() }\npub fn double(x: u32) -> u32 { x }\n",
        );
        write(
            "solutions/exercises.rs",
            "pub fn add(a: u32, b: u32) -> u32 { a + b }\npub fn double(x: u32) -> u32 { 2 * x }\n",
        );
        write(
            "tests/exercises.rs",
            "use ch99_probe::exercises;\n#[test]\nfn add() { assert_eq!(exercises::add(2, 3), 5); }\n\
             #[test]\nfn double() { assert_eq!(exercises::double(4), 8, \"double(4)\"); }\n",
        );
        let chapter = Chapter {
            dir: crate_dir.clone(),
            package: "ch99-probe".into(),
            id: "ch99".into(),
            exercises: exercises(&["add", "double"]),
        };

        let stubs = run(root, &chapter, false).unwrap();
        assert_eq!(statuses(&stubs), [Status::NotStarted, Status::Failing], "{stubs:?}");
        assert!(stubs.outcomes[1].message.contains("double(4)"), "{stubs:?}");
        assert!(stubs.defects.is_empty(), "{stubs:?}");

        let solved = run(root, &chapter, true).unwrap();
        assert_eq!(statuses(&solved), [Status::Done, Status::Done], "{solved:?}");

        write(
            "src/exercises.rs",
            "pub fn add(a: u32, b: u32) -> u32 { a + \"b\" }\npub fn double(x: u32) -> u32 { x }\n",
        );
        let broken = run(root, &chapter, false).unwrap();
        assert!(broken.compile_error);
        assert!(broken.outcomes[0].message.contains("src/exercises.rs:1"), "{broken:?}");
    }

    #[test]
    fn the_command_selects_the_solutions_by_feature() {
        let chapter = Chapter {
            dir: "chapters/ch03-topics".into(),
            package: "ch03-topics".into(),
            id: "ch03".into(),
            exercises: Vec::new(),
        };
        let shown = command::display(&test_command(Path::new("."), &chapter, true));
        assert!(shown.ends_with("test --package ch03-topics --test exercises --features solutions"), "{shown}");
        let shown = command::display(&test_command(Path::new("."), &chapter, false));
        assert!(shown.ends_with("--test exercises"), "{shown}");
    }
}
