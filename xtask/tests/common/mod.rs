//! Running `cargo xtask` in tests: this crate's own binary, the one `cargo test` just built.

use std::process::{Command, Output};

/// `cargo xtask ARGS…` as a command, run from the workspace root.
pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).current_dir(workbook_support::env::workspace_root());
    command
}

/// Runs the command and returns its output as text (stdout + stderr) and whether it succeeded.
pub fn run(mut command: Command) -> (bool, String) {
    let Output { status, stdout, stderr } = command.output().expect("the command runs");
    let text = format!("{}{}", String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    (status.success(), text)
}
