//! Running other programs: show the command, and turn a failed exit into a readable error.

use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// The command as a learner would type it (program and arguments, space-separated).
pub fn display(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs `command` to completion, inheriting the terminal; fails unless it exits with 0.
pub fn run(mut command: Command) -> Result<()> {
    let shown = display(&command);
    let status = command.status().with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` and captures its output; fails (showing stderr) unless it exits with 0.
pub fn output(mut command: Command) -> Result<Output> {
    let shown = display(&command);
    let output = command.output().with_context(|| format!("could not start `{shown}`"))?;
    if !output.status.success() {
        bail!("`{shown}` failed ({}):\n{}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(output)
}
