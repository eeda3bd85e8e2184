//! A deterministic simulated world: virtual time, hosts, a network with seeded faults
//! and a kernel model with real socket semantics — and the backend that runs sock's own
//! loops on it ([`Sim`]): the same code, real or simulated, chosen when the loop is made.
//!
//! The backend: each simulated host gets a sock [`Loop`](crate::Loop) whose sockets,
//! clock and timers are the world's; `sock::tcp`, `sock::udp`, `sock::sleep`,
//! deadlines, spawn and join need no `cfg`:
//!
//! ```
//! use std::time::Duration;
//! use sock::sim::{Sim, World};
//! use sock::{Expires, Family};
//!
//! let sim = Sim::new(World::from_env_or(42)); // SOCK_SEED=<n> replays a failure
//! let a = sim.add_host("a", &["10.0.0.1".parse().unwrap()]);
//! let b = sim.add_host("b", &["10.0.0.2".parse().unwrap()]);
//! sim.world().partition(a.id(), b.id(), true);
//! let err = a.run(async {
//!     let c = sock::tcp(Family::INET)?;
//!     c.connect("10.0.0.2", 80).timeout(Duration::from_secs(30)).await
//! }).unwrap_err();
//! assert_eq!(err.kind(), sock::ErrorKind::Timeout);
//! assert_eq!(sim.world().now(), Duration::from_secs(30)); // exactly, and at once
//! # Ok::<(), sock::Error>(())
//! ```
//!
//! The world alone, driven by hand:
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr, SocketAddr};
//! use std::time::Duration;
//! use sock::sim::World;
//!
//! let mut world = World::new(42);
//! let a = world.add_host("a", &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))]);
//! let b = world.add_host("b", &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))]);
//! let server = SocketAddr::from(([10, 0, 0, 2], 80));
//! let listener = world.tcp_listen(b, server, 16)?;
//! let client = world.tcp_connect(a, server)?;
//! world.run_until_idle(); // the handshake: virtual time jumps 2 ms
//! assert_eq!(world.tcp_connect_result(client), Some(Ok(())));
//! let (conn, _peer) = world.tcp_accept(listener)?;
//! world.tcp_send(client, b"ping")?;
//! world.run_until_idle();
//! let mut buf = [0u8; 4];
//! assert_eq!(world.tcp_recv(conn, &mut buf)?, 4);
//! assert_eq!(&buf, b"ping");
//! assert_eq!(world.now(), Duration::from_millis(3));
//! println!("seed {} hash {:x}", world.seed(), world.hash());
//! # Ok::<(), sock::ErrorKind>(())
//! ```
//!
//! The model checker: every order of the two client hosts' loops and of the datagrams
//! they send to a third that land on the same instant; the first ordering the server
//! gets wrong, as a replayable schedule string:
//!
//! ```
//! use sock::sim::{Explorer, Sim, World};
//! use sock::Family;
//!
//! fn scenario(world: World) -> sock::Result<()> {
//!     let sim = Sim::new(world);
//!     let server = sim.add_host("s", &["10.0.0.3".parse().unwrap()]);
//!     for (name, ip) in [("a", "10.0.0.1"), ("b", "10.0.0.2")] {
//!         let host = sim.add_host(name, &[ip.parse().unwrap()]);
//!         host.spawn(async move {
//!             let u = sock::udp(Family::INET)?;
//!             u.send_to(name.as_bytes(), &("10.0.0.3", 9)).await
//!         });
//!     }
//!     server.run(async {
//!         let u = sock::udp(Family::INET)?;
//!         u.bind("10.0.0.3", 9)?;
//!         let mut first = [0u8; 1];
//!         u.recv(&mut first).await?;
//!         assert_eq!(&first, b"a", "a bug: the server expects host a first");
//!         Ok(())
//!     })
//! }
//!
//! let failure = Explorer::new().run(scenario).unwrap_err();
//! println!("{failure}"); // schedule "0.1" failed after 2 schedules: … (replay: SOCK_SCHEDULE=0.1)
//! assert_eq!(failure.schedule().to_string(), "0.1"); // a's loop first, then b's datagram
//! assert!(Explorer::replay(&"1".parse().unwrap(), scenario).is_err()); // b's loop first
//! assert!(Explorer::replay(failure.schedule(), scenario).is_err());
//! ```
//!
//! # What exists
//!
//! - [`Sim`] (`backend.rs`): host loops ([`Sim::add_host`] → [`Host`], a `Loop`) with
//!   a clock reading virtual time and a park that, when the running loop has nothing
//!   to do, wakes tasks whose simulated sockets changed, runs the other host loops and
//!   jumps virtual time to the next world event or host timer (1 ns timer resolution:
//!   deadlines fire at their exact virtual instant). A run where every task waits and
//!   nothing is pending panics with the seed and [`EventLog::tail`]; a `Sim` dropped
//!   during a panic prints the same. [`World::from_env_or`] / [`World::from_env`] take
//!   `SOCK_SEED`.
//! - Simulated sockets (`socket.rs`), on a simulated loop: `Tcp` listen, accept,
//!   connect, send, recv, recvn, recvall, readable, shutdown, close, local/remote
//!   address, and the same through split and owned halves; `Udp`
//!   bind, connect, send, recv, send_to, recv_from. The poll-level and `try_` calls
//!   (`poll_recv`/`poll_send`/`poll_send_vectored`/`poll_recv_from`/`poll_send_to`,
//!   `poll_readable`/`poll_writable`, `writable`, `try_recv`/`try_send`) of both
//!   (`level.rs`), so the `futures-io`/`tokio-io`/hyper trait impls work on them.
//!   Socket options (`setopt`/`getopt`, `Tcp::set_nodelay`; `opts.rs`): the options
//!   with a meaning in the model are kept per socket and read back (an accepted
//!   socket inherits its listener's); `so_sndbuf`/`so_rcvbuf` set the model's buffer
//!   sizes; any other OS option is `Unsupported`. Kept options change no behaviour
//!   beyond the buffers (`so_linger` 0 does not make `close` reset, `tcp_nodelay`
//!   changes no timing).
//!   Receives with flags (`recv_with`, `recv_from_with`; `flags.rs`): `PEEK` copies
//!   without taking, `TRUNC` discards a stream's bytes or gives a datagram's real
//!   length, `WAITALL` loops as on the OS path; `OOB` finds no urgent byte (the model
//!   has none).
//!   `sock::io::copy`/`copy_bidirectional` between simulated streams, and
//!   `Udp::recv_batch`/`send_batch` (`batch.rs`: one datagram at a time). Same `Op`
//!   types as the OS path, so `.timeout()`, `.expires()` and scopes work. Lookups: numeric addresses, `"*"`, and
//!   names through the world's DNS records; any other name is `HostNotFound`.
//! - DNS (`dns.rs`): [`World::add_dns`] records (names match without case or trailing
//!   dot), [`World::set_dns_latency`] of virtual time per answer (NXDOMAIN too),
//!   [`World::add_dns_timeout`] names whose lookup waits [`DNS_TIMEOUT`] and fails
//!   with `TryAgain`; a record of the other family only is `NoAddress`. No name
//!   resolves by accident, except `localhost` (any case, trailing dot or not): the
//!   asking host's own loopback, `::1` then `127.0.0.1` as glibc orders `/etc/hosts`,
//!   without the latency (a record for it replaces that). Calls that resolve without waiting
//!   (a UDP `connect_to`) take the answer without the latency.
//! - The shared-poller mode (`shared.rs`): [`Host::shared_loop`], or `SharedLoop::new()`
//!   in a host's task, makes a `SharedLoop` of the host with no OS thread: its worker
//!   is a task of the host's loop, driven by the same drive loop, its clock the host's
//!   virtual one. `run` and `spawn` work (await a `JoinHandle` in a host task or
//!   through `run`; a blocking `join` would stop the simulation's one thread).
//!   [`Host::shared_loop_with_workers`] gives it several workers, tasks of the host
//!   loop that run the pool's batches in turn; `start` runs the simulation on the
//!   calling thread until `stop`. (The loop type carries a kernel poller:
//!   the simulated shared loops of a thread share one idle poller, never waited on.)
//!   `SharedTcp` bind, listen, accept, connect, send, recv, recvn, `recv_with`,
//!   shutdown, close, options, local/remote address, its halves, and `SharedUdp`
//!   bind, connect, send, recv, send_to, recv_from, `recv_with`/`recv_from_with`,
//!   close, options, addresses are the host's simulated sockets, with the shared
//!   mode's deadlines (`.timeout()`, `sock::shared::deadline`); so are the poll-level
//!   and `try_` calls of both (`poll_recv`/`poll_send`/`poll_readable`/…, `readable`,
//!   `writable`, the I/O trait impls; `poll_flush` is ready at once). Tested on both
//!   backends by `tests/tests/sim_shared.rs`. A shared loop closes with its host's
//!   loop (a [`Sim::crash`], the `Sim`'s drop): its pool drops every task it holds
//!   and every task woken afterwards, so tasks that hold their own loop (a cycle
//!   through the pool) do not keep it, the host's executor and the simulation's
//!   state alive; `run` and `start` on a closed one panic saying so.
//! - `spawn_loops` and `SharedListener` (`loops.rs`): [`Host::spawn_loops`], or
//!   `spawn_loops(n)` in a host's task, makes `n` more loops of the host with no OS
//!   thread, each driven by a task of the host's loop, reached through its `Handle`
//!   (await a `RemoteJoin` in a task). A `SharedListener` bound on a host is one world
//!   listener; each loop that attaches gets another handle on it (every parked loop
//!   wakes for a connection and the first to accept keeps it, as on Windows: no
//!   `EPOLLEXCLUSIVE`). Stopping such a loop (`Handle::stop`, dropping the
//!   `LoopThreads`) ends nothing: its tasks run until the simulation is dropped.
//! - A guard: on a simulated loop, sock paths that would reach the OS panic — the
//!   shared-poller mode's parts not simulated yet (listed below), adopting an OS
//!   socket, a host name given to `sock::addr::lookup` or
//!   `sock::addr::resolve` with unix-family hints, and the socket operations
//!   without a simulated form: an OS handle of a simulated socket (`as_raw_fd`,
//!   `into_socket`; `as_fd` panics as for any socket without an OS socket).
//! - `sock::addr::lookup` and `sock::addr::resolve` (`resolver.rs`): a name is answered
//!   from the world's records as an `AddrList` (one entry per address and socket type,
//!   as `getaddrinfo` orders them; NXDOMAIN, other family and timeout as the OS's
//!   `LookupError` kinds); `resolve` waits the resolver's latency in virtual time,
//!   `lookup` (blocking) takes the answer at once; IP literals go to sock-addr, which
//!   answers them without a resolver. The flags change nothing for a name.
//! - [`World`] (`world.rs`): virtual time that jumps from event to event (no ticks), an
//!   event queue ordered by (time, sequence number), hosts with IPv4/IPv6 addresses,
//!   timers, [`World::step`] / [`World::run_until`] / [`World::run_until_idle`], and the
//!   record of sockets whose readiness changed ([`World::take_changed`]) and timers that
//!   fired ([`World::take_fired`]).
//! - The host loops share one idle kernel poller (the loop type carries one): a
//!   simulation holds three fds however many hosts it has.
//! - [`EventLog`] (`log.rs`): every event as (virtual time, host, what) with a running
//!   FNV-1a hash, [`World::hash`]. A failure report prints the seed, the event index
//!   ([`World::processed`]), the log length and the hash: a replay with `SOCK_SEED`
//!   fails at the same index.
//! - The model checker (`explore.rs`): [`Explorer`] runs a closure on a fresh world per
//!   [`Schedule`], each one an ordering of the events due at the same virtual instant
//!   (the events of one TCP stream keep their order) and of the host loops ready at
//!   one instant (whether the running host's loop or the others' go first, then which
//!   of the others runs next), depth-first and bounded; the first failing schedule is
//!   reported as a string (`"0.1.0"`) that [`Explorer::replay`] or `SOCK_SCHEDULE`
//!   runs again. Each loop's own tasks still run in their FIFO order (not explored).
//! - [`Rng`] (`rng.rs`): xoshiro256** seeded by splitmix64; every random choice of a
//!   run draws from it in event order.
//! - The fabric (`net.rs`): per-link [`Link`] latency + jitter, datagram loss,
//!   duplication and reordering, one-way and two-way partitions with repair at a
//!   virtual time, [`TcpFaults`] drawn per connection.
//! - Routing and ICMP (`route.rs`): every host owns its own loopback addresses
//!   (`127.0.0.0/8`, `::1`; their traffic never leaves the host, so loopback code runs
//!   unchanged on any simulated host; a socket bound to one takes nothing from
//!   outside). A host with no address of a family has no route of it:
//!   `NetworkUnreachable` at once. An address nobody owns is silent by default (a
//!   blackhole: connects time out); [`World::set_unowned`] and per-subnet
//!   [`World::set_unreachable`] rules (longest prefix wins) make it answer with an ICMP
//!   host unreachable after a delay ([`Unreachable::Host`], e.g. [`ARP_TIMEOUT`]: a TCP
//!   connect fails with `HostUnreachable`) or have no route ([`Unreachable::Network`]).
//!   A datagram to a port nobody bound on a live host draws a port unreachable: the
//!   sender, if connected to that address, fails its next send or receive (or peek)
//!   with `ConnectionRefused`, once, as Linux reports it; an unconnected one hears
//!   nothing, and host unreachable is never reported to UDP (a soft error on Linux).
//! - TCP (`tcp.rs`): listen with a backlog (a full one drops SYNs: the connect stalls
//!   and retransmits), handshake, `ConnectionRefused`, `Timeout` after the SYN
//!   retries, accept, send/receive buffers with flow control, half-close, FIN vs RST
//!   (close with unread data resets the peer), ephemeral-port exhaustion,
//!   per-connection reset and stall faults; a `bind` before `connect` holds its port
//!   and the connect uses it; `shutdown(Read)` as Linux does it on loopback (nothing
//!   sent; an empty buffer reads 0 and the socket stays readable; bytes queued
//!   before, and bytes the peer sends afterwards, are still read).
//! - Per-host descriptor limits: one socket past [`World::set_fd_limit`] is
//!   `TooManyOpenFiles` (`accept` leaves the connection queued, as Linux does).
//! - Raw sockets (`raw.rs`; `sock::raw(family, protocol)` for IPv4 and IPv6): a
//!   `Udp` whose world socket is a datagram one with a protocol number, so receives,
//!   `try_recv`, peeks, deadlines and close are UDP's. `send_to` puts the message on
//!   the link (latency, loss, partitions, clogs, crashes; lost toward an address
//!   nobody owns); on arrival every raw socket of the protocol and family on the
//!   destination host gets a copy (IPv4 with a 20-byte IP header in front, ICMPv6
//!   without, its checksum filled in by the sending kernel), and the destination's
//!   kernel answers an ICMP/ICMPv6 echo request with an echo reply. Other protocols
//!   reach raw sockets only. Checked against real raw sockets on Linux loopback (as
//!   root) by `tests/tests/sim_raw.rs`: the same ping sees the same request and reply
//!   (type, code, checksum, identifier, sequence, payload, header or not). Known
//!   difference: the IPv4 header's identification is 0 (Linux's counts); its DF flag
//!   is Linux's on loopback (set on a raw socket's packets, not on the echo replies).
//! - UDP (`udp.rs`): bind, `send_to`, `recv_from`, a byte-limited queue, truncation as
//!   `MessageTooLong`, `MessageTooLong` over the family's limit ([`MAX_DATAGRAM`]:
//!   65,507 bytes over IPv4, [`MAX_DATAGRAM_V6`]: 65,527 over IPv6), port unreachable
//!   for a connected socket.
//! - Unix-domain sockets (`unix.rs`; `sock::tcp`/`sock::udp` with `Family::UNIX`, hooked
//!   in `unix_socket.rs`): a namespace of socket paths per host (a path bound on one
//!   host is not seen on another; [`World::unix_unlink`] removes one), streams (listen
//!   with `backlog + 1` waiting connections and connects that wait for room, accept,
//!   send/receive buffers with flow control, `shutdown` both ways, EOF, reset on close
//!   with unread bytes) and datagrams (bind, `send_to` a path, connected `send`/`recv`,
//!   truncation, a bounded queue whose senders wait), with no latency or fault (they are
//!   local). Checked against real unix sockets by `tests/tests/sim_unix.rs` (echo, EOF
//!   after shutdown, reset, `shutdown(Read)`, missing path, path in use until
//!   unlinked, datagram truncation, the unnamed source of an unbound sender, a sender
//!   waiting on a full queue) plus per-host namespaces in simulation. Known differences: buffers
//!   count payload bytes, not the kernel's per-packet overhead ([`UNIX_STREAM_BUFFER`],
//!   [`MAX_UNIX_DATAGRAM`], [`UNIX_DGRAM_QUEUE`]); a missing path is `NotFound` with an
//!   io `NotFound` source but no raw OS error; a crash keeps the host's paths.
//! - Checked against the OS: `tests/tests/sim_differential.rs` runs each scenario on
//!   real loopback and in simulation and compares (refused, timeout at the deadline,
//!   reset on close with unread data, half-close, full backlog, full send buffer,
//!   oversized datagram over IPv4 and IPv6, truncated datagram receive, a closed UDP
//!   port refusing a connected socket once, address in use, a `bind` before
//!   `connect` (the port chosen and held at the bind, the connect using it),
//!   `shutdown(Read)`, descriptor limit). Known
//!   differences, tested
//!   there: a listener admits exactly `backlog` connections (Linux `backlog + 1`);
//!   a socket takes its descriptor when it enters the world (`listen`, `connect`, a
//!   UDP `bind`), so `TooManyOpenFiles` comes from that call, not from `socket()`;
//!   ephemeral-port exhaustion is checked in simulation only; Windows does not report
//!   a UDP port unreachable (sock turns `SIO_UDP_CONNRESET` off), so that scenario is
//!   compared on Linux only.
//! - World-level faults (`faults.rs`): [`World::clog`] / [`World::clog_host`] delay (never
//!   drop) traffic until a virtual time; [`World::set_clock_skew`] gives a host's loop
//!   clock an offset and a drift ([`ClockSkew`]), its deadlines firing in its own time;
//!   [`World::crash`] powers a host off (sockets gone without FIN/RST, nothing answered)
//!   and [`World::restart`] brings it back with its addresses (segments of killed
//!   connections draw an RST); [`Sim::crash`] also closes the host's loop (its tasks
//!   and timers dropped) and its shared loops (their tasks dropped; those loops stay
//!   closed) and, after [`Sim::restart`], the host's programs are spawned on it afresh; [`World::schedule_fault`] / [`World::script`] apply [`Fault`]s at
//!   virtual times.
//! - Swarm mode (`swarm.rs`): [`World::swarm`] draws every fault parameter from the seed
//!   ([`Swarm`], printable, printed with `SOCK_SEED=` in failure reports).
//! - Readiness faults (`spurious.rs`), the simulated counterpart of `sock_poll::faults`:
//!   [`World::set_readiness_faults`] ([`ReadinessFaults`], drawn in swarm mode) makes
//!   the drive loop, drawing from the world's generator, wake parked tasks although
//!   nothing changed, defer real wake-ups by drive rounds (never lost; time does not
//!   move while one is held) and report sockets changed spuriously; every injection is
//!   logged and counted ([`World::readiness_fault_counts`]). The property test is
//!   `tests/tests/sim_readiness_faults.rs` (500 seeds; one seed, one hash).
//! - Fault points (`buggify.rs`): [`buggify()`] / `sock::buggify!()` in the user's code,
//!   on when [`World::set_buggify`] (or swarm mode) says so: a point is activated per run
//!   with 25 %, then fires 25 % of the times it is reached; `false` on a real loop and
//!   the constant `false` without the `sim` feature.
//!
//! Operations are method calls on the world taking the caller's [`HostId`] or
//! [`SocketId`]; they never wait: where a real socket would block they return
//! `WouldBlock` (the backend parks the task and wakes it when the socket appears in
//! [`World::take_changed`]). No OS call, no real clock, no thread.
//!
//! # What the backend still needs
//!
//! - Of the shared-poller mode: the raw poller handle (it panics); `SharedLoop::poll`
//!   by a host runs the pool once without moving the simulation. A thread keeps one
//!   current `SharedLoop`: in a *loop-mode* task, `SharedLoop::current()` (and
//!   `SharedTcp::new`) makes a new loop of the host whenever the current one is another
//!   host's (in a shared task the current loop is always the task's own).
//! - Of raw sockets: `IP_HDRINCL`, `ICMP_FILTER`/`ICMP6_FILTER`, ICMP errors (host or
//!   port unreachable, time exceeded) delivered to raw sockets, a kernel answer to
//!   anything but an echo request, and the IPv4 header's real identification (see
//!   `raw.rs`).
//! - The drive loop keeps a queue of the host loops' next deadlines (`timers.rs`) and
//!   runs only the hosts due or woken, so a round does not look at every host (1,000
//!   hosts idle for 24 virtual hours: `tests/tests/sim_scale.rs`, [`Sim::stats`]); but
//!   each time a park enters the drive loop it re-reads every host's deadline once (a
//!   task spawned on a host from outside its loop arms no wake-up): a busy host among
//!   many pays one read per host per park. A task spawned on another host's loop from
//!   a third host's task waits for that re-read.
//! - Work of other OS threads (`spawn_blocking`, `Handle::spawn` from outside) is not
//!   waited for: a run whose tasks all wait on it is reported stuck.
//! - `sock::addr::lookup` on a simulated host answers a name without the resolver's
//!   latency (a blocking call cannot wait for virtual time), and no lookup gives a
//!   canonical name or applies `V4MAPPED`/`ADDRCONFIG` to a name's addresses.
//! - Clocks: inside a host's task every deadline sock makes reads that host's virtual
//!   clock (`sock::clock()`, `.timeout()`, sleeps, scopes, and `sock::hyper::Timer`,
//!   whose `now`, sleeps and deadlines follow the host's loop on a simulated host). What
//!   remains: a deadline made *outside* any host's run (`host.run(op.timeout(d))` builds
//!   the operation, and reads the clock, on the calling thread's own loop: wall time,
//!   so write `host.run(async { op.timeout(d).await })`), and one made in host A's task
//!   for a future spawned on host B, which reads A's clock (the same instant unless
//!   [`World::set_clock_skew`] set them apart). `std::time::Instant::now()` in the
//!   user's own code is not intercepted.
//! - The multi-seed runner is `cargo xtask sim --seeds N [--process] [--swarm]` (the
//!   `sim_echo` example's workload); the differential suite covers the scenarios
//!   listed above; `HostUnreachable` and `NetworkUnreachable` are checked in
//!   simulation only (real loopback cannot give them without root).
//! - Not modelled yet in the network: ICMP toward established TCP connections, ICMP
//!   rate limits, `IP_RECVERR`, routers as hosts, connecting to the unspecified
//!   address (Linux's `0.0.0.0` as loopback), ports per address (a port bound on one
//!   address of a host is taken on all of them).
//! - Not modelled yet: unix `socketpair`, abstract names and descriptor passing, DNS
//!   caching, TTLs, CNAMEs and a resolver per host; socket options beyond the buffer
//!   sizes change no behaviour (see above).
//! - A scheduled [`Fault::Crash`] is world-level only (sockets gone; the loop's tasks
//!   keep running and their socket calls fail): [`Sim::crash`] drops the tasks.

