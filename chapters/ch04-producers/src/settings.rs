//! A producer's settings, typed: the trade between losing, speed and order, one knob at a time.

use anyhow::{Result, bail};
use rdkafka::ClientConfig;
use workbook_support::{Env, kafka};

/// How many replicas must have a record before the leader answers "written".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Acks {
    /// Fire and forget: the broker sends no answer at all, so there is no offset and no error.
    #[value(name = "0")]
    Zero,
    /// The leader has written it to its own log; lost if the leader dies before followers copy it.
    #[value(name = "1")]
    One,
    /// Every in-sync replica has it (at least `min.insync.replicas`);
    /// survives the loss of a broker.
    #[value(name = "all")]
    All,
}

impl Acks {
    pub fn as_config(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

/// The codecs librdkafka can use in this build (zstd needs rdkafka's `zstd` feature,
/// which the workbook leaves off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
}

impl Compression {
    pub fn as_config(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
        }
    }
}

/// What a producer lets you choose: the console producer's options (a program that wants them too
/// takes them with `#[command(flatten)]`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ProducerSettings {
    /// How many replicas must have a record before it counts as written: 0, 1 or all.
    #[arg(long, value_enum, default_value = "all")]
    pub acks: Acks,
    /// How long (ms) to wait for more records to fill a batch before sending it.
    #[arg(long, default_value_t = 5)]
    pub linger_ms: u64,
    /// The most bytes one partition's batch may hold (librdkafka's default: 1000000).
    #[arg(long)]
    pub batch_size: Option<u64>,
    /// Compress batches with this codec.
    #[arg(long, value_enum, default_value = "none")]
    pub compression: Compression,
    /// The idempotent producer: retries can neither duplicate nor reorder
    /// records. Needs --acks all.
    #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
    pub idempotence: bool,
}

impl ProducerSettings {
    /// librdkafka refuses to create an idempotent producer without `acks=all`; say so in the
    /// options' own words before trying.
    pub fn check(&self) -> Result<()> {
        if self.idempotence && self.acks != Acks::All {
            bail!(
                "the idempotent producer needs --acks all \
                 (pass --idempotence false to use --acks {})",
                self.acks.as_config()
            );
        }
        Ok(())
    }
}

impl Default for ProducerSettings {
    fn default() -> Self {
        ProducerSettings {
            acks: Acks::All,
            linger_ms: 5,
            batch_size: None,
            compression: Compression::None,
            idempotence: true,
        }
    }
}

// ANCHOR: config
/// The producer configuration for `settings`, on top of the workbook's addresses and timeouts.
pub fn producer_config(env: &Env, settings: &ProducerSettings) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        // How many replicas must have a record before it counts as written.
        .set("acks", settings.acks.as_config())
        // Wait up to this long for more records to fill a batch before sending it.
        .set("linger.ms", settings.linger_ms.to_string())
        // Compress whole batches (the broker stores them compressed, as they came).
        .set("compression.type", settings.compression.as_config())
        // Retries can then neither duplicate nor reorder records (the broker drops duplicates
        // by producer id + sequence number). Requires acks=all.
        .set("enable.idempotence", settings.idempotence.to_string())
        // The Java client's partitioner (murmur2 of the key), so a key lands on the same
        // partition whether a Rust or a Java producer sends it. librdkafka's default is CRC32.
        .set("partitioner", "murmur2_random");
    if let Some(bytes) = settings.batch_size {
        // The most bytes one partition's batch may hold.
        config.set("batch.size", bytes.to_string());
    }
    config
}
// ANCHOR_END: config

#[cfg(test)]
mod tests {
    use rdkafka::producer::FutureProducer;

    use super::*;

    #[test]
    fn the_config_says_what_the_settings_say() {
        let env = Env::from_sources(|k| match k {
            "KAFKA_BOOTSTRAP_SERVERS" => Some("127.0.0.1:1".into()),
            _ => Some("x".into()),
        })
        .unwrap();
        let settings =
            ProducerSettings { acks: Acks::One, idempotence: false, ..Default::default() };
        let config = producer_config(&env, &settings);
        assert_eq!(config.get("acks"), Some("1"));
        assert_eq!(config.get("enable.idempotence"), Some("false"));
        assert_eq!(config.get("partitioner"), Some("murmur2_random"));
        assert_eq!(config.get("batch.size"), None);
    }

    #[test]
    fn librdkafka_refuses_idempotence_with_acks_1() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let settings =
            ProducerSettings { acks: Acks::One, idempotence: true, ..Default::default() };
        let error = producer_config(&env, &settings)
            .create::<FutureProducer>()
            .err()
            .expect("must be refused");
        assert!(error.to_string().contains("acks"), "{error}");
    }
}
