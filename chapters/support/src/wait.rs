//! Waiting the honest way: poll a condition until a deadline, never sleep a fixed time.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// An error that ends a wait at once instead of being retried (e.g. "the process exited").
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fatal {}

/// Wraps `message` so that [`until`] gives up immediately when a check returns it.
pub fn fatal(message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(Fatal(message.to_string()))
}

/// Polls `check` every `every` until it returns `Ok(Some(value))`, or fails after `timeout`
/// with `what` and the last error seen. Errors are retried (the service may not be up yet),
/// except a [`fatal`] one, which is returned at once.
pub async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Result<T>
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
            Err(e) if e.is::<Fatal>() => return Err(e),
            Err(e) => last_error = Some(e),
        }
        if Instant::now() >= deadline {
            match last_error {
                Some(e) => {
                    bail!("{what}: not true after {} s (last error: {e:#})", timeout.as_secs())
                }
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
    async fn a_fatal_error_ends_the_wait_at_once() {
        let started = std::time::Instant::now();
        let err = until::<(), _, _>(
            "doomed",
            Duration::from_secs(30),
            Duration::from_millis(5),
            || async { Err(fatal("the broker exited")) },
        )
        .await
        .unwrap_err();
        assert_eq!(err.to_string(), "the broker exited");
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_with_the_last_error() {
        let err = until::<(), _, _>(
            "never",
            Duration::from_millis(20),
            Duration::from_millis(5),
            || async { anyhow::bail!("still broken") },
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("never") && text.contains("still broken"), "{text}");
    }
}
