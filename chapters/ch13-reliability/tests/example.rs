//! The chapter's examples run to completion, each on a three-broker cluster of its own: the first
//! kills the leader under a stream of writes, loses a second broker, restarts both and tears
//! everything down; `lost-acks` shows acks=1 losing acknowledged records and acks=all losing none.

use std::process::Command;
use std::sync::Mutex;

use workbook_support::example;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch13-reliability");

/// One three-broker cluster at a time: two at once would compete for the machine's cores and make
/// every timeline slower.
static ONE_CLUSTER: Mutex<()> = Mutex::new(());

#[test]
fn the_example_loses_a_broker_and_no_data() {
    let _cluster = ONE_CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let stdout =
        example::run(PROGRAM, &["--before-ms", "1000", "--after-ms", "1000", "--rate", "100"]);
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

    let wrong = Command::new(PROGRAM).args(["--acks", "1"]).output().unwrap();
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("the idempotent producer needs --acks all")
    );
}

#[test]
fn acks_1_loses_acknowledged_records_and_acks_all_loses_none() {
    let _cluster = ONE_CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let stdout =
        example::run(PROGRAM, &["lost-acks", "--replicated", "50", "--unreplicated", "30"]);
    for expected in [
        // acks=1: the leader alone acknowledged the 30, and only the 50 every replica had survive.
        "30 more records (acks=1): 30 acknowledged, 0 failed; high watermark still 50",
        "acknowledged but missing (lost): 30 (#50 to #79)\n",
        "acks=1    80 acknowledged, 50 readable, 30 lost",
        // acks=all: the leader waited for the frozen followers and acknowledged none of the 30.
        "30 more records (acks=all): 0 acknowledged, 30 failed (Message production error: \
         RequestTimedOut",
        "acks=all  50 acknowledged, 50 readable, 0 lost",
        "failed but written anyway: 0\n",
        "Stopping the chapter's cluster",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}
