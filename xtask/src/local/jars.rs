//! Kafka's jars and the Connect plugins, resolved once with Maven into a cache outside the repo.
//!
//! The Kafka distribution is just a `libs/` folder of jars plus scripts that call `java`.
//! We get the same jars from Maven (xtask/runtime/pom.xml) or use your `$KAFKA_HOME/libs`,
//! and start the same main classes the scripts start.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::layout;
use crate::prereqs::{self, JarSource};
use crate::versions;

/// Where the JVM finds Kafka's classes and Connect its plugins.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The folder of jars (the cache, or `$KAFKA_HOME/libs`).
    pub libs: PathBuf,
    /// Every jar of broker, tools and Connect, joined with ':' (a Java classpath).
    pub classpath: String,
    /// Connect's `plugin.path`: one folder per plugin (None when Connect is not needed).
    pub plugin_path: Option<PathBuf>,
}

/// Makes sure the jars (and, if `with_plugins`, the Connect plugins) are present, downloading
/// them the first time with progress; a second call downloads nothing.
pub fn ensure(with_plugins: bool) -> Result<Runtime> {
    let cache = layout::kafka_cache();
    let libs = kafka_libs(&cache)?;
    let plugin_path = match with_plugins {
        true => Some(connect_plugins(&cache)?),
        false => None,
    };
    Ok(Runtime { classpath: classpath(&libs)?, plugin_path, libs })
}

/// Could [`ensure`] succeed, without downloading anything now? (The jars are cached, or there is
/// a Kafka distribution at `$KAFKA_HOME`, or Maven to fetch them.)
pub fn available(with_plugins: bool) -> Result<()> {
    let cache = layout::kafka_cache();
    if std::env::var_os("KAFKA_HOME").is_some() || !is_complete(&cache.join("libs")) {
        prereqs::jar_source()?;
    }
    if with_plugins && !is_complete(&cache.join("plugins")) && prereqs::maven().is_none() {
        bail!("Kafka Connect's plugins come from Maven, and `mvn` was not found");
    }
    Ok(())
}

/// `$KAFKA_HOME/libs` if set, else the cached Maven download (made now if missing).
fn kafka_libs(cache: &Path) -> Result<PathBuf> {
    let libs = cache.join("libs");
    if std::env::var_os("KAFKA_HOME").is_none() && is_complete(&libs) {
        return Ok(libs);
    }
    match prereqs::jar_source()? {
        JarSource::KafkaHome(home) => Ok(home.join("libs")),
        JarSource::Maven(mvn) => {
            let output = format!("-DoutputDirectory={}", libs.display());
            resolve(
                &mvn,
                cache,
                &libs,
                "Kafka jars",
                &["dependency:copy-dependencies", "-DincludeScope=runtime", &output],
            )?;
            Ok(libs)
        }
    }
}

/// The Connect plugins (always from Maven: a Kafka distribution does not ship Debezium).
fn connect_plugins(cache: &Path) -> Result<PathBuf> {
    let plugins = cache.join("plugins");
    if is_complete(&plugins) {
        return Ok(plugins);
    }
    let Some(mvn) = prereqs::maven() else {
        bail!(
            "Kafka Connect's plugins (Debezium MariaDB source, JDBC sink) come from Maven, and `mvn` was not found.\n\
             Install Maven (Debian/Ubuntu `sudo apt-get install maven`, macOS `brew install maven`), or use `--no-connect`"
        );
    };
    let target = format!("-Dplugins.dir={}", plugins.display());
    resolve(
        &mvn,
        cache,
        &plugins,
        "Connect plugins",
        &["dependency:copy@connect-file", "dependency:unpack@debezium", &target],
    )?;
    Ok(plugins)
}

fn is_complete(target: &Path) -> bool {
    target.join(".complete").exists()
}

