//! The book and the code agree: every chapter crate has a page and every page a crate, and every
//! command the book tells you to type exists. (That the book builds is checked once, by the test
//! that reads the built pages: book_in_browser.rs.)
//!
//! These need no running environment. They pass with no chapters yet (vacuously for the
//! chapter checks) and keep checking as chapters are added.

use mdbook_summary::SummaryItem;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use workbook_tests::{run, workspace_root, xtask};

/// Every page of the book's source (recursively), as (path, text).
fn book_pages(root: &Path) -> Vec<(PathBuf, String)> {
    let mut pages = Vec::new();
    let mut dirs = vec![root.join("book/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap();
                pages.push((path, text));
            }
        }
    }
    pages.sort();
    pages
}

/// `chNN-topic` directory names under `chapters/` that hold a crate.
fn chapter_crates(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root.join("chapters"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
        .filter(|name| is_chapter_name(name))
        .collect()
}

/// `ch03-topics`: "ch", two digits, a dash.
fn is_chapter_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 5
        && name.starts_with("ch")
        && bytes[2].is_ascii_digit()
        && bytes[3].is_ascii_digit()
        && bytes[4] == b'-'
}

/// The pages SUMMARY.md lists, drafts (`[Title]()`) left out, as mdBook itself reads them.
fn summary_pages(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap();
    let summary = mdbook_summary::parse_summary(&text).expect("mdBook reads SUMMARY.md");
    let mut items: Vec<&SummaryItem> =
        summary.prefix_chapters.iter().chain(&summary.numbered_chapters).chain(&summary.suffix_chapters).collect();
    let mut pages = Vec::new();
    while let Some(item) = items.pop() {
        if let SummaryItem::Link(link) = item {
            pages.extend(link.location.as_ref().map(|page| page.display().to_string()));
            items.extend(&link.nested_items);
        }
    }
    pages.sort();
    pages
}

/// The chapter a SUMMARY target belongs to: `ch03-topics.md` or `ch03-topics/exercises.md` -> `ch03-topics`.
fn chapter_of(target: &str) -> Option<String> {
    let first = target.split('/').next()?;
    let name = first.strip_suffix(".md").unwrap_or(first);
    is_chapter_name(name).then(|| name.to_string())
}

/// Every workspace package name: xtask, the tests crate, the support crate and the chapters.
fn package_names(root: &Path) -> BTreeSet<String> {
    let mut manifests = vec![root.join("xtask/Cargo.toml"), root.join("tests/Cargo.toml")];
    for entry in std::fs::read_dir(root.join("chapters")).unwrap() {
        manifests.push(entry.unwrap().path().join("Cargo.toml"));
    }
    manifests.iter().filter_map(|manifest| package_name(&std::fs::read_to_string(manifest).ok()?)).collect()
}

/// `name = "…"` in the `[package]` table of a Cargo.toml.
fn package_name(manifest: &str) -> Option<String> {
    let package = &manifest[manifest.find("[package]")?..];
    package.lines().skip(1).take_while(|line| !line.starts_with('[')).find_map(|line| {
        line.strip_prefix("name")?
            .trim_start()
            .strip_prefix('=')?
            .trim()
            .strip_prefix('"')?
            .split('"')
            .next()
            .map(str::to_string)
    })
}

/// Every word following `prefix` in the book, with where it was: (file:line, word).
/// Placeholders are skipped: `<chapter>`, and names spelled with `NN` (`chNN-topic`).
fn words_after(pages: &[(PathBuf, String)], prefix: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, text) in pages {
        for (number, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices(prefix) {
                let rest = &line[at + prefix.len()..];
                let word: String =
                    rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
                if word.is_empty() || word.contains("NN") || rest.starts_with('<') {
                    continue;
                }
                let shown = format!("{}:{}", path.file_name().unwrap().to_string_lossy(), number + 1);
                found.push((shown, word));
            }
        }
    }
    found
}

#[test]
fn every_chapter_crate_has_a_page_and_every_page_a_crate() {
    let root = workspace_root();
    let crates = chapter_crates(&root);
    let pages = summary_pages(&root);
    let chapters_with_pages: BTreeSet<String> = pages.iter().filter_map(|p| chapter_of(p)).collect();

    let without_page: Vec<&String> = crates.difference(&chapters_with_pages).collect();
    assert!(
        without_page.is_empty(),
        "chapter crates without a page in book/src/SUMMARY.md: {without_page:?}.\n\
         Write book/src/<crate>.md and list it (not as a draft `[Title]()`)"
    );
    let without_crate: Vec<&String> = chapters_with_pages.difference(&crates).collect();
    assert!(
        without_crate.is_empty(),
        "book pages without a chapter crate of the same name under chapters/: {without_crate:?}"
    );
}

#[test]
fn every_cargo_run_in_the_book_names_a_package() {
    let root = workspace_root();
    let packages = package_names(&root);
    assert!(packages.contains("xtask") && packages.contains("workbook-support"), "{packages:?}");
    let pages = book_pages(&root);
    let mentioned: Vec<(String, String)> =
        words_after(&pages, "cargo run -p ").into_iter().chain(words_after(&pages, "cargo run --package ")).collect();
    let unknown: Vec<String> = mentioned
        .iter()
        .filter(|(_, name)| !packages.contains(name))
        .map(|(at, name)| format!("{at}: {name}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "the book runs packages that do not exist: {unknown:?}\nworkspace packages: {packages:?}"
    );
}

#[test]
fn every_cargo_xtask_in_the_book_is_a_real_command() {
    let root = workspace_root();
    let (ok, help) = run(xtask(&["--help"]));
    assert!(ok, "cargo xtask --help failed: {help}");
    let commands = subcommands(&help);
    assert!(commands.contains("check") && commands.contains("book"), "could not read the commands: {commands:?}");

    let pages = book_pages(&root);
    let unknown: Vec<String> = words_after(&pages, "cargo xtask ")
        .into_iter()
        .filter(|(_, command)| !commands.contains(command))
        .map(|(at, command)| format!("{at}: {command}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "the book mentions xtask commands that do not exist: {unknown:?}\ncommands: {commands:?}"
    );
}

/// The command names of clap's `--help`: the first word of each line under `Commands:`.
fn subcommands(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn names_placeholders_and_commands_are_read() {
    assert!(is_chapter_name("ch03-topics"));
    assert!(!is_chapter_name("support") && !is_chapter_name("ch3-topics") && !is_chapter_name("chNN-topic"));
    assert_eq!(chapter_of("ch03-topics/exercises.md").as_deref(), Some("ch03-topics"));
    assert_eq!(chapter_of("introduction.md"), None);
    assert_eq!(
        package_name("[package]\nname = \"ch03-topics\"\nversion = \"0.1.0\"\n").as_deref(),
        Some("ch03-topics")
    );
    let pages = vec![(
        PathBuf::from("x.md"),
        "`cargo run -p ch03-topics -- --help`, `cargo run -p <chapter>`, `cargo run -p chNN-topic`".to_string(),
    )];
    assert_eq!(words_after(&pages, "cargo run -p "), [("x.md:1".to_string(), "ch03-topics".to_string())]);
    let help = "Usage: cargo xtask <COMMAND>\n\nCommands:\n  up     Start\n  check  Check\n  help   Print\n\nOptions:\n  -h, --help\n";
    assert_eq!(subcommands(help), ["check", "help", "up"].iter().map(|s| s.to_string()).collect());
}
