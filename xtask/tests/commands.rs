//! `status`, `up` and `cli` against the environment the test run shares (`cargo xtask up` started
//! it before the tests).

use common::{run, xtask};

mod common;

#[test]
fn status_reports_every_component_healthy() {
    let (ok, output) = run(xtask(&["status"]));
    assert!(ok, "{output}");
    for component in ["kafka-1", "connect", "mariadb"] {
        let row = output
            .lines()
            .find(|l| l.starts_with(component))
            .unwrap_or_else(|| panic!("no {component} row:\n{output}"));
        assert!(row.contains(" yes "), "{component} is not healthy: {row}");
    }
    assert!(output.contains("controller 1"), "{output}");
}

#[test]
fn up_while_up_starts_nothing_twice() {
    let (ok, output) = run(xtask(&["up"]));
    assert!(ok, "{output}");
    assert!(output.contains("already up"), "{output}");
}

#[test]
fn the_kafka_cli_tools_run_against_the_environment() {
    let (ok, output) = run(xtask(&["cli", "kafka-metadata-quorum", "describe", "--status"]));
    assert!(ok, "{output}");
    assert!(output.contains("LeaderId:"), "{output}");
}

#[test]
fn the_cli_adds_the_bootstrap_server_the_environment_uses() {
    let (ok, output) = run(xtask(&["cli", "kafka-topics", "--list"]));
    assert!(ok, "{output}");
    let env = workbook_support::Env::load().expect("the environment is up");
    assert!(
        output.contains(&format!("> kafka-topics.sh --bootstrap-server {} --list", env.bootstrap_servers)),
        "{output}"
    );
}

#[test]
fn logs_shows_a_services_log_and_names_the_components_there_are() {
    let (ok, output) = run(xtask(&["logs", "kafka-1", "--tail", "5"]));
    assert!(ok, "{output}");
    assert_eq!(output.lines().count(), 5, "{output}");
    // Kafka's log lines start with their time, `[2026-…]` (a stack trace's lines do not).
    assert!(output.lines().any(|line| line.starts_with("[20")), "Kafka's log lines: {output}");

    let (ok, output) = run(xtask(&["logs", "kafka-9"]));
    assert!(!ok, "{output}");
    assert!(output.contains("no component \"kafka-9\"") && output.contains("kafka-1"), "{output}");
}
