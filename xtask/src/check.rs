//! `cargo xtask check` and `cargo xtask hint`: the exercise checker.
//!
//! # The exercise convention
//!
//! A chapter crate `chapters/chNN-topic/` (package name = directory name) has exercises when it
//! holds an `exercises.toml`:
//!
//! ```text
//! chapters/ch03-topics/
//! ├── Cargo.toml           [features] solutions = []
//! │                        [[test]] name = "exercises"  path = "tests/exercises.rs"  test = false
//! ├── exercises.toml       [[exercise]] name = "…"  title = "…"  hint = """…"""   (in learning order)
//! ├── src/lib.rs           #[cfg_attr(feature = "solutions", path = "../solutions/exercises.rs")]
//! │                        pub mod exercises;
//! ├── src/exercises.rs     the learner's file: one function per exercise, a doc comment saying
//! │                        what to do, and a `todo!()` (or deliberately wrong) body
//! ├── solutions/exercises.rs   the reference solution, same functions and signatures
//! └── tests/exercises.rs   one #[test] or #[tokio::test] per exercise, named exactly like it,
//!                          talking to the real environment (unique topic/group/table names)
//! ```
//!
//! - The `solutions` feature swaps the module's file, so the learner's file and the solution
//!   never collide, and `--features solutions` proves every exercise solvable.
//! - `test = false` keeps plain `cargo test --workspace` away from the stubs (they would fail);
//!   the checker names the target: `cargo test -p ch03-topics --test exercises [--features solutions]`.
//! - A test that panics in a `todo!()` ("not yet implemented") is *not started*; any other
//!   failure, or a crate that does not compile, is *failing*; a passing test is *done*.
//! - Hints are questions that lead (rustlings style), never the answer.
//! - `src/exercises.rs` may start with `#![allow(unused_variables)]`: stubs ignore their inputs,
//!   and the workspace lints with `-D warnings`.
//!
//! `cargo xtask check --audit` (run by CI) proves the set honest: every untouched stub fails
//! and every reference solution passes.

mod chapters;
mod convention;
mod libtest;
mod report;
mod runner;
pub mod watch;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use workbook_support::env::workspace_root;

use self::chapters::Chapter;
use self::report::Row;
use self::runner::{ChapterResult, Status};
use self::watch::Snapshot;
use crate::{backend, command};

#[derive(Args, Debug)]
pub struct CheckOptions {
    /// Chapters to check (e.g. ch03 or ch03-topics); all when omitted.
    pub chapters: Vec<String>,
    /// Check the reference solutions instead of your code.
    #[arg(long)]
    pub solutions: bool,
    /// Keep running: check a chapter again whenever one of its files changes.
    #[arg(long)]
    pub watch: bool,
    /// For CI and chapter authors: prove every untouched stub fails and every solution passes.
    #[arg(long, conflicts_with_all = ["solutions", "watch"])]
    pub audit: bool,
}

#[derive(Args, Debug)]
pub struct HintOptions {
    /// The exercise, e.g. ch03::create_topic_idempotently (or just its name if that is unique).
    pub exercise: String,
}

fn chapters_dir(root: &Path) -> PathBuf {
    root.join("chapters")
}

pub async fn run(options: &CheckOptions) -> Result<()> {
    if options.audit {
        return audit(&options.chapters).await;
    }
    let root = workspace_root();
    let all = chapters::discover(&chapters_dir(&root))?;
    let mut selected = chapters::select(&all, &options.chapters)?;
    if selected.is_empty() {
        println!("No chapter has exercises yet, so there is nothing to check.");
        return Ok(());
    }
    backend::ensure_up().await?;
    let mut results = Vec::new();
    for chapter in &selected {
        results.push(check_chapter(&root, chapter, options.solutions)?);
    }
    print!("\n{}", render(&selected, &results, options.solutions));
    if options.watch {
        watch_and_recheck(&root, &mut selected, &mut results, options.solutions)?;
    }
    verdict(&results, options.solutions)
}

/// Runs one chapter's exercise tests, saying what it runs (a learner can run it by hand too).
fn check_chapter(root: &Path, chapter: &Chapter, solutions: bool) -> Result<ChapterResult> {
    println!("Checking {}: `{}`", chapter.package, command::display(&runner::test_command(root, chapter, solutions)));
    let result = runner::run(root, chapter, solutions)?;
    for defect in &result.defects {
        println!("  warning (for the chapter's author): {defect}");
    }
    Ok(result)
}

