//! A three-broker cluster of the chapter's own, to move replicas between brokers:
//! `cargo xtask up --brokers 3 --no-connect` with `WORKBOOK_DIR` pointing at a temporary
//! directory, so the workbook's shared environment is never touched. Dropping it runs
//! `cargo xtask down --purge` there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use workbook_support::{Env, env, envfile};

/// The chapter's own three brokers; stopped and deleted when dropped.
pub struct OwnCluster {
    pub env: Env,
    dir: tempfile::TempDir,
}

impl OwnCluster {
    /// Starts three brokers (and reads the env file `up` wrote for them).
    pub fn up() -> Result<OwnCluster> {
        let dir = tempfile::Builder::new()
            .prefix("ch18-operations-")
            .tempdir()
            .context("creating a temp dir")?;
        println!("waiting for `cargo xtask up --brokers 3 --no-connect` (a cluster of our own)");
        let output = xtask(dir.path(), &["up", "--brokers", "3", "--no-connect"])
            .output()
            .context("running `cargo xtask up --brokers 3 --no-connect`")?;
        if !output.status.success() {
            let _ = xtask(dir.path(), &["down", "--purge"]).output();
            bail!(
                "`cargo xtask up --brokers 3 --no-connect` failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let vars = envfile::read(&dir.path().join("env"))?;
        let env = Env::from_sources(|key| vars.get(key).cloned())?;
        Ok(OwnCluster { env, dir })
    }

    /// The temporary directory of the cluster (its data, logs and env file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = xtask(self.dir.path(), &["down", "--purge"]).output();
    }
}

/// `cargo xtask ARGS` for the environment in `dir`: the built xtask binary if there is one,
/// else through cargo.
fn xtask(dir: &Path, args: &[&str]) -> Command {
    let root = env::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let binary = target.join("debug").join("xtask");
    let mut command = if binary.is_file() {
        Command::new(binary)
    } else {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["run", "-q", "-p", "xtask", "--"]);
        cargo
    };
    command.args(args).current_dir(root).env(env::WORKBOOK_DIR, dir).stdin(Stdio::null());
    command
}
