//! What a librdkafka client measures about itself: `statistics.interval.ms`.

use std::sync::{Arc, Mutex};

use rdkafka::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

// ANCHOR: context
/// Keeps the latest statistics the client emitted. librdkafka calls `stats` every
/// `statistics.interval.ms` (from the thread that polls the client); an application would
/// export the numbers to its metrics system (Prometheus, StatsD, …) here. Clones share the
/// snapshot, so the application keeps a clone to read it.
#[derive(Clone, Default)]
pub struct StatsContext {
    latest: Arc<Mutex<Option<Statistics>>>,
}

impl ClientContext for StatsContext {
    fn stats(&self, statistics: Statistics) {
        *self.latest.lock().unwrap() = Some(statistics);
    }
}

impl ConsumerContext for StatsContext {}

impl StatsContext {
    /// The latest statistics, if the client emitted any yet.
    pub fn latest(&self) -> Option<Statistics> {
        self.latest.lock().unwrap().clone()
    }
}
// ANCHOR_END: context

// ANCHOR: producer_summary
/// A few producer numbers worth a dashboard.
pub fn producer_summary(stats: &Statistics) -> Vec<String> {
    let mut lines = vec![format!(
        "txmsgs={} txmsg_bytes={} msg_cnt={} (delivered, bytes, still queued)",
        stats.txmsgs, stats.txmsg_bytes, stats.msg_cnt
    )];
    let mut brokers: Vec<_> = stats.brokers.values().filter(|b| b.nodeid >= 0).collect();
    brokers.sort_by_key(|b| b.nodeid);
    for broker in brokers {
        // Windows are in microseconds, over the last statistics interval.
        if let (Some(rtt), Some(queue)) = (&broker.rtt, &broker.int_latency) {
            lines.push(format!(
                "broker {}: rtt avg={} µs p99={} µs, time in queue avg={} µs, \
                 requests={} errors={}",
                broker.nodeid, rtt.avg, rtt.p99, queue.avg, broker.tx, broker.txerrs
            ));
        }
    }
    for topic in stats.topics.values() {
        lines.push(format!(
            "topic {}: batch size avg={} B, records per batch avg={}",
            topic.topic, topic.batchsize.avg, topic.batchcnt.avg
        ));
    }
    lines
}
// ANCHOR_END: producer_summary

// ANCHOR: consumer_summary
/// The consumer's own view of its lag, per partition it fetches.
pub fn consumer_summary(stats: &Statistics) -> Vec<String> {
    let mut lines = vec![format!("rxmsgs={} (records received)", stats.rxmsgs)];
    if let Some(group) = &stats.cgrp {
        lines.push(format!(
            "group: state={} join_state={} rebalances={}",
            group.state, group.join_state, group.rebalance_cnt
        ));
    }
    for topic in stats.topics.values() {
        let mut partitions: Vec<_> =
            topic.partitions.values().filter(|p| p.partition >= 0).collect();
        partitions.sort_by_key(|p| p.partition);
        for p in partitions {
            lines.push(format!(
                "{}[{}]: hi_offset={} committed={} consumer_lag={} fetchq_cnt={}",
                topic.topic,
                p.partition,
                p.hi_offset,
                p.committed_offset,
                p.consumer_lag,
                p.fetchq_cnt
            ));
        }
    }
    lines
}
// ANCHOR_END: consumer_summary
