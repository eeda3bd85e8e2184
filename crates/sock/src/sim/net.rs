//! The network fabric between hosts: per-link latency (fixed + seeded jitter), datagram
//! loss, duplication and reordering, one-way and two-way partitions.
//!
//! A link is a direction `(from, to)`; a link with no settings of its own uses the
//! default [`Link`]. A host talking to itself uses [`Link::LOOPBACK`] unless set.
//! Partitions block a direction: datagrams and SYNs are dropped, TCP segments of
//! established connections are held and sent on at the repair (TCP is reliable per
//! connection here; its faults are injected per connection, see `tcp.rs`).
//!
//! Clogging and clock skew are `faults.rs`'s; which host an address reaches, loopback
//! and ICMP are `route.rs`'s. Not modelled yet: bandwidth, latency distributions other
//! than uniform jitter.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::HostId;
use super::rng::Rng;

/// The properties of one direction between two hosts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    /// The one-way latency every packet pays.
    pub latency: Duration,
    /// Up to this much more, uniform, drawn per packet from the world's generator.
    pub jitter: Duration,
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability a datagram is held back by up to another latency (so it may
    /// overtake or be overtaken).
    pub reorder: f64,
}

impl Link {
    /// 1 ms one way, no jitter, no faults.
    pub const DEFAULT: Link = Link {
        latency: Duration::from_millis(1),
        jitter: Duration::ZERO,
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
    };
    /// A host to itself: no latency, no faults.
    pub const LOOPBACK: Link = Link {
        latency: Duration::ZERO,
        ..Link::DEFAULT
    };
}

impl Default for Link {
    fn default() -> Link {
        Link::DEFAULT
    }
}

/// Seeded faults drawn for each new TCP connection (TCP itself stays reliable).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TcpFaults {
    /// Probability a connection is reset at a time drawn within `within`.
    pub reset: f64,
    /// Probability a connection stalls, from a time drawn within `within`.
    pub stall: f64,
    /// How long a stall lasts.
    pub stall_for: Duration,
    /// The window after establishment in which the fault times are drawn.
    pub within: Duration,
}

/// The fabric: link settings and partitions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Net {
    /// Used for every link between two different hosts with no entry in `links`.
    pub(crate) default: Link,
    /// Per-direction settings.
    pub(crate) links: BTreeMap<(HostId, HostId), Link>,
    /// Faults drawn per TCP connection.
    pub(crate) tcp_faults: TcpFaults,
    /// Directions currently cut.
    pub(crate) blocked: BTreeSet<(HostId, HostId)>,
}

impl Net {
    /// The settings of the direction `from → to`.
    pub(crate) fn link(&self, from: HostId, to: HostId) -> Link {
        match self.links.get(&(from, to)) {
            Some(link) => *link,
            None if from == to => Link::LOOPBACK,
            None => self.default,
        }
    }

    /// Whether `from → to` is cut.
    pub(crate) fn is_blocked(&self, from: HostId, to: HostId) -> bool {
        self.blocked.contains(&(from, to))
    }

    /// One packet's one-way delay on `from → to`: latency plus drawn jitter.
    pub(crate) fn delay(&self, rng: &mut Rng, from: HostId, to: HostId) -> Duration {
        let link = self.link(from, to);
        link.latency + jitter(rng, link.jitter)
    }
}

/// A uniform draw in `0..=max` (nothing drawn when `max` is zero).
pub(crate) fn jitter(rng: &mut Rng, max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = rng.below(max.as_nanos() as u64 + 1);
    Duration::from_nanos(nanos)
}
