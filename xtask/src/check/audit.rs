//! `cargo xtask check --audit`: proves the exercise set honest, three ways per exercise.
//!
//! 1. The untouched stub (a lone `todo!()`) fails its test.
//! 2. The reference solution passes it.
//! 3. Every known-wrong answer in `mistakes/exercises.rs` fails it, within the exercise's
//!    deadline, with a message that says what `exercises.toml` promises (the mistake's `says`).
//!
//! Each chapter is compiled twice (its stubs, and `--features mistakes`, whose binary runs the
//! reference solution when no mistake is named), then every run is one test process, several at
//! a time: the tests isolate themselves by unique names, so they may share the environment.

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Result, bail};

use super::build::{self, Built, Variant};
use super::chapters::{Chapter, Exercise, Mistake};
use super::convention;
use super::run::{self, Ending};
use super::stub;

/// How many tests run at once. The tests mostly wait for the broker, Connect and MariaDB.
pub const DEFAULT_JOBS: usize = 3;

/// One test run the audit makes, and what it expects of it.
struct Job<'a> {
    chapter: &'a Chapter,
    exercise: &'a Exercise,
    kind: Kind<'a>,
    binary: std::path::PathBuf,
}

enum Kind<'a> {
    Stub,
    Solution,
    Mistake(&'a Mistake),
}

impl Job<'_> {
    fn describe(&self) -> String {
        let name = self.chapter.qualified(self.exercise);
        match self.kind {
            Kind::Stub => format!("{name}: the untouched stub"),
            Kind::Solution => format!("{name}: the reference solution"),
            Kind::Mistake(m) => format!("{name}: mistake `{}` ({})", m.name, m.what),
        }
    }

    /// `Ok(summary)` when the run is what the audit expects, `Err(violation)` otherwise.
    fn verdict(&self, run: &run::TestRun) -> Result<String, String> {
        let describe = self.describe();
        let failure = || run::failure_message(&run.output, 8);
        match (&self.kind, run.ending) {
            (_, Ending::NoSuchTest) => {
                Err(format!("{describe}: tests/exercises.rs has no test `{}`", self.exercise.name))
            }
            (_, Ending::TimedOut) => Err(format!(
                "{describe}: still running after {} s; a test must end with a verdict before its deadline{}",
                self.exercise.deadline,
                run::last_wait(&run.output).map(|w| format!(" (it was {w})")).unwrap_or_default()
            )),
            (Kind::Stub, Ending::Passed) => Err(format!("{describe} passes its test, so the test proves nothing")),
            (Kind::Stub, Ending::Failed) => Ok(format!("{describe} fails")),
            (Kind::Solution, Ending::Passed) => Ok(format!("{describe} passes")),
            (Kind::Solution, Ending::Failed) => Err(format!("{describe} does not pass:\n      {}", indent(&failure()))),
            (Kind::Mistake(_), Ending::Passed) => Err(format!("{describe} passes the test: the test cannot tell")),
            (Kind::Mistake(m), Ending::Failed) if run.output.contains(&m.says) => {
                Ok(format!("{describe} is caught: \"{}\"", m.says))
            }
            (Kind::Mistake(m), Ending::Failed) => Err(format!(
                "{describe} fails, but without saying \"{}\"; it said:\n      {}",
                m.says,
                indent(&failure())
            )),
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join("\n      ")
}

pub fn run(root: &Path, chapters: &[Chapter], jobs: usize) -> Result<()> {
    let started = Instant::now();
    let mut violations = Vec::new();
    let mut runs = Vec::new();
    for chapter in chapters {
        violations.extend(convention::problems(chapter).into_iter().map(|p| format!("{}: {p}", chapter.package)));
        violations.extend(stub_problems(chapter));
    }
    // One cargo run per feature set for every chapter: cargo builds them side by side.
    for (variant, kinds) in [(Variant::Learner, "stubs"), (Variant::Mistakes, "mistakes")] {
        println!("== building every chapter's exercise tests ({kinds})");
        let built = build::build_all(root, None, chapters, variant, |_| {})?;
        for chapter in chapters {
            match &built[&chapter.package] {
                Built::CompileError(error) => {
                    violations.push(format!("{}: the {kinds} build does not compile:\n{error}", chapter.package))
                }
                Built::Binary(binary) => runs.extend(jobs_for(chapter, variant, binary)),
            }
        }
    }
    println!("== running {} tests, {jobs} at a time", runs.len());
    violations.extend(run_all(&runs, jobs));
    let exercises: usize = chapters.iter().map(|c| c.exercises.len()).sum();
    let mistakes: usize = chapters.iter().flat_map(|c| &c.exercises).map(|e| e.mistakes.len()).sum();
    let took = started.elapsed().as_secs_f64();
    if violations.is_empty() {
        println!(
            "Exercise audit passed in {took:.0} s: {exercises} exercise(s) in {} chapter(s); every untouched stub fails, \
             every reference solution passes, and all {mistakes} known mistakes are caught with their message.",
            chapters.len()
        );
        return Ok(());
    }
    println!("\nExercise audit found {} violation(s):", violations.len());
    for violation in &violations {
        println!("  - {violation}");
    }
    bail!("exercise audit failed: {} violation(s) in {exercises} exercise(s), {mistakes} mistake(s)", violations.len())
}

fn jobs_for<'a>(chapter: &'a Chapter, variant: Variant, binary: &Path) -> Vec<Job<'a>> {
    let mut jobs = Vec::new();
    for exercise in &chapter.exercises {
        let job = |kind| Job { chapter, exercise, kind, binary: binary.to_path_buf() };
        match variant {
            Variant::Learner => jobs.push(job(Kind::Stub)),
            Variant::Mistakes => {
                jobs.push(job(Kind::Solution));
                jobs.extend(exercise.mistakes.iter().map(|m| job(Kind::Mistake(m))));
            }
            Variant::Solutions => {}
        }
    }
    jobs
}

