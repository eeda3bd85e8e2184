//! A log-linear latency histogram: exact below 64, then 32 linear steps per power of two.
//!
//! Recording is an index computation and an increment, cheap enough to do for every round
//! trip in the load generator's hot loop. Each power of two is split into 32 buckets, so a
//! quantile is within about 1.6 % of the true value (it reports the bucket's midpoint).
//! Values are unitless; the load generator records nanoseconds.

/// Values below this are counted exactly, one bucket each.
const EXACT: u64 = 64;
/// Linear buckets per power of two above [`EXACT`] (a power of two itself).
const SUB_BUCKETS: u64 = 32;
/// log2 of [`SUB_BUCKETS`].
const SUB_BITS: u32 = 5;
/// log2 of [`EXACT`]: the highest bit of the first value not counted exactly.
const EXACT_BITS: u32 = 6;
/// Buckets needed to cover every `u64`.
const BUCKETS: usize = (EXACT + (64 - EXACT_BITS as u64) * SUB_BUCKETS) as usize;

/// Counts of values in log-linear buckets, for quantiles such as p50 and p99.
///
/// # Examples
///
/// ```
/// use sock_netbench::Histogram;
///
/// let mut h = Histogram::new();
/// for v in 1..=100 {
///     h.record(v * 1000);
/// }
/// let p50 = h.quantile(0.5);
/// assert!((49_000..=51_000).contains(&p50), "{p50}");
/// assert_eq!(h.max(), 100_000);
/// ```
#[derive(Debug, Clone)]
pub struct Histogram {
    /// `counts[i]` is how many recorded values fell in bucket `i`.
    counts: Vec<u64>,
    /// Total number of values recorded.
    count: u64,
    /// The largest value recorded, exact.
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock_netbench::Histogram::new().count(), 0);
    /// ```
    pub fn new() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            count: 0,
            max: 0,
        }
    }

    /// Counts one value.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut h = sock_netbench::Histogram::new();
    /// h.record(42);
    /// assert_eq!(h.quantile(1.0), 42);
    /// ```
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.count += 1;
        self.max = self.max.max(value);
    }

    /// How many values were recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut h = sock_netbench::Histogram::new();
    /// h.record(1);
    /// h.record(1);
    /// assert_eq!(h.count(), 2);
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value recorded (exact), 0 when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut h = sock_netbench::Histogram::new();
    /// h.record(123_456_789);
    /// assert_eq!(h.max(), 123_456_789);
    /// ```
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value below which a fraction `q` (0.0 to 1.0) of the recorded values lie, as the
    /// midpoint of its bucket (never above [`max`](Self::max)); 0 when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut h = sock_netbench::Histogram::new();
    /// (0..99).for_each(|_| h.record(10));
    /// h.record(1_000_000);
    /// assert_eq!(h.quantile(0.99), 10);
    /// assert!(h.quantile(1.0) > 900_000);
    /// ```
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return midpoint_of(bucket).min(self.max);
            }
        }
        self.max
    }
}

/// The bucket index of `value`.
fn bucket_of(value: u64) -> usize {
    if value < EXACT {
        return value as usize;
    }
    let msb = 63 - value.leading_zeros();
    let shift = msb - SUB_BITS;
    let sub = (value >> shift) - SUB_BUCKETS;
    (EXACT + u64::from(msb - EXACT_BITS) * SUB_BUCKETS + sub) as usize
}

/// The middle of the range of values that land in `bucket`.
fn midpoint_of(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < EXACT {
        return bucket;
    }
    let msb = (bucket - EXACT) / SUB_BUCKETS + u64::from(EXACT_BITS);
    let sub = (bucket - EXACT) % SUB_BUCKETS;
    let shift = msb - u64::from(SUB_BITS);
    let low = (SUB_BUCKETS + sub) << shift;
    low + ((1u64 << shift) >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_a_bucket_whose_midpoint_is_close() {
        let samples = [0, 1, 63, 64, 65, 100, 1000, 4095, 4096, 1 << 40, u64::MAX];
        for value in samples {
            let bucket = bucket_of(value);
            assert!(bucket < BUCKETS, "{value} -> {bucket}");
            let mid = midpoint_of(bucket) as f64;
            let err = (mid - value as f64).abs() / (value as f64).max(1.0);
            assert!(err <= 1.0 / SUB_BUCKETS as f64, "{value}: midpoint {mid}");
        }
    }

    #[test]
    fn buckets_are_monotonic() {
        let mut last = 0;
        for value in (0..200_000).step_by(7) {
            let bucket = bucket_of(value);
            assert!(bucket >= last, "{value}");
            last = bucket;
        }
    }
}
