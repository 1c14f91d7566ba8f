//! `cargo xtask cli`: the real Kafka command-line tools against the environment.
//!
//! The tools are those of [`crate::tools`]; each backend runs them its way (the same main
//! classes from the same jars, or Kafka's own scripts in a container). Output goes to stdout
//! untouched, so it pipes like the original.

use anyhow::{Context, Result, bail};
use clap::Args;
use workbook_support::Env;

use crate::layout::Layout;
use crate::state::State;
use crate::tools::{TOOLS, Tool};

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

fn tool_list() -> String {
    let mut text = String::from("Tools:\n");
    for tool in TOOLS {
        text.push_str(&format!("  {:<26} {}\n", tool.name, tool.about));
    }
    text.push_str("\nExample: cargo xtask cli kafka-topics --describe --topic quickstart-events");
    text
}

/// Finds a tool by name; `kafka-topics.sh` and `kafka-topics.bat`, as Kafka's documentation
/// spells them, work too.
pub fn find(name: &str) -> Result<&'static Tool> {
    let name = name.trim_end_matches(".sh").trim_end_matches(".bat");
    crate::tools::named(name).with_context(|| {
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
    let mut command = state.backend.tool_command(&state, &env, tool, &args)?;
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
    let output = crate::command::output(state.backend.tool_command(state, &env, tool, args)?)?;
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
