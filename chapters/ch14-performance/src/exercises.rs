//! Chapter 14 exercises. Check them with `cargo xtask check ch14`.
#![allow(unused_variables)]

use rdkafka::ClientConfig;

// ANCHOR: percentile
/// The `p`-th percentile (`0.0..=100.0`) by *nearest rank* of latencies kept as a
/// **histogram**: each pair `(value, count)` says that `count` samples had the value `value`
/// (`(3, 120)`: 120 records took 3 ms). A day of samples fits in a few hundred pairs this way,
/// where the chapter's `Summary` keeps every sample.
///
/// - Nearest rank: line the `n` samples up from smallest to largest; the answer is the one at
///   rank `ceil(p / 100 * n)`, counting from 1 (rank 0 means rank 1). `p = 0`: the smallest,
///   `p = 100`: the largest.
/// - The pairs come in any order (the order a `HashMap` hands them out); a value may appear in
///   more than one pair; a count may be 0.
/// - No samples at all (no pairs, or only counts of 0): `None`.
/// - Always return one of the values (no interpolation between two of them).
pub fn percentile(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    todo!("walk the values in order, counting samples, until the rank is reached")
}
// ANCHOR_END: percentile

// ANCHOR: low_latency_producer_config
/// A colleague tuned this service's producer for throughput: `throughput_tuned` waits up to a
/// second to fill each batch and settles for the leader's acknowledgment. The service sends a
/// modest stream (about 1000 records a second) whose records must now reach the consumer fast
/// (the test measures p50 and p99 end-to-end latency) and must survive the loss of a broker once
/// acknowledged (so: every in-sync replica, and retries that cannot write a record twice).
///
/// Return a copy that does both. Change only what makes a record wait or makes it unsafe, and keep
/// the colleague's other settings (addresses, timeouts, client id, compression: lz4 costs almost
/// nothing, as this chapter measured).
pub fn low_latency_producer_config(throughput_tuned: &ClientConfig) -> ClientConfig {
    todo!("copy the colleague's config and fix what makes records wait or unsafe")
}
// ANCHOR_END: low_latency_producer_config