fn render(chapters: &[Chapter], results: &[ChapterResult], solutions: bool) -> String {
    let rows: Vec<Row<'_>> = chapters
        .iter()
        .zip(results)
        .flat_map(|(chapter, result)| {
            chapter.exercises.iter().zip(&result.outcomes).map(move |(exercise, outcome)| Row {
                chapter,
                exercise,
                outcome,
            })
        })
        .collect();
    report::render(&rows, solutions)
}

/// Success only when every exercise is done: the exit code tells scripts (and CI) the truth.
fn verdict(results: &[ChapterResult], solutions: bool) -> Result<()> {
    let outcomes = results.iter().flat_map(|r| &r.outcomes);
    let not_done = outcomes.filter(|o| o.status != Status::Done).count();
    match (not_done, solutions) {
        (0, _) => Ok(()),
        (n, false) => bail!("{n} exercise(s) not done yet; keep going, `cargo xtask check --watch` re-checks on save"),
        (n, true) => bail!("{n} reference solution(s) do not pass"),
    }
}

/// `--watch`: poll the chapters' files and check a chapter again when one of its files changes.
/// Runs until Ctrl-C.
fn watch_and_recheck(
    root: &Path,
    chapters: &mut [Chapter],
    results: &mut [ChapterResult],
    solutions: bool,
) -> Result<()> {
    let mut snapshots: Vec<Snapshot> = chapters.iter().map(|c| Snapshot::take(&c.watched_paths())).collect();
    println!("\nWatching {} chapter(s) for changes. Save a file to check again; Ctrl-C to stop.", chapters.len());
    loop {
        std::thread::sleep(watch::POLL_INTERVAL);
        for index in 0..chapters.len() {
            let now = Snapshot::take(&chapters[index].watched_paths());
            let changed = now.changed_since(&snapshots[index]);
            if changed.is_empty() {
                continue;
            }
            snapshots[index] = now;
            println!("\n{} changed.", changed[0].strip_prefix(root).unwrap_or(&changed[0]).display());
            // exercises.toml may have changed too: read the chapter afresh.
            match reload(root, &chapters[index]) {
                Ok(chapter) => chapters[index] = chapter,
                Err(e) => {
                    println!("error: {e:#}");
                    continue;
                }
            }
            results[index] = check_chapter(root, &chapters[index], solutions)?;
            print!("\n{}", render(chapters, results, solutions));
        }
    }
}

fn reload(root: &Path, chapter: &Chapter) -> Result<Chapter> {
    chapters::discover(&chapters_dir(root))?
        .into_iter()
        .find(|c| c.package == chapter.package)
        .with_context(|| format!("{} no longer has an exercises.toml", chapter.dir.display()))
}

pub fn hint(options: &HintOptions) -> Result<()> {
    let all = chapters::discover(&chapters_dir(&workspace_root()))?;
    let (chapter, exercise) = chapters::find_exercise(&all, &options.exercise)?;
    println!("{} — {}\n", chapter.qualified(exercise), exercise.title);
    println!("{}", exercise.hint.trim());
    println!("\nThe function is `{}` in {}/src/exercises.rs.", exercise.name, chapter.shown_dir());
    Ok(())
}

/// Proves the exercise set honest (rustlings' `dev check`): for each chapter, every untouched
/// stub must fail its test and every reference solution must pass; the chapter must follow the
/// convention. Starts the environment if needed (a no-op when it runs). Errors on any violation.
pub async fn audit(wanted: &[String]) -> Result<()> {
    let root = workspace_root();
    let all = chapters::discover(&chapters_dir(&root))?;
    let selected = chapters::select(&all, wanted)?;
    if selected.is_empty() {
        println!("Exercise audit: no chapter has exercises yet, so there is nothing to prove.");
        return Ok(());
    }
    backend::ensure_up().await?;
    let mut violations = Vec::new();
    for chapter in &selected {
        violations.extend(convention::problems(chapter).into_iter().map(|p| format!("{}: {p}", chapter.package)));
        let stubs = check_chapter(&root, chapter, false)?;
        violations.extend(stub_violations(chapter, &stubs));
        let solutions = check_chapter(&root, chapter, true)?;
        violations.extend(solution_violations(chapter, &solutions));
    }
    let exercises: usize = selected.iter().map(|c| c.exercises.len()).sum();
    if violations.is_empty() {
        println!(
            "Exercise audit passed: {exercises} exercise(s) in {} chapter(s); every untouched stub fails and every reference solution passes.",
            selected.len()
        );
        return Ok(());
    }
    println!("\nExercise audit found {} violation(s):", violations.len());
    for violation in &violations {
        println!("  - {violation}");
    }
    bail!("exercise audit failed: {} violation(s) in {exercises} exercise(s)", violations.len())
}

