//! `cargo xtask bench --first-contact`: what a learner waits for before the first chapter runs.
//!
//! A fresh clone of this repository's last commit in a temporary directory, with a target
//! directory and a download cache of its own, so that nothing is built or downloaded yet:
//!
//! 1. cold `cargo xtask up`: clone, compile xtask, download Kafka's jars and the Connect plugins,
//!    start the three services and wait until they answer (at most 4 minutes on 2 cores);
//! 2. `cargo xtask down`, then warm `cargo xtask up`: everything built and downloaded, only the
//!    services start (at most 10 s);
//! 3. `cargo xtask down --purge`, and the clone is deleted.
//!
//! Crates come from cargo's cache (~/.cargo) and Kafka's jars and the Connect plugins from Maven's
//! local repository (~/.m2) when those already hold them; on a machine that never built a Rust or
//! Java project, downloading them comes on top (about 150 MB for Kafka and the plugins).
//!
//! The clone runs the `local` backend next to the environment that is already up: its services
//! take free ports instead of 9092, 8083 and 3307 (`up` picks free ones when those are taken),
//! and its processes, data and state stay in the clone's own `.workbook/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde_json::json;
use workbook_support::env::workspace_root;

use crate::layout::Layout;

/// The targets, in seconds.
const COLD_UP_TARGET: f64 = 240.0;
const WARM_UP_TARGET: f64 = 10.0;

/// The seconds each stage took.
#[derive(Debug, Default)]
struct Stages {
    clone: f64,
    build: f64,
    cold_up: f64,
    warm_up: f64,
}

impl Stages {
    /// What a learner waits for the first time: clone, build, downloads and start.
    fn cold(&self) -> f64 {
        self.clone + self.build + self.cold_up
    }
}

pub fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("kafka-workbook-first-contact-{}", std::process::id()));
    println!(
        "\nFirst contact: a fresh clone in {}, its own target directory and download cache, the local backend\n\
         on free ports next to the running environment. The workbook's cache starts empty; crates come from\n\
         cargo's cache (~/.cargo) and Kafka's jars from Maven's (~/.m2) when those already hold them, as they\n\
         would after any other Rust or Java project.",
        dir.display()
    );
    let load_before = super::load_average();
    let measured = measure(&dir);
    // Whatever happened, the clone's services stop and its files go.
    let clone = dir.join("repo");
    if clone.join(".workbook").exists() {
        let _ = cargo(&clone, &dir, &["xtask", "down", "--purge"]).status();
    }
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("warning: could not delete {}: {e}", dir.display());
    }
    let stages = measured?;
    let load_after = super::load_average();
    let show = |l: Option<f64>| l.map_or("?".to_string(), |v| format!("{v:.2}"));
    println!("\n{:<52} {:>8} {:>8}  verdict", "first contact", "seconds", "target");
    println!("{:<52} {:>8.1}", "  git clone", stages.clone);
    println!("{:<52} {:>8.1}", "  cargo build -p xtask (fresh target directory)", stages.build);
    println!("{:<52} {:>8.1}", "  cargo xtask up (downloads, start, readiness)", stages.cold_up);
    let rows = [
        ("cold: clone + build + downloads + start", stages.cold(), COLD_UP_TARGET),
        ("warm: cargo xtask up after down", stages.warm_up, WARM_UP_TARGET),
    ];
    for (what, seconds, target) in rows {
        let verdict = if seconds <= target { "met" } else { "MISSED" };
        println!("{what:<52} {seconds:>8.1} {target:>8.0}  {verdict}");
    }
    println!(
        "machine: {} cores, load average {} before, {} after",
        super::cores(),
        show(load_before),
        show(load_after)
    );
    let file = save(&stages, (load_before, load_after))?;
    println!("results: {}", file.display());
    let missed = stages.cold() > COLD_UP_TARGET || stages.warm_up > WARM_UP_TARGET;
    if missed {
        bail!("first-contact target missed");
    }
    Ok(())
}

fn measure(dir: &Path) -> Result<Stages> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let clone = dir.join("repo");
    let mut git = Command::new("git");
    git.args(["clone", "--quiet"]).arg(workspace_root()).arg(&clone);
    let clone_seconds = timed("git clone", git)?;
    let build = timed("build", cargo(&clone, dir, &["build", "--quiet", "--package", "xtask"]))?;
    let cold_up = timed("cold up", cargo(&clone, dir, &["xtask", "up", "--backend", "local"]))?;
    crate::command::run(cargo(&clone, dir, &["xtask", "down"]))?;
    let warm_up = timed("warm up", cargo(&clone, dir, &["xtask", "up", "--backend", "local"]))?;
    Ok(Stages { clone: clone_seconds, build, cold_up, warm_up })
}

/// `cargo <args>` in the clone, with the clone's own target directory and download cache.
fn cargo(clone: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .args(args)
        .current_dir(clone)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("WORKBOOK_CACHE", dir.join("cache"))
        // The clone finds its own `.workbook/`, not the one of the environment already running.
        .env_remove(workbook_support::env::WORKBOOK_DIR)
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("CONNECT_URL")
        .env_remove("DATABASE_URL");
    command
}

fn timed(what: &str, command: Command) -> Result<f64> {
    println!("== {what}: > {}", crate::command::display(&command));
    let started = Instant::now();
    crate::command::run(command)?;
    let seconds = started.elapsed().as_secs_f64();
    println!("== {what}: {seconds:.1} s");
    Ok(seconds)
}

/// Writes `.workbook/bench/first-contact-<unix seconds>.json`.
fn save(stages: &Stages, load: (Option<f64>, Option<f64>)) -> Result<PathBuf> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let document = json!({
        "unix_time": now,
        "machine": {"cores": super::cores(), "load_before": load.0, "load_after": load.1},
        "seconds": {
            "clone": stages.clone, "build": stages.build, "cold_up": stages.cold_up,
            "cold_total": stages.cold(), "warm_up": stages.warm_up,
        },
        "targets": {"cold_total": COLD_UP_TARGET, "warm_up": WARM_UP_TARGET},
    });
    let dir = Layout::current().root.join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join(format!("first-contact-{now}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(&document)?)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cold_time_is_everything_before_the_first_chapter_runs() {
        let stages = Stages { clone: 1.0, build: 150.0, cold_up: 40.0, warm_up: 6.0 };
        assert_eq!(stages.cold(), 191.0);
    }
}
