//! Generated passwords and ids: random, never typed by hand, never the same twice.

use std::io::Read;

use anyhow::{Context, Result};

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).context("reading /dev/urandom")?;
    Ok(bytes)
}

/// A password of 24 hex characters (96 bits): safe in URLs, shells and SQL strings alike.
pub fn password() -> Result<String> {
    Ok(random_bytes(12)?.iter().map(|b| format!("{b:02x}")).collect())
}

/// A Kafka cluster id: a random UUID written in URL-safe base64 without padding
/// (22 characters), the format `kafka-storage random-uuid` prints.
pub fn kafka_cluster_id() -> Result<String> {
    loop {
        let id = base64_url(&random_bytes(16)?);
        // Kafka's own generator avoids ids starting with '-', which a CLI would read as a flag.
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hex_and_differ() {
        let (a, b) = (password().unwrap(), password().unwrap());
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn base64_url_matches_known_values() {
        assert_eq!(base64_url(b"Man"), "TWFu");
        assert_eq!(base64_url(b"Ma"), "TWE");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn cluster_ids_look_like_kafkas() {
        let id = kafka_cluster_id().unwrap();
        assert_eq!(id.len(), 22);
        assert!(!id.starts_with('-'));
    }
}
