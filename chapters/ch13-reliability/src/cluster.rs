//! A three-broker cluster of the chapter's own, in a temporary directory, that the chapter may
//! break on purpose: `cargo xtask up --brokers 3 --no-connect` with `WORKBOOK_DIR` pointing
//! elsewhere, so the workbook's shared environment is never touched.
//!
//! Every failure goes through `cargo xtask broker stop|kill|start|pause|resume N`, so the same
//! code runs on either backend (local processes or Docker containers). When dropped, the guard
//! resumes any broker it left paused and runs `cargo xtask down --purge`, which stops every node
//! together and deletes the directory.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use workbook_support::Env;
use workbook_support::xtask;

/// The chapter's own three-broker cluster; stopped and deleted when dropped.
pub struct OwnCluster {
    pub env: Env,
    dir: tempfile::TempDir,
    /// Brokers paused by [`OwnCluster::pause_broker`] and not resumed yet.
    paused: BTreeSet<i32>,
}

/// How a broker goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// SIGKILL (`docker kill`): a crash, a power cut, the OOM killer. No goodbye: the controller
    /// notices only when the broker's heartbeats stop.
    Crash,
    /// SIGTERM (`docker stop`): a clean shutdown. The broker first asks the controller to move
    /// its leaderships away and take it out of the ISRs.
    Shutdown,
}

impl Exit {
    /// The signal it sends, as the chapter's output names it.
    pub fn signal(self) -> &'static str {
        match self {
            Exit::Crash => "SIGKILL",
            Exit::Shutdown => "SIGTERM",
        }
    }
}

impl OwnCluster {
    /// `WORKBOOK_DIR=<temp dir> cargo xtask up --brokers 3 --no-connect`, then reads its env file.
    pub fn up() -> Result<OwnCluster> {
        let dir = tempfile::Builder::new()
            .prefix("ch13-reliability-")
            .tempdir()
            .context("creating a temp dir")?;
        let env = xtask::up(dir.path(), &["--brokers", "3", "--no-connect"])?;
        Ok(OwnCluster { env, dir, paused: BTreeSet::new() })
    }

    /// The directory that holds the cluster's data, logs and `state.json`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    // ANCHOR: kill
    /// Broker `id` goes away (`cargo xtask broker kill|stop ID`); returns once it is gone.
    /// It keeps its data directory (or Docker volume), so [`OwnCluster::restart_broker`] brings
    /// back the same node with the same log.
    pub fn stop_broker(&mut self, id: i32, how: Exit) -> Result<()> {
        let action = match how {
            Exit::Crash => "kill",
            Exit::Shutdown => "stop",
        };
        self.broker(action, id)?;
        self.paused.remove(&id);
        Ok(())
    }

    /// Starts broker `id` again (`cargo xtask broker start ID --no-wait`): same settings, same
    /// data. Returns once its process (or container) runs; the broker then recovers its log,
    /// registers with the controller, catches up from the leaders and rejoins the ISRs, which the
    /// caller watches in the metadata.
    pub fn restart_broker(&mut self, id: i32) -> Result<()> {
        xtask::run(self.dir(), &["broker", "start", &id.to_string(), "--no-wait"]).map(drop)
    }

    /// Freezes broker `id` where it is (`cargo xtask broker pause ID`: SIGSTOP, or `docker
    /// pause`). Its process and its connections stay, but it neither fetches from leaders, nor
    /// answers requests, nor sends heartbeats: a long GC pause, a VM stall, a network cut.
    pub fn pause_broker(&mut self, id: i32) -> Result<()> {
        self.broker("pause", id)?;
        self.paused.insert(id);
        Ok(())
    }

    /// Lets a paused broker carry on from where it froze (`cargo xtask broker resume ID`).
    pub fn resume_broker(&mut self, id: i32) -> Result<()> {
        self.broker("resume", id)?;
        self.paused.remove(&id);
        Ok(())
    }
    // ANCHOR_END: kill

    fn broker(&self, action: &str, id: i32) -> Result<()> {
        xtask::run(self.dir(), &["broker", action, &id.to_string()]).map(drop)
    }

    /// Resumes what is still paused (a frozen node would ignore the SIGTERM that `down` sends it
    /// and be killed only after a grace period), then `cargo xtask down --purge`, which stops
    /// every node together: a KRaft quorum must not lose its majority halfway.
    fn teardown(&mut self) {
        for id in std::mem::take(&mut self.paused) {
            let _ = self.broker("resume", id);
        }
        let _ = xtask::run(self.dir(), &["down", "--purge"]);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.teardown();
    }
}
