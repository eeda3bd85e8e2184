//! The byte pattern a load generator sends, so every echoed byte can be checked cheaply.
//!
//! Stream `s` carries, at offset `k`, byte `table[(k + s * STRIDE) % PERIOD]` of a fixed
//! pseudo-random table. The period is a prime (65,521) so it never lines up with power-of-two
//! write sizes, and the table is stored with a 64 KiB tail that repeats its head, so any
//! run of up to 64 KiB starting anywhere is one contiguous slice: filling is a `memcpy` and
//! checking a `memcmp`, fast enough for the 1 GiB bulk run. A lost, duplicated or reordered
//! run of bytes shows up unless it is a whole multiple of the period long.

/// Length of the repeating pattern, a prime.
const PERIOD: usize = 65_521;
/// Longest contiguous run served from one slice of the table.
const MAX_RUN: usize = 64 * 1024;
/// How far apart in the pattern two neighbouring streams start, a prime too.
const STRIDE: u64 = 7_919;

/// The pseudo-random table behind the byte pattern.
///
/// # Examples
///
/// ```
/// use sock_netbench::Pattern;
///
/// let pattern = Pattern::new();
/// let mut buf = vec![0u8; 200_000];
/// pattern.fill(3, 17, &mut buf);
/// assert!(pattern.matches(3, 17, &buf));
/// assert!(!pattern.matches(4, 17, &buf));
/// assert!(pattern.matches(3, 117, &buf[100..]));
/// ```
#[derive(Debug, Clone)]
pub struct Pattern {
    /// `PERIOD` pseudo-random bytes, then `MAX_RUN` more continuing the cycle.
    table: Vec<u8>,
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

impl Pattern {
    /// Builds the table (64 KiB of xorshift output, deterministic).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = sock_netbench::Pattern::new();
    /// let b = sock_netbench::Pattern::new();
    /// let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
    /// a.fill(1, 2, &mut x);
    /// b.fill(1, 2, &mut y);
    /// assert_eq!(x, y);
    /// ```
    pub fn new() -> Self {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let period: Vec<u8> = (0..PERIOD)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        let table = period
            .iter()
            .copied()
            .cycle()
            .take(PERIOD + MAX_RUN)
            .collect();
        Self { table }
    }

    /// Writes the bytes of stream `stream` from offset `offset` into `buf`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pattern = sock_netbench::Pattern::new();
    /// let mut whole = [0u8; 10];
    /// let mut tail = [0u8; 4];
    /// pattern.fill(9, 0, &mut whole);
    /// pattern.fill(9, 6, &mut tail);
    /// assert_eq!(&whole[6..], &tail);
    /// ```
    pub fn fill(&self, stream: u64, offset: u64, buf: &mut [u8]) {
        let mut offset = offset;
        for chunk in buf.chunks_mut(MAX_RUN) {
            chunk.copy_from_slice(self.run(stream, offset, chunk.len()));
            offset += chunk.len() as u64;
        }
    }

    /// Whether `data` equals the bytes of stream `stream` from offset `offset`.
    ///
    /// # Examples
    ///
    /// ```
    /// let pattern = sock_netbench::Pattern::new();
    /// let mut buf = [0u8; 64];
    /// pattern.fill(0, 64, &mut buf);
    /// assert!(pattern.matches(0, 64, &buf));
    /// buf[63] ^= 1;
    /// assert!(!pattern.matches(0, 64, &buf));
    /// ```
    pub fn matches(&self, stream: u64, offset: u64, data: &[u8]) -> bool {
        let mut offset = offset;
        data.chunks(MAX_RUN).all(|chunk| {
            let ok = chunk == self.run(stream, offset, chunk.len());
            offset += chunk.len() as u64;
            ok
        })
    }

    /// The `len` (at most `MAX_RUN`) pattern bytes of `stream` from `offset`.
    fn run(&self, stream: u64, offset: u64, len: usize) -> &[u8] {
        let start = (offset.wrapping_add(stream.wrapping_mul(STRIDE)) % PERIOD as u64) as usize;
        &self.table[start..start + len]
    }
}
