//! [`RecvFlags`]: the `flags` argument of a receive (the seed's `recv`/`recvnext(buf,
//! maxlen, expires, flags)`), by name: peek, truncation, wait-for-all, urgent data.
//!
//! The flags are sock's own bits, turned into the OS's `MSG_*` by each `sys` module
//! when an operation starts (`MSG_TRUNC` is asked of the OS on Linux only; `WAITALL`
//! is sock's own loop, since a non-blocking socket cannot wait in the kernel). What
//! each means for readiness, which a plain receive's result drives (see
//! `ARCHITECTURE.md`):
//!
//! - `PEEK` leaves the data queued, so a peek that returns bytes never clears the
//!   read readiness, not even when it returned fewer than asked (a short plain read
//!   may clear it: the queue is then empty); a would-block peek parks as any read.
//! - `OOB` never waits, as in the kernel: the urgent byte is there or it is not, and
//!   its absence says nothing of the ordinary queue, so it touches no readiness.
//! - `TRUNC` and `WAITALL` read (or, `TRUNC` on TCP, discard) like a plain read.
//!
//! Combinations that cannot mean anything are errors of the operation, never a wait:
//! `PEEK | WAITALL` (waiting for more without taking any would spin or lose the
//! readiness), `OOB` with anything else, `WAITALL` or `OOB` on a datagram socket.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

/// The flags of a receive: [`PEEK`](Self::PEEK), [`TRUNC`](Self::TRUNC),
/// [`WAITALL`](Self::WAITALL), [`OOB`](Self::OOB), combined with `|`, or parsed from the
/// names `"peek"`, `"trunc"`, `"waitall"`, `"oob"` (also `"msg_peek"`, …) as options
/// are by name. Taken by `recv_with` and `recvnext_with` of every socket.
///
/// # Examples
///
/// ```
/// use sock::io::RecvFlags;
///
/// let flags = RecvFlags::PEEK | RecvFlags::TRUNC;
/// assert!(flags.contains(RecvFlags::PEEK));
/// assert_eq!(format!("{flags:?}"), "PEEK | TRUNC");
/// assert_eq!("peek|msg_trunc".parse::<RecvFlags>()?, flags);
/// assert_eq!("".parse::<RecvFlags>()?, RecvFlags::empty());
/// assert!("peak".parse::<RecvFlags>().is_err());
/// # Ok::<(), sock::Error>(())
/// ```
#[doc(alias = "flags")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecvFlags(u8);

/// Every flag with its constant's name and its short name.
const NAMED: [(RecvFlags, &str, &str); 4] = [
    (RecvFlags::PEEK, "PEEK", "peek"),
    (RecvFlags::TRUNC, "TRUNC", "trunc"),
    (RecvFlags::WAITALL, "WAITALL", "waitall"),
    (RecvFlags::OOB, "OOB", "oob"),
];

impl RecvFlags {
    /// Return the data without taking it off the queue: the next receive gets it again
    /// (`MSG_PEEK`; std's and socket2's `peek`).
    #[doc(alias = "MSG_PEEK")]
    pub const PEEK: RecvFlags = RecvFlags(1);
    /// Datagrams: return the datagram's real length even when `buf` is shorter (its
    /// first bytes are in `buf`; no `MessageTooLong`) — with `PEEK`, the size of the next
    /// datagram without taking it. TCP: discard the bytes instead of copying them.
    /// Linux only (`MSG_TRUNC`); elsewhere the receive fails with `Unsupported`.
    #[doc(alias = "MSG_TRUNC")]
    pub const TRUNC: RecvFlags = RecvFlags(2);
    /// Streams: wait until `buf` is full, or the peer closed (then what came), rather
    /// than return the first bytes (`MSG_WAITALL`). Not with `PEEK`; not for datagrams.
    #[doc(alias = "MSG_WAITALL")]
    pub const WAITALL: RecvFlags = RecvFlags(4);
    /// TCP: read the urgent (out-of-band) byte, at once: `InvalidInput` when none is
    /// pending (or `so_oobinline` is on), `WouldBlock` when it is announced but not here
    /// yet (`MSG_OOB`; socket2's `recv_out_of_band`). Alone, on streams only.
    #[doc(alias = "MSG_OOB")]
    pub const OOB: RecvFlags = RecvFlags(8);

