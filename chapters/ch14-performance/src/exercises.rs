//! Chapter 14 exercises. Check them with `cargo xtask check ch14`.
#![allow(unused_variables)]

use rdkafka::ClientConfig;
use workbook_support::{Env, kafka};

// ANCHOR: percentile
/// The `p`-th percentile (`0.0..=100.0`) of `samples` by *nearest rank*: sort the samples, and
/// return the one at rank `ceil(p / 100 * n)` (ranks count from 1; rank 0 means rank 1).
///
/// - `samples` is in any order (the order the records arrived in), and must not be required sorted.
/// - No samples: `None`. `p = 100`: the largest sample. `p = 0`: the smallest.
/// - Always return one of the samples (no interpolation between two of them).
pub fn percentile(samples: &[u64], p: f64) -> Option<u64> {
    todo!("sort a copy, compute the nearest rank, return that sample")
}
// ANCHOR_END: percentile

// ANCHOR: low_latency_producer_config
/// A producer for a modest stream (about 1000 records a second) whose records must reach the
/// consumer fast (the test measures p99 end-to-end latency) and must still survive the loss of a
/// broker once acknowledged (so: every in-sync replica, and retries that cannot duplicate).
///
/// Start from `workbook_support::kafka::producer_config(env)`. This version is "tuned for
/// throughput": it waits up to a second to fill each batch. Fix it.
pub fn low_latency_producer_config(env: &Env) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config.set("linger.ms", "1000").set("acks", "1");
    config
}
// ANCHOR_END: low_latency_producer_config
