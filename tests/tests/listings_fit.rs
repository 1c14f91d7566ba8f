//! Every line the book can show fits its content column, checked on the sources (no build, no
//! browser), so that a line too long fails here in a second, before the browser test
//! (`book_in_browser.rs`) sees a listing scroll sideways.
//!
//! The column holds [`COLUMNS`] characters of code: `chapters/rustfmt.toml` formats the chapters at
//! that width, `book/theme/workbook.css` makes the column wide enough for it at 1280 px, and `cargo
//! xtask book` cuts longer output lines there. rustfmt does not wrap comments, long string literals
//! or what is inside macros such as `json!`, so those are checked here:
//!
//! - every line of the chapters' code (`chapters/*/src/**/*.rs`, `chapters/*/solutions/*.rs`),
//!   which the book quotes with `{{#include}}`, and of any other file a page includes (SQL);
//! - every line of a code block on a page (`book/src/*.md`), except the output lines of a
//!   ```` ```text ```` or ```` ```console ```` block: the book cuts those with a visible `…` when it
//!   is built. What a learner types (a `$ ` line and the lines its trailing `\` continues) is
//!   never cut, so it must fit: break a long command with ` \`.
//!
//! It also fails on an `{{#include}}` inside a list item: mdBook pastes the file's lines without
//! the item's indentation, which ends the list in the middle of the listing and turns the
//! paragraphs after it into code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use workbook_tests::workspace_root;

// Counted as `cargo xtask book` counts them when it cuts shown outputs to the page.
#[path = "../../xtask/src/book/outputs/columns.rs"]
mod columns;
use columns::width;

/// The widest line that fits the book's content column beside the open sidebar in a 1280 px
/// window (about 104 columns do; the chapters are formatted at 100).
const COLUMNS: usize = 100;

#[test]
fn every_line_the_book_shows_fits_the_column() {
    let root = workspace_root();
    let mut too_long = Vec::new();
    let mut quoted = BTreeSet::new();
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).unwrap();
        for line in long_lines_of_page(&text) {
            too_long.push(format!("{}:{line}", shown(&root, &page)));
        }
        for (target, selector) in includes(&text) {
            // Other quoted files (SQL migrations); the chapters' code is checked whole below, and
            // a missing file is the book lint's to report.
            let path = root.join("book/src").join(target);
            if path.extension().is_none_or(|e| e != "rs")
                && let Ok(path) = path.canonicalize()
            {
                quoted.insert((path, selector));
            }
        }
    }
    let code = chapter_code(&root).into_iter().map(|path| (path, None));
    for (file, selector) in code.chain(quoted) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in shown_lines(&text, selector.as_deref()) {
            if width(line) > COLUMNS {
                too_long.push(format!("{}:{n}: {} columns: {}", shown(&root, &file), width(line), start(line)));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "{} line(s) are wider than the book's {COLUMNS} columns (rewrap the comment, break the string \
         with a `\\` line continuation, break the command with ` \\`):\n{}",
        too_long.len(),
        too_long.join("\n")
    );
}

#[test]
fn no_include_inside_a_list_item() {
    let root = workspace_root();
    let mut indented = Vec::new();
    for page in pages(&root) {
        let text = std::fs::read_to_string(&page).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with([' ', '\t']) && line.trim_start().starts_with("{{#") {
                indented.push(format!("{}:{}: {}", shown(&root, &page), n + 1, line.trim()));
            }
        }
    }
    assert!(
        indented.is_empty(),
        "an indented {{{{#include}}}} (in a list item) renders the rest of the item as code; put the \
         listing after the list:\n{}",
        indented.join("\n")
    );
}

/// The page's code-block lines wider than [`COLUMNS`], as `line: n columns: start`.
fn long_lines_of_page(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    // The open block's fence (its indentation, its characters) and whether its output is cut.
    let mut block: Option<(usize, String, Shown)> = None;
    // Whether the previous line was a command ending in `\`.
    let mut continued = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let fence: String = trimmed.chars().take_while(|&c| c == '`' || c == '~').collect();
        match &block {
            None if fence.len() >= 3 && fence.chars().all(|c| c == fence.chars().next().unwrap()) => {
                let language = trimmed[fence.len()..].split([' ', ',']).next().unwrap_or("").trim();
                // A diagram's source is drawn as a picture, not shown: the browser test measures it.
                let shown = if language == "pikchr" {
                    Shown::Not
                } else if matches!(language, "text" | "console") {
                    Shown::OutputCut
                } else {
                    Shown::Whole
                };
                block = Some((indent, fence, shown));
                continued = false;
            }
            None => {}
            Some((_, open, _))
                if fence.len() >= open.len()
                    && trimmed[fence.len()..].trim().is_empty()
                    && fence.starts_with(open.as_str()) =>
            {
                block = None;
            }
            Some((_, _, Shown::Not)) => {}
            Some((open_indent, _, shown)) => {
                // The block's content, less the indentation of a block inside a list item.
                let content = line.get((*open_indent).min(indent)..).unwrap_or(line);
                let command = continued || content.trim_start().starts_with("$ ");
                continued = command && content.trim_end().ends_with('\\');
                if content.trim_start().starts_with("{{#") || (*shown == Shown::OutputCut && !command) {
                    continue;
                }
                if width(content) > COLUMNS {
                    found.push(format!("{}: {} columns: {}", n + 1, width(content), start(content)));
                }
            }
        }
    }
    found
}

