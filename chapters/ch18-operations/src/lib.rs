//! Chapter 18: operations.
//!
//! Running Kafka is mostly watching it and changing it while it runs: how far behind the
//! consumers are, topic settings changed without a restart, more partitions, replicas moved to
//! other brokers, what the clients measure about themselves, and who may do what.

pub mod cluster;
pub mod configs;
pub mod lag;
pub mod metrics;
pub mod partitions;
pub mod reassign;
pub mod secure;
pub mod tools;
