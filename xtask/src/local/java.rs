//! Starting a Kafka main class on the JVM, as Kafka's `bin/*.sh` scripts do.

use std::path::Path;
use std::process::Command;

use super::jars::Runtime;
use crate::layout::runtime_templates;

/// Heap and JIT settings for a small machine: each server JVM stays under 512 MiB, and the
/// C1-only JIT starts faster (a learner's broker never runs long enough to need C2).
const SERVER_JVM: &[&str] =
    &["-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Djava.awt.headless=true"];
/// The CLI tools live for a second: smaller heap still.
const TOOL_JVM: &[&str] = &["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"];

/// `java <server flags> -cp <jars> <main_class>`: a broker or a Connect worker, logging INFO to stdout.
pub fn server(java: &Path, runtime: &Runtime, main_class: &str) -> Command {
    command(java, SERVER_JVM, runtime, &runtime_templates().join("log4j2.yaml"), main_class)
}

/// `java <tool flags> -cp <jars> <main_class>`: a Kafka CLI tool, logging only warnings, to stderr,
/// so that its stdout is just its output (pipe-friendly).
pub fn tool(java: &Path, runtime: &Runtime, main_class: &str) -> Command {
    command(java, TOOL_JVM, runtime, &runtime_templates().join("tools-log4j2.yaml"), main_class)
}

fn command(java: &Path, flags: &[&str], runtime: &Runtime, log_config: &Path, main_class: &str) -> Command {
    let mut command = Command::new(java);
    command
        .args(flags)
        .arg(format!("-Dlog4j2.configurationFile={}", log_config.display()))
        .arg("-cp")
        .arg(&runtime.classpath)
        .arg(main_class);
    command
}
