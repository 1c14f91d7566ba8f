//! What `cargo xtask check` prints: the progress table, one exercise's result, and progress.

use std::fmt::Write;

use super::chapters::{Chapter, Exercise};
use super::checker::Verdict;
use super::progress::{Progress, Status};

/// The table of these chapters' exercises and where each stands, with a progress bar.
pub fn table(chapters: &[&Chapter], progress: &Progress) -> String {
    let rows: Vec<(&Chapter, &Exercise)> =
        chapters.iter().flat_map(|c| c.exercises.iter().map(move |e| (*c, e))).collect();
    let width = rows.iter().map(|(c, e)| c.qualified(e).len()).chain([8]).max().unwrap_or(8);
    let mut out = format!("{:width$}  status\n", "exercise");
    for (chapter, exercise) in &rows {
        let name = chapter.qualified(exercise);
        let _ = writeln!(out, "{name:width$}  {}", progress.status(&name).label());
    }
    let _ = writeln!(out, "\n{}", progress_line(chapters, progress));
    out
}

/// `Progress: [###>    ] 3/40 exercises done`.
pub fn progress_line(chapters: &[&Chapter], progress: &Progress) -> String {
    let names: Vec<String> = chapters.iter().flat_map(|c| c.exercises.iter().map(|e| c.qualified(e))).collect();
    let done = names.iter().filter(|name| progress.status(name) == Status::Done).count();
    format!("Progress: {} {done}/{} exercises done", progress_bar(done, names.len(), 30), names.len())
}

/// One line per checked exercise, as it finishes: `✓ ch04::name  done  (2.1 s)`.
pub fn line(chapter: &Chapter, exercise: &Exercise, verdict: &Verdict) -> String {
    let mark = if verdict.status == Status::Done { "✓" } else { "✗" };
    let time =
        if verdict.elapsed.is_zero() { String::new() } else { format!("  ({:.1} s)", verdict.elapsed.as_secs_f64()) };
    format!("{mark} {}  {}{time}", chapter.qualified(exercise), verdict.status.label())
}

/// The exercise to work on: where to edit, what failed, and the way to a hint (the hint itself
/// once the same exercise has failed twice in a row).
pub fn next_up(chapter: &Chapter, exercise: &Exercise, verdict: &Verdict, failures_in_a_row: u32) -> String {
    let name = chapter.qualified(exercise);
    let mut out = format!(
        "Next: {name} — {}\n  edit {}/src/exercises.rs, function `{}`\n",
        exercise.title(),
        chapter.shown_dir(),
        exercise.name
    );
    let message = match verdict.status {
        Status::NotStarted => "It is still the todo!() stub: replace the todo!() with your code.".to_string(),
        Status::DoesNotCompile => format!("The chapter does not compile:\n{}", verdict.message),
        _ => verdict.message.clone(),
    };
    if !message.is_empty() {
        out.push('\n');
        out.push_str(&indent(&message));
        out.push('\n');
    }
    // The hint is there from the start, but printed unasked only once trying has failed twice.
    if failures_in_a_row >= 2 {
        let _ = write!(out, "\nHint: {}\n", indent(exercise.hint().trim()).trim_start());
    } else {
        let _ = writeln!(out, "\nStuck? `cargo xtask hint {name}` gives a hint.");
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| if line.is_empty() { String::new() } else { format!("  {line}") })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `[#####>    ]`: `done` of `total` as a bar `width` characters wide.
pub fn progress_bar(done: usize, total: usize, width: usize) -> String {
    // No exercises at all draws an empty bar rather than dividing by zero.
    let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
    let arrow = usize::from(filled < width && total > 0);
    format!("[{}{}{}]", "#".repeat(filled), ">".repeat(arrow), " ".repeat(width - filled - arrow))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn progress_bars() {
        assert_eq!(progress_bar(0, 4, 8), "[>       ]");
        assert_eq!(progress_bar(2, 4, 8), "[####>   ]");
        assert_eq!(progress_bar(3, 14, 10), "[##>       ]");
        assert_eq!(progress_bar(4, 4, 8), "[########]");
        assert_eq!(progress_bar(0, 0, 4), "[    ]");
    }

    fn chapter() -> Chapter {
        Chapter {
            dir: "chapters/ch03-topics".into(),
            package: "ch03-topics".into(),
            id: "ch03".into(),
            exercises: vec![Exercise::named("create"), Exercise::named("describe"), Exercise::named("delete")],
        }
    }

    #[test]
    fn the_table_comes_from_saved_progress() {
        let mut progress = Progress::default();
        progress.record("ch03::create", Status::Done);
        progress.record("ch03::describe", Status::Failing);
        let text = table(&[&chapter()], &progress);
        assert!(text.starts_with("exercise        status\nch03::create    done\nch03::describe  failing\n"), "{text}");
        assert!(text.contains("ch03::delete    not checked yet\n"), "{text}");
        assert!(text.ends_with("Progress: [##########>                   ] 1/3 exercises done\n"), "{text}");
    }

    #[test]
    fn the_hint_comes_after_the_second_failure() {
        let chapter = chapter();
        let failing = Verdict {
            status: Status::Failing,
            message: "assertion failed: 3 partitions\n  left: 1".into(),
            elapsed: Duration::from_millis(2100),
        };
        let first = next_up(&chapter, &chapter.exercises[1], &failing, 1);
        assert!(
            first.starts_with("Next: ch03::describe — title of describe\n  edit chapters/ch03-topics/src/exercises.rs")
        );
        assert!(first.contains("  assertion failed: 3 partitions\n    left: 1"), "{first}");
        assert!(first.contains("`cargo xtask hint ch03::describe`") && !first.contains("hint of describe"), "{first}");
        let second = next_up(&chapter, &chapter.exercises[1], &failing, 2);
        assert!(second.contains("Hint: hint of describe"), "{second}");
        assert_eq!(line(&chapter, &chapter.exercises[1], &failing), "✗ ch03::describe  failing  (2.1 s)");

        let untouched = Verdict { status: Status::NotStarted, message: String::new(), elapsed: Duration::ZERO };
        let text = next_up(&chapter, &chapter.exercises[2], &untouched, 0);
        assert!(text.contains("still the todo!() stub") && !text.contains("hint of delete"), "{text}");
        assert!(text.contains("`cargo xtask hint ch03::delete` gives a hint"), "a hint exists from the start: {text}");
        assert_eq!(line(&chapter, &chapter.exercises[2], &untouched), "✗ ch03::delete  not started");
    }
}