    /// No flags: a plain receive.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock::io::RecvFlags::empty().is_empty());
    /// ```
    pub const fn empty() -> RecvFlags {
        RecvFlags(0)
    }

    /// Whether no flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sock::io::RecvFlags::OOB.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::io::RecvFlags;
    /// assert!((RecvFlags::PEEK | RecvFlags::TRUNC).contains(RecvFlags::TRUNC));
    /// ```
    pub const fn contains(self, other: RecvFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags (same as `|`, usable in `const`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::io::RecvFlags;
    /// const SIZE_OF_NEXT: RecvFlags = RecvFlags::PEEK.union(RecvFlags::TRUNC);
    /// assert_eq!(SIZE_OF_NEXT, RecvFlags::PEEK | RecvFlags::TRUNC);
    /// ```
    pub const fn union(self, other: RecvFlags) -> RecvFlags {
        RecvFlags(self.0 | other.0)
    }

    /// The OS flags of a stream receive, or why these flags cannot go together.
    pub(crate) fn for_stream(self) -> Result<i32> {
        let oob_with_more = self.contains(Self::OOB) && self != Self::OOB;
        if oob_with_more || self.contains(Self::PEEK.union(Self::WAITALL)) {
            return Err(invalid(
                self,
                "oob goes alone, and peek does not wait for all",
            ));
        }
        self.os_flags()
    }

    /// The OS flags of a datagram receive, or why these flags are not for datagrams.
    pub(crate) fn for_datagram(self) -> Result<i32> {
        if self.contains(Self::OOB) {
            let msg = "urgent (out-of-band) data is TCP's: no oob for datagrams";
            return Err(Error::new(ErrorKind::Unsupported, msg));
        }
        if self.contains(Self::WAITALL) {
            return Err(invalid(
                self,
                "a datagram comes whole: waitall is for streams",
            ));
        }
        self.os_flags()
    }

    /// The OS's `MSG_*` bits (`WAITALL` is sock's loop, not passed).
    fn os_flags(self) -> Result<i32> {
        let (peek, trunc, oob) = (
            self.contains(Self::PEEK),
            self.contains(Self::TRUNC),
            self.contains(Self::OOB),
        );
        sys::recv_flags(peek, trunc, oob)
            .ok_or_else(|| Error::new(ErrorKind::Unsupported, "trunc is Linux's (MSG_TRUNC)"))
    }
}

/// The error of flags that do not go together.
fn invalid(flags: RecvFlags, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("recv flags {flags:?}: {why}"),
    )
}

impl BitOr for RecvFlags {
    type Output = RecvFlags;
    fn bitor(self, rhs: RecvFlags) -> RecvFlags {
        self.union(rhs)
    }
}

impl BitOrAssign for RecvFlags {
    fn bitor_assign(&mut self, rhs: RecvFlags) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for RecvFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(empty)");
        }
        let names = NAMED.iter().filter(|(flag, ..)| self.contains(*flag));
        let names: Vec<&str> = names.map(|(_, name, _)| *name).collect();
        f.write_str(&names.join(" | "))
    }
}

impl FromStr for RecvFlags {
    type Err = Error;

    /// Parses flag names (`"peek"`, `"trunc"`, `"waitall"`, `"oob"`, each also with the
    /// `"msg_"` prefix), ASCII case-insensitive, separated by `|`, `,` or spaces; `""`
    /// is no flags.
    fn from_str(s: &str) -> Result<RecvFlags> {
        let words = s.split(['|', ',', ' ']).filter(|w| !w.is_empty());
        words
            .map(parse_one)
            .try_fold(RecvFlags::empty(), |acc, f| Ok(acc | f?))
    }
}

fn parse_one(word: &str) -> Result<RecvFlags> {
    let lower = word.to_ascii_lowercase();
    let short = lower.strip_prefix("msg_").unwrap_or(&lower);
    let found = NAMED.iter().find(|(.., name)| *name == short);
    found.map(|(flag, ..)| *flag).ok_or_else(|| {
        let msg = format!("unknown recv flag '{word}' (peek, trunc, waitall, oob)");
        Error::new(ErrorKind::InvalidInput, msg)
    })
}
