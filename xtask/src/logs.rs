//! `cargo xtask logs COMPONENT`: one service's log, on either backend: the local backend's file
//! under `.workbook/logs/`, or the docker backend's container output. What a broker says there
//! (an election, a truncation, a fenced replica) is often the only account of what it did.

use anyhow::{Context, Result, bail};

use crate::docker;
use crate::layout::Layout;
use crate::state::State;

#[derive(clap::Args)]
pub struct LogsOptions {
    /// The component, as `cargo xtask status` names it: kafka-1, kafka-2, …, connect or mariadb.
    component: String,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    tail: Option<usize>,
}

pub fn run(options: &LogsOptions) -> Result<()> {
    let layout = Layout::current();
    let Some(state) = State::load(&layout.state_file())? else {
        bail!("no environment is running (no {}). Start one with `cargo xtask up`", layout.state_file().display());
    };
    let Some(component) = state.component(&options.component) else {
        let names: Vec<&str> = state.components.iter().map(|c| c.name.as_str()).collect();
        bail!("this environment has no component {:?}; it has {}", options.component, names.join(", "));
    };
    let log = match (&component.log, &component.container) {
        (Some(path), _) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        (None, Some(container)) => container_output(container, options.tail)?,
        (None, None) => {
            bail!("{} was not started by the workbook (external backend): its log is wherever it runs", component.name)
        }
    };
    print!("{}", last_lines(&log, options.tail));
    Ok(())
}

/// Everything the container wrote (stdout and stderr: the images log to the console).
fn container_output(container: &str, tail: Option<usize>) -> Result<String> {
    let mut command = docker::docker_cli();
    command.arg("logs");
    if let Some(lines) = tail {
        command.args(["--tail", &lines.to_string()]);
    }
    let output = command.arg(container).output().context("running `docker logs`")?;
    if !output.status.success() {
        bail!("`docker logs {container}` failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

fn last_lines(log: &str, tail: Option<usize>) -> String {
    let Some(tail) = tail else { return log.to_string() };
    let lines: Vec<&str> = log.lines().collect();
    let mut shown = lines[lines.len().saturating_sub(tail)..].join("\n");
    if !shown.is_empty() {
        shown.push('\n');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(last_lines("a\nb\nc\n", Some(2)), "b\nc\n");
        assert_eq!(last_lines("a\nb\n", Some(5)), "a\nb\n");
        assert_eq!(last_lines("a\nb\n", None), "a\nb\n");
        assert_eq!(last_lines("", Some(3)), "");
    }
}
