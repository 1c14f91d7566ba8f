//! Latency percentiles from the samples of a run.

// ANCHOR: summary
/// Latency percentiles in microseconds, by nearest rank over every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Summary {
    /// Sorts `samples` once and reads the percentiles off it; `None` when there are none.
    pub fn of(samples: &mut [u64]) -> Option<Summary> {
        samples.sort_unstable();
        // Nearest rank: the smallest sample that at least p% of all samples are <= to.
        let rank = |p: f64| {
            samples
                [((p / 100.0 * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        let max = *samples.last()?;
        Some(Summary {
            count: samples.len(),
            p50: rank(50.0),
            p90: rank(90.0),
            p99: rank(99.0),
            max,
        })
    }
}
// ANCHOR_END: summary

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_uses_nearest_rank() {
        let mut samples: Vec<u64> = (1..=1000).rev().collect();
        let summary = Summary::of(&mut samples).unwrap();
        assert_eq!((summary.p50, summary.p90, summary.p99, summary.max), (500, 900, 990, 1000));
        assert_eq!(Summary::of(&mut []), None);
        assert_eq!(Summary::of(&mut [7]).unwrap().p50, 7);
    }
}
