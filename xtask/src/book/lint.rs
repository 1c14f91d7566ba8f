//! Checks mdBook only logs: includes of missing files or anchors, and links to missing pages;
//! and diagrams that do not compile.
//!
//! mdBook renders a broken `{{#include}}` as its raw text and a broken link as a dead link,
//! and only says so in a log line. The book is the workbook's promise that its prose and its
//! code agree, so `cargo xtask book` refuses to build it when any of these is broken.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use mdbook_markdown::pulldown_cmark::{Event, Tag, TagEnd};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};

/// One thing wrong with the book, at a file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Lints every page `SUMMARY.md` lists under `src`.
pub fn lint(src: &Path) -> Result<Vec<Problem>> {
    let summary_file = src.join("SUMMARY.md");
    let summary = read(&summary_file)?;
    let mut problems = Vec::new();
    let mut pages = BTreeSet::new();
    for link in links(&summary) {
        if link.dest.is_empty() {
            continue; // `- [Title]()`: a draft chapter, not written yet.
        }
        let page = normalize(&src.join(strip_fragment(&link.dest)));
        if page.is_file() {
            pages.insert(page);
        } else {
            let message = format!(
                "`{}` does not exist: write the page, or list the chapter as a draft: `- [Title]()`",
                link.dest
            );
            problems.push(Problem { file: summary_file.clone(), line: link.line, message });
        }
    }
    let mut texts = BTreeMap::new();
    for page in &pages {
        texts.insert(page.clone(), read(page)?);
    }
    let site = Site { pages: &pages, texts: &texts };
    for (page, text) in &texts {
        problems.extend(check_includes(page, text));
        problems.extend(check_links(page, text, &site));
        problems.extend(check_diagrams(page, text));
    }
    Ok(problems)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The rendered pages and their text, for checking links between them.
struct Site<'a> {
    pages: &'a BTreeSet<PathBuf>,
    texts: &'a BTreeMap<PathBuf, String>,
}

// ---------------------------------------------------------------------------------------------
// {{#include}}

/// One `{{#include path}}`, `{{#include path:anchor}}`, `{{#rustdoc_include …}}` or `{{#playground …}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    pub line: usize,
    pub path: String,
    pub anchor: Option<String>,
}

/// Finds the includes in a page's raw text, the way mdBook does: anywhere, code blocks too,
/// except when escaped as `\{{#include …}}`.
pub fn includes(text: &str) -> Vec<Include> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("{{").map(|i| from + i) {
        from = at + 2;
        if text[..at].ends_with('\\') {
            continue;
        }
        let Some(end) = text[at..].find("}}").map(|i| at + i) else { break };
        let inner = &text[at + 2..end];
        if inner.contains('{') || inner.contains('}') {
            continue;
        }
        if let Some(include) = parse_include(inner.trim_start()) {
            let line = line_of(text, at);
            found.push(Include { line, ..include });
        }
    }
    found
}

/// `#include ../x.rs:anchor` -> path `../x.rs`, anchor `anchor`; line ranges (`x.rs:3:10`) have no anchor.
fn parse_include(inner: &str) -> Option<Include> {
    let rest = inner.strip_prefix('#')?;
    let (kind, args) = rest.split_once(char::is_whitespace)?;
    let spec = args.split_whitespace().next()?;
    match kind {
        "playground" | "playpen" => Some(Include { line: 0, path: spec.to_string(), anchor: None }),
        "include" | "rustdoc_include" => {
            let (path, selector) = match spec.split_once(':') {
                Some((path, selector)) => (path, selector.split(':').next().unwrap_or("")),
                None => (spec, ""),
            };
            let is_range = selector.is_empty() || selector.parse::<usize>().is_ok();
            let anchor = (!is_range).then(|| selector.to_string());
            Some(Include { line: 0, path: path.to_string(), anchor })
        }
        _ => None,
    }
}

fn check_includes(page: &Path, text: &str) -> Vec<Problem> {
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for include in includes(text) {
        let target = dir.join(&include.path);
        let problem = |message: String| Problem { file: page.to_path_buf(), line: include.line, message };
        let Ok(source) = std::fs::read_to_string(&target) else {
            problems.push(problem(format!(
                "includes `{}`, which does not exist (paths are relative to the page)",
                include.path
            )));
            continue;
        };
        if let Some(anchor) = &include.anchor
            && !has_anchor(&source, anchor)
        {
            problems.push(problem(format!(
                "includes `{}:{anchor}`, but that file has no `// ANCHOR: {anchor}` … `// ANCHOR_END: {anchor}` pair",
                include.path
            )));
        }
    }
    problems
}

