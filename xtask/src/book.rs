//! `cargo xtask book`: build or serve the mdBook in `book/`.
//!
//! mdBook is used as a library (`mdbook-driver`), so there is nothing extra to install. Before
//! mdBook runs, [`lint`] checks what mdBook would only log: every `{{#include}}` names a file and
//! anchor that exist, every link between pages reaches a page in `SUMMARY.md`, and every
//! ```` ```pikchr ```` diagram compiles. While mdBook runs, [`diagrams`] draws those diagrams as SVG
//! and [`outputs`] cuts shown outputs to the width of the page. The Korean edition is the same
//! pages translated through [`i18n`]'s gettext catalog, built into `book/book/ko/`.

mod diagrams;
pub mod i18n;
mod lint;
mod outputs;
mod serve;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Result, bail};
use clap::Args;
use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use workbook_support::env::workspace_root;

use crate::check::watch::{self, Snapshot};

#[derive(Args, Debug)]
pub struct BookOptions {
    /// Serve the book with live reload instead of building it once.
    #[arg(long)]
    pub serve: bool,
    /// The port to serve on (127.0.0.1 only).
    #[arg(long, default_value_t = 3000, requires = "serve")]
    pub port: u16,
    /// Only this edition: `en` (English, book/book/) or `ko` (Korean, book/book/ko/, translated
    /// from book/po/ko.po). Without it both are built; `--serve` builds both and `--lang ko`
    /// opens the Korean one.
    #[arg(long, value_parser = ["en", "ko"])]
    pub lang: Option<String>,
    /// Bring book/po/LANG.po up to date with the English pages (new paragraphs untranslated,
    /// changed ones fuzzy), then say what is left to translate.
    #[arg(long, value_name = "LANG", value_parser = ["ko"], conflicts_with = "serve")]
    pub update_po: Option<String>,
    /// Fail unless every translation is complete: no untranslated, fuzzy or stale message.
    #[arg(long, conflicts_with = "serve")]
    pub check_translations: bool,
}

pub async fn run(options: &BookOptions) -> Result<()> {
    let root = workspace_root();
    let book_dir = root.join("book");
    if let Some(lang) = &options.update_po {
        let coverage = i18n::update_po(&book_dir, lang)?;
        println!("Updated {}: {}", shown(&root, &i18n::po_file(&book_dir, lang)).display(), coverage.summary(lang));
        return Ok(());
    }
    if options.check_translations {
        for lang in translated_editions() {
            println!("{}", i18n::check_complete(&book_dir, lang)?.summary(lang));
        }
    }
    if !options.serve {
        for lang in editions(options.lang.as_deref()) {
            let index = build_edition(&book_dir, lang)?;
            println!("Built the {} edition: {}", edition_name(lang), shown(&root, &index).display());
        }
        return Ok(());
    }
    let port = options.port;
    // Served, every edition is built (each page links to the others); --lang picks the first page.
    let editions = editions(None);
    let start_page = match options.lang.as_deref() {
        Some(lang) if lang != i18n::SOURCE_LANGUAGE => format!("{lang}/"),
        _ => String::new(),
    };
    // Serving blocks on files and sockets; keep it off the async runtime's worker threads.
    tokio::task::spawn_blocking(move || serve(&root, port, &editions, &start_page)).await?
}

/// The editions to build: the one asked for, or all of them (English first: building it empties
/// book/book/, where the others live in subfolders).
fn editions(asked: Option<&str>) -> Vec<&'static str> {
    i18n::EDITIONS.iter().map(|edition| edition.lang).filter(|lang| asked.is_none_or(|asked| asked == *lang)).collect()
}

pub fn translated_editions() -> impl Iterator<Item = &'static str> {
    i18n::EDITIONS.iter().map(|edition| edition.lang).filter(|lang| *lang != i18n::SOURCE_LANGUAGE)
}

fn edition_name(lang: &str) -> &'static str {
    i18n::EDITIONS.iter().find(|edition| edition.lang == lang).map_or("unknown", |edition| edition.name)
}

/// Lints the book, then builds one edition with mdBook; returns its `index.html`.
pub fn build_edition(book_dir: &Path, lang: &str) -> Result<PathBuf> {
    let mut config = Config::from_disk(book_dir.join("book.toml"))?;
    let src = book_dir.join(&config.book.src);
    let problems = lint::lint(&src)?;
    if !problems.is_empty() {
        let root = workspace_root();
        for problem in &problems {
            eprintln!("{}:{}: {}", shown(&root, &problem.file).display(), problem.line, problem.message);
        }
        bail!("the book has {} problem(s), listed above; it was not built", problems.len());
    }
    let translated = lang != i18n::SOURCE_LANGUAGE;
    if translated {
        config.book.language = Some(lang.to_string());
        config.book.title = i18n::EDITIONS.iter().find(|e| e.lang == lang).map(|e| e.title.to_string());
        config.build.build_dir = config.build.build_dir.join(lang);
    }
    let mut book = MDBook::load_with_config(book_dir, config)?;
    // Registered last, so they run after mdBook's own `{{#include}}` preprocessor: the
    // translation sees the pages as the catalog was extracted from them.
    if translated {
        book.with_preprocessor(i18n::EnglishAnchors);
        book.with_preprocessor(i18n::Translate { lang: lang.to_string() });
    }
    book.with_preprocessor(diagrams::Diagrams);
    book.with_preprocessor(outputs::Outputs);
    book.build()?;
    Ok(book.build_dir_for("html").join("index.html"))
}

/// A path relative to the workspace, as a learner would type it.
fn shown<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// Builds, serves `book/book/`, and rebuilds whenever the book or a chapter's code changes.
/// Runs until Ctrl-C.
fn serve(root: &Path, port: u16, editions: &[&str], start_page: &str) -> Result<()> {
    let book_dir = root.join("book");
    let out = book_dir.join("book");
    let build_number = Arc::new(AtomicU64::new(1));
    let build_all = || editions.iter().try_for_each(|lang| build_edition(&book_dir, lang).map(drop));
    report_build(build_all());
    serve::start(out, port, build_number.clone())?;
    println!("Serving the book at http://127.0.0.1:{port}/{start_page} — pages reload when you save. Ctrl-C to stop.");
    let mut before = Snapshot::take(&watched(root));
    loop {
        std::thread::sleep(watch::POLL_INTERVAL);
        let now = Snapshot::take(&watched(root));
        let changed = now.changed_since(&before);
        if changed.is_empty() {
            continue;
        }
        before = now;
        println!("{} changed; rebuilding.", shown(root, &changed[0]).display());
        if report_build(build_all()) {
            build_number.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Prints how a build went; a failed rebuild keeps the last good book on screen.
fn report_build(result: Result<()>) -> bool {
    match result {
        Ok(_) => {
            println!("Built the book.");
            true
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            false
        }
    }
}

/// What the book is made of: its sources, its CSS and every chapter's code (quoted with `{{#include}}`).
fn watched(root: &Path) -> Vec<PathBuf> {
    let mut paths =
        vec![root.join("book/src"), root.join("book/book.toml"), root.join("book/theme"), root.join("book/po")];
    if let Ok(entries) = std::fs::read_dir(root.join("chapters")) {
        for entry in entries.flatten() {
            paths.extend(["src", "solutions", "tests"].map(|sub| entry.path().join(sub)));
        }
    }
    paths
}
