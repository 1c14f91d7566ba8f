//! `cargo xtask check`, `hint` and `reset`: the exercise checker.
//!
//! # The exercise convention
//!
//! A chapter crate `chapters/chNN-topic/` (package name = directory name) has exercises when it
//! holds an `exercises.toml`:
//!
//! ```text
//! chapters/ch03-topics/
//! ├── Cargo.toml           [features] solutions = [], mistakes = []
//! │                        [[test]] name = "exercises"  path = "tests/exercises.rs"  test = false
//! ├── exercises.toml       [[exercise]] name, title, hint (a leading question), deadline (s, optional)
//! │                        [[exercise.mistake]] name, what, says   (in learning order)
//! ├── src/exercises.rs     the learner's file: one function per exercise, a doc comment saying
//! │                        what to do, and a body that is a lone `todo!()`
//! ├── solutions/exercises.rs   the reference solutions, same functions and signatures
//! ├── mistakes/exercises.rs    known-wrong answers: each exercise dispatches on the mistake named
//! │                            in WORKBOOK_MISTAKE, and runs the reference solution when none is
//! └── tests/exercises.rs   `mod exercises;` with a #[cfg_attr] path per feature set, and one test
//!                          per exercise, named exactly like it, talking to the real environment
//! ```
//!
//! - The exercises are compiled into the test target only, never into the chapter's library: a
//!   learner's typo breaks that chapter's exercises and nothing else (not xtask, not another
//!   chapter that uses this chapter's library).
//! - `test = false` keeps plain `cargo test --workspace` away from the stubs (they would fail).
//! - An exercise whose body is still the lone `todo!()` is *not started* (read from the source, not
//!   guessed from a panic); otherwise its test decides: *done*, *failing*, or *timed out* when it
//!   runs past its deadline. A chapter that does not compile shows the compiler's first error.
//! - Hints are questions that lead (rustlings style), never the answer.
//!
//! `cargo xtask check --audit` (run by CI) proves the set honest: see `audit.rs`.

mod audit;
mod build;
mod chapters;
mod checker;
mod convention;
mod diagnose;
mod language;
mod progress;
mod report;
mod run;
mod stub;
pub mod watch;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use workbook_support::env::{workbook_dir, workspace_root};

use self::build::Variant;
use self::chapters::{Chapter, Exercise};
use self::checker::{Checker, Verdict};
use self::progress::{Progress, Status};
use self::watch::Snapshot;
use crate::backend;

#[derive(Args, Debug)]
pub struct CheckOptions {
    /// What to check: a chapter (ch03), an exercise (ch03::ensure_partitions), or several.
    /// Without one: the progress table, then the next unfinished exercise.
    pub exercises: Vec<String>,
    /// Check every exercise again, in order.
    #[arg(long, conflicts_with = "exercises")]
    pub all: bool,
    /// Check the reference solutions instead of your code.
    #[arg(long)]
    pub solutions: bool,
    /// Keep running: check again whenever you save an exercise file.
    #[arg(long)]
    pub watch: bool,
    /// For CI and chapter authors: prove every stub fails, every solution passes, every known mistake is caught.
    #[arg(long, conflicts_with_all = ["solutions", "watch", "all"])]
    pub audit: bool,
    /// With --audit: how many tests run at once.
    #[arg(long, default_value_t = audit::DEFAULT_JOBS, requires = "audit")]
    pub jobs: usize,
    /// Exercise titles and hints in this language (en, ko); default: from LANG (ko_KR → ko).
    #[arg(long, value_enum)]
    pub lang: Option<language::Language>,
}

#[derive(Args, Debug)]
pub struct HintOptions {
    /// The exercise, e.g. ch03::create_topic_idempotently (or just its name if that is unique).
    pub exercise: String,
    /// The hint in this language (en, ko); default: from LANG (ko_KR → ko).
    #[arg(long, value_enum)]
    pub lang: Option<language::Language>,
}

#[derive(Args, Debug)]
pub struct ResetOptions {
    /// The exercise whose stub to put back, e.g. ch03::ensure_partitions.
    pub exercise: String,
    /// Do not ask before overwriting your code.
    #[arg(long)]
    pub yes: bool,
}

/// The whole audit, as CI runs it (the environment must be up).
pub async fn audit() -> Result<()> {
    let root = workspace_root();
    let all = all_chapters(&root)?;
    backend::ensure_up().await?;
    audit::run(&root, &all, audit::DEFAULT_JOBS)
}

