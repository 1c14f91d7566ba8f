//! Chapter 16: compacted topics and tombstones.
//!
//! A topic with `cleanup.policy=compact` keeps, in the end, the latest record of every key: a
//! table's state as a stream, which a new service reads from the beginning to rebuild that state.
//! A tombstone (a key with no value) deletes a key; the broker forgets it some time later. A topic
//! with the default `cleanup.policy=delete` forgets by age instead, whatever the keys, and a group
//! whose committed offset was deleted restarts where `auto.offset.reset` says.
//!
//! - [`log`]: a partition record by record, with offsets; writing values and tombstones.
//! - [`compaction`]: the topic configs that make compaction happen, and waiting for the cleaner.
//! - [`retention`]: deleting old records, and what a group that was behind finds afterwards.
//! - [`cdc`]: a DELETE in MariaDB → a delete event and a tombstone → a DELETE in the copy.

pub mod cdc;
pub mod compaction;
pub mod log;
pub mod retention;

pub use compaction::{create_topic_with, demo_compaction, wait_for_log};
pub use log::{Entry, Log, describe, read_log, write};
