//! `cargo xtask cli`: the real Kafka command-line tools against the environment.
//!
//! Kafka's `bin/kafka-topics.sh` is a one-line wrapper around `java … TopicCommand`; here
//! the same main classes run from the same jars (local backend), or inside the broker's
//! container (docker backend). Output goes to stdout untouched, so it pipes like the original.

use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;
use workbook_support::Env;

use crate::layout::Layout;
use crate::state::{Backend, State};
use crate::{docker, local, prereqs};

#[derive(Args, Debug)]
// Our own --help flag is off so that `cli kafka-topics --help` reaches kafka-topics;
// `cargo xtask cli --help` still prints this command's help (see `run`).
#[command(after_help = tool_list(), disable_help_flag = true)]
pub struct CliOptions {
    /// The tool, as Kafka's bin/ names it (kafka-topics, kafka-console-producer, ...).
    #[arg(allow_hyphen_values = true)]
    pub tool: String,
    /// Its arguments; --bootstrap-server is added for you when missing.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// A Kafka tool: its script name in `bin/`, its main class, and what it is for.
#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub main_class: &'static str,
    pub about: &'static str,
    /// Whether it talks to a broker (and so gets `--bootstrap-server` added).
    pub needs_bootstrap: bool,
    /// Whether it runs where the Connect worker runs (its file arguments in Connect's view).
    pub runs_in_connect: bool,
}

pub const TOOLS: &[Tool] = &[
    tool(
        "kafka-topics",
        "org.apache.kafka.tools.TopicCommand",
        "create, list, describe, alter and delete topics",
        true,
    ),
    tool("kafka-console-producer", "org.apache.kafka.tools.ConsoleProducer", "send lines of stdin as records", true),
    tool("kafka-console-consumer", "org.apache.kafka.tools.consumer.ConsoleConsumer", "print records to stdout", true),
    tool(
        "kafka-consumer-groups",
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "list groups, show offsets and lag, reset offsets",
        true,
    ),
    tool(
        "kafka-metadata-quorum",
        "org.apache.kafka.tools.MetadataQuorumCommand",
        "the KRaft controller quorum: leader, voters, lag",
        true,
    ),
    tool(
        "kafka-producer-perf-test",
        "org.apache.kafka.tools.ProducerPerformance",
        "measure producer throughput and latency",
        true,
    ),
    tool("kafka-consumer-perf-test", "org.apache.kafka.tools.ConsumerPerformance", "measure consumer throughput", true),
    tool("kafka-configs", "kafka.admin.ConfigCommand", "show and change topic, broker and client configs", true),
    tool("kafka-acls", "org.apache.kafka.tools.AclCommand", "list, add and remove ACLs", true),
    tool("kafka-get-offsets", "org.apache.kafka.tools.GetOffsetShell", "earliest/latest offsets of partitions", true),
    tool(
        "kafka-delete-records",
        "org.apache.kafka.tools.DeleteRecordsCommand",
        "delete records below an offset (--offset-json-file)",
        true,
    ),
    tool("kafka-transactions", "org.apache.kafka.tools.TransactionsCommand", "list and describe transactions", true),
    tool(
        "kafka-log-dirs",
        "org.apache.kafka.tools.LogDirsCommand",
        "where partitions live on the brokers' disks",
        true,
    ),
    tool(
        "kafka-reassign-partitions",
        "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
        "move partition replicas between brokers and log dirs",
        true,
    ),
    tool("kafka-cluster", "org.apache.kafka.tools.ClusterTool", "cluster id, unregister brokers", true),
    tool(
        "kafka-features",
        "org.apache.kafka.tools.FeatureCommand",
        "feature levels (metadata.version, ELR, ...)",
        true,
    ),
    tool(
        "kafka-dump-log",
        "org.apache.kafka.tools.DumpLogSegments",
        "print the records inside a log segment file",
        false,
    ),
    tool("kafka-storage", "kafka.tools.StorageTool", "format storage, make a cluster id (random-uuid)", false),
    tool(
        "connect-standalone",
        "org.apache.kafka.connect.cli.ConnectStandalone",
        "a single Connect worker configured by files",
        false,
    ),
];

const fn tool(name: &'static str, main_class: &'static str, about: &'static str, needs_bootstrap: bool) -> Tool {
    let runs_in_connect = matches!(name.as_bytes(), b"connect-standalone");
    Tool { name, main_class, about, needs_bootstrap, runs_in_connect }
}

fn tool_list() -> String {
    let mut text = String::from("Tools:\n");
    for tool in TOOLS {
        text.push_str(&format!("  {:<26} {}\n", tool.name, tool.about));
    }
    text.push_str("\nExample: cargo xtask cli kafka-topics --describe --topic quickstart-events");
    text
}

/// Finds a tool by name; `kafka-topics.sh` and `kafka-topics.bat` (as in the seed notes) work too.
pub fn find(name: &str) -> Result<&'static Tool> {
    let name = name.trim_end_matches(".sh").trim_end_matches(".bat");
    TOOLS.iter().find(|t| t.name == name).with_context(|| {
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        format!("unknown tool `{name}`. Available: {}", names.join(", "))
    })
}

/// Adds `--bootstrap-server` unless the arguments already say where to connect.
pub fn with_bootstrap(tool: &Tool, args: &[String], bootstrap: &str) -> Vec<String> {
    const WHERE: [&str; 3] = ["--bootstrap-server", "--bootstrap-controller", "--broker-list"];
    let asks_for_help = args.iter().any(|a| a == "--help" || a == "--version");
    let has_target = args.iter().any(|a| WHERE.iter().any(|w| a == w || a.starts_with(&format!("{w}="))));
    if !tool.needs_bootstrap || has_target || asks_for_help {
        return args.to_vec();
    }
    let mut full = vec!["--bootstrap-server".to_string(), bootstrap.to_string()];
    full.extend_from_slice(args);
    full
}

