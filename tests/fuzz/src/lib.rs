//! What the fuzz targets share: [`Input`], which reads structured values out of
//! libFuzzer's bytes (a byte, a little-endian number, a slice, a string), giving zeros
//! once the bytes run out, so every input is a valid one.

use std::time::Duration;

/// How long a socket operation of a target may take: loopback answers in microseconds,
/// so running into this is a hang, reported as a panic.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// The fuzzer's bytes, read front to back.
#[derive(Debug)]
pub struct Input<'a> {
    /// What is left to read.
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads `bytes`.
    pub fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes }
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.bytes.split_at(n.min(self.bytes.len()));
        self.bytes = tail;
        head
    }

    /// One byte, 0 at the end.
    pub fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// A little-endian `u16` (missing bytes are 0).
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// A little-endian `i32` (missing bytes are 0).
    pub fn i32(&mut self) -> i32 {
        i32::from_le_bytes(self.array())
    }

    /// A string of up to `n` bytes, invalid UTF-8 replaced.
    pub fn string(&mut self, n: usize) -> String {
        String::from_utf8_lossy(self.take(n)).into_owned()
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.bytes
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `N` bytes, zero-padded at the end.
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let head = self.take(N);
        out[..head.len()].copy_from_slice(head);
        out
    }
}
