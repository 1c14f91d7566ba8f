//! The chapter 14 exercises (`cargo xtask check ch14`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use ch14_performance::{FetchKnobs, LatencyRun, measure_latency};
use rdkafka::ClientConfig;
use workbook_support::{Env, kafka, names};

/// The learner's percentile; a panic becomes a message that says for which input (a `todo!()` stays itself).
fn nearest_rank(histogram: &[(u64, u64)], p: f64) -> Option<u64> {
    match catch_unwind(AssertUnwindSafe(|| exercises::percentile(histogram, p))) {
        Ok(answer) => answer,
        Err(payload) => {
            let text = match payload.downcast_ref::<&str>() {
                Some(text) => text.to_string(),
                None => payload.downcast_ref::<String>().cloned().unwrap_or_default(),
            };
            if text.starts_with("not yet implemented") {
                std::panic::resume_unwind(payload);
            }
            let empty = histogram.iter().all(|&(_, count)| count == 0);
            let why =
                if empty { ": it holds no samples, and no samples must give None" } else { "" };
            panic!("percentile({histogram:?}, {p}) panicked (see above){why}");
        }
    }
}

#[test]
fn percentile() {
    // In an order where each classic mistake meets first the case that names it.
    assert_eq!(nearest_rank(&[], 50.0), None, "no pairs, no samples: None");
    assert_eq!(
        nearest_rank(&[(2, 99), (900, 1)], 98.0),
        Some(2),
        "99 of the 100 samples are 2 and one is 900: p98 is 2. Each pair stands for `count` samples, not one"
    );
    for empty in [&[(5, 0)][..], &[(5, 0), (7, 0)]] {
        assert_eq!(
            nearest_rank(empty, 50.0),
            None,
            "{empty:?} holds no samples (every count is 0): None"
        );
    }
    assert_eq!(
        nearest_rank(&[(1, 50), (10, 40), (100, 9)], 90.0),
        Some(10),
        "99 samples: 50 × 1, 40 × 10, 9 × 100. p90 is rank ceil(0.9 × 99) = 90: 10, not the smallest value \
         (is p / 100 computed in integers somewhere? 90 / 100 is 0 there)"
    );
    assert_eq!(
        nearest_rank(&[(30, 1), (10, 1), (40, 1), (20, 1)], 60.0),
        Some(30),
        "the pairs come in any order: rank ceil(0.6 × 4) = 3 of the samples lined up from smallest to largest \
         (10, 20, 30, 40) is 30"
    );
    let four = [(10, 1), (20, 1), (30, 1), (40, 1)];
    assert_eq!(
        nearest_rank(&four, 50.0),
        Some(20),
        "p50 of 10, 20, 30, 40 is rank ceil(0.5 × 4) = 2, counting from 1: 20"
    );
    assert_eq!(nearest_rank(&four, 25.0), Some(10), "rank ceil(1.0) = 1: 10");
    assert_eq!(nearest_rank(&four, 51.0), Some(30), "rank ceil(2.04) = 3: 30");
    assert_eq!(nearest_rank(&four, 0.0), Some(10), "p0 is the smallest");
    assert_eq!(nearest_rank(&four, 100.0), Some(40), "p100 is the largest");
    assert_eq!(nearest_rank(&[(7, 1)], 0.0), Some(7));
    assert_eq!(nearest_rank(&[(7, 3)], 99.0), Some(7));

    let ramp: Vec<(u64, u64)> = (1..=1000).rev().map(|v| (v, 1)).collect();
    for (p, expected) in [(50.0, 500), (90.0, 900), (99.0, 990), (100.0, 1000)] {
        assert_eq!(nearest_rank(&ramp, p), Some(expected), "p{p} of 1..=1000 (in reverse order)");
    }
    let weighted = [(100, 10), (1, 50), (10, 40)];
    for (p, expected) in [(50.0, 1), (51.0, 10), (90.0, 10), (91.0, 100), (100.0, 100)] {
        assert_eq!(nearest_rank(&weighted, p), Some(expected), "p{p} of 50 × 1, 40 × 10, 10 × 100");
    }
    // A value may come in more than one pair: 3, 5, 5, 5, 5.
    let repeated = [(5, 2), (3, 1), (5, 2), (9, 0)];
    assert_eq!(nearest_rank(&repeated, 20.0), Some(3), "rank 1 of 3, 5, 5, 5, 5");
    assert_eq!(nearest_rank(&repeated, 40.0), Some(5), "rank 2 of 3, 5, 5, 5, 5");
    assert_eq!(nearest_rank(&repeated, 100.0), Some(5), "9 was counted 0 times: it is no sample");
}

/// The colleague's config: the workbook's addresses and timeouts, a client id of the service's own,
/// compression, and everything tuned for throughput.
fn throughput_tuned(env: &Env) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        .set("client.id", names::unique("ch14-orders-service"))
        .set("compression.type", "lz4")
        .set("linger.ms", "1000")
        .set("acks", "1")
        .set("enable.idempotence", "false");
    config
}

#[tokio::test]
async fn low_latency_producer_config() {
    let env = Env::load().unwrap();
    let colleague = throughput_tuned(&env);
    let config = exercises::low_latency_producer_config(&colleague);
    for key in ["bootstrap.servers", "message.timeout.ms", "client.id", "compression.type"] {
        assert_eq!(
            config.get(key),
            colleague.get(key),
            "{key} changed: keep the colleague's settings that neither make a record wait nor make it unsafe"
        );
    }

    // What librdkafka will really do with this config, defaults and aliases included.
    let effective = config.create_native_config().expect("librdkafka accepts every setting");
    // acks is a topic-level property in librdkafka; unset, it is "all" (-1).
    let acks = effective.get("acks").unwrap_or_else(|_| "-1".to_string());
    assert_eq!(
        acks, "-1",
        "acks={acks}: a record acknowledged fast must still be on every in-sync replica"
    );
    let idempotent = effective.get("enable.idempotence").unwrap_or_default();
    assert_eq!(
        idempotent, "true",
        "the producer librdkafka builds from this config is not idempotent (enable.idempotence={idempotent}): \
         a retry after a lost answer writes the record twice. librdkafka's default is false, unlike the Java client's"
    );

    // How long a record may wait in the producer for more records to join its batch: librdkafka's
    // effective value, whatever name set it (`linger.ms` or `queue.buffering.max.ms`). Time in a test
    // is a verdict of the machine as much as of the code, so the test reads the setting that decides
    // it; `cargo xtask bench` and this chapter's `latency` command measure it.
    let linger: f64 = effective.get("linger.ms").unwrap_or_default().parse().unwrap_or(f64::MAX);
    assert!(
        linger <= 5.0,
        "linger.ms={linger}: records wait before they leave. At 1000 records/s, what sends a batch: its size, \
         or its time?"
    );

    // And it really works end to end: 1000 records/s for 2 s after a 1 s warm-up, on a fresh topic.
    let run = LatencyRun {
        rate: 1000,
        warmup: Duration::from_secs(1),
        measure: Duration::from_secs(2),
        record_size: 200,
        partitions: 3,
    };
    println!(
        "waiting for a latency run: 1000 records/s, 1 s warm-up + 2 s measured, on a fresh topic"
    );
    let result = measure_latency(&env, &config, FetchKnobs::default(), &run).await.unwrap();
    assert_eq!(result.received, result.sent, "every record sent must arrive");
    let latency = result.latency.expect("no measured records arrived");
    println!(
        "end-to-end latency: p50 {:.1} ms, p99 {:.1} ms",
        latency.p50 as f64 / 1000.0,
        latency.p99 as f64 / 1000.0
    );
}