/// Runs one Maven goal set into `target`, then marks it complete so it never runs again.
fn resolve(mvn: &Path, cache: &Path, target: &Path, what: &str, goals: &[&str]) -> Result<()> {
    std::fs::create_dir_all(cache)?;
    let pom = cache.join("pom.xml");
    std::fs::copy(layout::runtime_templates().join("pom.xml"), &pom)
        .context("copying xtask/runtime/pom.xml into the cache")?;
    println!("  {what}: resolving with Maven into {} (first time only)", target.display());
    let mut command = Command::new(mvn);
    // The versions come from versions.rs, the one pin every backend shares.
    command
        .arg("-B")
        .arg("-f")
        .arg(&pom)
        .arg(format!("-Dkafka.version={}", versions::KAFKA))
        .arg(format!("-Ddebezium.mariadb.version={}", versions::DEBEZIUM_MARIADB))
        .arg(format!("-Ddebezium.jdbc.version={}", versions::DEBEZIUM_JDBC))
        .args(goals);
    run_with_progress(command, what)?;
    std::fs::write(target.join(".complete"), versions::KAFKA)?;
    Ok(())
}

/// Runs Maven, printing a progress line every few seconds instead of its wall of output,
/// and its last lines if it fails.
fn run_with_progress(mut command: Command, what: &str) -> Result<()> {
    let shown = crate::command::display(&command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let downloads = Arc::new(AtomicUsize::new(0));
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let counter = Arc::clone(&downloads);
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("Downloaded from") {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            lines.push(line);
        }
        lines
    });
    let errors = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
    let started = Instant::now();
    let mut last_report = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            println!(
                "    … {what}: {} s, {} files downloaded",
                started.elapsed().as_secs(),
                downloads.load(Ordering::Relaxed)
            );
            last_report = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = reader.join().unwrap_or_default();
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        let tail: Vec<&String> = out.iter().chain(err.iter()).rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().map(String::as_str).collect();
        bail!("`{shown}` failed ({status}). Its last lines:\n{}", tail.join("\n"));
    }
    println!(
        "    {what}: done in {:.0} s ({} files downloaded)",
        started.elapsed().as_secs_f64(),
        downloads.load(Ordering::Relaxed)
    );
    Ok(())
}

/// The classpath of a `libs/` folder: every jar except the FileStream connectors, which
/// belong on Connect's plugin path (as in Kafka's own `bin/kafka-run-class.sh`).
fn classpath(libs: &Path) -> Result<String> {
    let mut jars: Vec<String> = std::fs::read_dir(libs)
        .with_context(|| format!("listing {}", libs.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "jar"))
        .filter(|path| !path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("connect-file")))
        .map(|path| path.display().to_string())
        .collect();
    if jars.is_empty() {
        bail!("{} holds no jars; delete it and run `cargo xtask up` again", libs.display());
    }
    jars.sort();
    Ok(jars.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maven_manifest_pins_the_versions_of_versions_rs() {
        let pom = std::fs::read_to_string(layout::runtime_templates().join("pom.xml")).unwrap();
        assert!(pom.contains(&format!("<kafka.version>{}</kafka.version>", versions::KAFKA)));
        assert!(
            pom.contains(&format!(
                "<debezium.mariadb.version>{}</debezium.mariadb.version>",
                versions::DEBEZIUM_MARIADB
            ))
        );
        assert!(pom.contains(&format!("<debezium.jdbc.version>{}</debezium.jdbc.version>", versions::DEBEZIUM_JDBC)));
    }

    #[test]
    fn the_classpath_leaves_the_filestream_connectors_to_the_plugin_path() {
        let dir = tempfile::tempdir().unwrap();
        for jar in ["kafka-clients-4.3.1.jar", "connect-file-4.3.1.jar", "notes.txt"] {
            std::fs::write(dir.path().join(jar), "").unwrap();
        }
        let classpath = classpath(dir.path()).unwrap();
        assert!(classpath.ends_with("kafka-clients-4.3.1.jar"));
        assert!(!classpath.contains("connect-file") && !classpath.contains("notes.txt"));
    }
}
