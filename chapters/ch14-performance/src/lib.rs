//! Chapter 14: performance, measured rather than guessed.
//!
//! Two numbers describe a Kafka pipeline: *throughput* (records per second it can carry) and
//! *end-to-end latency* (how long one record takes from "the producer was asked to send it" to
//! "a consumer has it"). Batching raises the first by spending some of the second, so every
//! knob here is measured on both.
//!
//! One module per concept, everything re-exported here:
//!
//! - `payload`: record values that carry their intended send time;
//! - `summary`: latency percentiles;
//! - `knobs`: the settings the chapter turns (the producer's are chapter 4's);
//! - `latency`: end-to-end latency at a fixed rate;
//! - `throughput`: producer throughput, flat out;
//! - `parallelism`: what more members of one group buy.

pub mod knobs;
pub mod latency;
pub mod parallelism;
pub mod payload;
pub mod summary;
pub mod throughput;

pub use knobs::{
    Acks, Compression, FetchKnobs, ProducerSettings, consumer_config, producer_config,
};
pub use latency::{LatencyResult, LatencyRun, measure_latency, receive, send_paced};
pub use parallelism::{Parallel, measure_parallel};
pub use payload::{now_micros, payload, sent_micros};
pub use summary::Summary;
pub use throughput::{Throughput, measure_throughput, produce_flat_out};
// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics};
