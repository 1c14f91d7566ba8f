//! What `cargo xtask check` prints: a table, the next exercise to work on, and progress.

use std::fmt::Write;

use super::chapters::{Chapter, Exercise};
use super::runner::{Outcome, Status};

/// One row of the table: an exercise and how it stands.
pub struct Row<'a> {
    pub chapter: &'a Chapter,
    pub exercise: &'a Exercise,
    pub outcome: &'a Outcome,
}

/// The whole report, as text (pure, so it is tested below).
pub fn render(rows: &[Row<'_>], solutions: bool) -> String {
    let mut out = String::new();
    out.push_str(&table(rows));
    if let Some(next) = rows.iter().find(|row| row.outcome.status != Status::Done) {
        out.push('\n');
        out.push_str(&next_up(next, solutions));
    }
    let done = rows.iter().filter(|row| row.outcome.status == Status::Done).count();
    let what = if solutions { "reference solutions pass" } else { "exercises done" };
    let _ = writeln!(out, "\nProgress: {} {done}/{} {what}", progress_bar(done, rows.len(), 30), rows.len());
    out
}

fn table(rows: &[Row<'_>]) -> String {
    let chapter_width = rows.iter().map(|r| r.chapter.package.len()).chain([7]).max().unwrap_or(7);
    let exercise_width = rows.iter().map(|r| r.exercise.name.len()).chain([8]).max().unwrap_or(8);
    let mut out = format!("{:chapter_width$}  {:exercise_width$}  status\n", "chapter", "exercise");
    for row in rows {
        let _ = writeln!(
            out,
            "{:chapter_width$}  {:exercise_width$}  {}",
            row.chapter.package,
            row.exercise.name,
            row.outcome.status.label()
        );
    }
    out
}

/// The first exercise that is not done: where to edit, what failed, and its hint.
fn next_up(row: &Row<'_>, solutions: bool) -> String {
    let file = if solutions { "solutions/exercises.rs" } else { "src/exercises.rs" };
    let mut out = format!(
        "Next: {} — {}\n  edit {}/{file}, function `{}`\n",
        row.chapter.qualified(row.exercise),
        row.exercise.title,
        row.chapter.shown_dir(),
        row.exercise.name
    );
    let message = if row.outcome.status == Status::NotStarted {
        "It still calls todo!(): replace the todo!() with your code.".to_string()
    } else {
        row.outcome.message.clone()
    };
    out.push('\n');
    out.push_str(&indent(&message));
    let _ = write!(out, "\n\nHint: {}\n", row.exercise.hint.trim());
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
    use super::*;

    #[test]
    fn progress_bars() {
        assert_eq!(progress_bar(0, 4, 8), "[>       ]");
        assert_eq!(progress_bar(2, 4, 8), "[####>   ]");
        assert_eq!(progress_bar(3, 14, 10), "[##>       ]");
        assert_eq!(progress_bar(4, 4, 8), "[########]");
        assert_eq!(progress_bar(0, 0, 4), "[    ]");
    }

    fn exercise(name: &str) -> Exercise {
        Exercise { name: name.into(), title: format!("The {name} exercise"), hint: "What does the broker say?".into() }
    }

    #[test]
    fn renders_table_next_exercise_and_progress() {
        let chapter = Chapter {
            dir: "chapters/ch03-topics".into(),
            package: "ch03-topics".into(),
            id: "ch03".into(),
            exercises: vec![exercise("create"), exercise("describe"), exercise("delete")],
        };
        let outcomes = [
            Outcome { status: Status::Done, message: String::new() },
            Outcome { status: Status::Failing, message: "assertion failed: 3 partitions\n  left: 1".into() },
            Outcome { status: Status::NotStarted, message: "not yet implemented".into() },
        ];
        let rows: Vec<Row<'_>> = chapter
            .exercises
            .iter()
            .zip(&outcomes)
            .map(|(exercise, outcome)| Row { chapter: &chapter, exercise, outcome })
            .collect();
        let text = render(&rows, false);
        assert!(text.starts_with("chapter      exercise  status\nch03-topics  create    done\n"), "{text}");
        assert!(text.contains("ch03-topics  describe  failing\nch03-topics  delete    not started\n"), "{text}");
        assert!(
            text.contains("Next: ch03::describe — The describe exercise\n  edit chapters/ch03-topics/src/exercises.rs"),
            "{text}"
        );
        assert!(text.contains("  assertion failed: 3 partitions\n    left: 1"), "{text}");
        assert!(text.contains("Hint: What does the broker say?"), "{text}");
        assert!(text.ends_with("Progress: [##########>                   ] 1/3 exercises done\n"), "{text}");
    }
}