/// Does `source` mark a region `ANCHOR: name` … `ANCHOR_END: name` (mdBook's anchor syntax)?
pub fn has_anchor(source: &str, name: &str) -> bool {
    let mut lines = source.lines();
    let started = lines.by_ref().any(|line| anchor_name(line, "ANCHOR:") == Some(name));
    started && lines.any(|line| anchor_name(line, "ANCHOR_END:") == Some(name))
}

fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line[line.find(marker)? + marker.len()..].trim_start();
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

// ---------------------------------------------------------------------------------------------
// Links

/// A Markdown link or image in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub line: usize,
    pub dest: String,
}

/// The links and images of a page, with the parser mdBook itself uses (so code blocks are skipped).
pub fn links(text: &str) -> Vec<Link> {
    new_cmark_parser(text, &MarkdownOptions::default())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(Link { line: line_of(text, range.start), dest: dest_url.to_string() })
            }
            _ => None,
        })
        .collect()
}

fn check_links(page: &Path, text: &str, site: &Site<'_>) -> Vec<Problem> {
    links(text)
        .into_iter()
        .filter_map(|link| {
            let message = link_problem(page, &link.dest, site)?;
            Some(Problem { file: page.to_path_buf(), line: link.line, message })
        })
        .collect()
}

/// What is wrong with a link from `page` to `dest`, if anything. Web links are not followed.
fn link_problem(page: &Path, dest: &str, site: &Site<'_>) -> Option<String> {
    if dest.is_empty() {
        return Some("empty link `()`".to_string());
    }
    if is_external(dest) {
        return None;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        let ids = heading_ids(site.texts.get(page).map(String::as_str).unwrap_or(""));
        return fragment.filter(|f| !ids.contains(*f)).map(|f| format!("no heading on this page has the id `#{f}`"));
    }
    if path.starts_with('/') {
        return Some(format!("`{dest}` is absolute; link relative to this page so the book works anywhere"));
    }
    let dir = page.parent().unwrap_or(Path::new("."));
    let target = normalize(&dir.join(path));
    let as_page = if path.ends_with(".html") { target.with_extension("md") } else { target.clone() };
    if as_page.extension().is_some_and(|e| e == "md") {
        if !as_page.is_file() {
            return Some(format!("links to `{path}`, which does not exist"));
        }
        if !site.pages.contains(&as_page) {
            return Some(format!("links to `{path}`, which SUMMARY.md does not list (mdBook would not render it)"));
        }
        let ids = heading_ids(site.texts.get(&as_page).map(String::as_str).unwrap_or(""));
        return fragment.filter(|f| !ids.contains(*f)).map(|f| format!("`{path}` has no heading with the id `#{f}`"));
    }
    if !target.exists() {
        return Some(format!("links to `{path}`, which does not exist"));
    }
    None
}

/// `https://…`, `mailto:…`: anything with a URL scheme.
fn is_external(dest: &str) -> bool {
    match dest.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }
        None => false,
    }
}

/// The ids mdBook gives a page's headings: `{#explicit}` ids, else the text lower-cased, spaces
/// to `-`, punctuation dropped; a repeated id gets `-1`, `-2`, ….
pub fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut current: Option<(Option<String>, String)> = None;
    for event in new_cmark_parser(text, &MarkdownOptions::default()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => current = Some((id.map(|i| i.to_string()), String::new())),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, heading)) = current.as_mut() {
                    heading.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((explicit, heading)) = current.take() {
                    let base = explicit.unwrap_or_else(|| normalize_id(&heading));
                    let mut id = base.clone();
                    let mut n = 1;
                    while ids.contains(&id) {
                        id = format!("{base}-{n}");
                        n += 1;
                    }
                    ids.insert(id);
                }
            }
            _ => {}
        }
    }
    ids
}

/// mdBook's `normalize_id`.
fn normalize_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Diagrams