fn all_chapters(root: &Path) -> Result<Vec<Chapter>> {
    chapters::discover(&root.join("chapters"))
}

fn progress_file() -> PathBuf {
    Progress::file(&workbook_dir())
}

pub async fn run(options: &CheckOptions) -> Result<()> {
    language::choose(options.lang);
    let root = workspace_root();
    let all = all_chapters(&root)?;
    if all.is_empty() {
        println!("No chapter has exercises yet, so there is nothing to check.");
        return Ok(());
    }
    if options.audit {
        let selected = chapters::select(&all, &options.exercises)?;
        backend::ensure_up().await?;
        return audit::run(&root, &selected, options.jobs);
    }
    let variant = if options.solutions { Variant::Solutions } else { Variant::Learner };
    let selected = chapters::select_exercises(&all, &options.exercises)?;
    let mut progress = Progress::load(&progress_file());
    let next_unfinished = options.exercises.is_empty() && !options.all && !options.solutions;
    if next_unfinished {
        // rustlings' way: where you stand, at once, then the exercise you are on.
        let every: Vec<&Chapter> = all.iter().collect();
        print!("{}", report::table(&every, &progress));
        println!();
    }
    backend::ensure_up().await?;
    let mut checker = Checker::new(&root, variant);
    let stopped_at = check_in_order(&mut checker, &selected, &mut progress, next_unfinished, options.solutions)?;
    if !options.solutions {
        progress.save(&progress_file())?;
    }
    finish_report(&all, &selected, &progress, stopped_at.as_ref(), next_unfinished, options.solutions);
    if options.watch {
        return watch(&root, &all, &mut checker, &mut progress, options.solutions);
    }
    verdict(&selected, &progress, stopped_at.as_ref(), options.solutions)
}

/// Checks `selected` in order. In "next unfinished" mode, skips what is saved as done and stops
/// at the first exercise that is not done now. Returns where it stopped (or the first failure).
fn check_in_order<'a>(
    checker: &mut Checker,
    selected: &[(&'a Chapter, &'a Exercise)],
    progress: &mut Progress,
    next_unfinished: bool,
    solutions: bool,
) -> Result<Option<(&'a Chapter, &'a Exercise, Verdict)>> {
    let mut first_failure = None;
    for &(chapter, exercise) in selected {
        let name = chapter.qualified(exercise);
        if next_unfinished && progress.status(&name) == Status::Done {
            continue;
        }
        let verdict = checker.check(chapter, exercise)?;
        println!("{}", report::line(chapter, exercise, &verdict));
        if !solutions {
            progress.record(&name, verdict.status);
        }
        if verdict.status != Status::Done && first_failure.is_none() {
            first_failure = Some((chapter, exercise, verdict));
            if next_unfinished {
                break;
            }
        }
    }
    Ok(first_failure)
}

fn finish_report(
    all: &[Chapter],
    selected: &[(&Chapter, &Exercise)],
    progress: &Progress,
    stopped_at: Option<&(&Chapter, &Exercise, Verdict)>,
    next_unfinished: bool,
    solutions: bool,
) {
    match stopped_at {
        Some((chapter, exercise, verdict)) => {
            let failures = if solutions { 0 } else { progress.failures_in_a_row(&chapter.qualified(exercise)) };
            println!("\n{}", report::next_up(chapter, exercise, verdict, failures).trim_end());
        }
        None if next_unfinished || selected.len() == all.iter().map(|c| c.exercises.len()).sum::<usize>() => {
            println!("\nEvery exercise is done. Well done!");
        }
        None => {}
    }
    if solutions {
        return;
    }
    if next_unfinished {
        let every: Vec<&Chapter> = all.iter().collect();
        println!("\n{}", report::progress_line(&every, progress));
    } else {
        // Just what was asked for: the chapters it belongs to, and their progress.
        let mut chapters: Vec<&Chapter> = Vec::new();
        for (chapter, _) in selected {
            if !chapters.iter().any(|c| c.package == chapter.package) {
                chapters.push(chapter);
            }
        }
        print!("\n{}", report::table(&chapters, progress));
    }
}

/// Success only when what was checked is done: the exit code tells scripts (and CI) the truth.
fn verdict(
    selected: &[(&Chapter, &Exercise)],
    progress: &Progress,
    stopped_at: Option<&(&Chapter, &Exercise, Verdict)>,
    solutions: bool,
) -> Result<()> {
    if solutions {
        return match stopped_at {
            None => Ok(()),
            Some((c, e, _)) => bail!("the reference solution of {} does not pass", c.qualified(e)),
        };
    }
    let not_done = selected.iter().filter(|(c, e)| progress.status(&c.qualified(e)) != Status::Done).count();
    match not_done {
        0 => Ok(()),
        n => bail!("{n} exercise(s) not done yet; keep going (`cargo xtask check --watch` re-checks on save)"),
    }
}

