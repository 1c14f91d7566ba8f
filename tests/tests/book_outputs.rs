//! Outputs of the workbook's own tools shown in the book are real, and stay real.
//!
//! A page marks a shown output with the command that produces it, right above its block:
//!
//! ````text
//! <!-- output: cargo xtask check ch03 -->
//! ```text
//! $ cargo xtask check ch03
//! ✗ ch03::create_topic_idempotently  not started
//! …
//! ```
//! ````
//!
//! This test runs every such command (the untouched exercise stubs, a tool's `--help`: outputs
//! that do not depend on time or on names made up at run time) and fails when the page says
//! something else. `BLESS=1 cargo test -p workbook-tests --test book_outputs` rewrites the blocks
//! with what the commands print now.

use std::path::Path;
use std::process::Command;

use workbook_tests::{run, workspace_root, xtask};

const MARK: &str = "<!-- output: ";

/// One marked output: where it is, the command, and what the page shows.
struct Shown {
    page: String,
    line: usize,
    command: String,
    /// The block's lines after the `$ command` line.
    text: String,
    /// Byte range of the block's content in the page (for BLESS).
    range: std::ops::Range<usize>,
}

fn marked_outputs(page: &str, text: &str) -> Vec<Shown> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(at) = text[offset..].find(MARK) {
        let start = offset + at;
        let end = start + text[start..].find("-->").expect("an output mark ends with -->");
        let command = text[start + MARK.len()..end].trim().to_string();
        let fence = end + text[end..].find("```").expect("a fenced block follows an output mark");
        let body = fence + text[fence..].find('\n').unwrap() + 1;
        let close = body + text[body..].find("\n```").expect("the block closes") + 1;
        let block = &text[body..close];
        let shown = block.strip_prefix(&format!("$ {command}\n")).unwrap_or(block);
        let content_start = close - shown.len();
        found.push(Shown {
            page: page.to_string(),
            line: text[..start].lines().count() + 1,
            command,
            text: shown.to_string(),
            range: content_start..close,
        });
        offset = close;
    }
    found
}

/// Runs a shown command as a learner would type it, from the workspace root.
fn actual_output(command: &str) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    let command = match words.as_slice() {
        ["cargo", "xtask", args @ ..] => xtask(args),
        ["cargo", args @ ..] => {
            let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            cargo.args(args).current_dir(workspace_root()).env("CARGO_TERM_QUIET", "true");
            cargo
        }
        _ => panic!("`{command}`: only `cargo …` commands are run by this test"),
    };
    let (_, text) = run(command);
    normalize(&text)
}

/// Trailing spaces do not count; the workspace's absolute path would differ on every machine.
fn normalize(text: &str) -> String {
    let root = workspace_root().display().to_string();
    let lines: Vec<String> = text.lines().map(|l| l.trim_end().replace(&root, ".")).collect();
    let mut joined = lines.join("\n");
    joined.truncate(joined.trim_end().len());
    joined.push('\n');
    joined
}

#[test]
fn shown_outputs_are_what_the_commands_print() {
    let root = workspace_root();
    let bless = std::env::var_os("BLESS").is_some();
    let mut drifted = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("book/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let mut page = std::fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
        let shown = marked_outputs(&name, &page);
        // Back to front, so that rewriting one block keeps the earlier ranges valid.
        for output in shown.iter().rev() {
            checked += 1;
            let actual = actual_output(&output.command);
            if normalize(&output.text) == actual {
                continue;
            }
            if bless {
                page.replace_range(output.range.clone(), &actual);
            } else {
                drifted.push(format!(
                    "{}:{}: `{}` prints something else now:\n{actual}",
                    output.page, output.line, output.command
                ));
            }
        }
        if bless {
            std::fs::write(&path, page).unwrap();
        }
    }
    assert!(
        drifted.is_empty(),
        "{} of {checked} shown outputs drifted (BLESS=1 rewrites them):\n\n{}",
        drifted.len(),
        drifted.join("\n\n")
    );
}

/// Every chapter with exercises shows, in its Check section, what the checker says about the
/// untouched stubs, marked so that the test above keeps it true.
#[test]
fn every_chapter_with_exercises_shows_the_checker() {
    let root = workspace_root();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("chapters")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !dir.join("exercises.toml").is_file() {
            continue;
        }
        let id = &name[..4];
        let page = std::fs::read_to_string(root.join("book/src").join(format!("{name}.md"))).unwrap_or_default();
        if !page.contains(&format!("{MARK}cargo xtask check {id} -->")) {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "pages without a marked `cargo xtask check chNN` output: {missing:?}");
}

#[test]
fn reads_marked_blocks() {
    let page = "Text.\n\n<!-- output: cargo xtask hint ch03::x -->\n```text\n$ cargo xtask hint ch03::x\nline 1\nline 2\n```\nmore\n";
    let shown = marked_outputs("p.md", page);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].command, "cargo xtask hint ch03::x");
    assert_eq!(shown[0].text, "line 1\nline 2\n");
    assert_eq!(&page[shown[0].range.clone()], "line 1\nline 2\n");
    assert_eq!(shown[0].line, 3);
    assert!(Path::new("p.md").extension().is_some());
}
