//! Checking exercises one at a time: is it still the stub, does it compile, does its test pass
//! within its deadline. Each chapter is built at most once per `cargo xtask check`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use workbook_support::cleanup::Cleanup;

use super::build::{self, Built, Variant};
use super::chapters::{Chapter, Exercise};
use super::diagnose::ConnectLog;
use super::progress::Status;
use super::run::{self, Ending};
use super::stub;

/// How many lines of a failure the checker shows.
const FAILURE_LINES: usize = 30;

/// The verdict on one exercise, with what went wrong when it is not done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    /// The panic message, the compiler's first error, or what the test was waiting for.
    pub message: String,
    pub elapsed: Duration,
}

impl Verdict {
    fn new(status: Status, message: impl Into<String>, elapsed: Duration) -> Verdict {
        Verdict { status, message: message.into(), elapsed }
    }
}

pub struct Checker {
    root: PathBuf,
    variant: Variant,
    builds: HashMap<String, Built>,
    target_dir: Option<PathBuf>,
}

impl Checker {
    pub fn new(root: &Path, variant: Variant) -> Checker {
        Checker { root: root.to_path_buf(), variant, builds: HashMap::new(), target_dir: None }
    }

    /// Builds into another target directory than the workspace's own (a test's copy of the workspace).
    #[cfg(test)]
    pub fn with_target_dir(mut self, dir: &Path) -> Checker {
        self.target_dir = Some(dir.to_path_buf());
        self
    }

    /// Checks one exercise, showing what runs and for how long while it runs.
    pub fn check(&mut self, chapter: &Chapter, exercise: &Exercise) -> Result<Verdict> {
        let name = chapter.qualified(exercise);
        if self.variant == Variant::Learner && self.untouched(chapter, exercise) {
            return Ok(Verdict::new(Status::NotStarted, "", Duration::ZERO));
        }
        let spinner = Spinner::start(&name);
        let built = self.build(chapter, &spinner)?;
        let binary = match built {
            Built::Binary(binary) => binary,
            Built::CompileError(error) => {
                spinner.finish();
                return Ok(Verdict::new(Status::DoesNotCompile, error, Duration::ZERO));
            }
        };
        spinner.phase("running");
        let connect_log = ConnectLog::mark();
        let run = run::run_one(&binary, &exercise.name, None, exercise.deadline(), |line| spinner.line(line))?;
        spinner.finish();
        let mut verdict = judge(exercise, &run);
        if verdict.status == Status::TimedOut
            && let Some(removed) = remove_leftovers(run.pid)
        {
            verdict.message.push_str(&format!("\n{removed}"));
        }
        if verdict.status != Status::Done {
            for finding in connect_log.findings(run.pid) {
                verdict.message.push_str(&format!("\n\n{finding}"));
            }
        }
        Ok(verdict)
    }

    fn untouched(&self, chapter: &Chapter, exercise: &Exercise) -> bool {
        std::fs::read_to_string(chapter.dir.join("src/exercises.rs"))
            .is_ok_and(|source| stub::is_untouched(&source, &exercise.name))
    }

    fn build(&mut self, chapter: &Chapter, spinner: &Spinner) -> Result<Built> {
        if let Some(built) = self.builds.get(&chapter.package) {
            return Ok(built.clone());
        }
        spinner.phase(&format!("building {}", chapter.package));
        let built =
            build::build(&self.root, self.target_dir.as_deref(), chapter, self.variant, |line| spinner.line(line))?;
        self.builds.insert(chapter.package.clone(), built.clone());
        Ok(built)
    }

    /// Forget the builds, e.g. after a file changed (`--watch`).
    pub fn forget_builds(&mut self) {
        self.builds.clear();
    }
}

/// A test stopped at its deadline never ran its own cleanup: remove what it created (every name
/// it made carries its process id) so the shared environment does not fill up with leftovers.
fn remove_leftovers(pid: u32) -> Option<String> {
    let env = workbook_support::Env::load().ok()?;
    // The checker runs inside the command's runtime: clean up on a thread with a runtime of its own.
    let removed = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        runtime.block_on(async {
            let leftovers = Cleanup::left_by_process(&env, pid).await;
            let count = leftovers.len();
            leftovers.run().await;
            Some(count)
        })
    })
    .join()
    .ok()??;
    (removed > 0).then(|| format!("What it had created ({removed} topic(s), table(s) or connector(s)) was removed."))
}

/// The verdict of one test run.
pub fn judge(exercise: &Exercise, run: &run::TestRun) -> Verdict {
    match run.ending {
        Ending::Passed => Verdict::new(Status::Done, "", run.elapsed),
        Ending::Failed => {
            // A panic in the learner's file is placed at `tests/../src/exercises.rs` (the test
            // target includes it by that path): name the file as the learner knows it.
            let message = run::failure_message(&run.output, FAILURE_LINES).replace("/tests/../", "/");
            Verdict::new(Status::Failing, message, run.elapsed)
        }
        Ending::TimedOut => {
            let waiting = run::last_wait(&run.output).map(|w| format!(", {w}")).unwrap_or_default();
            let message = format!(
                "timed out after {} s{waiting}.\nThe test was stopped; its deadline is `deadline` in exercises.toml.",
                exercise.deadline
            );
            Verdict::new(Status::TimedOut, message, run.elapsed)
        }
        Ending::NoSuchTest => Verdict::new(
            Status::Failing,
            format!("tests/exercises.rs has no test named `{}` (a slip of the chapter's author)", exercise.name),
            run.elapsed,
        ),
    }
}

/// A one-line progress display on the terminal: the exercise, the phase, the seconds, and the
/// last line the build or the test printed. Hidden when stderr is not a terminal (CI logs).
struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    fn start(name: &str) -> Spinner {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}").expect("a valid template"),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner { bar }
    }

    fn phase(&self, phase: &str) {
        self.bar.set_message(phase.to_string());
    }

    fn line(&self, line: &str) {
        let line = line.trim();
        if !line.is_empty() {
            self.bar.set_message(line.chars().take(100).collect::<String>());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
