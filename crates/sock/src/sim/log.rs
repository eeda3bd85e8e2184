//! The event log: every processed event as (virtual time, host, what), with a running
//! FNV-1a hash over all of it.
//!
//! The hash is the determinism check: two runs of one seed must end with the same
//! [`EventLog::hash`]. Entries are kept in memory in full (no ring buffer yet); the
//! "last N events" report of a stuck run is [`EventLog::tail`].

use std::fmt;
use std::time::Duration;

/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One logged event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Virtual time since the world's start.
    pub at: Duration,
    /// The host's name, or `"world"` for events of no host (a partition repair).
    pub host: String,
    /// What happened, in a short stable text.
    pub what: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12?} {} {}", self.at, self.host, self.what)
    }
}

/// The log of a run and its determinism hash.
#[derive(Clone, Debug)]
pub struct EventLog {
    /// Every entry, in processing order.
    entries: Vec<Entry>,
    /// FNV-1a over every entry's time, host and text so far.
    hash: u64,
}

impl EventLog {
    /// An empty log.
    pub(crate) fn new() -> EventLog {
        EventLog {
            entries: Vec::new(),
            hash: FNV_OFFSET,
        }
    }

    /// Appends an entry and folds it into the hash.
    pub(crate) fn push(&mut self, at: Duration, host: &str, what: String) {
        self.feed(&at.as_nanos().to_le_bytes());
        self.feed(host.as_bytes());
        self.feed(&[0]);
        self.feed(what.as_bytes());
        self.feed(&[0]);
        let host = host.to_string();
        self.entries.push(Entry { at, host, what });
    }

    /// The running hash of everything logged so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The last `n` entries (fewer when the log is shorter).
    pub fn tail(&self, n: usize) -> &[Entry] {
        &self.entries[self.entries.len().saturating_sub(n)..]
    }

    /// Folds bytes into the FNV-1a hash.
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }
}
