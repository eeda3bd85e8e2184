//! Packing a slab index and a generation into one `mio::Token`.
//!
//! A slot of the registration slab is reused after a socket deregisters. An event the
//! kernel queued for the old socket (a `dup`ed descriptor keeps an epoll registration
//! alive) must not wake the new one, so each token carries the slot's generation and a
//! mismatch drops the event.

use mio::Token;

/// The token reserved for the cross-thread waker.
pub(crate) const WAKER: Token = Token(usize::MAX);

const INDEX_BITS: u32 = 32;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

/// Builds the token of slot `index` in its `generation`.
pub(crate) fn pack(index: usize, generation: u32) -> Token {
    assert!(
        index < INDEX_MASK,
        "sock-poll: more than 2^32 registrations"
    );
    Token(((generation as usize) << INDEX_BITS) | index)
}

/// Splits a token into (slot index, generation).
pub(crate) fn unpack(token: Token) -> (usize, u32) {
    (token.0 & INDEX_MASK, (token.0 >> INDEX_BITS) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for (i, g) in [(0, 0), (1, 7), (INDEX_MASK - 1, u32::MAX)] {
            assert_eq!(unpack(pack(i, g)), (i, g));
        }
        assert_ne!(pack(INDEX_MASK - 1, u32::MAX >> 1), WAKER);
    }
}
