//! Waiting the honest way: poll a condition until a deadline, never sleep a fixed time.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// Polls `check` every `every` until it returns `Ok(Some(value))`, or fails after `timeout`
/// with `what` and the last error seen.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, every: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
        if Instant::now() >= deadline {
            match last_error {
                Some(e) => bail!("{what}: not true after {} s (last error: {e:#})", timeout.as_secs()),
                None => bail!("{what}: not true after {} s", timeout.as_secs()),
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_once_the_condition_holds() {
        let mut calls = 0;
        let value = until("third call", Duration::from_secs(5), Duration::from_millis(1), || {
            calls += 1;
            let n = calls;
            async move { Ok((n >= 3).then_some(n)) }
        })
        .await
        .unwrap();
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_with_the_last_error() {
        let err = until::<(), _, _>("never", Duration::from_millis(20), Duration::from_millis(5), || async {
            anyhow::bail!("still broken")
        })
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("never") && text.contains("still broken"), "{text}");
    }
}
