//! `cargo xtask cli` on the docker backend: Kafka's own scripts, run inside a container.

use std::process::Command;

use super::engine;
use crate::state::State;
use crate::tools::Tool;

/// `docker exec -i <container> /opt/kafka/bin/<tool>.sh <args>`: the real Kafka tools, from the
/// broker's own image, or (for `connect-standalone`) from the Connect worker's, which has the
/// plugins and the shared files directory.
///
/// Inside the network, 127.0.0.1 is the container itself, so a broker's host address in `args`
/// becomes its in-network one (`KAFKA_BOOTSTRAP_SERVERS` → `CONNECT_BOOTSTRAP_SERVERS`).
pub fn tool_command(state: &State, env: &workbook_support::Env, tool: &Tool, args: &[String]) -> Command {
    let in_connect = tool.runs_in_connect;
    let container = state
        .components
        .iter()
        .filter(|c| if in_connect { c.name == "connect" } else { c.name.starts_with("kafka-") })
        .filter_map(|c| c.container.as_deref())
        .find(|id| engine::is_running(id))
        .unwrap_or(if in_connect { "connect-is-not-running" } else { "no-kafka-container-is-running" })
        .to_string();
    tool_command_in(&container, &translation(env), tool.name, args)
}

/// Host address → in-network address, for every broker.
fn translation(env: &workbook_support::Env) -> Vec<(String, String)> {
    let host = env.bootstrap_servers.split(',').map(str::to_string);
    let internal = env.connect_bootstrap_servers.split(',').map(str::to_string);
    host.zip(internal).collect()
}

fn tool_command_in(container: &str, brokers: &[(String, String)], tool: &str, args: &[String]) -> Command {
    let args = args.iter().map(|arg| to_network_addresses(arg, brokers));
    let mut command = engine::docker();
    command.args(["exec", "-i", container]).arg(format!("/opt/kafka/bin/{tool}.sh")).args(args);
    command
}

/// `127.0.0.1:9092` → `workbook-…-kafka-1:19092`, also inside comma-separated lists.
fn to_network_addresses(arg: &str, brokers: &[(String, String)]) -> String {
    let parts: Vec<String> = arg
        .split(',')
        .map(|part| match brokers.iter().find(|(host, _)| host == part) {
            Some((_, internal)) => internal.clone(),
            None => part.to_string(),
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brokers() -> Vec<(String, String)> {
        (1..=3)
            .map(|id| (format!("127.0.0.1:{}", 9090 + 2 * id), format!("workbook-0a1b2c3d-kafka-{id}:19092")))
            .collect()
    }

    fn args_of(command: &Command) -> Vec<String> {
        command.get_args().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn the_cli_runs_the_tool_inside_the_broker_container_with_in_network_addresses() {
        let given = crate::cli::with_bootstrap(
            crate::tools::named("kafka-topics").unwrap(),
            &["--list".to_string()],
            "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096",
        );
        let command = tool_command_in("id1", &brokers(), "kafka-topics", &given);
        let args = args_of(&command);
        let exec = args.iter().position(|a| a == "exec").unwrap();
        assert_eq!(
            args[exec..],
            [
                "exec",
                "-i",
                "id1",
                "/opt/kafka/bin/kafka-topics.sh",
                "--bootstrap-server",
                "workbook-0a1b2c3d-kafka-1:19092,workbook-0a1b2c3d-kafka-2:19092,workbook-0a1b2c3d-kafka-3:19092",
                "--list",
            ]
        );
    }

    #[test]
    fn host_addresses_given_to_the_cli_are_translated() {
        let args =
            ["--bootstrap-server".to_string(), "127.0.0.1:9094,127.0.0.1:9096".to_string(), "--list".to_string()];
        let command = tool_command_in("id1", &brokers(), "kafka-topics", &args);
        let args = args_of(&command);
        assert_eq!(
            args[args.len() - 3..],
            ["--bootstrap-server", "workbook-0a1b2c3d-kafka-2:19092,workbook-0a1b2c3d-kafka-3:19092", "--list"]
        );
    }

    #[test]
    fn tools_without_a_bootstrap_flag_get_none() {
        let storage = crate::tools::named("kafka-storage").unwrap();
        let given = crate::cli::with_bootstrap(storage, &["random-uuid".to_string()], "127.0.0.1:9092");
        let command = tool_command_in("id1", &brokers(), storage.name, &given);
        let args = args_of(&command);
        assert_eq!(args[args.len() - 2..], ["/opt/kafka/bin/kafka-storage.sh", "random-uuid"]);
    }
}
