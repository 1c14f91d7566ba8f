//! A three-broker cluster of the chapter's own, in a temporary directory, that the chapter may
//! break on purpose: `cargo xtask up --brokers 3 --no-connect` with `WORKBOOK_DIR` pointing
//! elsewhere, so the workbook's shared environment is never touched.
//!
//! xtask has no "restart one broker" command, so the guard remembers how each broker it kills
//! was started (its command line, working directory and environment, read from `/proc`) and
//! starts it again the same way: same configuration file, same data directory, same node id.
//! When dropped it stops every broker together, then `cargo xtask down --purge` stops the
//! rest (MariaDB) and deletes the directory.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use workbook_support::{Env, env, envfile};

/// How a killed broker was started, so that it can be started again.
#[derive(Debug, Clone)]
struct Launch {
    argv: Vec<String>,
    cwd: PathBuf,
    vars: Vec<(String, String)>,
}

/// The chapter's own three-broker cluster; stopped and deleted when dropped.
pub struct OwnCluster {
    pub env: Env,
    dir: tempfile::TempDir,
    launches: BTreeMap<i32, Launch>,
    restarted: BTreeMap<i32, Child>,
}

impl OwnCluster {
    /// `WORKBOOK_DIR=<temp dir> cargo xtask up --brokers 3 --no-connect`, then reads its env file.
    pub fn up() -> Result<OwnCluster> {
        let dir = tempfile::Builder::new().prefix("ch13-reliability-").tempdir().context("creating a temp dir")?;
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
        Ok(OwnCluster { env, dir, launches: BTreeMap::new(), restarted: BTreeMap::new() })
    }

    /// The directory that holds the cluster's data, logs and `state.json`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The pid of broker `id`, if it runs: a broker we restarted, or the one `up` started.
    pub fn pid(&self, id: i32) -> Result<Option<u32>> {
        if let Some(child) = self.restarted.get(&id) {
            return Ok(Some(child.id()).filter(|pid| alive(*pid)));
        }
        let state = self.state()?;
        let pid = state["components"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == format!("kafka-{id}"))
            .and_then(|c| c["pid"].as_u64())
            .map(|pid| pid as u32);
        let marker = state["marker"].as_str().unwrap_or_default().to_string();
        Ok(pid.filter(|pid| alive(*pid) && is_ours(*pid, &marker)))
    }

    fn state(&self) -> Result<serde_json::Value> {
        let path = self.dir().join("state.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    // ANCHOR: kill
    /// Sends `signal` to broker `id` and waits until its process is gone. SIGKILL is a crash
    /// (power cut, OOM killer): no goodbye, the controller notices only when the broker's
    /// heartbeats stop. SIGTERM is a clean shutdown: the broker first asks the controller to
    /// move its leaderships away and take it out of the ISRs.
    pub fn stop_broker(&mut self, id: i32, signal: Signal) -> Result<u32> {
        let pid = self.pid(id)?.with_context(|| format!("broker {id} is not running"))?;
        self.launches.insert(id, launch_of(pid)?);
        kill(Pid::from_raw(pid as i32), signal).with_context(|| format!("sending {signal} to broker {id}"))?;
        let deadline = Instant::now() + Duration::from_secs(40);
        while alive(pid) {
            if let Some(child) = self.restarted.get_mut(&id) {
                let _ = child.try_wait();
            }
            if Instant::now() > deadline {
                bail!("broker {id} (pid {pid}) did not stop within 40 s of {signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.restarted.remove(&id);
        Ok(pid)
    }
    // ANCHOR_END: kill

    /// Starts broker `id` again exactly as it ran before [`OwnCluster::stop_broker`]: same
    /// `server.properties`, same data directory. It recovers its log, registers with the
    /// controller, catches up from the leaders and rejoins the ISRs.
    pub fn restart_broker(&mut self, id: i32) -> Result<u32> {
        let launch = self.launches.get(&id).with_context(|| format!("broker {id} was not stopped by us"))?;
        let log_path = self.dir().join("logs").join(format!("kafka-{id}.log"));
        let log = File::options().create(true).append(true).open(&log_path)?;
        let child = Command::new(&launch.argv[0])
            .args(&launch.argv[1..])
            .current_dir(&launch.cwd)
            .env_clear()
            .envs(launch.vars.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a Ctrl-C meant for the example must not kill it halfway.
            .process_group(0)
            .spawn()
            .with_context(|| format!("restarting broker {id}"))?;
        let pid = child.id();
        self.restarted.insert(id, child);
        Ok(pid)
    }

    /// Stops all brokers together (a KRaft quorum must not lose its majority halfway, or the
    /// last broker waits for a controller), then `cargo xtask down --purge`.
    fn teardown(&mut self) {
        let pids: Vec<u32> = (1..=3).filter_map(|id| self.pid(id).ok().flatten()).collect();
        for pid in &pids {
            let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for child in self.restarted.values_mut() {
                let _ = child.try_wait();
            }
            if !pids.iter().any(|pid| alive(*pid)) {
                break;
            }
            if Instant::now() > deadline {
                for pid in pids.iter().filter(|pid| alive(**pid)) {
                    let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for child in self.restarted.values_mut() {
            let _ = child.wait();
        }
        let _ = xtask(self.dir(), &["down", "--purge"]).output();
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// `cargo xtask ARGS` for the environment in `dir`: the built xtask binary if there is one (a
/// `cargo xtask …` has built it), else through cargo.
fn xtask(dir: &Path, args: &[&str]) -> Command {
    let root = env::workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
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

/// Reads a running process's command line, working directory and environment from `/proc`.
fn launch_of(pid: u32) -> Result<Launch> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let split = |bytes: Vec<u8>| -> Vec<String> {
        bytes.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
    };
    let argv = split(std::fs::read(proc.join("cmdline")).with_context(|| format!("reading /proc/{pid}/cmdline"))?);
    let cwd = std::fs::read_link(proc.join("cwd")).with_context(|| format!("reading /proc/{pid}/cwd"))?;
    let vars = split(std::fs::read(proc.join("environ")).with_context(|| format!("reading /proc/{pid}/environ"))?)
        .into_iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    if argv.is_empty() {
        bail!("pid {pid} has an empty command line");
    }
    Ok(Launch { argv, cwd, vars })
}

/// A live process (a zombie waiting to be reaped counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Is `pid` one of this cluster's processes (its command line names the cluster's directory)?
fn is_ours(pid: u32, marker: &str) -> bool {
    !marker.is_empty()
        && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
}