/// `--watch`: when an exercise file is saved, check the exercise whose function changed (or the
/// next unfinished one of that chapter). Runs until Ctrl-C.
fn watch(root: &Path, all: &[Chapter], checker: &mut Checker, progress: &mut Progress, solutions: bool) -> Result<()> {
    let watched: Vec<PathBuf> = all.iter().flat_map(Chapter::watched_paths).collect();
    let mut snapshot = Snapshot::take(&watched);
    let mut sources: Vec<String> = all.iter().map(|c| read_exercises(c, solutions)).collect();
    println!("\nWatching the exercise files. Save one to check it again; Ctrl-C to stop.");
    loop {
        std::thread::sleep(watch::POLL_INTERVAL);
        let now = Snapshot::take(&watched);
        let changed = now.changed_since(&snapshot);
        if changed.is_empty() {
            continue;
        }
        snapshot = now;
        checker.forget_builds();
        let Some(index) = all.iter().position(|c| changed.iter().any(|p| p.starts_with(&c.dir))) else { continue };
        let chapter = &all[index];
        let source = read_exercises(chapter, solutions);
        let edited = chapter
            .exercises
            .iter()
            .find(|e| function_text(&source, &e.name) != function_text(&sources[index], &e.name));
        sources[index] = source;
        let exercise = edited
            .or_else(|| chapter.exercises.iter().find(|e| progress.status(&chapter.qualified(e)) != Status::Done))
            .unwrap_or(&chapter.exercises[0]);
        println!("\n{} changed.", changed[0].strip_prefix(root).unwrap_or(&changed[0]).display());
        let verdict = checker.check(chapter, exercise)?;
        println!("{}", report::line(chapter, exercise, &verdict));
        if !solutions {
            progress.record(&chapter.qualified(exercise), verdict.status);
            progress.save(&progress_file())?;
        }
        if verdict.status != Status::Done {
            let failures = progress.failures_in_a_row(&chapter.qualified(exercise));
            println!("\n{}", report::next_up(chapter, exercise, &verdict, failures));
        }
    }
}

fn read_exercises(chapter: &Chapter, solutions: bool) -> String {
    let file = if solutions { "solutions/exercises.rs" } else { "src/exercises.rs" };
    std::fs::read_to_string(chapter.dir.join(file)).unwrap_or_default()
}

fn function_text<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    stub::find(source, name).map(|(range, _)| &source[range])
}

pub fn hint(options: &HintOptions) -> Result<()> {
    language::choose(options.lang);
    let all = all_chapters(&workspace_root())?;
    let (chapter, exercise) = chapters::find_exercise(&all, &options.exercise)?;
    println!("{} — {}\n", chapter.qualified(exercise), exercise.title());
    println!("{}", exercise.hint().trim());
    println!("\nThe function is `{}` in {}/src/exercises.rs.", exercise.name, chapter.shown_dir());
    Ok(())
}

/// `cargo xtask reset chNN::name`: put the exercise's stub back, keeping the rest of the file.
pub fn reset(options: &ResetOptions) -> Result<()> {
    let root = workspace_root();
    let all = all_chapters(&root)?;
    let (chapter, exercise) = chapters::find_exercise(&all, &options.exercise)?;
    let file = format!("{}/src/exercises.rs", chapter.shown_dir());
    let path = root.join(&file);
    let source = std::fs::read_to_string(&path).with_context(|| format!("reading {file}"))?;
    if stub::is_untouched(&source, &exercise.name) {
        println!("{} is already the untouched stub; nothing to do.", chapter.qualified(exercise));
        return Ok(());
    }
    let pristine = stub::pristine_from_git(&root, &file, &exercise.name)?;
    let restored = stub::restore(&source, &pristine, &exercise.name)?;
    if !options.yes && !confirm(&format!("Replace your `{}` in {file} with the original stub?", exercise.name))? {
        println!("Nothing changed.");
        return Ok(());
    }
    std::fs::write(&path, restored).with_context(|| format!("writing {file}"))?;
    let mut progress = Progress::load(&progress_file());
    progress.record(&chapter.qualified(exercise), Status::NotStarted);
    progress.save(&progress_file())?;
    println!("{} is the untouched stub again (the rest of {file} is as you left it).", chapter.qualified(exercise));
    Ok(())
}