pub async fn run(options: &CliOptions) -> Result<()> {
    if options.tool == "--help" || options.tool == "-h" {
        print_help();
        return Ok(());
    }
    let tool = find(&options.tool)?;
    let state = running_state()?;
    let env = Env::load()?;
    let args = with_bootstrap(tool, &options.args, &env.bootstrap_servers);
    let args = if tool.runs_in_connect { with_connect_paths(&args, &env) } else { args };
    eprintln!("> {}.sh {}", tool.name, args.join(" "));
    let mut command = command_for(&state, &env, tool, &args)?;
    let status = command.status().with_context(|| format!("could not run {}", tool.name))?;
    // The tool's exit code is ours, so scripts can test it as they would the original.
    std::process::exit(status.code().unwrap_or(1));
}

fn print_help() {
    use clap::CommandFactory;
    let mut command = crate::Cli::command();
    command.build();
    if let Some(cli) = command.find_subcommand_mut("cli") {
        let _ = cli.print_help();
    }
}

/// Runs a tool and returns its stdout (for `status` and readiness checks).
pub fn capture(state: &State, tool_name: &str, args: &[String]) -> Result<String> {
    let tool = find(tool_name)?;
    let env = Env::load()?;
    let output = crate::command::output(command_for(state, &env, tool, args)?)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A tool that runs as Connect does (`connect-standalone`) reads its files where the Connect
/// worker sees them: a path under `WORKBOOK_FILES_DIR` becomes the same file under `CONNECT_FILES_DIR`.
/// (The properties files themselves must name Connect's paths and addresses: see `Env`.)
pub fn with_connect_paths(args: &[String], env: &Env) -> Vec<String> {
    args.iter().map(|arg| env.connect_path(std::path::Path::new(arg)).unwrap_or_else(|_| arg.clone())).collect()
}

fn running_state() -> Result<State> {
    match State::load(&Layout::current().state_file())? {
        Some(state) => Ok(state),
        None => bail!(
            "no environment is running. Start it with `cargo xtask up` (or `cargo xtask up --backend external` for your own cluster)"
        ),
    }
}

/// The command that runs `tool`: in the broker's (or Connect's) container for docker, else from the jars.
fn command_for(state: &State, env: &Env, tool: &Tool, args: &[String]) -> Result<Command> {
    if state.backend == Backend::Docker {
        return Ok(docker::cli_command(state, env, tool.name, args));
    }
    let java = prereqs::java()?;
    let runtime = local::jars::ensure(false)?;
    let mut command = local::java_tool(&java, &runtime, tool.main_class);
    command.args(args);
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_tools_by_script_name_too() {
        assert_eq!(find("kafka-topics.sh").unwrap().main_class, "org.apache.kafka.tools.TopicCommand");
        assert_eq!(find("kafka-topics.bat").unwrap().name, "kafka-topics");
        assert_eq!(find("kafka-delete-records.sh").unwrap().main_class, "org.apache.kafka.tools.DeleteRecordsCommand");
        assert_eq!(
            find("kafka-reassign-partitions").unwrap().main_class,
            "org.apache.kafka.tools.reassign.ReassignPartitionsCommand"
        );
        assert_eq!(find("kafka-acls").unwrap().main_class, "org.apache.kafka.tools.AclCommand");
        let err = find("kafka-topic").unwrap_err().to_string();
        assert!(err.contains("unknown tool `kafka-topic`") && err.contains("kafka-topics"), "{err}");
    }

    #[test]
    fn adds_the_bootstrap_server_only_when_missing() {
        let topics = find("kafka-topics").unwrap();
        assert_eq!(with_bootstrap(topics, &args(&["--list"]), "b:1"), args(&["--bootstrap-server", "b:1", "--list"]));
        let given = args(&["--bootstrap-server", "x:2", "--list"]);
        assert_eq!(with_bootstrap(topics, &given, "b:1"), given);
        let producer = find("kafka-console-producer").unwrap();
        let legacy = args(&["--broker-list", "x:2", "--topic", "t"]);
        assert_eq!(with_bootstrap(producer, &legacy, "b:1"), legacy);
        let storage = find("kafka-storage").unwrap();
        assert_eq!(with_bootstrap(storage, &args(&["random-uuid"]), "b:1"), args(&["random-uuid"]));
    }

    #[test]
    fn connect_standalone_reads_its_files_where_connect_sees_them() {
        use workbook_support::env as contract;
        let env = Env::from_sources(|key| {
            Some(match key {
                contract::WORKBOOK_FILES_DIR => "/home/me/kw/.workbook/files".to_string(),
                contract::CONNECT_FILES_DIR => "/workbook/files".to_string(),
                _ => "x".to_string(),
            })
        })
        .unwrap();
        assert!(find("connect-standalone").unwrap().runs_in_connect);
        assert!(!find("kafka-topics").unwrap().runs_in_connect);
        let given = args(&["/home/me/kw/.workbook/files/ch07/worker.properties", "/tmp/elsewhere.properties"]);
        assert_eq!(
            with_connect_paths(&given, &env),
            args(&["/workbook/files/ch07/worker.properties", "/tmp/elsewhere.properties"])
        );
    }
}
