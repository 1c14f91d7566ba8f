//! Unique names, so tests and exercises that share one environment never see each other's data.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// `prefix` followed by a suffix unique to this process and call, e.g. `orders-1732651234-4711-3`.
///
/// Only lowercase letters, digits and `-`/`_` appear, so the result is a valid topic, group,
/// connector and (with `-` replaced) table name.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{seconds}-{}-{n}", std::process::id())
}

/// A unique name usable as a MariaDB table name (underscores instead of dashes).
pub fn unique_table(prefix: &str) -> String {
    unique(prefix).replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_calls_never_collide() {
        assert_ne!(unique("t"), unique("t"));
    }

    #[test]
    fn table_names_have_no_dashes() {
        assert!(!unique_table("users").contains('-'));
    }
}
