//! Simulated DNS: explicit records of a world, a resolver latency, names that never
//! answer — and no name resolves by accident.
//!
//! A name resolves only through [`World::add_dns`]; any other name is NXDOMAIN
//! (`HostNotFound`), as is every name of a world with no records — except `localhost`
//! (any case, a trailing dot or not), which, as `/etc/hosts` makes it on Linux, is the
//! asking host's own loopback (`::1`, then `127.0.0.1`), at once and without the
//! resolver's latency; a record added for `localhost` replaces that. A name added with
//! [`World::add_dns_timeout`] never answers: its lookup waits the resolver's timeout
//! and fails with `TryAgain` (glibc's `EAI_AGAIN` for a name server that does not
//! answer). Every answer (and every NXDOMAIN) takes [`World::set_dns_latency`] of
//! virtual time; names are matched without regard to case or a trailing dot.
//!
//! The latency and the timeout are waited for by the lookups that wait (a TCP or UDP
//! `connect(name, port)`, `send_to` to a name); the few that answer at once (a UDP
//! `connect_to` made ready without waiting) take the answer without the wait.
//!
//! Not modelled: a resolver per host, TTLs and caching, CNAMEs, search domains,
//! `/etc/hosts` beyond `localhost`, service names (ports are numbers).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::world::Event;
use super::{HostId, SocketId, World};
use crate::ErrorKind;

/// How long a lookup of a name that never answers waits by default (resolv.conf's
/// `timeout:5`).
pub const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// What `localhost` resolves to without a record: every host's own loopback, IPv6
/// first, in the order glibc's `getaddrinfo` gives for it (`/etc/hosts` names both;
/// RFC 6724 puts `::1` before `127.0.0.1`).
const LOCALHOST: [IpAddr; 2] = [
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V4(Ipv4Addr::LOCALHOST),
];

/// A world's name records and resolver settings.
#[derive(Clone, Debug)]
pub(crate) struct Dns {
    /// Records by lower-case name without a trailing dot.
    records: BTreeMap<String, Record>,
    /// The virtual time every answer takes.
    latency: Duration,
    /// How long a name that never answers keeps a lookup waiting.
    timeout: Duration,
    /// Lookups started by a waiting call, by query id (ids come from the socket ids):
    /// the answer, and whether it has arrived.
    pending: BTreeMap<SocketId, (Result<Vec<IpAddr>, ErrorKind>, bool)>,
}

/// What a name's record says.
#[derive(Clone, Debug)]
enum Record {
    /// These addresses, in order.
    Addrs(Vec<IpAddr>),
    /// The name server never answers.
    Timeout,
}

/// A lookup's answer and the virtual time it takes to arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsAnswer {
    /// The addresses (of every family; the caller filters), or the error.
    pub result: Result<Vec<IpAddr>, ErrorKind>,
    /// How long the lookup waits for it.
    pub delay: Duration,
}

impl Default for Dns {
    fn default() -> Dns {
        Dns {
            records: BTreeMap::new(),
            latency: Duration::ZERO,
            timeout: DNS_TIMEOUT,
            pending: BTreeMap::new(),
        }
    }
}

impl World {
    /// Makes `name` resolve to `addrs` (in that order; replaces an earlier record).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::sim::World;
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// world.add_dns("db.example", &["10.0.0.5".parse().unwrap()]);
    /// world.set_dns_latency(Duration::from_millis(20));
    /// let answer = world.dns_lookup(a, "DB.example.");
    /// assert_eq!(answer.result, Ok(vec!["10.0.0.5".parse().unwrap()]));
    /// assert_eq!(answer.delay, Duration::from_millis(20));
    /// let unknown = world.dns_lookup(a, "example.com");
    /// assert_eq!(unknown.result, Err(sock::ErrorKind::HostNotFound));
    /// // `localhost` is the host's own loopback, as /etc/hosts says, with no latency:
    /// let local = world.dns_lookup(a, "LocalHost.");
    /// let loopback = vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()];
    /// assert_eq!(local.result, Ok(loopback));
    /// assert_eq!(local.delay, Duration::ZERO);
    /// ```
    #[doc(alias = "dns")]
    pub fn add_dns(&mut self, name: &str, addrs: &[IpAddr]) {
        let record = Record::Addrs(addrs.to_vec());
        self.dns.records.insert(normal(name), record);
    }

