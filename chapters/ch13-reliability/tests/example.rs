//! The chapter's example runs to completion: it brings up its own three-broker cluster, kills the
//! leader under a stream of writes, loses a second broker, restarts both and tears everything down.

use std::process::Command;

#[test]
fn the_example_loses_a_broker_and_no_data() {
    let output = Command::new(env!("CARGO_BIN_EXE_ch13-reliability"))
        .args(["--before-ms", "1000", "--after-ms", "1000", "--rate", "100"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    for expected in [
        "SIGKILL sent to broker",
        ", failed 0\n",
        "acknowledged but missing (lost): 0\n",
        "in the partition twice (duplicated): 0\n",
        "acks=all write: refused: Message production error: NotEnoughReplicas",
        "acks=1 write:   accepted at offset",
        "ISR complete again",
        "Stopping the chapter's cluster",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    let tail = stdout.split("ISR complete again").nth(1).unwrap();
    assert!(tail.contains("acks=all write: accepted at offset"), "{stdout}");

    let wrong = Command::new(env!("CARGO_BIN_EXE_ch13-reliability")).args(["--acks", "1"]).output().unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("the idempotent producer needs --acks all"));
}