/// With the learner's untouched file, every test must fail (else it proves nothing), yet the
/// crate must compile (else the learner starts from a broken file).
fn stub_violations(chapter: &Chapter, stubs: &ChapterResult) -> Vec<String> {
    if stubs.compile_error {
        let message = stubs.outcomes.first().map(|o| o.message.as_str()).unwrap_or("");
        return vec![format!("{}: the untouched stubs do not compile: {message}", chapter.package)];
    }
    let mut violations: Vec<String> = stubs.defects.iter().map(|d| format!("{}: {d}", chapter.package)).collect();
    for (exercise, outcome) in chapter.exercises.iter().zip(&stubs.outcomes) {
        if outcome.status == Status::Done {
            violations.push(format!(
                "{}: the untouched stub passes its test, so the test proves nothing",
                chapter.qualified(exercise)
            ));
        }
    }
    violations
}

/// With `--features solutions`, every test must pass.
fn solution_violations(chapter: &Chapter, solved: &ChapterResult) -> Vec<String> {
    chapter
        .exercises
        .iter()
        .zip(&solved.outcomes)
        .filter(|(_, outcome)| outcome.status != Status::Done)
        .map(|(exercise, outcome)| {
            // The panic's location and its message: enough to see why without rerunning.
            let lines: Vec<&str> = outcome.message.lines().filter(|l| !l.trim().is_empty()).take(8).collect();
            format!("{}: the reference solution does not pass: {}", chapter.qualified(exercise), lines.join("\n      "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::chapters::Exercise;
    use super::runner::Outcome;
    use super::*;

    fn chapter() -> Chapter {
        let exercise = |name: &str| Exercise { name: name.into(), title: "t".into(), hint: "h".into() };
        Chapter {
            dir: "chapters/ch03-topics".into(),
            package: "ch03-topics".into(),
            id: "ch03".into(),
            exercises: vec![exercise("create"), exercise("describe")],
        }
    }

    fn result(statuses: &[Status]) -> ChapterResult {
        ChapterResult {
            outcomes: statuses
                .iter()
                .map(|&status| Outcome { status, message: "assertion failed\nmore".into() })
                .collect(),
            defects: Vec::new(),
            compile_error: false,
        }
    }

    #[test]
    fn a_passing_stub_is_a_violation() {
        let violations = stub_violations(&chapter(), &result(&[Status::NotStarted, Status::Done]));
        assert_eq!(violations, ["ch03::describe: the untouched stub passes its test, so the test proves nothing"]);
        assert!(stub_violations(&chapter(), &result(&[Status::NotStarted, Status::Failing])).is_empty());
    }

    #[test]
    fn stubs_that_do_not_compile_are_a_violation() {
        let mut broken = result(&[Status::Failing, Status::Failing]);
        broken.compile_error = true;
        let violations = stub_violations(&chapter(), &broken);
        assert_eq!(violations.len(), 1);
        assert!(violations[0].starts_with("ch03-topics: the untouched stubs do not compile"));
    }

    #[test]
    fn author_defects_are_violations() {
        let mut stubs = result(&[Status::NotStarted, Status::NotStarted]);
        stubs.defects.push("tests/exercises.rs has no test `describe`".into());
        assert_eq!(stub_violations(&chapter(), &stubs), ["ch03-topics: tests/exercises.rs has no test `describe`"]);
    }

    #[test]
    fn a_failing_solution_is_a_violation() {
        let violations = solution_violations(&chapter(), &result(&[Status::Done, Status::Failing]));
        assert_eq!(violations, ["ch03::describe: the reference solution does not pass: assertion failed\n      more"]);
        assert!(solution_violations(&chapter(), &result(&[Status::Done, Status::Done])).is_empty());
    }

    #[test]
    fn the_exit_code_follows_the_exercises() {
        assert!(verdict(&[result(&[Status::Done, Status::Done])], false).is_ok());
        let err = verdict(&[result(&[Status::Done, Status::NotStarted])], false).unwrap_err();
        assert!(err.to_string().starts_with("1 exercise(s) not done yet"));
        assert!(verdict(&[], false).is_ok());
    }
}
