//! Shown outputs fit the page: a line of a ```` ```text ```` or ```` ```console ```` block longer
//! than [`COLUMNS`] is cut there, with a visible elision (`…`), when the book is built.
//!
//! The pages keep outputs whole, as the commands print them (`tests/tests/book_outputs.rs`
//! compares them with what the commands print now, and rewrites them on request); only the built
//! page shows them cut, so a learner reads what matters at the start of each line without
//! scrolling sideways, and runs the command to see the rest.
//!
//! What a learner types is never cut: a line starting with `$ ` (and the lines a trailing `\`
//! continues it on) is left whole; if it is too long for the column, the book's browser test says
//! so, and the page should break it with `\`. Code blocks in other languages (Rust, shell, SQL,
//! TOML) are left alone: their width is their author's.

use anyhow::Result;
use mdbook_driver::book::Book;
use mdbook_markdown::pulldown_cmark::{CodeBlockKind, Event, Tag};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

mod columns;
use columns::{char_width, expand_tabs, width};

/// The widest line shown: the chapters' code width (`chapters/rustfmt.toml`), which the book's
/// content column fits (`book/theme/workbook.css`).
pub const COLUMNS: usize = 100;

/// The mark put where a line was cut.
pub const ELISION: char = '…';

/// The preprocessor `cargo xtask book` registers with mdBook.
pub struct Outputs;

impl Preprocessor for Outputs {
    fn name(&self) -> &str {
        "workbook-outputs"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        book.for_each_chapter_mut(|chapter| {
            if let Some(content) = cut_long_lines(&chapter.content) {
                chapter.content = content;
            }
        });
        Ok(book)
    }

    fn supports_renderer(&self, renderer: &str) -> Result<bool> {
        Ok(renderer == "html")
    }
}

/// The page with every output line longer than [`COLUMNS`] cut; `None` if nothing was cut.
pub fn cut_long_lines(text: &str) -> Option<String> {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut inside = false;
    // Whether the previous line of the block was a command ending in `\` (continued).
    let mut continued = false;
    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let language = info.split(|c: char| c.is_whitespace() || c == ',').next().unwrap_or("");
                inside = matches!(language, "text" | "console");
                continued = false;
            }
            Event::Text(shown) if inside => {
                // The event is the block's text as written (less any list indentation); edit the
                // page only where the two agree byte for byte.
                if text.get(range.clone()) != Some(&*shown) {
                    continue;
                }
                let mut cut = String::with_capacity(shown.len());
                let mut changed = false;
                for line in shown.split_inclusive('\n') {
                    let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
                    let command = continued || body.trim_start().starts_with("$ ");
                    continued = command && body.trim_end().ends_with('\\');
                    if !command && width(body) > COLUMNS {
                        cut.push_str(&cut_to(&expand_tabs(body), COLUMNS));
                        changed = true;
                    } else {
                        cut.push_str(body);
                    }
                    cut.push_str(end);
                }
                if changed {
                    edits.push((range, cut));
                }
            }
            Event::End(_) => inside = false,
            _ => {}
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (range, cut) in edits {
        out.push_str(&text[from..range.start]);
        out.push_str(&cut);
        from = range.end;
    }
    out.push_str(&text[from..]);
    Some(out)
}

/// The first `columns - 1` columns of `line`, then [`ELISION`].
fn cut_to(line: &str, columns: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in line.chars() {
        if used + char_width(c) > columns - 1 {
            break;
        }
        used += char_width(c);
        out.push(c);
    }
    out.push(ELISION);
    out
}

#[cfg(test)]
mod tests {
    use mdbook_driver::book::{BookItem, Chapter};
    use mdbook_driver::config::Config;

    use super::*;

    fn long(n: usize) -> String {
        (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect()
    }

    #[test]
    fn cuts_long_output_lines_with_an_elision() {
        let page = format!("# P\n\n```text\nshort\n{}\n```\n\nAfter.\n", long(150));
        let out = cut_long_lines(&page).unwrap();
        let line = out.lines().nth(4).unwrap();
        assert_eq!(line.chars().count(), COLUMNS, "{line}");
        assert!(line.ends_with(ELISION) && line.starts_with("abcdef"), "{line}");
        assert!(out.starts_with("# P\n\n```text\nshort\n") && out.ends_with("\n```\n\nAfter.\n"), "{out}");
    }

    #[test]
    fn a_line_of_exactly_the_width_stays_whole() {
        let page = format!("```console\n{}\n```\n", long(COLUMNS));
        assert_eq!(cut_long_lines(&page), None);
    }

    #[test]
    fn commands_and_their_continuations_stay_whole() {
        let command = format!("$ cargo run -p ch04-producers -- {} \\", long(120));
        let continuation = format!("    --topic {}", long(120));
        let output = long(130);
        let page = format!("```console\n{command}\n{continuation}\n{output}\n```\n");
        let out = cut_long_lines(&page).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], command);
        assert_eq!(lines[2], continuation);
        assert_eq!(lines[3].chars().count(), COLUMNS);
    }

    #[test]
    fn other_languages_are_left_alone() {
        for language in ["rust", "sh", "sql", "toml", "rust,ignore"] {
            let page = format!("```{language}\n{}\n```\n", long(150));
            assert_eq!(cut_long_lines(&page), None, "{language}");
        }
        assert_eq!(cut_long_lines(&format!("Prose {}\n", long(200))), None);
    }

    #[test]
    fn wide_characters_count_twice() {
        assert_eq!(width("토픽 ab"), 7);
        let page = format!("```text\n{}\n```\n", "토".repeat(60));
        let out = cut_long_lines(&page).unwrap();
        let line = out.lines().nth(1).unwrap();
        assert_eq!(width(line), COLUMNS - 1, "49 wide characters and the elision: {line}");
    }

    #[test]
    fn tabs_count_to_the_next_tab_stop() {
        assert_eq!(width("\tTopic: a\tPartition: 0"), 8 + 9 + 7 + 12);
        assert_eq!(expand_tabs("ab\tc"), "ab      c");
        // 15 tabbed fields of 4 characters: 120 columns on the page, though 75 characters.
        let line = "abc\t".repeat(15);
        let page = format!("```console\n{line}\n```\n");
        let out = cut_long_lines(&page).unwrap();
        let cut = out.lines().nth(1).unwrap();
        assert!(!cut.contains('\t') && cut.starts_with("abc     abc") && cut.ends_with(ELISION), "{cut}");
        assert_eq!(width(cut), COLUMNS);
        // Tabs in a line that fits stay as they are.
        assert_eq!(cut_long_lines("```text\na\tb\n```\n"), None);
    }

    #[test]
    fn blocks_inside_lists_are_cut_too() {
        let page = format!("- item:\n\n  ```text\n  {}\n  ```\n", long(150));
        let out = cut_long_lines(&page).unwrap();
        let line = out.lines().nth(3).unwrap();
        assert!(line.starts_with("  abc") && line.ends_with(ELISION), "{out}");
    }

    #[test]
    fn the_preprocessor_cuts_every_chapter() {
        let context = PreprocessorContext::new("book".into(), Config::default(), "html".into());
        let page = format!("```text\n{}\n```\n", long(150));
        let book = Book::new_with_items(vec![BookItem::Chapter(Chapter::new("c", page, "c.md", vec![]))]);
        let built = Outputs.run(&context, book).unwrap();
        let Some(BookItem::Chapter(chapter)) = built.iter().next() else { panic!("no chapter") };
        assert!(chapter.content.contains(ELISION));
        assert!(Outputs.supports_renderer("html").unwrap() && !Outputs.supports_renderer("markdown").unwrap());
    }
}
