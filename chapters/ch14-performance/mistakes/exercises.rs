//! Chapter 14: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
// Every exercise is dispatched below; the re-export stays for exercises added later.
#[allow(unused_imports)]
pub use solution::*;

use rdkafka::ClientConfig;
use workbook_support::mistakes;

pub fn percentile(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    match mistakes::chosen().as_deref() {
        None => solution::percentile(histogram, p),
        Some("index_not_rank") => index_not_rank(histogram, p),
        Some("unsorted") => unsorted(histogram, p),
        Some("integer_division") => integer_division(histogram, p),
        Some("counts_ignored") => counts_ignored(histogram, p),
        Some("zero_counts_are_samples") => zero_counts_are_samples(histogram, p),
        Some("panics_without_samples") => panics_without_samples(histogram, p),
        Some(other) => mistakes::unknown("percentile", other),
    }
}

/// The reference walk, from a rank the mistakes compute their own way, over pairs in the order given.
fn walk(pairs: &[(u64, u64)], rank: u64) -> Option<u64> {
    let mut seen = 0;
    for &(value, count) in pairs {
        seen += count;
        if seen >= rank {
            return Some(value);
        }
    }
    pairs.last().map(|&(value, _)| value)
}

fn sorted(histogram: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut sorted = histogram.to_vec();
    sorted.sort_unstable_by_key(|&(value, _)| value);
    sorted
}

fn total(histogram: &[(u64, u64)]) -> u64 {
    histogram.iter().map(|&(_, count)| count).sum()
}

/// Mistake: `(p / 100 * n) as usize` used as a 0-based index: truncates instead of rounding up, and is
/// one past the rank whenever `p / 100 * n` is whole (p50 of 4 samples is the 3rd instead of the 2nd).
fn index_not_rank(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    let n = total(histogram);
    if n == 0 {
        return None;
    }
    let index = ((p / 100.0 * n as f64) as u64).min(n - 1);
    walk(&sorted(histogram), index + 1)
}

/// Mistake: walks the pairs in the order they come, as if the histogram were sorted by value.
fn unsorted(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    let n = total(histogram);
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    walk(histogram, rank)
}

/// Mistake: the rank in integers, `p as u64 / 100 * n`: `p / 100` is 0 for every p below 100, so every
/// percentile but p100 comes out as the smallest value.
fn integer_division(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    let n = total(histogram);
    if n == 0 {
        return None;
    }
    let rank = (p as u64 / 100 * n).clamp(1, n);
    walk(&sorted(histogram), rank)
}

/// Mistake: one sample per pair, as if the histogram were the list of samples: a value seen 99 times
/// weighs as much as one seen once.
fn counts_ignored(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    let values: Vec<(u64, u64)> =
        sorted(histogram).into_iter().map(|(value, _)| (value, 1)).collect();
    if values.is_empty() {
        return None;
    }
    let n = values.len() as u64;
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    walk(&values, rank)
}

/// Mistake: "no samples" checked as "no pairs": a histogram whose counts are all 0 still answers, with
/// a value nobody measured.
fn zero_counts_are_samples(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    if histogram.is_empty() {
        return None;
    }
    let n = total(histogram).max(1);
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    walk(&sorted(histogram), rank)
}

/// Mistake: no check for "no samples": `clamp(1, n)` with `n = 0` panics (its minimum is above its maximum)
/// instead of answering `None`.
fn panics_without_samples(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    let n = total(histogram);
    let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
    walk(&sorted(histogram), rank)
}

pub fn low_latency_producer_config(throughput_tuned: &ClientConfig) -> ClientConfig {
    match mistakes::chosen().as_deref() {
        None => solution::low_latency_producer_config(throughput_tuned),
        Some("keeps_acks_1") => keeps_acks_1(throughput_tuned),
        Some("idempotence_left_off") => idempotence_left_off(throughput_tuned),
        Some("removes_idempotence") => removes_idempotence(throughput_tuned),
        Some("smaller_batches") => smaller_batches(throughput_tuned),
        Some("starts_from_scratch") => starts_from_scratch(throughput_tuned),
        Some(other) => mistakes::unknown("low_latency_producer_config", other),
    }
}

/// Mistake: fixes the waiting and keeps `acks=1`: fast, but a record acknowledged by the leader alone is
/// lost with the leader (and librdkafka refuses idempotence without acks=all).
fn keeps_acks_1(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = throughput_tuned.clone();
    config.set("linger.ms", "1");
    config
}

/// Mistake: `linger.ms` and `acks` fixed, the colleague's `enable.idempotence=false` overlooked: a retry
/// after a lost answer writes the record twice.
fn idempotence_left_off(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = throughput_tuned.clone();
    config.set("linger.ms", "1").set("acks", "all");
    config
}

/// Mistake: removes `enable.idempotence=false`, trusting the default to be on: it is in the Java client
/// (since Kafka 3.0), not in librdkafka, whose default is false.
fn removes_idempotence(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = throughput_tuned.clone();
    config.set("linger.ms", "1").set("acks", "all").remove("enable.idempotence");
    config
}

/// Mistake: shrinks `batch.size` to 16 KB (the Java default) and keeps `linger.ms=1000`, as if batches
/// waited to be full: at 1000 records/s a 16 KB batch still takes about 200 ms to fill.
fn smaller_batches(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = throughput_tuned.clone();
    config.set("batch.size", "16384").set("acks", "all").set("enable.idempotence", "true");
    config
}

/// Mistake: builds a new config from the chapter's knobs instead of fixing the colleague's: the service's
/// client id (and its compression) are gone.
fn starts_from_scratch(throughput_tuned: &ClientConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    for key in [
        "bootstrap.servers",
        "socket.connection.setup.timeout.ms",
        "socket.timeout.ms",
        "message.timeout.ms",
    ] {
        if let Some(value) = throughput_tuned.get(key) {
            config.set(key, value);
        }
    }
    config.set("linger.ms", "1").set("acks", "all").set("enable.idempotence", "true");
    config
}
