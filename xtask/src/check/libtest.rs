//! Reading what `cargo test` printed: which test passed, which failed, and why.
//!
//! libtest's human output is stable enough to parse, and parsing it keeps the checker on
//! stable Rust (the JSON format needs nightly's `-Z unstable-options`). The samples in
//! `testdata/` were captured from a real run of a throwaway chapter crate.

use std::collections::BTreeMap;

/// The verdict libtest printed for one test (`test NAME ... ok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Failed,
    Ignored,
}

/// Everything one run of a test binary reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TestRun {
    /// Did the binary start running tests at all (`running N tests`)? If not, it did not compile.
    pub started: bool,
    /// Test name -> verdict, from the `test NAME ... VERDICT` lines.
    pub verdicts: BTreeMap<String, Verdict>,
    /// Test name -> its `---- NAME stdout ----` section: captured output and the panic message.
    pub failures: BTreeMap<String, String>,
}

impl TestRun {
    /// The verdict of the test named `name`; a test inside a module (`tests::name`) counts too.
    pub fn verdict(&self, name: &str) -> Option<(&str, Verdict)> {
        self.verdicts
            .iter()
            .find(|(test, _)| test.as_str() == name || test.rsplit("::").next() == Some(name))
            .map(|(test, verdict)| (test.as_str(), *verdict))
    }
}

/// Parses libtest's stdout.
pub fn parse(stdout: &str) -> TestRun {
    let mut run = TestRun::default();
    let mut section: Option<(String, Vec<&str>)> = None;
    for line in stdout.lines() {
        if line.starts_with("running ") && (line.ends_with(" tests") || line.ends_with(" test")) {
            run.started = true;
        }
        if let Some((name, verdict)) = verdict_line(line) {
            run.verdicts.insert(name.to_string(), verdict);
            continue;
        }
        // A failure section runs from its `---- NAME stdout ----` header to the next header,
        // or to the `failures:` list that follows the last one.
        if let Some(name) = section_header(line) {
            finish_section(&mut run, section.take());
            section = Some((name.to_string(), Vec::new()));
        } else if line == "failures:" || line.starts_with("test result: ") {
            finish_section(&mut run, section.take());
        } else if let Some((_, lines)) = section.as_mut() {
            lines.push(line);
        }
    }
    finish_section(&mut run, section);
    run
}

fn finish_section(run: &mut TestRun, section: Option<(String, Vec<&str>)>) {
    if let Some((name, lines)) = section {
        run.failures.insert(name, lines.join("\n").trim().to_string());
    }
}

/// `test create_topic ... ok` -> (`create_topic`, Ok).
fn verdict_line(line: &str) -> Option<(&str, Verdict)> {
    let rest = line.strip_prefix("test ")?;
    let (name, verdict) = rest.rsplit_once(" ... ")?;
    let verdict = match verdict.trim() {
        "ok" => Verdict::Ok,
        "FAILED" => Verdict::Failed,
        v if v.starts_with("ignored") => Verdict::Ignored,
        _ => return None,
    };
    // `#[should_panic]` tests print `name - should panic`; the name is the part before.
    let name = name.split(" - ").next().unwrap_or(name);
    Some((name, verdict))
}

/// `---- create_topic stdout ----` -> `create_topic`.
fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix("---- ")?.strip_suffix(" stdout ----")
}

/// `todo!()` panics with "not yet implemented": the learner has not started this exercise.
pub fn is_todo_panic(failure: &str) -> bool {
    failure.contains("not yet implemented")
}

