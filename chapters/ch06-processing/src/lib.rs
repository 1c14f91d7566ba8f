//! Chapter 6: processing. Consume, transform, produce, and make it exactly-once.
//!
//! Kafka Streams is a Java library; in Rust the same job is a consumer, some code and a
//! producer. What Streams adds (exactly-once, state that survives restarts) comes from two
//! Kafka features any client can use: transactions, and topics as durable state.
//!
//! - [`state`]: the running totals, and the topic they are restored from (`read_committed`);
//! - [`run`]: the job, once at-least-once and once exactly-once (a transaction per batch);
//! - [`crash`]: the crash the demo and the tests inject, at a chosen point of a run.

use std::time::Duration;

pub mod crash;
pub mod run;
pub mod state;

pub use crash::CrashPoint;
pub use run::{RunStats, run_at_least_once, run_exactly_once};
pub use state::{add_to_total, read_committed, restore_totals};
// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics};

/// How long every blocking transaction call may take.
pub const TXN_TIMEOUT: Duration = Duration::from_secs(10);

/// One processing job: where it reads, where it writes, and the names that make it restartable.
#[derive(Debug, Clone)]
pub struct Job {
    pub input: String,
    pub output: String,
    /// The consumer group: where the job's progress (input offsets) is committed.
    pub group: String,
    /// Stable across restarts: a restarted job with the same id fences off the old one.
    pub transactional_id: String,
    /// Input records per transaction (or per offset commit, without transactions).
    pub batch: usize,
}
