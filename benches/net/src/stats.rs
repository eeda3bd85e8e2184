//! Median with min and max over repetitions: what the results table prints.

/// The median, minimum and maximum of a few repeated measurements.
///
/// # Examples
///
/// ```
/// use sock_netbench::Summary;
///
/// let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
/// assert_eq!((s.median, s.min, s.max, s.runs), (2.0, 1.0, 3.0, 3));
/// assert!(Summary::of(&[]).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The middle value; the mean of the two middle values for an even count.
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many values there were.
    pub runs: usize,
}

impl Summary {
    /// Summarises `values`, ignoring NaNs; `None` when nothing is left.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sock_netbench::Summary::of(&[4.0, 1.0, f64::NAN, 2.0, 3.0]).unwrap();
    /// assert_eq!(s.median, 2.5);
    /// assert_eq!(s.runs, 4);
    /// ```
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let mid = sorted.len() / 2;
        let median = match sorted.len() % 2 {
            0 => (sorted[mid - 1] + sorted[mid]) / 2.0,
            _ => sorted[mid],
        };
        Some(Self {
            median,
            min,
            max,
            runs: sorted.len(),
        })
    }
}
