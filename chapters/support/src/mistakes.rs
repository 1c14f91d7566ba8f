//! Known-wrong answers, for the exercise audit.
//!
//! Every exercise keeps, next to its reference solution, the mistakes learners make with it
//! (`chapters/chNN-topic/mistakes/exercises.rs`). `cargo xtask check --audit` builds the chapter's
//! exercise tests once with `--features mistakes` and runs each exercise's test once per mistake,
//! naming the mistake in `WORKBOOK_MISTAKE`; the test must fail and say what went wrong. With no
//! mistake named, the same build runs the reference solutions.

/// The environment variable that names the mistake to make.
pub const VARIABLE: &str = "WORKBOOK_MISTAKE";

/// The mistake the audit asked for, if any (`None`: behave like the reference solution).
pub fn chosen() -> Option<String> {
    std::env::var(VARIABLE).ok().filter(|name| !name.is_empty())
}

/// For a dispatcher's last arm: a mistake name that this exercise does not know is the audit
/// author's slip, and must not quietly run the reference solution instead.
pub fn unknown(exercise: &str, name: &str) -> ! {
    panic!("{VARIABLE}={name}: `{exercise}` has no such mistake in mistakes/exercises.rs")
}
