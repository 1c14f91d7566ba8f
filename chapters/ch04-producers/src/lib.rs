//! Chapter 4: producers.
//!
//! A producer turns your records into batches, one batch per partition, and sends the batches to
//! the partition leaders. Everything a producer can tune is a trade between three things: how
//! much you may lose (`acks`, idempotence), how fast you go (batching, compression, records in
//! flight) and in which order records land (keys, partitions, retries).
//!
//! - [`settings`]: what a producer can be told (acks, batching, compression, idempotence), typed;
//! - [`sending`]: sending without waiting for each record, and the slow way, to compare.

use anyhow::{Result, bail};

pub mod sending;
pub mod settings;

pub use sending::{InFlight, Report, bench_records, send_in_flight, send_one_by_one, timed};
pub use settings::{Acks, Compression, ProducerSettings, producer_config};
// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics, topic_partitions};

// ANCHOR: parse_line
/// Splits a console line into key and value, the way
/// `kafka-console-producer --property parse.key=true` does.
///
/// Without a separator the whole line is the value and the key is null. With one, the line must
/// contain it: the key is what comes before the first occurrence, the value what comes after.
pub fn parse_line<'a>(
    line: &'a str,
    key_separator: Option<&str>,
) -> Result<(Option<&'a str>, &'a str)> {
    match key_separator {
        None => Ok((None, line)),
        Some(separator) => match line.split_once(separator) {
            Some((key, value)) => Ok((Some(key), value)),
            None => bail!("no key separator `{separator}` in line {line:?}"),
        },
    }
}
// ANCHOR_END: parse_line

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_line_without_separator_keeps_the_whole_line() {
        assert_eq!(parse_line("a:b", None).unwrap(), (None, "a:b"));
    }

    #[test]
    fn parse_line_splits_at_the_first_separator() {
        assert_eq!(
            parse_line("user-1:{\"a\":1}", Some(":")).unwrap(),
            (Some("user-1"), "{\"a\":1}")
        );
        assert_eq!(parse_line(":v", Some(":")).unwrap(), (Some(""), "v"));
    }

    #[test]
    fn parse_line_rejects_a_line_without_the_separator() {
        let err = parse_line("no separator", Some(":")).unwrap_err();
        assert!(err.to_string().contains("no key separator"), "{err}");
    }
}