/// How the book shows a code block's lines.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Whole,
    /// Output lines longer than the column are cut at build time; commands are shown whole.
    OutputCut,
    /// Drawn as a picture.
    Not,
}

/// The files a page includes, as written, with what follows the path (`{{#include path}}`,
/// `{{#include path:anchor}}`, `{{#include path:2:}}`, …).
fn includes(text: &str) -> Vec<(String, Option<String>)> {
    text.match_indices("{{#")
        .filter_map(|(at, _)| {
            let directive = &text[at + 3..at + text[at..].find("}}")?];
            let target = directive.split_whitespace().nth(1)?;
            Some(match target.split_once(':') {
                Some((path, selector)) => (path.to_string(), Some(selector.to_string())),
                None => (target.to_string(), None),
            })
        })
        .collect()
}

/// The lines of a file mdBook shows for an include's selector, with their line numbers: all of
/// them, a range (`3:`, `3:10`, `:10`) or an anchor's region; never the `ANCHOR` lines themselves.
fn shown_lines<'a>(text: &'a str, selector: Option<&str>) -> Vec<(usize, &'a str)> {
    let numbered = text.lines().enumerate().map(|(n, line)| (n + 1, line));
    let is_anchor = |line: &str| line.contains("ANCHOR:") || line.contains("ANCHOR_END:");
    let Some(selector) = selector else {
        return numbered.filter(|(_, line)| !is_anchor(line)).collect();
    };
    let mut bounds = selector.splitn(2, ':').map(|b| b.trim().parse::<usize>().ok());
    let (first, last) = (bounds.next().flatten(), bounds.next().flatten());
    if first.is_some() || selector.starts_with(':') || selector.is_empty() {
        let first = first.unwrap_or(1);
        // `path:3` alone is line 3; `path:3:` runs to the end.
        let last = if selector.contains(':') { last.unwrap_or(usize::MAX) } else { first };
        return numbered.filter(|(n, _)| (first..=last).contains(n)).collect();
    }
    let start = |line: &str| line.trim_end().ends_with(&format!("ANCHOR: {selector}"));
    let end = |line: &str| line.trim_end().ends_with(&format!("ANCHOR_END: {selector}"));
    numbered
        .skip_while(|(_, line)| !start(line))
        .skip(1)
        .take_while(|(_, line)| !end(line))
        .filter(|(_, line)| !is_anchor(line))
        .collect()
}

/// The book's pages: `book/src/*.md`.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("book/src"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

/// `chapters/*/src/**/*.rs` and `chapters/*/solutions/*.rs`.
fn chapter_code(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join("chapters")).unwrap() {
        let chapter = entry.unwrap().path();
        let mut dirs = vec![chapter.join("src")];
        let solutions = chapter.join("solutions");
        if solutions.is_dir() {
            files.extend(rust_files_in(&solutions));
        }
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    files
}

fn rust_files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "rs"))
        .collect()
}

/// The start of a long line, enough to find it.
fn start(line: &str) -> String {
    let trimmed = line.trim();
    match trimmed.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &trimmed[..at]),
        None => trimmed.to_string(),
    }
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

#[test]
fn reads_code_blocks_as_the_book_shows_them() {
    let long = "x".repeat(COLUMNS + 1);
    let page = format!(
        "# Page\n\nProse {long}\n\n```rust\nfn f() {{}} // {long}\n```\n\n```text\n$ cargo run -- \\\n    \
         --topic {long}\n{long}\n```\n\n- item\n\n  ```console\n  {long}\n  $ echo {long}\n  ```\n\n\
         ````markdown\n```text\n{long}\n```\n````\n\n```pikchr\nbox \"{long}\"\n```\n"
    );
    let found: Vec<usize> =
        long_lines_of_page(&page).iter().map(|line| line.split(':').next().unwrap().parse().unwrap()).collect();
    // The Rust line, the command's continuation (not its output), the list item's command, and
    // the text inside the four-backtick block (a ```text line there is content, not a fence).
    assert_eq!(found, [6, 11, 19, 24], "{:?}", long_lines_of_page(&page));
    assert_eq!(width("토픽\tab"), 8 + 2);
    let found = includes("{{#include ../../a/b.sql}} and {{#include ../x.rs:anchor}}");
    assert_eq!(found, [("../../a/b.sql".into(), None), ("../x.rs".into(), Some("anchor".into()))]);
}

#[test]
fn selects_the_lines_an_include_shows() {
    let file = "-- a comment\nCREATE TABLE t;\n// ANCHOR: part\nSELECT 1;\n// ANCHOR_END: part\nDROP TABLE t;\n";
    let lines = |selector| shown_lines(file, selector).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
    assert_eq!(lines(None), [1, 2, 4, 6]);
    assert_eq!(lines(Some("2:")), [2, 3, 4, 5, 6]);
    assert_eq!(lines(Some("2:4")), [2, 3, 4]);
    assert_eq!(lines(Some(":2")), [1, 2]);
    assert_eq!(lines(Some("2")), [2]);
    assert_eq!(lines(Some("part")), [4]);
}
