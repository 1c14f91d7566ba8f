//! `cargo xtask book`: build or serve the mdBook in `book/`.
//!
//! mdBook is used as a library (`mdbook-driver`), so there is nothing extra to install. Before
//! mdBook runs, [`lint`] checks what mdBook would only log: every `{{#include}}` names a file and
//! anchor that exist, every link between pages reaches a page in `SUMMARY.md`, and every
//! ```` ```pikchr ```` diagram compiles. While mdBook runs, [`diagrams`] draws those diagrams as SVG
//! and [`outputs`] cuts shown outputs to the width of the page.

mod diagrams;
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
}

pub async fn run(options: &BookOptions) -> Result<()> {
    let root = workspace_root();
    if !options.serve {
        let index = build(&root.join("book"))?;
        println!("Built the book: {}", shown(&root, &index).display());
        return Ok(());
    }
    let port = options.port;
    // Serving blocks on files and sockets; keep it off the async runtime's worker threads.
    tokio::task::spawn_blocking(move || serve(&root, port)).await?
}

/// Lints the book, then builds it with mdBook; returns the built `index.html`.
pub fn build(book_dir: &Path) -> Result<PathBuf> {
    let config = Config::from_disk(book_dir.join("book.toml"))?;
    let src = book_dir.join(&config.book.src);
    let problems = lint::lint(&src)?;
    if !problems.is_empty() {
        let root = workspace_root();
        for problem in &problems {
            eprintln!("{}:{}: {}", shown(&root, &problem.file).display(), problem.line, problem.message);
        }
        bail!("the book has {} problem(s), listed above; it was not built", problems.len());
    }
    let mut book = MDBook::load_with_config(book_dir, config)?;
    // Registered last, so they run after mdBook's own `{{#include}}` preprocessor.
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
fn serve(root: &Path, port: u16) -> Result<()> {
    let book_dir = root.join("book");
    let out = book_dir.join("book");
    let build_number = Arc::new(AtomicU64::new(1));
    report_build(build(&book_dir));
    serve::start(out, port, build_number.clone())?;
    println!("Serving the book at http://127.0.0.1:{port}/ — pages reload when you save. Ctrl-C to stop.");
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
        if report_build(build(&book_dir)) {
            build_number.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Prints how a build went; a failed rebuild keeps the last good book on screen.
fn report_build(result: Result<PathBuf>) -> bool {
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
    let mut paths = vec![root.join("book/src"), root.join("book/book.toml"), root.join("book/theme")];
    if let Ok(entries) = std::fs::read_dir(root.join("chapters")) {
        for entry in entries.flatten() {
            paths.extend(["src", "solutions", "tests"].map(|sub| entry.path().join(sub)));
        }
    }
    paths
}
