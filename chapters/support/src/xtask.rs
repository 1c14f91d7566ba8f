//! `cargo xtask` for an environment of a chapter's own: the chapters that break brokers on
//! purpose (or move replicas between them) start their own cluster in a temporary directory,
//! with `WORKBOOK_DIR` pointing there, so the workbook's shared environment is never touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::{Env, env, envfile};

/// `cargo xtask up ARGS` for the environment in `dir`, then the [`Env`] of the env file it wrote
/// there. If `up` fails, `cargo xtask down --purge` stops whatever nodes it had started.
pub fn up(dir: &Path, args: &[&str]) -> Result<Env> {
    let backend = same_backend_as_the_shared_environment();
    let mut up_args: Vec<&str> = vec!["up"];
    if let Some(backend) = &backend {
        up_args.extend(["--backend", backend.as_str()]);
    }
    up_args.extend(args.iter().copied());
    if let Err(error) = run(dir, &up_args) {
        let _ = run(dir, &["down", "--purge"]);
        return Err(error);
    }
    let vars = envfile::read(&dir.join("env"))?;
    Env::from_sources(|key| vars.get(key).cloned())
}

/// The backend the workbook's shared environment runs on (`local` or `docker`), so that a
/// chapter's own cluster runs on it too: on a machine with Docker, where `up` alone would choose
/// containers, a learner who chose local processes gets local processes (and no image pulls).
/// `None` (let `up` choose) when none runs, or when it is your own cluster (`external`).
fn same_backend_as_the_shared_environment() -> Option<String> {
    backend_in(&env::workbook_dir().join("state.json"))
}

/// The backend an environment's `state.json` names, if it is one `up` can start.
fn backend_in(state_file: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct State {
        backend: String,
    }
    let state: State = serde_json::from_str(&std::fs::read_to_string(state_file).ok()?).ok()?;
    matches!(state.backend.as_str(), "local" | "docker").then_some(state.backend)
}

/// Runs `cargo xtask ARGS` for the environment in `dir` and returns its standard output, or an
/// error with everything it printed.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let (mut command, binary) = command();
    command
        .args(args)
        .current_dir(env::workspace_root())
        .env(env::WORKBOOK_DIR, dir)
        .stdin(Stdio::null());
    let shown = format!("cargo xtask {}", args.join(" "));
    let output = command.output().with_context(|| format!("running `{shown}`"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stale = match &binary {
        Some(path) if stderr.contains("invalid value") => format!(
            "\n{} predates the chapters' use of it: rebuild it with `cargo build -p xtask` \
             (any `cargo xtask` command does too) and run again",
            path.display()
        ),
        _ => String::new(),
    };
    bail!("`{shown}` failed ({}):\n{stdout}{stderr}{stale}", output.status)
}

/// The built xtask binary if there is one (any `cargo xtask …` builds it), else `cargo run -p
/// xtask`; with the binary's path, to name it when it turns out to be older than the chapters.
fn command() -> (Command, Option<PathBuf>) {
    let root = env::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target.join("debug").join("xtask");
    if binary.is_file() {
        return (Command::new(&binary), Some(binary));
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["run", "-q", "-p", "xtask", "--"]);
    (cargo, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chapters_cluster_runs_on_the_shared_environments_backend() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.json");
        assert_eq!(backend_in(&state), None, "no shared environment: up chooses");
        for (backend, chosen) in
            [("local", Some("local")), ("docker", Some("docker")), ("external", None)]
        {
            std::fs::write(&state, format!(r#"{{"backend": "{backend}", "brokers": 1}}"#)).unwrap();
            assert_eq!(backend_in(&state).as_deref(), chosen, "{backend}");
        }
    }

    #[test]
    fn a_failed_command_is_an_error_with_what_xtask_printed() {
        let error = run(&std::env::temp_dir(), &["no-such-command"]).unwrap_err().to_string();
        assert!(error.contains("`cargo xtask no-such-command` failed"), "{error}");
        // clap's own message, from the xtask's stderr.
        assert!(error.contains("unrecognized subcommand"), "{error}");
    }
}
