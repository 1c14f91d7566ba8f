//! Building one chapter's exercise tests, once, and finding the test binary.
//!
//! `cargo test --no-run --message-format=json` compiles the `exercises` test target and prints
//! one JSON message per compiler diagnostic and per artifact: the executable's path comes from
//! the artifact, the first error from the diagnostics. Building once and then running the binary
//! per exercise (with an exact name filter) is what makes checking one exercise take seconds.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::chapters::Chapter;
use crate::command;

/// Which file the `exercises` module is compiled from (see `tests/exercises.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// `src/exercises.rs`: the learner's code.
    Learner,
    /// `solutions/exercises.rs`: the reference solutions.
    Solutions,
    /// `mistakes/exercises.rs`: the reference solutions, or a known mistake named at run time.
    Mistakes,
}

impl Variant {
    fn feature(self) -> Option<&'static str> {
        match self {
            Variant::Learner => None,
            Variant::Solutions => Some("solutions"),
            Variant::Mistakes => Some("mistakes"),
        }
    }
}

/// What building a chapter's exercise tests produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Built {
    /// The test binary, ready to run one exercise at a time.
    Binary(PathBuf),
    /// The chapter does not compile: the first error, as the compiler rendered it.
    CompileError(String),
}

/// Builds one chapter's `exercises` test binary (see [`build_all`]).
pub fn build(
    root: &Path,
    target_dir: Option<&Path>,
    chapter: &Chapter,
    variant: Variant,
    on_line: impl FnMut(&str),
) -> Result<Built> {
    let mut built = build_all(root, target_dir, std::slice::from_ref(chapter), variant, on_line)?;
    Ok(built.remove(&chapter.package).expect("build_all answers for every chapter"))
}

/// Builds the `exercises` test binaries of `chapters` in one cargo run (`--no-fail-fast` keeps going, so one
/// chapter that does not compile does not stop the others). A compile error is a result, not an
/// error: it is the learner's to fix. `on_line` sees cargo's progress (for a progress display).
pub fn build_all(
    root: &Path,
    target_dir: Option<&Path>,
    chapters: &[Chapter],
    variant: Variant,
    mut on_line: impl FnMut(&str),
) -> Result<HashMap<String, Built>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["test", "--no-run", "--no-fail-fast", "--message-format=json", "--test", "exercises"]);
    for chapter in chapters {
        cmd.args(["--package", &chapter.package]);
        if let Some(feature) = variant.feature() {
            cmd.args(["--features", &format!("{}/{feature}", chapter.package)]);
        }
    }
    if let Some(dir) = target_dir {
        cmd.env("CARGO_TARGET_DIR", dir);
    }
    // cargo's own status lines go to stderr; keep them for when no JSON explains a failure.
    cmd.env("CARGO_TERM_COLOR", "never").env("CARGO_TERM_PROGRESS_WHEN", "never");
    let shown = command::display(&cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let stderr_lines = std::thread::spawn(move || {
        std::io::BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<String>>()
    });
    let mut binaries: HashMap<String, PathBuf> = HashMap::new();
    // The first error of each package; an error in a shared crate (the support crate) counts for all.
    let mut errors: Vec<(String, String)> = Vec::new();
    let stdout = child.stdout.take().context("no stdout pipe")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(message) = serde_json::from_str::<Message>(&line) else {
            on_line(&line);
            continue;
        };
        let package = message.package_id.as_deref().and_then(package_name).unwrap_or_default().to_string();
        if let Some(progress) = message.progress() {
            on_line(&progress);
        }
        if let Some(error) = message.error()
            && !errors.iter().any(|(p, _)| *p == package)
        {
            errors.push((package.clone(), error));
        }
        if message.is_exercises_binary()
            && let Some(path) = message.executable
        {
            binaries.insert(package, path);
        }
    }
    let status = child.wait().with_context(|| format!("waiting for `{shown}`"))?;
    let stderr = stderr_lines.join().unwrap_or_default();
    let mut built = HashMap::new();
    for chapter in chapters {
        let own_error = errors.iter().find(|(p, _)| *p == chapter.package);
        let result = match (binaries.remove(&chapter.package), own_error.or(errors.first())) {
            (Some(path), _) => Built::Binary(path),
            (None, Some((_, error))) => Built::CompileError(error.clone()),
            (None, None) if status.success() => {
                bail!("`{shown}` built no `exercises` test binary for {}", chapter.package)
            }
            (None, None) => {
                let tail = stderr[stderr.len().saturating_sub(15)..].join("\n");
                bail!("`{shown}` failed:\n{tail}")
            }
        };
        built.insert(chapter.package.clone(), result);
    }
    Ok(built)
}

