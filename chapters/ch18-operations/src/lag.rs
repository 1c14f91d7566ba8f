//! Consumer lag, read from outside the group, and an alarm that watches its trend.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use workbook_support::{Env, kafka};

/// The offset lag itself is chapter 5's: high watermark minus committed offset, per partition,
/// asked by any client that carries the group's id (such as an [`observer`]).
pub use ch05_consumers::{Lag, lag};

// ANCHOR: observer
/// A client that can ask about `group` without being one of its members: it carries the
/// group's id (committed offsets are looked up by group id) but never subscribes, so the
/// group never sees it, and it never commits.
pub fn observer(env: &Env, group: &str) -> Result<BaseConsumer> {
    kafka::client_config(env)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the lag observer")
}
// ANCHOR_END: observer

// ANCHOR: group_state
/// The group's state as its coordinator sees it (`Stable`, `PreparingRebalance`,
/// `CompletingRebalance`, `Empty`, `Dead`) and how many members it has.
pub fn group_state(observer: &BaseConsumer, group: &str) -> Result<(String, usize)> {
    let list = observer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .context("describing the group")?;
    Ok(list
        .groups()
        .first()
        .map_or(("Dead".to_string(), 0), |g| (g.state().to_string(), g.members().len())))
}
// ANCHOR_END: group_state

// ANCHOR: trend
/// What a lag alarm should look at: not one sample of the lag (a burst of writes makes any
/// healthy group lag for a moment) but its trend over a window of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Not enough samples yet.
    Warming,
    /// The lag fell at least once in the window: the group keeps up, or catches up.
    KeepingUp,
    /// The lag never fell during the whole window and ended higher: the group is falling
    /// behind, and will fall further until something changes. Page someone.
    FallingBehind,
}

/// Keeps the last `window` lag samples (say, one a minute for 15 minutes).
pub struct LagTrend {
    window: usize,
    samples: VecDeque<i64>,
}

impl LagTrend {
    pub fn new(window: usize) -> LagTrend {
        LagTrend { window: window.max(2), samples: VecDeque::new() }
    }

    /// Adds a sample of the group's total lag and judges the window.
    pub fn observe(&mut self, lag: i64) -> Trend {
        self.samples.push_back(lag);
        if self.samples.len() > self.window {
            self.samples.pop_front();
        }
        if self.samples.len() < self.window {
            return Trend::Warming;
        }
        let never_fell = self.samples.iter().zip(self.samples.iter().skip(1)).all(|(a, b)| b >= a);
        let rose = self.samples.back() > self.samples.front();
        if never_fell && rose { Trend::FallingBehind } else { Trend::KeepingUp }
    }
}
// ANCHOR_END: trend

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_not_an_alarm_but_a_steady_rise_is() {
        let mut trend = LagTrend::new(4);
        assert_eq!(trend.observe(0), Trend::Warming);
        for lag in [500, 200, 10] {
            trend.observe(lag);
        }
        assert_eq!(trend.observe(0), Trend::KeepingUp);
        let verdicts: Vec<Trend> =
            [10, 40, 40, 90].into_iter().map(|lag| trend.observe(lag)).collect();
        assert_eq!(verdicts.last(), Some(&Trend::FallingBehind));
        assert_eq!(trend.observe(60), Trend::KeepingUp);
    }
}
