//! Routing: which host a packet toward an address reaches, the loopback addresses every
//! host owns, and what the network answers for an address nobody owns (silence, an
//! ICMP host unreachable, or no route at all).
//!
//! The rules, in order, for a packet of host `h` toward `ip`:
//!
//! 1. A loopback address (`127.0.0.0/8`, `::1`) is `h` itself: every host owns them,
//!    each its own, and their traffic never leaves the host (no partition, clog or link
//!    other than `h → h` applies).
//! 2. `h` has no address of `ip`'s family (beside loopback): no route, the sender's own
//!    stack fails the call at once with `NetworkUnreachable` (`ENETUNREACH`).
//! 3. An address a host owns is that host (partitions and crashes then decide).
//! 4. An address nobody owns follows the most specific rule [`World::set_unreachable`]
//!    set for it, else [`World::set_unowned`]'s default, which is
//!    [`Unreachable::Silent`]: nothing answers (a firewall or a blackhole), so a connect
//!    runs into its SYN retries or its deadline, as before ICMP was modelled.
//!
//! What the answers do, as Linux gives them: an ICMP host unreachable fails a TCP
//! connect (`SYN_SENT` takes any ICMP unreachable as fatal) with `HostUnreachable` after
//! the rule's delay — a router's answer takes a round trip, a neighbour on the local
//! link that never answers ARP takes [`ARP_TIMEOUT`]; a UDP socket ignores it (Linux
//! reports only "hard" ICMP errors, and host unreachable is a soft one). A datagram to
//! a port nobody bound on a live host draws a port unreachable (`udp.rs`): the sending
//! socket, if connected to that address, fails its next send or receive with
//! `ConnectionRefused`, once.
//!
//! Not modelled: ICMP toward established TCP connections (a soft error there), ICMP
//! rate limits, `IP_RECVERR`, routers as hosts, TTLs.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::world::{Event, World};
use super::{HostId, SocketId};
use crate::ErrorKind;

/// How long Linux waits for a neighbour to answer ARP before it reports the host
/// unreachable (3 solicitations one second apart).
///
/// # Examples
///
/// See [`World::set_unreachable`].
pub const ARP_TIMEOUT: Duration = Duration::from_secs(3);

/// What the network answers for a packet toward an address no host owns.
///
/// # Examples
///
/// See [`World::set_unreachable`] and [`World::set_unowned`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreachable {
    /// Nothing answers: the packet is dropped (a firewall, a blackhole route, a host
    /// that is gone). A TCP connect retransmits its SYN and times out.
    #[default]
    Silent,
    /// An ICMP host unreachable arrives after this delay (a router's round trip, or
    /// [`ARP_TIMEOUT`] on the local link): a TCP connect fails with `HostUnreachable`.
    Host(Duration),
    /// No route: connects and sends fail at once with `NetworkUnreachable`.
    Network,
}

/// Where a packet goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// It reaches this host.
    Host(HostId),
    /// Nobody owns the address; the network answers as this says.
    Unreachable(Unreachable),
}

/// An ICMP error on its way back to the host whose packet drew it.
#[derive(Debug)]
pub(crate) enum Icmp {
    /// Host unreachable for a connecting TCP socket.
    Host {
        /// The connecting socket.
        client: SocketId,
    },
    /// Port unreachable for a datagram `from → to` sent by a socket of `host`.
    Port {
        /// The host that sent the datagram.
        host: HostId,
        /// The datagram's source address (the sending socket's).
        from: SocketAddr,
        /// Where it was sent.
        to: SocketAddr,
    },
}

/// The routing table: rules for addresses nobody owns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Routes {
    /// Subnets `(network, prefix length)` and their answer; the longest prefix wins.
    rules: Vec<(IpAddr, u8, Unreachable)>,
    /// The answer for an address no rule covers.
    unowned: Unreachable,
}

impl World {
    /// Sets what the network answers for packets toward the addresses of the subnet
    /// `addr/prefix` that no host owns (the longest matching prefix wins; a host's own
    /// addresses are always reached — cut them with a partition or a crash).
    ///
    /// # Panics
    ///
    /// When `prefix` is longer than the address (32 bits for IPv4, 128 for IPv6).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use std::time::Duration;
    /// use sock::sim::{Unreachable, World};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// let lan = "10.0.0.0".parse().unwrap();
    /// world.set_unreachable(lan, 24, Unreachable::Host(sock::sim::ARP_TIMEOUT));
    /// let c = world.tcp_connect(a, SocketAddr::from(([10, 0, 0, 9], 80)))?;
    /// world.run_until(Duration::from_millis(2999));
    /// assert_eq!(world.tcp_connect_result(c), None); // still waiting for ARP
    /// world.run_until(Duration::from_secs(3));
    /// assert_eq!(world.tcp_connect_result(c), Some(Err(sock::ErrorKind::HostUnreachable)));
    /// # Ok::<(), sock::ErrorKind>(())
    /// ```
    #[doc(alias = "route")]
    pub fn set_unreachable(&mut self, addr: IpAddr, prefix: u8, how: Unreachable) {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        assert!(
            prefix <= bits,
            "prefix /{prefix} is longer than {addr}'s {bits} bits"
        );
        let rules = &mut self.routes.rules;
        rules.retain(|&(a, p, _)| (a, p) != (addr, prefix));
        rules.push((addr, prefix, how));
        self.log_world(format!("route {addr}/{prefix} {how:?}"));
    }