/// The package's name in a cargo package id: `path+file:///w/chapters/ch04-producers#0.1.0` (the
/// directory names the package) or `registry+https://…#rdkafka@0.39.0`.
fn package_name(id: &str) -> Option<&str> {
    let (source, fragment) = id.rsplit_once('#')?;
    match fragment.split_once('@') {
        Some((name, _)) => Some(name),
        None => source.rsplit('/').next(),
    }
}

/// The parts of cargo's JSON messages the checker reads.
#[derive(Debug, Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    message: Option<Diagnostic>,
    #[serde(default)]
    package_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Diagnostic {
    level: String,
    #[serde(default)]
    rendered: Option<String>,
    #[serde(default)]
    message: String,
}

impl Message {
    fn is_exercises_binary(&self) -> bool {
        self.reason == "compiler-artifact"
            && self.executable.is_some()
            && self.target.as_ref().is_some_and(|t| t.name == "exercises" && t.kind.iter().any(|k| k == "test"))
    }

    /// The first error, as rustc rendered it (file, line, caret and all).
    fn error(&self) -> Option<String> {
        let diagnostic = self.message.as_ref().filter(|_| self.reason == "compiler-message")?;
        if diagnostic.level != "error" {
            return None;
        }
        let text = diagnostic.rendered.clone().unwrap_or_else(|| diagnostic.message.clone());
        // The test target includes the exercise file as `tests/../src/exercises.rs`: name it as
        // the learner knows it.
        Some(text.replace("/tests/../", "/").trim_end().to_string())
    }

    /// `compiled ch04-producers` for an artifact, so a long first build shows it moves.
    fn progress(&self) -> Option<String> {
        if self.reason != "compiler-artifact" {
            return None;
        }
        Some(format!("compiled {}", package_name(self.package_id.as_deref()?)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_exercises_binary_and_the_first_error() {
        let artifact = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/chapters/ch04-producers#0.1.0","target":{"name":"exercises","kind":["test"]},"executable":"/w/target/debug/deps/exercises-1234"}"#;
        let message: Message = serde_json::from_str(artifact).unwrap();
        assert!(message.is_exercises_binary());
        assert_eq!(message.progress().as_deref(), Some("compiled ch04-producers"));

        let lib = r#"{"reason":"compiler-artifact","package_id":"registry+https://x#rdkafka@0.39.0","target":{"name":"rdkafka","kind":["lib"]},"executable":null}"#;
        let message: Message = serde_json::from_str(lib).unwrap();
        assert!(!message.is_exercises_binary());
        assert_eq!(message.progress().as_deref(), Some("compiled rdkafka"));

        let error = r#"{"reason":"compiler-message","message":{"level":"error","message":"expected `;`","rendered":"error: expected `;`\n --> chapters/ch04-producers/src/exercises.rs:3:5\n"}}"#;
        let message: Message = serde_json::from_str(error).unwrap();
        assert_eq!(
            message.error().as_deref(),
            Some("error: expected `;`\n --> chapters/ch04-producers/src/exercises.rs:3:5")
        );
        let warning = r#"{"reason":"compiler-message","message":{"level":"warning","message":"unused","rendered":"warning: unused"}}"#;
        assert_eq!(serde_json::from_str::<Message>(warning).unwrap().error(), None);
    }

    #[test]
    fn package_names_from_ids() {
        assert_eq!(package_name("path+file:///w/chapters/ch04-producers#0.1.0"), Some("ch04-producers"));
        assert_eq!(package_name("path+file:///w/chapters/support#workbook-support@0.1.0"), Some("workbook-support"));
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#rdkafka@0.39.0"),
            Some("rdkafka")
        );
    }
}
