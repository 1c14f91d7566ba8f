//! Helpers for the workbook-level tests in `tests/tests/`.
//!
//! These tests drive the real `xtask` binary (as a learner types `cargo xtask …`) and the real
//! services it starts; nothing is mocked.

use std::path::PathBuf;
use std::process::{Command, Output};

pub use workbook_support::env::workspace_root;

/// The built `xtask` binary (`cargo test` builds it first as part of the workspace).
pub fn xtask_binary() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join("debug").join("xtask");
    assert!(binary.exists(), "{} is missing: run `cargo build -p xtask` first", binary.display());
    binary
}

/// `cargo xtask ARGS…` as a command, run from the workspace root.
pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(xtask_binary());
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs the command and returns its output as text (stdout + stderr) and whether it succeeded.
pub fn run(mut command: Command) -> (bool, String) {
    let Output { status, stdout, stderr } = command.output().expect("xtask runs");
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.success(), text)
}
