//! A simulated crash, injected at a chosen point of a job's run.

use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use rdkafka::producer::{Producer, ProducerContext};

use crate::TXN_TIMEOUT;

/// A simulated crash: at a chosen point of a job's run, flush what was sent (so it reached the
/// broker, as it would have in a real crash) and fail, skipping everything that would follow.
#[derive(Debug, Default)]
pub struct CrashPoint {
    at: Option<Strike>,
    sent: AtomicUsize,
    commits: AtomicUsize,
}

/// Where a [`CrashPoint`] strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    /// After the Nth output record was sent.
    AfterSend(usize),
    /// Just before the Nth transaction commits: the transaction stays open.
    BeforeCommit(usize),
    /// Just after the Nth transaction committed, before anything else happens.
    AfterCommit(usize),
}

impl CrashPoint {
    pub fn never() -> Self {
        CrashPoint::default()
    }

    /// Crash after `records` output records.
    pub fn after(records: usize) -> Self {
        CrashPoint { at: Some(Strike::AfterSend(records)), ..CrashPoint::default() }
    }

    /// Crash in [`CrashPoint::commit_transaction`], just before the `n`th transaction commits.
    pub fn before_commit(n: usize) -> Self {
        CrashPoint { at: Some(Strike::BeforeCommit(n)), ..CrashPoint::default() }
    }

    /// Crash in [`CrashPoint::commit_transaction`], just after the `n`th transaction committed.
    pub fn after_commit(n: usize) -> Self {
        CrashPoint { at: Some(Strike::AfterCommit(n)), ..CrashPoint::default() }
    }

    /// Call after sending each output record; returns the "crash" as an error when it is time.
    pub fn after_send<P: Producer<C>, C: ProducerContext>(&self, producer: &P) -> Result<()> {
        let sent = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        if self.at == Some(Strike::AfterSend(sent)) {
            producer.flush(TXN_TIMEOUT).context("flushing before the simulated crash")?;
            bail!("simulated crash after {sent} output record(s)");
        }
        Ok(())
    }

    /// Commits the producer's open transaction (`producer.commit_transaction`), unless this is
    /// where the crash strikes: just before the commit, or just after it.
    pub fn commit_transaction<P: Producer<C>, C: ProducerContext>(
        &self,
        producer: &P,
    ) -> Result<()> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if self.at == Some(Strike::BeforeCommit(n)) {
            producer.flush(TXN_TIMEOUT).context("flushing before the simulated crash")?;
            bail!("simulated crash just before committing transaction {n}");
        }
        producer.commit_transaction(TXN_TIMEOUT).context("committing the transaction")?;
        if self.at == Some(Strike::AfterCommit(n)) {
            bail!("simulated crash just after committing transaction {n}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::producer::FutureProducer;
    use workbook_support::{Env, kafka};

    use super::*;

    fn producer() -> FutureProducer {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        kafka::producer_config(&env).create().unwrap()
    }

    #[test]
    fn a_crash_point_fires_once_at_its_count() {
        let producer = producer();
        let crash = CrashPoint::after(2);
        assert!(crash.after_send(&producer).is_ok());
        assert!(
            crash
                .after_send(&producer)
                .unwrap_err()
                .to_string()
                .contains("simulated crash after 2")
        );
        assert!(crash.after_send(&producer).is_ok());
        assert!(CrashPoint::never().after_send(&producer).is_ok());
    }

    #[test]
    fn a_crash_before_a_commit_strikes_before_the_producer_is_asked() {
        let error = CrashPoint::before_commit(1).commit_transaction(&producer()).unwrap_err();
        assert_eq!(error.to_string(), "simulated crash just before committing transaction 1");
    }
}
