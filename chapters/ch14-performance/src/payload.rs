//! Record values that carry the time they were meant to be sent, so that the reader can tell
//! each record's end-to-end latency.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since 1970 on this machine's clock.
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

// ANCHOR: payload
/// A record value of about `size` bytes that carries the time it was *meant* to be sent: 16
/// digits of microseconds since 1970, a space, then an order-like JSON document (so that
/// compression has realistic text to work on, not a run of identical bytes).
pub fn payload(intended_micros: u64, seq: u64, size: usize) -> String {
    let statuses = ["CREATED", "PAID", "SHIPPED", "DELIVERED"];
    let mut value = format!(
        "{intended_micros:016} {{\"order_id\":{seq},\"customer\":\"customer-{:05}\",\
         \"amount_cents\":{},\"status\":\"{}\",\"note\":\"",
        seq * 7919 % 100_000,
        seq * 104_729 % 1_000_000,
        statuses[(seq % 4) as usize],
    );
    let mut filler = seq.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    while value.len() + 2 < size {
        filler =
            filler.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        value.push(char::from(b"abcdefghijklmnopqrstuvwxyz     "[(filler >> 59) as usize % 31]));
    }
    value.push_str("\"}");
    value
}

/// The intended send time a [`payload`] carries, or `None` for a record that has none.
pub fn sent_micros(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value.get(..16)?).ok()?.parse().ok()
}
// ANCHOR_END: payload

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_carries_its_intended_time_and_size() {
        let value = payload(1_795_737_054_671_123, 42, 200);
        assert_eq!(sent_micros(value.as_bytes()), Some(1_795_737_054_671_123));
        assert_eq!(value.len(), 200, "{value}");
        assert!(value.ends_with("\"}"));
        assert_eq!(sent_micros(b"not a timestamp at all"), None);
        assert_eq!(sent_micros(b"short"), None);
    }
}