    /// Sets what the network answers for an address no host owns and no
    /// [`World::set_unreachable`] rule covers; [`Unreachable::Silent`] by default.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use sock::sim::{Unreachable, World};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// world.set_unowned(Unreachable::Network);
    /// let to = SocketAddr::from(([192, 0, 2, 1], 80));
    /// assert_eq!(world.tcp_connect(a, to), Err(sock::ErrorKind::NetworkUnreachable));
    /// ```
    pub fn set_unowned(&mut self, how: Unreachable) {
        self.routes.unowned = how;
        self.log_world(format!("route unowned {how:?}"));
    }

    /// Where a packet of `from` toward `ip` goes (the rules of the module docs).
    pub(crate) fn route(&self, from: HostId, ip: IpAddr) -> Route {
        if ip.is_loopback() {
            return Route::Host(from);
        }
        if !self.has_family(from, ip) {
            return Route::Unreachable(Unreachable::Network);
        }
        match self.addrs.get(&ip) {
            Some(&host) => Route::Host(host),
            None => Route::Unreachable(self.routes.answer(ip)),
        }
    }

    /// `NetworkUnreachable` when `from` has no route toward `ip`, as `connect` and
    /// `sendto` report it at once.
    pub(crate) fn check_route(&self, from: HostId, ip: IpAddr) -> Result<(), ErrorKind> {
        match self.route(from, ip) {
            Route::Unreachable(Unreachable::Network) => Err(ErrorKind::NetworkUnreachable),
            _ => Ok(()),
        }
    }

    /// The source address `host` uses toward `to`: the loopback address of the family
    /// toward a loopback address, else its first own address of the family.
    pub(crate) fn source_for(&self, host: HostId, to: IpAddr) -> IpAddr {
        if to.is_loopback() {
            return loopback_of(to);
        }
        let addrs = &self.hosts[host.0].addrs;
        let own = |a: &&IpAddr| !a.is_loopback() && a.is_ipv4() == to.is_ipv4();
        *addrs.iter().find(own).unwrap_or(&addrs[0])
    }

    /// Whether `addr` may be bound on `host`: unspecified, loopback or its own.
    pub(crate) fn is_local(&self, host: HostId, ip: IpAddr) -> bool {
        ip.is_unspecified() || ip.is_loopback() || self.addrs.get(&ip) == Some(&host)
    }

    /// Sends `icmp` back to `to` after `delay` (lost when the way back is cut).
    pub(crate) fn send_icmp(&mut self, from: HostId, to: HostId, delay: Duration, icmp: Icmp) {
        if self.net.is_blocked(from, to) {
            return;
        }
        self.record(from, format!("icmp {icmp:?}"));
        self.schedule(self.now + delay, Event::Icmp(icmp));
    }

    /// An ICMP error arrives at the host whose packet drew it.
    pub(crate) fn icmp_arrive(&mut self, icmp: Icmp) {
        match icmp {
            Icmp::Host { client } => self.tcp_unreachable(client, ErrorKind::HostUnreachable),
            Icmp::Port { host, from, to } => self.udp_refused(host, from, to),
        }
    }

    /// Whether `host` has an address of `ip`'s family other than a loopback one.
    fn has_family(&self, host: HostId, ip: IpAddr) -> bool {
        let addrs = &self.hosts[host.0].addrs;
        addrs
            .iter()
            .any(|a| !a.is_loopback() && a.is_ipv4() == ip.is_ipv4())
    }
}

impl Routes {
    /// The answer for `ip`, owned by nobody: the longest matching rule's, else the
    /// default.
    fn answer(&self, ip: IpAddr) -> Unreachable {
        let matching = self.rules.iter().filter(|(net, p, _)| covers(*net, *p, ip));
        let best = matching.max_by_key(|(_, p, _)| *p);
        best.map_or(self.unowned, |(_, _, how)| *how)
    }
}

/// Whether the subnet `net/prefix` holds `ip` (never across families).
fn covers(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    let (net, ip, bits) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(n.to_bits()), u128::from(i.to_bits()), 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    match shift {
        128 => true,
        s => net >> s == ip >> s,
    }
}

/// The loopback address of `ip`'s family (`127.0.0.1` or `::1`).
fn loopback_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_cover_their_addresses_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(covers(ip("10.0.0.0"), 8, ip("10.255.1.2")));
        assert!(!covers(ip("10.0.0.0"), 24, ip("10.0.1.2")));
        assert!(covers(ip("0.0.0.0"), 0, ip("192.0.2.1")));
        assert!(covers(ip("192.0.2.1"), 32, ip("192.0.2.1")));
        assert!(!covers(ip("0.0.0.0"), 0, ip("fd00::1")));
        assert!(covers(ip("fd00::"), 8, ip("fd12::1")));
        assert!(covers(ip("::"), 0, ip("fd12::1")));
    }
}
