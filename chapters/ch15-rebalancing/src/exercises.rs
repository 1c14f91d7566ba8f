//! Chapter 15 exercises. Check them with `cargo xtask check ch15`.
#![allow(unused_variables)]

use std::time::Duration;

use anyhow::Result;
use rdkafka::config::ClientConfig;
use tokio::sync::watch;
use workbook_support::Env;

// ANCHOR: commit_on_revoke
/// Consumes `topic` as a member of `group`, calling `process` with each record's value, until
/// `stop` turns true (then return `Ok(())`). If `process` fails, return its error at once, as if
/// the service crashed there.
///
/// Commits cost a round trip each, so this member commits rarely, with auto-commit off:
/// - after every `commit_every` records it processed (counted over all its partitions), the
///   offsets of everything processed so far;
/// - when partitions are taken from it (revoked: by a rebalance, or because the consumer closes),
///   the offsets of what it processed from those partitions.
///
/// Whoever owns a partition next (another member, or this one after a rebalance) must start at
/// the first record of it this member did not process: not at a record already processed (it
/// would be processed twice), not after a record whose processing failed (it would be lost).
/// A group with no committed offset starts at the topic's first record.
pub async fn commit_on_revoke(
    env: &Env,
    topic: &str,
    group: &str,
    commit_every: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    todo!("remember what was processed; commit it when partitions are revoked")
}
// ANCHOR_END: commit_on_revoke

// ANCHOR: deploy_safe_config
/// The consumer configuration of the instance called `name` (e.g. `orders-1`) of a service
/// whose instances consume as group `group`. Deploys restart the instances one at a time;
/// each is down for at most `restart`. Deploys must not stop the world:
///
/// - Restarting an instance moves no partition: while it is down and when it comes back, the
///   other instances get no rebalance callback at all, and it gets its own partitions back.
/// - Adding an instance (scaling out) makes the others give up only the partitions that move
///   to it; they keep consuming the rest.
///
/// The test starts and restarts real members with your configuration (each call is one start
/// of the instance `name`, so a restart calls you again).
pub fn deploy_safe_config(env: &Env, group: &str, name: &str, restart: Duration) -> ClientConfig {
    todo!("which settings keep partitions where they are across a restart and a scale-out?")
}
// ANCHOR_END: deploy_safe_config
