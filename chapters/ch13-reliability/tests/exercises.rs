//! The chapter 13 exercises: the leader's check for an `acks=all` write, and the replication a topic
//! needs to survive broker failures. Both are about numbers the brokers work with, so both are checked
//! without a cluster (the chapter's example kills real brokers).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use ch13_reliability::ReplicaPlan;
use workbook_support::kafka::Partition;

fn partition(leader: i32, replicas: &[i32], isr: &[i32]) -> Partition {
    Partition { id: 0, leader, replicas: replicas.to_vec(), isr: isr.to_vec() }
}

#[test]
fn acks_all_can_write() {
    // In an order where each classic mistake meets first the case that names it.
    let cases = [
        (partition(1, &[1, 2, 3], &[1, 2, 3]), 2, true, "all three in sync"),
        (
            partition(2, &[1, 2, 3], &[2, 3]),
            2,
            true,
            "one broker down: the ISR [2,3] has exactly min.insync.replicas members, leader included, and that \
             is enough (at least min.insync.replicas, not more than)",
        ),
        (
            partition(1, &[1, 2], &[1, 2]),
            2,
            true,
            "two replicas, both in sync, leader included: enough",
        ),
        (
            partition(2, &[1, 2, 3], &[2]),
            2,
            false,
            "three replicas, but only the leader in sync: NOT_ENOUGH_REPLICAS. The leader counts the replicas in \
             sync now, not the replicas assigned",
        ),
        (
            partition(3, &[3], &[3]),
            2,
            false,
            "one replica can never be two in sync: not the replicas assigned",
        ),
        (partition(2, &[1, 2, 3], &[2]), 1, true, "min.insync.replicas=1 accepts a single copy"),
        (
            partition(-1, &[1, 2, 3], &[3]),
            1,
            false,
            "no leader (-1): the partition is offline, and whatever its ISR lists, nobody takes the write",
        ),
        (
            partition(-1, &[1, 2, 3], &[2, 3]),
            2,
            false,
            "no leader (-1) while a new one is elected: nobody takes the write",
        ),
    ];
    for (p, min_isr, expected, why) in cases {
        assert_eq!(
            exercises::acks_all_can_write(&p, min_isr),
            expected,
            "leader {}, replicas {:?}, ISR {:?}, min.insync.replicas={min_isr}: {why}",
            p.leader,
            p.replicas,
            p.isr
        );
    }
}

/// What a plan survives, worked out the way the brokers would, with the reason when it falls short.
fn judge(plan: ReplicaPlan, brokers: usize, failures: usize) -> Result<(), String> {
    let ReplicaPlan { replication_factor: rf, min_insync_replicas: min } = plan;
    let what = format!(
        "{brokers} brokers, {failures} failure(s): replication factor {rf}, min.insync.replicas {min}"
    );
    if rf > brokers {
        return Err(format!(
            "{what}: a topic with {rf} replicas cannot be created on {brokers} brokers (each replica needs a broker \
             of its own); return None when the cluster is too small"
        ));
    }
    if min == 0 || min > rf {
        return Err(format!(
            "{what}: min.insync.replicas must be between 1 and the replication factor"
        ));
    }
    if rf - failures.min(rf) < min {
        return Err(format!(
            "{what}: with {failures} broker(s) down only {} replicas can be in sync, fewer than \
             min.insync.replicas, so acks=all writes are refused (NOT_ENOUGH_REPLICAS) until they come back",
            rf - failures.min(rf)
        ));
    }
    if min <= failures {
        return Err(format!(
            "{what}: an acknowledged record is only sure to be on min.insync.replicas = {min} broker(s) (the ISR may \
             have shrunk that far before the write), and {failures} broker(s) dying can take all of them: the \
             record is lost"
        ));
    }
    Ok(())
}

#[test]
fn replica_plan() {
    for failures in 0..=3 {
        for brokers in 1..=8 {
            let plan = exercises::replica_plan(brokers, failures);
            // The fewest replicas that survive `failures`: counted here by trying every plan there is.
            let fewest = (1..=brokers)
                .flat_map(|rf| {
                    (1..=rf).map(move |min| ReplicaPlan {
                        replication_factor: rf,
                        min_insync_replicas: min,
                    })
                })
                .find(|p| judge(*p, brokers, failures).is_ok());
            match (plan, fewest) {
                (Some(plan), _) => {
                    if let Err(why) = judge(plan, brokers, failures) {
                        panic!("{why}");
                    }
                    let fewest = fewest.expect("a plan that survives was judged possible");
                    assert!(
                        plan.replication_factor <= fewest.replication_factor,
                        "{brokers} brokers, {failures} failure(s): {plan:?} works, but uses more replicas than needed \
                         ({} do it): every replica is a full copy of the data on another disk",
                        fewest.replication_factor
                    );
                }
                (None, Some(possible)) => {
                    panic!(
                        "{brokers} brokers, {failures} failure(s): None, but {possible:?} can do it on this cluster"
                    )
                }
                (None, None) => {}
            }
        }
    }
}
