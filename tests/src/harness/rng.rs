//! A small seeded generator (SplitMix64) and the seed of a run: the fault drivers
//! derive every random choice from one printed number, so a run can be replayed.

use std::time::{SystemTime, UNIX_EPOCH};

/// SplitMix64: fast, tiny, and good enough to pick fault positions and payload bytes.
///
/// # Examples
///
/// ```
/// use sock_tests::harness::rng::Rng;
///
/// let (mut a, mut b) = (Rng::new(7), Rng::new(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!((3..=9).contains(&a.range(3, 9)));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    /// The state, advanced by the golden-ratio increment on every draw.
    state: u64,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for one purpose of a run: `seed` mixed with `label` (a case name,
    /// a client number), so adding a case does not move the others' choices.
    pub fn derive(seed: u64, label: &str) -> Rng {
        Rng::new(seed ^ fnv1a(label.as_bytes()))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bits = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bits[..chunk.len()]);
        }
    }
}

/// The run's seed: the decimal number in the environment variable `var`, or one made
/// from the clock (print it, so the run can be replayed with `var` set).
///
/// # Panics
///
/// If `var` is set but is not a number.
pub fn seed_from_env(var: &str) -> u64 {
    match std::env::var(var) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={text:?} is not a decimal number")),
        Err(_) => clock_seed(),
    }
}

/// A seed from the clock's nanoseconds, kept below 2^53 so it survives any tool that
/// reads numbers as doubles.
fn clock_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Rng::new(nanos).next_u64() >> 11
}

/// FNV-1a, to turn a label into seed bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_generators_differ_by_label_and_repeat_by_seed() {
        let draw = |label| Rng::derive(42, label).next_u64();
        assert_eq!(draw("loop:accept4:ENOMEM"), draw("loop:accept4:ENOMEM"));
        assert_ne!(draw("loop:accept4:ENOMEM"), draw("loop:accept4:ENOBUFS"));
    }

    #[test]
    fn fill_covers_a_length_that_is_not_a_multiple_of_eight() {
        let mut buf = [0u8; 13];
        Rng::new(1).fill(&mut buf);
        assert!(buf[8..].iter().any(|&b| b != 0));
    }
}
