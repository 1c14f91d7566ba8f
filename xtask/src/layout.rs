//! Where things live on disk.
//!
//! - `.workbook/` (in the repo, git-ignored): env file, state, logs, data of this environment.
//! - the cache (outside the repo, shared by every checkout): Kafka jars and Connect plugins,
//!   so a second `up` downloads nothing.

use std::path::PathBuf;

use workbook_support::env::{workbook_dir, workspace_root};

use crate::versions;

/// Paths of one environment.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn current() -> Layout {
        Layout { root: workbook_dir() }
    }

    pub fn env_file(&self) -> PathBuf {
        self.root.join("env")
    }

    pub fn state_file(&self) -> PathBuf {
        self.root.join("state.json")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config")
    }

    pub fn kafka_data(&self, node_id: u32) -> PathBuf {
        self.root.join("data").join(format!("kafka-{node_id}"))
    }

    pub fn mariadb_data(&self) -> PathBuf {
        self.root.join("data").join("mariadb")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }

    /// `WORKBOOK_FILES_DIR`: the directory your programs and the Connect worker share.
    pub fn files(&self) -> PathBuf {
        self.root.join("files")
    }

    /// The local backend's `CONNECT_FILES_DIR`: a link to `files`, so the same directory has
    /// another name in connector configs (as it has in the Connect container).
    pub fn connect_files_link(&self) -> PathBuf {
        self.root.join("connect-files")
    }

    /// Where the docker backend records its containers' names and volumes, kept after `down`
    /// (the volumes hold the data) until `down --purge` removes them.
    pub fn docker_record(&self) -> PathBuf {
        self.root.join("data").join("docker.json")
    }
}

/// The shared download cache: `$WORKBOOK_CACHE`, else `$XDG_CACHE_HOME/kafka-workbook`, else `~/.cache/kafka-workbook`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WORKBOOK_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".cache")
    });
    base.join("kafka-workbook")
}

/// Jars and plugins of the pinned Kafka version.
pub fn kafka_cache() -> PathBuf {
    cache_dir().join(format!("kafka-{}", versions::KAFKA))
}

/// The runtime templates kept with xtask (Maven manifest, properties, logging).
pub fn runtime_templates() -> PathBuf {
    workspace_root().join("xtask").join("runtime")
}
