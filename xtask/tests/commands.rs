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
