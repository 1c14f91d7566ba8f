//! A three-broker cluster of the chapter's own, to move replicas between brokers:
//! `cargo xtask up --brokers 3 --no-connect` with `WORKBOOK_DIR` pointing at a temporary
//! directory, so the workbook's shared environment is never touched. Dropping it runs
//! `cargo xtask down --purge` there.

use std::path::Path;

use anyhow::{Context, Result};
use workbook_support::Env;
use workbook_support::xtask;

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
        let env = xtask::up(dir.path(), &["--brokers", "3", "--no-connect"])?;
        Ok(OwnCluster { env, dir })
    }

    /// The temporary directory of the cluster (its data, logs and env file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = xtask::run(self.dir.path(), &["down", "--purge"]);
    }
}
