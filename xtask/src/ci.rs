//! `cargo xtask ci`: everything CI runs, in order, with the environment up once.
//!
//! 1. lint (`cargo fmt --check`, `cargo clippy -D warnings`);
//! 2. build every target;
//! 3. `up` (one environment for the whole run);
//! 4. the workspace's tests against it (two `cargo test` runs side by side), the exercise audit
//!    (stubs fail, solutions pass, known mistakes are caught) and `cargo xtask bench --quick` (it
//!    must run; its ratios are not judged) beside the slower of the two;
//! 5. the connector audit (every connector the run created had Connect's view of the services);
//! 6. the book's translations complete (the browser test built every edition);
//! 7. `down`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::backend;
use crate::check;
use crate::environment::{DownOptions, UpOptions};
use crate::layout::Layout;
use crate::state::State;

#[derive(Args, Debug)]
pub struct CiOptions {
    /// Skip `cargo fmt --check` and `cargo clippy`.
    #[arg(long)]
    pub no_lint: bool,
    /// Leave the environment running afterwards (it is stopped only if this run started it).
    #[arg(long)]
    pub keep_up: bool,
}

pub async fn run(options: &CiOptions) -> Result<()> {
    let started = Instant::now();
    if !options.no_lint {
        step("format", cargo(&["fmt", "--all", "--check"]))?;
        // `--test exercises`: the exercise targets are `test = false`, so `--all-targets` skips them.
        let stubs =
            ["clippy", "--workspace", "--all-targets", "--test", "exercises", "--quiet", "--", "-D", "warnings"];
        step("clippy", cargo(&stubs))?;
        // Once more with every feature: `mistakes` compiles the known-wrong answers and, inside
        // them, the reference solutions, so both are read too.
        let all = ["clippy", "--workspace", "--all-targets", "--test", "exercises", "--all-features", "--quiet"];
        step("clippy (solutions, mistakes)", cargo(&[&all[..], &["--", "-D", "warnings"]].concat()))?;
    }
    step("build", cargo(&["build", "--workspace", "--all-targets", "--quiet"]))?;

    let was_up = State::load(&Layout::current().state_file())?.is_some();
    let up_started = Instant::now();
    backend::up(&UpOptions::default()).await?;
    println!("== up: {:.1} s", up_started.elapsed().as_secs_f64());

    let result = tests_audit_book().await;
    report_peak_memory();
    if !options.keep_up && !was_up {
        backend::down(&DownOptions::default()).await?;
    }
    let tally = result?;
    println!("== ci finished in {:.0} s", started.elapsed().as_secs_f64());
    // The last line is the verdict CI systems read, so nothing may follow it, not even an error.
    println!("ci: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The tests, the exercise audit and the bench, against the one environment. The packages that
/// start clusters of their own run from the start, one after another, in a thread; beside them
/// the other packages' tests, then the exercise audit and the bench. Both sides mostly wait (for
/// a cluster, a connector, the log cleaner, a deadline), so two cores have room for both.
async fn tests_audit_book() -> Result<Tally> {
    let started = Instant::now();
    let [slow, rest] = test_groups()?;
    let slow_run = std::thread::spawn(move || step_counting("test [1]", cargo_test(&slow)));
    let mut tally = step_counting("test [2]", cargo_test(&rest))?;
    let audit_started = Instant::now();
    let audit = check::audit().await;
    println!("== exercise audit: {:.1} s", audit_started.elapsed().as_secs_f64());
    // The bench must still run (the client builds, the perf tools' output parses); 50,000 records
    // measure start-up costs, so a missed ratio does not fail CI, an error does.
    let bench_started = Instant::now();
    println!("== bench: > cargo xtask bench --quick");
    let bench = crate::bench::run(&crate::bench::BenchOptions::quick()).await;
    println!("== bench: {:.1} s", bench_started.elapsed().as_secs_f64());
    let slow = slow_run.join().map_err(|_| anyhow::anyhow!("the test group's thread panicked"))??;
    tally.passed += slow.passed;
    tally.failed += slow.failed;
    println!(
        "== tests, audit and bench: {:.1} s, {} passed, {} failed",
        started.elapsed().as_secs_f64(),
        tally.passed,
        tally.failed
    );
    audit?;
    bench.context("CI step `bench --quick` failed")?;
    // Once more, now that every test and exercise has run: the connectors they all created.
    let connectors = step_counting("connector audit", cargo(&CONNECTOR_AUDIT))?;
    tally.passed += connectors.passed;
    tally.failed += connectors.failed;
    // The browser test has built both editions; what is left is whether every one is complete (a
    // changed English paragraph is untranslated until someone translates it).
    let book_dir = workbook_support::env::workspace_root().join("book");
    for lang in crate::book::translated_editions() {
        println!("== book: {}", crate::book::i18n::check_complete(&book_dir, lang)?.summary(lang));
    }
    Ok(tally)
}

/// The test that reads Connect's config topic (tests/tests/environment.rs).
const CONNECTOR_AUDIT: [&str; 9] = [
    "test",
    "--quiet",
    "--package",
    "workbook-tests",
    "--test",
    "environment",
    "--",
    "--exact",
    "every_connector_created_since_up_used_connects_view_only",
];

fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.args(args).current_dir(workbook_support::env::workspace_root());
    command
}

/// Runs one step, printing `> command` before and its duration after.
fn step(name: &str, command: Command) -> Result<()> {
    let started = Instant::now();
    println!("== {name}: > {}", crate::command::display(&command));
    crate::command::run(command).with_context(|| format!("CI step `{name}` failed"))?;
    println!("== {name}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The environment's memory high-water mark after every test ran against it (local backend).
fn report_peak_memory() {
    let Ok(Some(state)) = State::load(&Layout::current().state_file()) else { return };
    let peaks: Vec<(String, u64)> = state
        .components
        .iter()
        .filter_map(|c| Some((c.name.clone(), crate::process::peak_rss_kib(c.pid?)? / 1024)))
        .collect();
    if peaks.is_empty() {
        return;
    }
    let each: Vec<String> = peaks.iter().map(|(name, mib)| format!("{name} {mib} MiB")).collect();
    let total: u64 = peaks.iter().map(|(_, mib)| mib).sum();
    println!("== environment peak memory: {total} MiB ({})", each.join(", "));
}

/// Packages whose tests bring up clusters of their own (xtask's tests of `up` and `down`, three
/// brokers, a SCRAM broker) or wait on slow machinery. They run one after the other, since two
/// clusters started at the same moment may reach for the same free ports; the other packages run
/// beside them.
const SLOW_GROUP: [&str; 6] =
    ["xtask", "workbook-tests", "ch13-reliability", "ch15-rebalancing", "ch16-compaction", "ch18-operations"];

/// The workspace's packages as two `cargo test` runs: the slow group above, and every other
/// package. Everything is built already (the build step).
fn test_groups() -> Result<[Vec<String>; 2]> {
    let chapters_dir = workbook_support::env::workspace_root().join("chapters");
    let mut rest: Vec<String> = vec!["workbook-support".into()];
    for entry in std::fs::read_dir(&chapters_dir).context("listing chapters/")? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let grouped = SLOW_GROUP.contains(&name.as_str());
        if name.starts_with("ch") && chapters_dir.join(&name).join("Cargo.toml").is_file() && !grouped {
            rest.push(name);
        }
    }
    rest.sort();
    Ok([SLOW_GROUP.iter().map(|p| p.to_string()).collect(), rest])
}

fn cargo_test(packages: &[String]) -> Command {
    let mut args = vec!["test", "--no-fail-fast", "--quiet"];
    for package in packages {
        args.extend(["--package", package]);
    }
    cargo(&args)
}

/// Passed and failed tests, summed over every test binary.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    passed: u32,
    failed: u32,
}

/// Runs `cargo test`, echoing its output while adding up its `test result:` lines.
fn step_counting(name: &str, mut command: Command) -> Result<Tally> {
    let started = Instant::now();
    println!("== {name}: > {}", crate::command::display(&command));
    let mut child = command.stdout(Stdio::piped()).spawn().context("starting cargo test")?;
    let mut tally = Tally::default();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line?;
        println!("{name}: {line}");
        let counted = count(&line);
        tally.passed += counted.passed;
        tally.failed += counted.failed;
    }
    let status = child.wait()?;
    println!("== {name}: {:.1} s, {} passed, {} failed", started.elapsed().as_secs_f64(), tally.passed, tally.failed);
    if !status.success() && tally.failed == 0 {
        bail!("CI step `{name}` failed ({status}) before running its tests");
    }
    Ok(tally)
}

/// Reads `test result: ok. 8 passed; 0 failed; 0 ignored; …`.
fn count(line: &str) -> Tally {
    let Some(rest) = line.strip_prefix("test result: ") else { return Tally::default() };
    let number_before = |word: &str| {
        rest.split(';')
            .find_map(|part| part.trim().strip_suffix(word).and_then(|n| n.trim().rsplit(' ').next()?.parse().ok()))
    };
    Tally { passed: number_before("passed").unwrap_or(0), failed: number_before("failed").unwrap_or(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_audit_names_a_test_that_exists() {
        let tests = workbook_support::env::workspace_root().join("tests").join("tests").join("environment.rs");
        let text = std::fs::read_to_string(tests).unwrap();
        assert!(text.contains(&format!("fn {}()", CONNECTOR_AUDIT[8])), "tests/tests/environment.rs lost the audit");
    }

    #[test]
    fn counts_a_libtest_summary_line() {
        let line = "test result: FAILED. 7 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.60s";
        assert_eq!(count(line), Tally { passed: 7, failed: 2 });
        assert_eq!(count("test result: ok. 12 passed; 0 failed; 0 ignored"), Tally { passed: 12, failed: 0 });
        assert_eq!(count("running 8 tests"), Tally::default());
    }
}