/// A ```` ```pikchr ```` block that does not render (a syntax error, a color the themes do not adapt).
fn check_diagrams(page: &Path, text: &str) -> Vec<Problem> {
    super::diagrams::problems(text)
        .into_iter()
        .map(|(line, message)| Problem { file: page.to_path_buf(), line, message })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Link destinations and paths

fn strip_fragment(dest: &str) -> &str {
    dest.split('#').next().unwrap_or(dest)
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// `a/b/../c` -> `a/c`, without touching the file system (the file may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_includes_and_their_anchors() {
        let text = "# Topics\n\n```rust\n{{#include ../../chapters/ch03-topics/src/lib.rs:create}}\n```\n\
                    {{#rustdoc_include x.rs:3:10}}\n{{ #include whole.rs }}\n\\{{#include escaped.rs}}\n{{#title Hi}}\n";
        let found = includes(text);
        assert_eq!(
            found,
            [
                Include {
                    line: 4,
                    path: "../../chapters/ch03-topics/src/lib.rs".into(),
                    anchor: Some("create".into())
                },
                Include { line: 6, path: "x.rs".into(), anchor: None },
                Include { line: 7, path: "whole.rs".into(), anchor: None },
            ]
        );
    }

    #[test]
    fn anchors_need_a_start_and_an_end() {
        let source = "fn a() {}\n// ANCHOR: create\nfn create() {}\n// ANCHOR_END: create\n// ANCHOR: open\n";
        assert!(has_anchor(source, "create"));
        assert!(!has_anchor(source, "open"), "no ANCHOR_END");
        assert!(!has_anchor(source, "crea"), "names match whole");
        assert!(!has_anchor(source, "missing"));
    }

    #[test]
    fn links_skip_code_and_report_lines() {
        let text = "See [topics](ch03-topics.md#create).\n\n```text\n[not a link](nowhere.md)\n```\n\n![diagram](img/flow.svg)\n";
        assert_eq!(
            links(text),
            [Link { line: 1, dest: "ch03-topics.md#create".into() }, Link { line: 7, dest: "img/flow.svg".into() }]
        );
    }

    #[test]
    fn heading_ids_follow_mdbook() {
        let ids =
            heading_ids("# Why Kafka?\n## `acks=all` and you\n## Recap\n## Recap\n## Custom {#mine}\n## 토픽 생성\n");
        let expected = ["why-kafka", "acksall-and-you", "recap", "recap-1", "mine", "토픽-생성"];
        assert_eq!(ids, expected.iter().map(|s| s.to_string()).collect());
    }

    #[test]
    fn normalizes_paths_without_the_file_system() {
        assert_eq!(normalize(Path::new("book/src/./a/../ch01.md")), PathBuf::from("book/src/ch01.md"));
    }

    #[test]
    fn external_links_are_not_followed() {
        assert!(is_external("https://kafka.apache.org/documentation/"));
        assert!(is_external("mailto:someone@example.com"));
        assert!(!is_external("ch01-why-kafka.md"));
        assert!(!is_external("img/a:b.svg"));
    }

    /// A small book on disk with one of each mistake.
    #[test]
    fn lints_a_book_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("img")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
        write(
            "SUMMARY.md",
            "# Summary\n\n[Intro](intro.md)\n\n# Part\n\n- [One](ch01.md)\n- [Two]()\n- [Gone](gone.md)\n",
        );
        write(
            "intro.md",
            "# Intro\n\n[one](ch01.md#the-code) [two](ch02.md) [stray](stray.md) [web](https://x.org)\n\
             [bad anchor](ch01.md#nope) [here](#intro) ![img](img/a.svg) ![no](img/b.svg)\n",
        );
        write("stray.md", "# Stray\n");
        write("img/a.svg", "<svg/>");
        write("code.rs", "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n");
        write(
            "ch01.md",
            "# One\n## The code\n{{#include code.rs:main}}\n{{#include code.rs:other}}\n{{#include missing.rs}}\n\
             ```pikchr\nbox\nbogus\n```\n",
        );
        let shown: Vec<String> = lint(&src)
            .unwrap()
            .iter()
            .map(|p| format!("{}:{}: {}", p.file.file_name().unwrap().to_string_lossy(), p.line, p.message))
            .collect();
        assert_eq!(
            shown,
            [
                "SUMMARY.md:9: `gone.md` does not exist: write the page, or list the chapter as a draft: `- [Title]()`",
                "ch01.md:4: includes `code.rs:other`, but that file has no `// ANCHOR: other` … `// ANCHOR_END: other` pair",
                "ch01.md:5: includes `missing.rs`, which does not exist (paths are relative to the page)",
                "ch01.md:8: pikchr: syntax error",
                "intro.md:3: links to `ch02.md`, which does not exist",
                "intro.md:3: links to `stray.md`, which SUMMARY.md does not list (mdBook would not render it)",
                "intro.md:4: `ch01.md` has no heading with the id `#nope`",
                "intro.md:4: links to `img/b.svg`, which does not exist",
            ]
        );
    }
}