/// The failure as a learner wants to read it: the captured output and the panic message,
/// without the backtrace and libtest's notes about backtraces, and at most `max_lines` long.
pub fn trim_failure(failure: &str, max_lines: usize) -> String {
    let mut lines: Vec<&str> = failure
        .lines()
        .take_while(|line| !line.starts_with("stack backtrace:"))
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE=1`"))
        .filter(|line| !line.starts_with("note: Some details are omitted"))
        .collect();
    if lines.len() > max_lines {
        let hidden = lines.len() - max_lines;
        lines.truncate(max_lines);
        lines.push("");
        return format!("{}… ({hidden} more lines)", lines.join("\n"));
    }
    lines.join("\n").trim().to_string()
}

/// The compiler's errors from cargo's stderr: the `error…` diagnostics, without the
/// warnings (a stub's unused parameters are expected) or cargo's progress lines.
pub fn compiler_errors(stderr: &str) -> String {
    let blocks: Vec<&str> = stderr
        .split("\n\n")
        .flat_map(split_off_cargo_lines)
        .filter(|block| block.starts_with("error") && !block.starts_with("error: test failed"))
        .collect();
    if blocks.is_empty() {
        // Not a compiler error we recognise: show the end of what cargo said.
        let lines: Vec<&str> = stderr.lines().collect();
        return lines[lines.len().saturating_sub(20)..].join("\n");
    }
    blocks.join("\n\n")
}

/// A blank-line-separated block may hold several diagnostics (each starts with `error` or
/// `warning` in column 0) and cargo's status lines (`   Compiling x`); split them apart.
fn split_off_cargo_lines(block: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in block.split_inclusive('\n') {
        let is_status = is_cargo_status(line);
        let starts_diagnostic = line.starts_with("error") || line.starts_with("warning");
        if is_status || starts_diagnostic {
            parts.push(&block[start..offset]);
            start = if is_status { offset + line.len() } else { offset };
        }
        offset += line.len();
    }
    parts.push(&block[start..]);
    parts.into_iter().map(str::trim_end).filter(|part| !part.trim().is_empty()).collect()
}

/// Cargo's right-aligned progress lines: `   Compiling x`, `    Finished …`, `     Running …`.
fn is_cargo_status(line: &str) -> bool {
    let word = line.trim_start().split(' ').next().unwrap_or("");
    line.starts_with("  ")
        && matches!(
            word,
            "Compiling"
                | "Checking"
                | "Finished"
                | "Running"
                | "Blocking"
                | "Downloading"
                | "Downloaded"
                | "Updating"
                | "Locking"
                | "Adding"
                | "Fresh"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUBS: &str = include_str!("testdata/stubs.stdout");
    const STUBS_WITH_BACKTRACE: &str = include_str!("testdata/stubs-backtrace.stdout");
    const SOLUTIONS: &str = include_str!("testdata/solutions.stdout");
    const COMPILE_ERROR: &str = include_str!("testdata/compile-error.stderr");

    #[test]
    fn reads_every_verdict() {
        let run = parse(STUBS);
        assert!(run.started);
        assert_eq!(run.verdict("add"), Some(("add", Verdict::Failed)));
        assert_eq!(run.verdict("double"), Some(("double", Verdict::Failed)));
        assert_eq!(run.verdict("three"), Some(("three", Verdict::Ok)));
        assert_eq!(run.verdict("missing"), None);
        assert_eq!(run.verdicts.len(), 4);
    }

    #[test]
    fn all_ok_when_solved() {
        let run = parse(SOLUTIONS);
        assert!(run.started);
        assert!(run.verdicts.values().all(|v| *v == Verdict::Ok));
        assert!(run.failures.is_empty());
    }

    #[test]
    fn tells_todo_from_a_wrong_answer() {
        let run = parse(STUBS);
        assert!(is_todo_panic(&run.failures["add"]));
        assert!(is_todo_panic(&run.failures["name"]), "todo!(\"message\") counts too");
        assert!(!is_todo_panic(&run.failures["double"]));
        assert!(!run.failures.contains_key("three"));
    }

    #[test]
    fn a_failure_keeps_captured_output_and_the_assertion() {
        let failure = trim_failure(&parse(STUBS).failures["double"], 30);
        assert!(failure.starts_with("some captured output"), "{failure}");
        assert!(failure.contains("double(4) should be 8"), "{failure}");
        assert!(failure.contains("right: 8"), "{failure}");
        assert!(!failure.contains("failures:"), "{failure}");
    }

    #[test]
    fn backtraces_and_notes_are_trimmed() {
        let run = parse(STUBS_WITH_BACKTRACE);
        let failure = trim_failure(&run.failures["add"], 30);
        assert!(failure.ends_with("not yet implemented"), "{failure}");
        assert!(!failure.contains("rust_begin_unwind"));
        let failure = trim_failure(&parse(STUBS).failures["add"], 30);
        assert!(!failure.contains("RUST_BACKTRACE"), "{failure}");
    }

    #[test]
    fn long_failures_are_cut() {
        let long = (1..=50).map(|n| format!("line {n}")).collect::<Vec<_>>().join("\n");
        let cut = trim_failure(&long, 10);
        assert!(cut.contains("line 10") && !cut.contains("line 11"), "{cut}");
        assert!(cut.ends_with("(40 more lines)"), "{cut}");
    }

    #[test]
    fn a_compile_error_did_not_start() {
        assert!(!parse("").started);
    }

    #[test]
    fn compiler_errors_keep_errors_only() {
        let errors = compiler_errors(COMPILE_ERROR);
        assert!(errors.starts_with("error[E0277]: cannot add `&str` to `u32`"), "{errors}");
        assert!(errors.contains("x + \"1\""), "{errors}");
        assert!(errors.contains("error: could not compile `ch99-probe`"), "{errors}");
        assert!(!errors.contains("unused variable"), "warnings are dropped: {errors}");
        assert!(!errors.contains("Compiling"), "{errors}");
    }

    #[test]
    fn other_cargo_failures_show_the_tail() {
        let stderr = "error: package ID specification `ch42` did not match any packages";
        assert_eq!(compiler_errors(stderr), stderr);
        assert_eq!(compiler_errors("something odd\nhappened"), "something odd\nhappened");
    }

    #[test]
    fn should_panic_and_ignored_lines() {
        assert_eq!(verdict_line("test rejects_zero - should panic ... ok"), Some(("rejects_zero", Verdict::Ok)));
        assert_eq!(verdict_line("test slow ... ignored, needs 3 brokers"), Some(("slow", Verdict::Ignored)));
        assert_eq!(verdict_line("test result: ok. 1 passed"), None);
    }
}
