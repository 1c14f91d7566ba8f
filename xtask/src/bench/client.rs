//! The Rust side: chapter 14's `bench-client`, built once with optimizations and run as its own
//! process, so that a learner's broken chapter can break the bench but never `cargo xtask`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use workbook_support::env::{WORKBOOK_DIR, workspace_root};

use crate::layout::Layout;

const PACKAGE: &str = "ch14-performance";
const BINARY: &str = "bench-client";

/// The built bench client.
pub struct Client {
    pub path: PathBuf,
    pub profile: String,
}

/// `cargo build --profile <profile> -p ch14-performance --bin bench-client`; cargo's own progress
/// goes to the terminal, the path of the binary comes from its JSON messages.
pub fn build(profile: &str) -> Result<Client> {
    let fresh = if profile == "release" { ", first time takes a few minutes" } else { "" };
    println!(
        "building the Rust bench client ({profile}{fresh}): cargo build --profile {profile} -p {PACKAGE} --bin {BINARY}"
    );
    let started = Instant::now();
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--profile", profile, "-p", PACKAGE, "--bin", BINARY])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo")?;
    let mut path = None;
    for line in BufReader::new(child.stdout.take().context("no stdout from cargo")?).lines() {
        if let Some(found) = executable(&line?) {
            path = Some(found);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("building the bench client failed ({status}); chapter 14 (or 4) does not compile");
    }
    let path = path.context("cargo built no bench-client executable")?;
    println!("  built in {:.0} s: {}", started.elapsed().as_secs_f64(), path.display());
    Ok(Client { path, profile: profile.to_string() })
}

/// The executable of the bench client in one of cargo's `--message-format=json` lines.
pub fn executable(line: &str) -> Option<PathBuf> {
    let message: Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" || message["target"]["name"] != BINARY {
        return None;
    }
    message["executable"].as_str().map(PathBuf::from)
}

impl Client {
    /// Runs one measurement and returns its JSON line.
    pub fn run(&self, args: &[String]) -> Result<Value> {
        let mut command = Command::new(&self.path);
        // The environment this xtask sees, whatever path the binary was built from.
        command.args(args).current_dir(workspace_root()).env(WORKBOOK_DIR, Layout::current().root);
        let output = crate::command::output(command)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().rev().find(|l| l.starts_with('{')).context("no JSON line from bench-client")?;
        serde_json::from_str(line).with_context(|| format!("reading bench-client's output {line:?}"))
    }
}

/// A number field of a bench-client result.
pub fn number(result: &Value, field: &str) -> Result<f64> {
    result[field].as_f64().with_context(|| format!("no {field} in {result}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_in_cargos_messages() {
        let artifact = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["bin"],"name":"bench-client"},"executable":"/w/target/release/bench-client","fresh":true}"#;
        assert_eq!(executable(artifact), Some(PathBuf::from("/w/target/release/bench-client")));
        let lib =
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"ch14_performance"},"executable":null}"#;
        assert_eq!(executable(lib), None);
        assert_eq!(executable(r#"{"reason":"build-finished","success":true}"#), None);
        assert_eq!(executable("not json"), None);
    }

    #[test]
    fn reads_numbers_of_a_result() {
        let result: Value = serde_json::from_str(r#"{"records_per_sec": 812345.5, "kind": "consume"}"#).unwrap();
        assert_eq!(number(&result, "records_per_sec").unwrap(), 812345.5);
        assert!(number(&result, "kind").is_err());
    }
}
