//! Generated passwords and ids: random, never typed by hand, never the same twice.

use anyhow::{Result, anyhow};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("the operating system gave no random bytes: {e}"))?;
    Ok(bytes)
}

/// A password of 24 hex characters (96 bits): safe in URLs, shells and SQL strings alike.
pub fn password() -> Result<String> {
    Ok(random_bytes(12)?.iter().map(|b| format!("{b:02x}")).collect())
}

/// A Kafka cluster id: 16 random bytes (a UUID's worth) in URL-safe base64 without padding
/// (22 characters), the format `kafka-storage random-uuid` prints.
pub fn kafka_cluster_id() -> Result<String> {
    loop {
        let id = URL_SAFE_NO_PAD.encode(random_bytes(16)?);
        // Kafka's own generator avoids ids starting with '-', which a CLI would read as a flag.
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
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
    fn cluster_ids_look_like_kafkas() {
        let id = kafka_cluster_id().unwrap();
        assert_eq!(id.len(), 22);
        assert!(!id.starts_with('-'));
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{id}");
        assert_eq!(URL_SAFE_NO_PAD.decode(&id).unwrap().len(), 16);
    }
}
