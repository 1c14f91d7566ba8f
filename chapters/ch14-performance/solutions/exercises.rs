//! Chapter 14 exercises: the reference solutions.

use rdkafka::ClientConfig;
use workbook_support::{Env, kafka};

// ANCHOR: percentile
pub fn percentile(samples: &[u64], p: f64) -> Option<u64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    // The smallest rank r (1-based) with r / n >= p / 100; p = 0 still needs rank 1.
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}
// ANCHOR_END: percentile

// ANCHOR: low_latency_producer_config
pub fn low_latency_producer_config(env: &Env) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        // At 1000 records/s a few records arrive per millisecond: a batch barely needs to wait.
        // 1 ms still groups what arrives together; 0 would send a request per record or two.
        .set("linger.ms", "1")
        // Low latency must not mean unsafe: "written" = every in-sync replica has it...
        .set("acks", "all")
        // ...and a retry after a lost answer cannot write the record twice.
        .set("enable.idempotence", "true");
    config
}
// ANCHOR_END: low_latency_producer_config