fn confirm(question: &str) -> Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).context("reading your answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace of two tiny chapters laid out by the convention, where ch02 uses ch01's
    /// library (as ch10 uses ch09's). No dependencies, so it builds in seconds in its own target
    /// directory (sharing this build's would let its path-relative artifacts replace ours).
    fn probe_workspace(root: &Path) {
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.toml", "[workspace]\nresolver = \"3\"\nmembers = [\"chapters/*\"]\n");
        let tests = "#[cfg_attr(not(any(feature = \"solutions\", feature = \"mistakes\")), path = \"../src/exercises.rs\")]\n\
                     #[cfg_attr(all(feature = \"solutions\", not(feature = \"mistakes\")), path = \"../solutions/exercises.rs\")]\n\
                     #[cfg_attr(feature = \"mistakes\", path = \"../mistakes/exercises.rs\")]\nmod exercises;\n";
        for (package, dependency, lib) in [
            ("ch01-probe", "", "pub fn double(x: u32) -> u32 { 2 * x }\n"),
            ("ch02-probe", "ch01-probe = { path = \"../ch01-probe\" }\n", "pub use ch01_probe::double;\n"),
        ] {
            let crate_name = package.replace('-', "_");
            write(
                &format!("chapters/{package}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\n{dependency}\n\
                     [features]\nsolutions = []\nmistakes = []\n\n[[test]]\nname = \"exercises\"\npath = \"tests/exercises.rs\"\ntest = false\n"
                ),
            );
            write(
                &format!("chapters/{package}/exercises.toml"),
                "[[exercise]]\nname = \"quadruple\"\ntitle = \"t\"\nhint = \"h\"\n",
            );
            write(&format!("chapters/{package}/src/lib.rs"), lib);
            write(
                &format!("chapters/{package}/src/exercises.rs"),
                "#![allow(unused_variables)]\npub fn quadruple(x: u32) -> u32 {\n    todo!()\n}\n",
            );
            let solution =
                format!("pub fn quadruple(x: u32) -> u32 {{\n    {crate_name}::double({crate_name}::double(x))\n}}\n");
            write(&format!("chapters/{package}/solutions/exercises.rs"), &solution);
            write(&format!("chapters/{package}/mistakes/exercises.rs"), &solution);
            write(
                &format!("chapters/{package}/tests/exercises.rs"),
                &format!(
                    "{tests}#[test]\nfn quadruple() {{\n    println!(\"waiting for quadruple(3)\");\n    \
                     assert_eq!(exercises::quadruple(3), 12, \"4 × 3\");\n}}\n"
                ),
            );
        }
    }

    /// A learner's typo in one chapter's exercise file: that chapter "does not compile" with the
    /// compiler's first error; the chapter that uses its library and every other chapter are
    /// still built and checked, in the same cargo run; its library still builds.
    #[test]
    fn a_typo_breaks_only_its_own_chapter() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        probe_workspace(root);
        let exercises = root.join("chapters/ch01-probe/src/exercises.rs");
        std::fs::write(&exercises, "pub fn quadruple(x: u32) -> u32 {\n    x * 4\n}\npub fn typo( {\n").unwrap();

        let all = all_chapters(root).unwrap();
        let target = root.join("target");
        let built = build::build_all(root, Some(&target), &all, Variant::Learner, |_| {}).unwrap();
        match &built["ch01-probe"] {
            build::Built::CompileError(error) => {
                assert!(error.contains("chapters/ch01-probe/src/exercises.rs:4"), "the first error, placed: {error}")
            }
            other => panic!("ch01's typo must not compile: {other:?}"),
        }
        let mut checker = Checker::new(root, Variant::Solutions).with_target_dir(&target);
        let verdict = checker.check(&all[1], &all[1].exercises[0]).unwrap();
        assert_eq!(verdict.status, Status::Done, "ch02 uses ch01's library and is still checked: {verdict:?}");
        let mut learner = Checker::new(root, Variant::Learner).with_target_dir(&target);
        let verdict = learner.check(&all[0], &all[0].exercises[0]).unwrap();
        assert_eq!(verdict.status, Status::DoesNotCompile, "{verdict:?}");

        let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .current_dir(root)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--quiet", "--workspace", "--lib"])
            .status()
            .unwrap();
        assert!(status.success(), "every chapter's library builds whatever an exercise file holds");
    }

    /// One exercise through every state a learner meets, as the checker judges it, saves it and
    /// says it: the untouched stub, a wrong answer (twice: the hint comes after the second), a
    /// typo, an answer that never returns, and the right one.
    #[test]
    fn one_exercise_from_not_started_to_done() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        probe_workspace(root);
        let chapter = all_chapters(root).unwrap().remove(0);
        let mut exercise = chapter.exercises[0].clone();
        // Short, so the endless answer below is stopped soon.
        exercise.deadline = 3;
        let file = chapter.dir.join("src/exercises.rs");
        let mut checker = Checker::new(root, Variant::Learner).with_target_dir(&root.join("target"));
        let mut progress = Progress::default();
        let mut answer = |body: Option<&str>| {
            if let Some(body) = body {
                std::fs::write(&file, format!("pub fn quadruple(x: u32) -> u32 {{\n    {body}\n}}\n")).unwrap();
            }
            checker.forget_builds();
            let verdict = checker.check(&chapter, &exercise).unwrap();
            progress.record(&chapter.qualified(&exercise), verdict.status);
            let failures = progress.failures_in_a_row(&chapter.qualified(&exercise));
            let said = report::next_up(&chapter, &exercise, &verdict, failures);
            (verdict, failures, said)
        };

        let (verdict, failures, said) = answer(None);
        assert_eq!((verdict.status, failures), (Status::NotStarted, 0), "{verdict:?}");
        assert!(said.contains("still the todo!() stub"), "{said}");

        let (verdict, failures, said) = answer(Some("x * 3"));
        assert_eq!((verdict.status, failures), (Status::Failing, 1), "{verdict:?}");
        assert!(verdict.message.contains("4 × 3") && verdict.message.contains("left: 9"), "{verdict:?}");
        assert!(said.contains("`cargo xtask hint ch01::quadruple`") && !said.contains("Hint:"), "{said}");

        let (verdict, failures, said) = answer(Some("x * 3 +"));
        assert_eq!((verdict.status, failures), (Status::DoesNotCompile, 2), "{verdict:?}");
        assert!(verdict.message.starts_with("error") && verdict.message.contains("src/exercises.rs:"), "{verdict:?}");
        assert!(said.contains("Hint: h"), "the second failure in a row brings the hint: {said}");

        let (verdict, failures, _) = answer(Some("loop { std::thread::park() }"));
        assert_eq!((verdict.status, failures), (Status::TimedOut, 3), "{verdict:?}");
        assert!(verdict.message.starts_with("timed out after 3 s, waiting for quadruple(3)."), "{verdict:?}");

        let (verdict, failures, _) = answer(Some("x * 4"));
        assert_eq!((verdict.status, failures), (Status::Done, 0), "{verdict:?}");
        assert_eq!(report::line(&chapter, &exercise, &verdict).split("  ").nth(1), Some("done"));

        // A `todo!()` left in a helper is started work that fails, placed in the learner's file.
        let (verdict, _, _) = answer(Some("helper(x)\n}\nfn helper(x: u32) -> u32 {\n    todo!()"));
        assert_eq!(verdict.status, Status::Failing, "{verdict:?}");
        assert!(verdict.message.contains("chapters/ch01-probe/src/exercises.rs:5:5"), "{verdict:?}");
        assert!(verdict.message.contains("not yet implemented"), "{verdict:?}");
    }

    #[test]
    fn every_exercise_has_its_korean_title_and_hint() {
        let untranslated: Vec<String> = all_chapters(&workspace_root())
            .unwrap()
            .iter()
            .flat_map(|chapter| chapter.exercises.iter().filter(|e| e.ko.is_none()).map(|e| chapter.qualified(e)))
            .collect();
        assert!(untranslated.is_empty(), "add an [exercise.ko] title and hint to: {untranslated:?}");
    }

    /// xtask builds the learner's tools (`up`, `check`, `down`): it must not need any chapter crate.
    #[test]
    fn xtask_depends_on_no_chapter() {
        let manifest = std::fs::read_to_string(workspace_root().join("xtask/Cargo.toml")).unwrap();
        let manifest: toml::Table = manifest.parse().unwrap();
        let dependencies = manifest["dependencies"].as_table().unwrap();
        let chapters: Vec<&String> = dependencies.keys().filter(|name| name.starts_with("ch")).collect();
        assert!(chapters.is_empty(), "xtask depends on {chapters:?}");
    }
}
