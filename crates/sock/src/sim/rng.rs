//! The world's seeded pseudo-random generator: xoshiro256** seeded through splitmix64.
//!
//! Every random choice of a run (latency jitter, loss, duplication, reordering, fault
//! times) draws from this one generator in event order, so one seed gives one run. It is
//! not cryptographic and does not try to be; it is small, fast and has no dependency.

/// A seeded xoshiro256** generator.
#[derive(Clone, Debug)]
pub struct Rng {
    /// The four words of state; never all zero (splitmix64 seeding guarantees it).
    state: [u64; 4],
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::Rng;
    ///
    /// assert_eq!(Rng::new(7).next_u64(), Rng::new(7).next_u64());
    /// ```
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let state = [0; 4].map(|_: u64| splitmix64(&mut x));
        Rng { state }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A number in `0..n` (`0` when `n` is 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// `true` with probability `p` (clamped to `0.0..=1.0`); draws nothing when `p` is
    /// 0, so a fault switched off does not shift the rest of the run.
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }
}

/// One step of splitmix64: advances `x` and returns a well-mixed word.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
