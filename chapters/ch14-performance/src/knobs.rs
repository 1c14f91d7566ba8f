//! The producer and consumer settings this chapter turns, as client configs.

use rdkafka::ClientConfig;
use workbook_support::{Env, kafka};

/// The producer knobs this chapter turns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerKnobs {
    /// "all" or "1" (with "all" the producer is also idempotent).
    pub acks: String,
    pub linger_ms: u64,
    /// `None` keeps librdkafka's default (1,000,000 bytes).
    pub batch_size: Option<u64>,
    /// none, gzip, snappy, lz4 (zstd only when rdkafka is built with its `zstd` feature).
    pub compression: String,
}

impl Default for ProducerKnobs {
    fn default() -> Self {
        ProducerKnobs {
            acks: "all".into(),
            linger_ms: 5,
            batch_size: None,
            compression: "none".into(),
        }
    }
}

// ANCHOR: producer_config
/// A producer tuned by `knobs`, on top of the workbook's addresses and timeouts.
pub fn producer_config(env: &Env, knobs: &ProducerKnobs) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        .set("acks", &knobs.acks)
        .set("enable.idempotence", (knobs.acks == "all").to_string())
        // How long a batch may wait for more records before it is sent: the latency you pay
        // on purpose, in exchange for fuller batches (fewer requests, better compression).
        .set("linger.ms", knobs.linger_ms.to_string())
        .set("compression.type", &knobs.compression);
    if let Some(bytes) = knobs.batch_size {
        // A batch that reaches this size is sent at once, whatever linger.ms says.
        config.set("batch.size", bytes.to_string());
    }
    config
}
// ANCHOR_END: producer_config

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
    let mut config = kafka::consumer_config(env, group);
    config
        // The broker holds a fetch until it has this many bytes for the consumer...
        .set("fetch.min.bytes", fetch.fetch_min_bytes.to_string())
        // ...or until this much time has passed, whichever comes first.
        .set("fetch.wait.max.ms", fetch.fetch_wait_max_ms.to_string())
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
        let knobs = ProducerKnobs { linger_ms: 50, batch_size: Some(16384), ..Default::default() };
        let config = producer_config(&env, &knobs);
        assert_eq!(config.get("linger.ms"), Some("50"));
        assert_eq!(config.get("batch.size"), Some("16384"));
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        let config = consumer_config(
            &env,
            "g",
            FetchKnobs { fetch_min_bytes: 100_000, fetch_wait_max_ms: 200 },
        );
        assert_eq!(config.get("fetch.min.bytes"), Some("100000"));
        assert_eq!(config.get("fetch.wait.max.ms"), Some("200"));
    }
}
