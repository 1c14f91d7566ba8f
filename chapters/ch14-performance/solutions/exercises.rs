//! Chapter 14 exercises: the reference solutions.

use rdkafka::ClientConfig;

// ANCHOR: percentile
pub fn percentile(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    // Sort a copy by value: the pairs come in any order, and the caller's slice stays as it is.
    let mut sorted = histogram.to_vec();
    sorted.sort_unstable_by_key(|&(value, _)| value);
    let n: u64 = sorted.iter().map(|&(_, count)| count).sum();
    if n == 0 {
        return None;
    }
    // The smallest rank r (1-based) with r / n >= p / 100, in floating point (p / 100 in
    // integers is 0).
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    // Walk the values from the smallest, counting samples, until the rank-th sample is reached.
    let mut seen = 0;
    for (value, count) in sorted {
        seen += count;
        if seen >= rank {
            return Some(value);
        }
    }
    None
}
// ANCHOR_END: percentile

// ANCHOR: low_latency_producer_config
pub fn low_latency_producer_config(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = throughput_tuned.clone();
    config
        // At 1000 records/s a few records arrive per millisecond: a batch barely needs to wait.
        // 1 ms still groups what arrives together; 0 would send a request per record or two.
        // (A smaller batch.size would not help: at this rate batches are sent by linger.ms, not
        // by size.)
        .set("linger.ms", "1")
        // Low latency must not mean unsafe: "written" = every in-sync replica has it...
        .set("acks", "all")
        // ...and a retry after a lost answer cannot write the record twice. librdkafka's default is
        // false (the Java client's is true): say it.
        .set("enable.idempotence", "true");
    config
}
// ANCHOR_END: low_latency_producer_config
