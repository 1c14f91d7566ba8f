//! The chapter's example runs to completion: the sync converges within the deadline, the catalog
//! catches up after its outage, and a replay double-counts nothing.

use workbook_support::example;

#[test]
fn two_instances_converge_survive_an_outage_and_a_replay() {
    let args = ["--orders", "8", "--late-orders", "4", "--deadline", "90"];
    let stdout = example::run(env!("CARGO_BIN_EXE_ch12-data-sync"), &args);
    // 1. Both consumers converge on 8 orders from two instances.
    assert!(stdout.contains("orders per instance {a: 4, b: 4}"), "{stdout}");
    assert!(stdout.contains("_orders_all: 8 rows"), "{stdout}");
    assert!(stdout.contains("   converged "), "{stdout}");
    // 2. The catalog was behind by exactly the late orders, and caught up from its committed
    //    offsets.
    assert!(
        stdout.contains("sink table: 12 rows; catalog: down, committed offsets 8 of 12 (lag 4)"),
        "{stdout}"
    );
    assert!(stdout.contains("applied 4 more events, nothing lost"), "{stdout}");
    assert!(stdout.contains("_orders_all: 12 rows"), "{stdout}");
    // 3. Replaying all 12 events changes nothing.
    assert!(
        stdout.contains(
            "12 events redelivered: applied 0, skipped as already applied 12; stock unchanged"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Deleted connectors"), "{stdout}");
}

#[test]
fn an_unreachable_broker_is_a_clear_error() {
    example::run_without_kafka(env!("CARGO_BIN_EXE_ch12-data-sync"), &[]);
}
