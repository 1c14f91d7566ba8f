//! The producer and consumer settings this chapter turns.
//!
//! The producer's are chapter 4's [`ProducerSettings`], typed (acks, linger.ms, batch.size,
//! compression, idempotence) and turned into a client config by chapter 4's [`producer_config`].
//! The consumer's are the two settings that decide when the broker answers a fetch.

use rdkafka::ClientConfig;
use workbook_support::{Env, kafka};

pub use ch04_producers::{Acks, Compression, ProducerSettings, producer_config};

/// The consumer knobs this chapter turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchKnobs {
    pub fetch_min_bytes: u64,
    pub fetch_wait_max_ms: u64,
}

impl Default for FetchKnobs {
    /// librdkafka's defaults: answer a fetch as soon as 1 byte is there, wait at most 500 ms.
    fn default() -> Self {
        FetchKnobs { fetch_min_bytes: 1, fetch_wait_max_ms: 500 }
    }
}

// ANCHOR: consumer_config
/// A consumer in `group` whose fetches follow `fetch`.
pub fn consumer_config(env: &Env, group: &str, fetch: FetchKnobs) -> ClientConfig {
    let mut config = kafka::group_config(env, group);
    config
        // The broker holds a fetch until it has this many bytes for the consumer...
        .set("fetch.min.bytes", fetch.fetch_min_bytes.to_string())
        // ...or until this much time has passed, whichever comes first.
        .set("fetch.wait.max.ms", fetch.fetch_wait_max_ms.to_string())
        // Every measurement reads a fresh topic from its first record, even one written
        // before the group has looked up where the partition ends.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false");
    config
}
// ANCHOR_END: consumer_config

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_says_what_the_knobs_say() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let config = consumer_config(
            &env,
            "g",
            FetchKnobs { fetch_min_bytes: 100_000, fetch_wait_max_ms: 200 },
        );
        assert_eq!(config.get("fetch.min.bytes"), Some("100000"));
        assert_eq!(config.get("fetch.wait.max.ms"), Some("200"));
        assert_eq!(config.get("auto.offset.reset"), Some("earliest"));
    }
}