/// Every run, `jobs` at a time; a line per run as it ends; the violations.
fn run_all(runs: &[Job<'_>], jobs: usize) -> Vec<String> {
    let next = Mutex::new(0usize);
    let violations = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("no worker panics");
                        *next += 1;
                        *next - 1
                    };
                    let Some(job) = runs.get(index) else { break };
                    let mistake = match job.kind {
                        Kind::Mistake(m) => Some(m.name.as_str()),
                        _ => None,
                    };
                    let deadline = job.exercise.deadline();
                    let outcome = run::run_one(&job.binary, &job.exercise.name, mistake, deadline, |_| {})
                        .map_err(|e| format!("{}: could not run: {e:#}", job.describe()))
                        .and_then(|run| job.verdict(&run).map(|ok| (ok, run.elapsed)));
                    match outcome {
                        Ok((summary, took)) => println!("  ok  {summary} ({:.1} s)", took.as_secs_f64()),
                        Err(violation) => {
                            println!("  BAD {}", violation.lines().next().unwrap_or_default());
                            violations.lock().expect("no worker panics").push(violation);
                        }
                    }
                }
            });
        }
    });
    violations.into_inner().expect("no worker panics")
}

/// The stubs a learner starts from: each exercise a lone `todo!()`, each with a known mistake.
fn stub_problems(chapter: &Chapter) -> Vec<String> {
    let mut problems = Vec::new();
    let source = std::fs::read_to_string(chapter.dir.join("src/exercises.rs")).unwrap_or_default();
    let mistakes = std::fs::read_to_string(chapter.dir.join("mistakes/exercises.rs")).unwrap_or_default();
    for exercise in &chapter.exercises {
        let name = chapter.qualified(exercise);
        if !stub::is_untouched(&source, &exercise.name) {
            problems.push(format!("{name}: src/exercises.rs must hold it as a stub whose body is a lone todo!()"));
        }
        if exercise.mistakes.is_empty() {
            problems.push(format!("{name}: exercises.toml lists no [[exercise.mistake]] (a known-wrong answer)"));
        }
        for mistake in &exercise.mistakes {
            if !mistakes.contains(&format!("\"{}\"", mistake.name)) {
                problems.push(format!("{name}: mistakes/exercises.rs never selects the mistake \"{}\"", mistake.name));
            }
        }
    }
    problems
}
