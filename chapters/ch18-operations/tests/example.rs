//! Runs the chapter's binary against the environment (and against the clusters it starts for
//! itself), as the book shows it.

use std::sync::Mutex;

use workbook_support::example;

/// `reassign` and `security` start JVMs of their own (three brokers, one broker): one at a time.
static HEAVY: Mutex<()> = Mutex::new(());

/// Runs `ch18-operations ARGS`; returns stdout, failing with stdout and stderr if it failed.
fn run(args: &[&str]) -> String {
    example::run(env!("CARGO_BIN_EXE_ch18-operations"), args)
}

#[test]
fn lag_rises_then_falls() {
    let out = run(&["lag", "--seconds", "6"]);
    let behind = out.find("FallingBehind").expect(&out);
    let keeping_up = out.rfind("KeepingUp").expect(&out);
    assert!(
        behind < keeping_up,
        "the alarm fires while the producer outpaces the consumer, then clears:\n{out}"
    );
    assert!(out.contains("is Empty with 0 member(s)"), "{out}");
}

#[test]
fn alter_configs_resets_what_it_was_not_given() {
    let out = run(&["configs"]);
    assert!(
        out.contains("LOST: cleanup.policy") && out.contains("LOST: max.message.bytes"),
        "{out}"
    );
    assert!(out.contains("retention.ms         259200000        (DynamicTopic)"), "{out}");
}

#[test]
fn more_partitions_move_keys() {
    let out = run(&["partitions"]);
    // librdkafka's default partitioner: CRC32 of the key, modulo the partition count.
    assert!(out.contains("7 of 8 keys now go to another partition"), "{out}");
    for line in out.lines().filter(|l| l.starts_with("alice") || l.starts_with("erin")) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(columns[1], columns[2], "the running producer still knows 2 partitions: {line}");
    }
}

#[test]
fn statistics_show_deliveries_and_consumer_lag() {
    let out = run(&["metrics"]);
    assert!(out.contains("txmsgs=20000"), "{out}");
    assert_eq!(out.matches("committed=1500 consumer_lag=").count(), 3, "{out}");
}

#[test]
fn sasl_logins_and_acls_decide_who_may_do_what() {
    let _one_at_a_time = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let out = run(&["security"]);
    // The CLI tools, with SCRAM.
    for expected in [
        "SaslAuthenticationException: Authentication failed",
        "TopicAuthorizationException: Not authorized to access topics: [payments]",
        "paid 42",
        "GroupAuthorizationException: Not authorized to access group: audit",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The Rust client prints long messages over several lines, the next ones indented by four.
    let rust = out.split("7. a Rust client as alice").nth(1).expect(&out).replace("\n    ", " ");
    assert!(
        rust.contains("No provider for SASL mechanism SCRAM-SHA-256")
            || rust.contains("this librdkafka has SCRAM"),
        "{out}"
    );
    for expected in [
        // A wrong password: the broker refuses the login.
        "the client's error callback: Global error: Authentication (Local: Authentication failure)",
        "SASL authentication error: Authentication failed: Invalid username or password",
        // The right one: what the ACLs allow (payments-0@0 is the console producer's record) ...
        "  wrote payments-0@1\n",
        "  read payments-0@1: paid 7 in group billing\n",
        // ... and what they do not.
        "writing to refunds: Message production error: TopicAuthorizationFailed",
        "reading in group audit: Message consumption error: GroupAuthorizationFailed",
    ] {
        assert!(rust.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn reassignment_moves_replicas_to_broker_3() {
    let _one_at_a_time = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
    let out = run(&["reassign"]);
    assert!(out.contains("Reassignment of partition orders-0 is completed."), "{out}");
    assert!(out.contains("replicas [3, 2]") && out.contains("replicas [3, 1]"), "{out}");
    assert!(out.contains("read back 10000 of 10000 records"), "{out}");
}
