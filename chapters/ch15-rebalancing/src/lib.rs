//! Chapter 15: rebalancing.
//!
//! When a member joins or leaves a consumer group, the group coordinator (a broker) moves
//! partitions between members. How much stops while that happens depends on the protocol:
//! eager assignors revoke everything, cooperative-sticky and KIP-848 revoke only what moves,
//! and a static member that comes back in time gets its partitions back without a rebalance.

pub mod member;
pub mod timeline;

use rdkafka::config::ClientConfig;
use workbook_support::{Env, kafka};

pub use member::{Member, WatchedConsumer, wait_settled};
pub use timeline::{Change, Event, Timeline, Watch};

/// How a group hands out its partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Classic protocol, `range` assignor: every member gives up everything, then gets a
    /// new assignment computed by one member, the group leader.
    Eager,
    /// Classic protocol, `cooperative-sticky` assignor: members give up only the partitions
    /// that move, and keep consuming the others.
    Cooperative,
    /// KIP-848 (`group.protocol=consumer`): the coordinator computes the assignment and hands
    /// out changes in heartbeat responses, partition by partition.
    Consumer,
}

// ANCHOR: config
/// A group member's configuration under `protocol`.
pub fn member_config(env: &Env, group: &str, protocol: Protocol) -> ClientConfig {
    let mut config = kafka::client_config(env);
    config.set("group.id", group).set("auto.offset.reset", "earliest");
    match protocol {
        Protocol::Eager | Protocol::Cooperative => {
            let assignor = if protocol == Protocol::Eager { "range" } else { "cooperative-sticky" };
            config
                // Classic protocol: the group leader (a client) runs this assignor.
                .set("partition.assignment.strategy", assignor)
                // Silent this long: declared dead, its partitions move on.
                .set("session.timeout.ms", "10000")
                // A rebalance reaches the members in heartbeat answers (default every 3 s).
                .set("heartbeat.interval.ms", "1000");
        }
        Protocol::Consumer => {
            // KIP-848: the broker assigns. Session and heartbeat timing are broker settings
            // (group.consumer.session.timeout.ms, group.consumer.heartbeat.interval.ms);
            // setting session.timeout.ms or partition.assignment.strategy here is an error.
            config.set("group.protocol", "consumer");
        }
    }
    config
}
// ANCHOR_END: config

// ANCHOR: static_member
/// Makes the member static: the coordinator knows it by `instance` (stable across restarts,
/// unique in the group) and, when it comes back within the session timeout, hands it its
/// partitions again without a rebalance. A static member does not leave the group on close.
pub fn static_member(config: &mut ClientConfig, instance: &str) {
    config.set("group.instance.id", instance);
}
// ANCHOR_END: static_member

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap()
    }

    #[test]
    fn consumer_protocol_sets_no_classic_settings() {
        let config = member_config(&env(), "g", Protocol::Consumer);
        assert_eq!(config.get("group.protocol"), Some("consumer"));
        assert_eq!(config.get("session.timeout.ms"), None);
        assert_eq!(config.get("partition.assignment.strategy"), None);
    }

    #[test]
    fn classic_protocols_name_their_assignor() {
        let eager = member_config(&env(), "g", Protocol::Eager);
        assert_eq!(eager.get("partition.assignment.strategy"), Some("range"));
        let cooperative = member_config(&env(), "g", Protocol::Cooperative);
        assert_eq!(cooperative.get("partition.assignment.strategy"), Some("cooperative-sticky"));
    }
}
