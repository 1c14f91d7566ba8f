//! Repeated measurements: median and spread.

use serde::Serialize;

/// One side's rates over the repetitions, in the order they were measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    pub runs: Vec<f64>,
}

impl Series {
    pub fn push(&mut self, value: f64) {
        self.runs.push(value);
    }

    /// The median (the mean of the two middle values for an even count); 0 when empty.
    pub fn median(&self) -> f64 {
        median(&self.runs)
    }

    /// (max − min) / median: how far apart the repetitions were, as a fraction of the median.
    pub fn spread(&self) -> f64 {
        let (min, max) = self.runs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let median = self.median();
        if self.runs.is_empty() || median == 0.0 { 0.0 } else { (max - min) / median }
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Rust's run i over Java's run i, for every repetition both sides completed.
pub fn paired_ratios(rust: &Series, java: &Series) -> Vec<f64> {
    rust.runs.iter().zip(&java.runs).map(|(r, j)| if *j > 0.0 { r / j } else { 0.0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        let series = Series { runs: vec![300.0, 100.0, 200.0] };
        assert_eq!(series.median(), 200.0);
        assert_eq!(series.spread(), 1.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(Series::default().median(), 0.0);
        assert_eq!(Series::default().spread(), 0.0);
    }

    #[test]
    fn ratios_pair_the_repetitions() {
        let rust = Series { runs: vec![300.0, 200.0] };
        let java = Series { runs: vec![100.0, 200.0, 50.0] };
        assert_eq!(paired_ratios(&rust, &java), vec![3.0, 1.0]);
    }
}