mod backend;
mod buggify;
mod dns;
mod explore;
mod faults;
mod log;
pub(crate) mod loops;
mod net;
mod raw;
pub(crate) mod resolver;
mod rng;
mod route;
pub(crate) mod shared;
pub(crate) mod socket;
mod spurious;
mod swarm;
mod tcp;
mod timers;
mod udp;
mod unix;
mod world;

#[cfg(test)]
mod tests;

pub(crate) use backend::HostCtx;
pub use backend::{Host, Sim, SimStats, WorldMut};
pub use buggify::{BUGGIFY_ACTIVATE, BUGGIFY_FIRE, buggify};
pub use dns::{DNS_TIMEOUT, DnsAnswer};
pub use explore::{ExploreFailure, Explored, Explorer, ParseScheduleError, SCHEDULE_ENV, Schedule};
pub use faults::{ClockSkew, Fault};
pub use log::{Entry, EventLog};
pub use net::{Link, TcpFaults};
pub use rng::Rng;
pub use route::{ARP_TIMEOUT, Unreachable};
pub use spurious::{ReadinessFaultCounts, ReadinessFaults};
pub use swarm::Swarm;
pub use udp::{MAX_DATAGRAM, MAX_DATAGRAM_V6};
pub use unix::{MAX_UNIX_DATAGRAM, UNIX_DGRAM_QUEUE, UNIX_STREAM_BUFFER};
pub use world::World;

/// A host of a [`World`], in the order added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub(crate) usize);

/// A socket of a [`World`]; ids are never reused within a world.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub(crate) u64);

/// A timer armed with [`World::timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub(crate) u64);

/// Whether a socket would accept a read and a write now without `WouldBlock`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A read (or accept) would not block: data, EOF, a connection or an error waits.
    pub readable: bool,
    /// A write would not block: room in the send buffer, or an error waits.
    pub writable: bool,
}

impl Readiness {
    /// Readiness from its two flags.
    pub(crate) fn new(readable: bool, writable: bool) -> Readiness {
        Readiness { readable, writable }
    }
}