    /// Makes `name`'s name server never answer: a lookup waits the resolver timeout
    /// ([`World::set_dns_timeout`], default [`DNS_TIMEOUT`]) and fails with `TryAgain`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sim::{World, DNS_TIMEOUT};
    ///
    /// let mut world = World::new(1);
    /// let a = world.add_host("a", &["10.0.0.1".parse().unwrap()]);
    /// world.add_dns_timeout("slow.example");
    /// let answer = world.dns_lookup(a, "slow.example");
    /// assert_eq!(answer.result, Err(sock::ErrorKind::TryAgain));
    /// assert_eq!(answer.delay, DNS_TIMEOUT);
    /// ```
    pub fn add_dns_timeout(&mut self, name: &str) {
        self.dns.records.insert(normal(name), Record::Timeout);
    }

    /// Sets the virtual time every DNS answer takes (default zero).
    ///
    /// # Examples
    ///
    /// See [`World::add_dns`].
    pub fn set_dns_latency(&mut self, latency: Duration) {
        self.dns.latency = latency;
    }

    /// Sets how long a lookup of a name that never answers waits (default
    /// [`DNS_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut world = sock::sim::World::new(1);
    /// world.set_dns_timeout(Duration::from_secs(2));
    /// ```
    pub fn set_dns_timeout(&mut self, timeout: Duration) {
        self.dns.timeout = timeout;
    }

    /// Looks `name` up for `host` (logged): the answer and how long it takes.
    ///
    /// # Examples
    ///
    /// See [`World::add_dns`].
    pub fn dns_lookup(&mut self, host: HostId, name: &str) -> DnsAnswer {
        let answer = self.dns.answer(&normal(name));
        let what = match &answer.result {
            Ok(addrs) => format!("dns {name} -> {addrs:?}"),
            Err(kind) => format!("dns {name} -> {}", kind.name()),
        };
        self.record(host, what);
        answer
    }
}

impl World {
    /// Starts a lookup of `name` for `host` that a task waits for: its query id, whose
    /// answer [`World::dns_take`] gives once the resolver's time has passed (the query
    /// then shows in [`World::take_changed`]).
    pub(crate) fn dns_start(&mut self, host: HostId, name: &str) -> SocketId {
        let answer = self.dns_lookup(host, name);
        let id = self.new_socket_id();
        let now = answer.delay.is_zero();
        self.dns.pending.insert(id, (answer.result, now));
        if !now {
            self.schedule(self.now + answer.delay, Event::Dns(id));
        }
        id
    }

    /// The answer of query `id` once it has arrived (taken: asked again, `None`).
    pub(crate) fn dns_take(&mut self, id: SocketId) -> Option<Result<Vec<IpAddr>, ErrorKind>> {
        if !self
            .dns
            .pending
            .get(&id)
            .is_some_and(|(_, arrived)| *arrived)
        {
            return None;
        }
        self.dns.pending.remove(&id).map(|(result, _)| result)
    }

    /// Query `id`'s answer arrives (a no-op for a query nobody waits for any more).
    pub(crate) fn dns_arrive(&mut self, id: SocketId) {
        if let Some((_, arrived)) = self.dns.pending.get_mut(&id) {
            *arrived = true;
            self.mark_changed(id);
        }
    }
}

impl Dns {
    /// The answer for a normalized name.
    fn answer(&self, name: &str) -> DnsAnswer {
        let (result, delay) = match self.records.get(name) {
            Some(Record::Addrs(addrs)) => (Ok(addrs.clone()), self.latency),
            Some(Record::Timeout) => (Err(ErrorKind::TryAgain), self.timeout),
            None if name == "localhost" => (Ok(LOCALHOST.to_vec()), Duration::ZERO),
            None => (Err(ErrorKind::HostNotFound), self.latency),
        };
        DnsAnswer { result, delay }
    }
}

/// `name` as records are keyed: lower case, no trailing dot.
fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}
