//! The seeded byte streams the senders send and the receivers check.
//!
//! Byte `i` of stream `key` is a function of `(key, i)` alone, so a receiver that knows
//! how many bytes it has already taken knows exactly which bytes must come next: a lost,
//! repeated, reordered or corrupted byte shows as the first mismatch. That is what makes
//! `Error::transferred()` checkable: a sender continues at `offset + transferred`, and
//! the receiver sees one seamless stream only if every count was exact.
//!
//! Datagrams carry a header (sequence number, length) before a payload from the stream
//! of `key ^ seq`, so each one checks on its own, and the sequence numbers show loss,
//! duplication and order.

use crate::rng::mix;

/// Bytes of the datagram header: sequence number and total length, little-endian u32s.
pub(crate) const HEADER: usize = 8;

/// The sequence number of the end-of-flow datagram.
pub(crate) const END_SEQ: u32 = u32::MAX;

/// Fills `buf` with bytes `offset..offset + buf.len()` of stream `key`.
pub(crate) fn fill(key: u64, offset: u64, buf: &mut [u8]) {
    walk(key, offset, buf.len(), |at, bytes| {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
        true
    });
}

/// Where `data` first differs from stream `key` at `offset`, if it does.
pub(crate) fn mismatch(key: u64, offset: u64, data: &[u8]) -> Option<usize> {
    let mut first = None;
    walk(key, offset, data.len(), |at, bytes| {
        let got = &data[at..at + bytes.len()];
        match got.iter().zip(bytes).position(|(g, e)| g != e) {
            Some(i) => {
                first = Some(at + i);
                false
            }
            None => true,
        }
    });
    first
}

/// The expected byte at `offset` of stream `key` (for messages).
pub(crate) fn byte_at(key: u64, offset: u64) -> u8 {
    let mut b = [0u8];
    fill(key, offset, &mut b);
    b[0]
}

/// Calls `f(position in the buffer, expected bytes)` for each 8-byte word of the stream
/// that `offset..offset + len` touches, until `f` says stop.
fn walk(key: u64, offset: u64, len: usize, mut f: impl FnMut(usize, &[u8]) -> bool) {
    let (mut at, mut pos) = (0usize, offset);
    while at < len {
        let word = mix(key ^ (pos / 8).wrapping_mul(0xD6E8_FEB8_6659_FD93)).to_le_bytes();
        let start = (pos % 8) as usize;
        let n = (8 - start).min(len - at);
        if !f(at, &word[start..start + n]) {
            return;
        }
        at += n;
        pos += n as u64;
    }
}

/// Writes datagram `seq` of `len` bytes of flow `key` into `buf` (cleared first). A
/// datagram shorter than the header is all zeros: it checks nothing but its length.
pub(crate) fn datagram(key: u64, seq: u32, len: usize, buf: &mut Vec<u8>) {
    buf.clear();
    buf.resize(len, 0);
    if len < HEADER {
        return;
    }
    buf[..4].copy_from_slice(&seq.to_le_bytes());
    buf[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    fill(dgram_key(key, seq), 0, &mut buf[HEADER..]);
}

/// What a received datagram (or its first `data.len()` bytes, when truncated) says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Too short to carry a header.
    Blank,
    /// Datagram `seq` of total length `len`, its bytes as sent.
    Good { seq: u32, len: usize },
    /// A datagram whose bytes are not what was sent; the message says how.
    Bad(String),
}

/// Checks a received datagram of flow `key`; `whole` is false for a truncated one.
pub(crate) fn parse(key: u64, data: &[u8], whole: bool) -> Parsed {
    if data.len() < HEADER && !whole {
        return Parsed::Blank; // the first bytes of a truncated datagram: unknowable
    }
    if data.len() < HEADER {
        return match data.iter().all(|&b| b == 0) {
            true => Parsed::Blank,
            false => Parsed::Bad(format!("a {}-byte datagram is not blank", data.len())),
        };
    }
    let seq = u32::from_le_bytes(data[..4].try_into().expect("4 bytes"));
    let len = u32::from_le_bytes(data[4..8].try_into().expect("4 bytes")) as usize;
    if (whole && len != data.len()) || (!whole && len <= data.len()) {
        return Parsed::Bad(format!(
            "datagram seq {seq} says {len} bytes, {} came (whole: {whole})",
            data.len()
        ));
    }
    match mismatch(dgram_key(key, seq), 0, &data[HEADER..]) {
        Some(i) => Parsed::Bad(format!("datagram seq {seq} corrupt at byte {}", HEADER + i)),
        None => Parsed::Good { seq, len },
    }
}

/// The payload stream of datagram `seq`.
fn dgram_key(key: u64, seq: u32) -> u64 {
    mix(key ^ u64::from(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_into_one_stream() {
        let mut whole = vec![0u8; 100];
        fill(9, 3, &mut whole);
        let mut a = vec![0u8; 37];
        fill(9, 3, &mut a);
        let mut b = vec![0u8; 63];
        fill(9, 40, &mut b);
        a.extend_from_slice(&b);
        assert_eq!(a, whole);
        assert_eq!(mismatch(9, 3, &whole), None);
        whole[50] ^= 1;
        assert_eq!(mismatch(9, 3, &whole), Some(50));
    }

    #[test]
    fn datagrams_parse_back() {
        let mut buf = Vec::new();
        datagram(5, 17, 300, &mut buf);
        assert_eq!(parse(5, &buf, true), Parsed::Good { seq: 17, len: 300 });
        assert_eq!(
            parse(5, &buf[..100], false),
            Parsed::Good { seq: 17, len: 300 }
        );
        assert!(matches!(parse(6, &buf, true), Parsed::Bad(_)));
        datagram(5, 1, 0, &mut buf);
        assert_eq!(parse(5, &buf, true), Parsed::Blank);
    }
}
