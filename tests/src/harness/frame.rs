//! The soak's frames: a header naming the connection and the frame, a payload, and a
//! checksum, so a byte changed anywhere on the way through the proxy and the echo
//! server is caught even where the sender's copy is not at hand, and a frame of
//! another connection is told from a corrupted one.
//!
//! ```text
//! magic "sOcK" | connection u64 | sequence u32 | payload length u32 | payload | FNV-1a u64
//! ```
//! (little-endian). The proxy reads the connection number from the first 12 bytes a
//! client sends ([`connection_of`]), to name the connections it cuts.

use std::fmt;

/// The first four bytes of every frame.
pub const MAGIC: [u8; 4] = *b"sOcK";
/// The header's length.
pub const HEADER: usize = 20;
/// The checksum's length.
pub const TRAILER: usize = 8;
/// The longest payload a frame may announce.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// What a frame says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The sending connection's number.
    pub connection: u64,
    /// The frame's number on its connection.
    pub sequence: u32,
    /// The payload's length.
    pub len: usize,
}

/// Why bytes are not a good frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bad {
    /// The first four bytes are not [`MAGIC`].
    Magic,
    /// The announced payload is longer than [`MAX_PAYLOAD`].
    Length(usize),
    /// The checksum does not match the bytes.
    Checksum,
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::Magic => f.write_str("bad magic"),
            Bad::Length(len) => write!(f, "announced length {len}"),
            Bad::Checksum => f.write_str("bad checksum"),
        }
    }
}

/// The frame `sequence` of connection `connection` carrying `payload`.
///
/// # Examples
///
/// ```
/// use sock_tests::harness::frame;
///
/// let bytes = frame::encode(7, 1, b"hi");
/// let header = frame::header(bytes[..frame::HEADER].try_into().unwrap()).unwrap();
/// assert_eq!((header.connection, header.sequence, header.len), (7, 1, 2));
/// assert_eq!(frame::check(&bytes), Ok(header));
/// assert_eq!(frame::connection_of(&bytes), Some(7));
/// ```
pub fn encode(connection: u64, sequence: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER + payload.len() + TRAILER);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&connection.to_le_bytes());
    bytes.extend_from_slice(&sequence.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(payload);
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

/// Reads a header; the whole frame is `HEADER + len + TRAILER` bytes.
///
/// # Errors
///
/// [`Bad::Magic`] or [`Bad::Length`].
pub fn header(bytes: &[u8; HEADER]) -> Result<Header, Bad> {
    if bytes[..4] != MAGIC {
        return Err(Bad::Magic);
    }
    let len = u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes")) as usize;
    if len > MAX_PAYLOAD {
        return Err(Bad::Length(len));
    }
    Ok(Header {
        connection: u64::from_le_bytes(bytes[4..12].try_into().expect("8 bytes")),
        sequence: u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")),
        len,
    })
}

/// Checks a whole frame: header, length and checksum.
///
/// # Errors
///
/// The first thing wrong with it.
pub fn check(bytes: &[u8]) -> Result<Header, Bad> {
    let head: &[u8; HEADER] = bytes
        .get(..HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(Bad::Magic)?;
    let header = header(head)?;
    if bytes.len() != HEADER + header.len + TRAILER {
        return Err(Bad::Length(bytes.len()));
    }
    let (body, sum) = bytes.split_at(HEADER + header.len);
    match checksum(body).to_le_bytes() == sum {
        true => Ok(header),
        false => Err(Bad::Checksum),
    }
}

/// The connection number in the first bytes a client sent, once there are 12.
pub fn connection_of(first: &[u8]) -> Option<u64> {
    if first.len() < 12 || first[..4] != MAGIC {
        return None;
    }
    Some(u64::from_le_bytes(first[4..12].try_into().ok()?))
}

/// FNV-1a over `bytes`.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_changed_byte_is_caught() {
        let good = encode(3, 9, &[1, 2, 3, 4, 5]);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            assert!(check(&bad).is_err(), "byte {i}");
        }
    }

    #[test]
    fn a_length_past_the_limit_is_refused_from_the_header() {
        let mut bytes = encode(1, 1, b"x");
        bytes[16..20].copy_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        let head: &[u8; HEADER] = bytes[..HEADER].try_into().unwrap();
        assert_eq!(header(head), Err(Bad::Length(MAX_PAYLOAD + 1)));
    }
}
