//! An echo server and several clients on simulated hosts (`sock::sim`), under faults
//! drawn from a seed: link latency and jitter, DNS latency, per-connection resets and
//! stalls, and a partition between the server and one client that heals later. The
//! clients find the server by name ([`NAME`], a record of the world's DNS).
//!
//! Each client sends messages of seeded sizes and contents and checks that each one
//! comes back byte-exact or fails with a clean error (a reset, a timeout, …); a wrong
//! reply, an error of another kind, or a stuck run (the `Sim` panics with the seed and
//! the log tail) is a failure. One seed gives one run: [`run_seed`] returns the event
//! log's hash, and the same seed gives the same hash.
//!
//! The code on the hosts is plain sock (`sock::tcp`, `connect`, `recvall`, deadlines):
//! only the loops were made by [`Sim::add_host`].
//!
//! Swarm mode ([`run_seed_swarm`], `sim_echo --swarm`) draws every fault parameter
//! from the seed instead ([`World::swarm`]: link, datagram faults, TCP resets and
//! stalls, partitions, clogs, clock skews, `buggify`); the server has one `buggify!`
//! point, where it sends a reply in two parts with a pause between.

use std::net::IpAddr;
use std::time::Duration;

use sock::sim::{Host, Link, Rng, Sim, TcpFaults, World};
use sock::{ErrorKind, Expires, Family, Shutdown, Tcp};

/// The server's address.
pub const SERVER: &str = "10.0.0.1";

/// The server's name in the world's DNS.
pub const NAME: &str = "echo.sim";

/// The echo port.
pub const PORT: u16 = 7;

/// How many client hosts a run has.
pub const CLIENTS: usize = 3;

/// How many echoes each client asks for, one connection each.
pub const ROUNDS: usize = 3;

/// A client's deadline for each of connect, send and the reply.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// How many log entries a failure prints.
const TAIL: usize = 20;

/// The virtual span over which swarm mode draws its fault times.
pub const SWARM_HORIZON: Duration = Duration::from_secs(10);

/// What one seed's run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The event log's determinism hash at the end.
    pub hash: u64,
    /// Events the world processed.
    pub events: u64,
    /// Echoes that came back exact.
    pub echoed: usize,
    /// Echoes that ended in a clean error (reset, timeout, …).
    pub errors: usize,
    /// Virtual time the run took.
    pub virtual_time: Duration,
}

/// The faults of one run, all drawn from its seed.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    /// The link between every two hosts.
    pub link: Link,
    /// Resets and stalls drawn per connection.
    pub tcp: TcpFaults,
    /// How long each DNS answer takes.
    pub dns_latency: Duration,
    /// The client cut off from the server (both ways), when it is cut off.
    pub cut_client: usize,
    /// When the cut starts.
    pub cut_at: Duration,
    /// How long the cut lasts before it heals.
    pub cut_for: Duration,
}

impl Faults {
    /// Draws a run's faults from `seed` (a generator of its own, so the world's draws
    /// do not depend on how many the faults took).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_examples::sim_echo::Faults;
    ///
    /// let f = Faults::from_seed(7);
    /// assert_eq!(f.link, Faults::from_seed(7).link);
    /// assert!(f.cut_client < sock_examples::sim_echo::CLIENTS);
    /// ```
    pub fn from_seed(seed: u64) -> Faults {
        let mut rng = Rng::new(seed ^ 0x5eed_ec40);
        let link = Link {
            latency: millis(&mut rng, 1, 50),
            jitter: millis(&mut rng, 0, 20),
            ..Link::DEFAULT
        };
        let tcp = TcpFaults {
            reset: rng.below(30) as f64 / 100.0,
            stall: rng.below(50) as f64 / 100.0,
            stall_for: millis(&mut rng, 10, 3000),
            within: millis(&mut rng, 1, 2000),
        };
        Faults {
            link,
            tcp,
            cut_client: rng.below(CLIENTS as u64) as usize,
            cut_at: millis(&mut rng, 0, 2000),
            cut_for: millis(&mut rng, 10, 8000),
            dns_latency: millis(&mut rng, 0, 100),
        }
    }
}

/// A duration of `lo..=hi` milliseconds drawn from `rng`.
fn millis(rng: &mut Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(lo + rng.below(hi - lo + 1))
}

/// Runs the workload of `seed`: the outcome, or what went wrong with the seed and the
/// log tail in the message.
///
/// # Errors
///
/// A reply that differs from the message sent, or an error of a kind a faulty network
/// does not explain. A stuck run panics (the `Sim` prints the seed and the log tail).
///
/// # Examples
///
/// ```
/// let outcome = sock_examples::sim_echo::run_seed(1).unwrap();
/// assert_eq!(outcome.hash, sock_examples::sim_echo::run_seed(1).unwrap().hash);
/// ```
pub fn run_seed(seed: u64) -> Result<Outcome, String> {
    run(seed, false)
}

/// Runs the workload of `seed` in swarm mode: every fault parameter drawn from the
/// seed ([`World::swarm`]); a failure's message holds the drawn configuration.
///
/// # Errors
///
/// As [`run_seed`].
///
/// # Examples
///
/// ```
/// let outcome = sock_examples::sim_echo::run_seed_swarm(1).unwrap();
/// assert_eq!(outcome, sock_examples::sim_echo::run_seed_swarm(1).unwrap());
/// ```
pub fn run_seed_swarm(seed: u64) -> Result<Outcome, String> {
    run(seed, true)
}

/// The workload of `seed`, its faults drawn by [`Faults::from_seed`] or, with `swarm`,
/// by [`World::swarm`].
fn run(seed: u64, swarm: bool) -> Result<Outcome, String> {
    let faults = Faults::from_seed(seed);
    let sim = Sim::new(World::new(seed));
    let server = sim.add_host("server", &[ip(SERVER)]);
    let clients: Vec<Host> = (0..CLIENTS)
        .map(|i| sim.add_host(&format!("c{i}"), &[ip(&format!("10.0.1.{}", i + 1))]))
        .collect();
    let control = sim.add_host("control", &[ip("10.0.9.1")]);
    if swarm {
        sim.world().swarm(SWARM_HORIZON);
    } else {
        sim.world().set_default_link(faults.link);
        sim.world().set_tcp_faults(faults.tcp);
    }
    sim.world().add_dns(NAME, &[ip(SERVER)]);
    sim.world().set_dns_latency(faults.dns_latency);
    spawn_server(&server);
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, host)| host.spawn(client(seed, i)))
        .collect();
    let cut = (server.id(), clients[faults.cut_client].id());
    let results = control.run(async {
        if !swarm {
            sock::sleep(faults.cut_at).await;
            let mut world = sim.world();
            world.partition(cut.0, cut.1, true);
            world.repair_at(cut.0, cut.1, faults.cut_at + faults.cut_for);
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.join().await.expect("a client task is never cancelled"));
        }
        results
    });
    judge(&sim, seed, results)
}

/// Runs `count` seeds from `start`, stopping at the first failure.
///
/// A stuck run's panic is caught and reported as its seed's failure (the `Sim` has
/// printed the log tail to stderr already).
///
/// # Errors
///
/// The failing seed and its message (which holds `SOCK_SEED=<seed>`).
///
/// # Examples
///
/// ```
/// let runs = sock_examples::sim_echo::run_seeds(10, 3).unwrap();
/// assert_eq!(runs.len(), 3);
/// assert_eq!(runs[0].seed, 10);
/// ```
pub fn run_seeds(start: u64, count: u64) -> Result<Vec<Outcome>, (u64, String)> {
    run_seeds_with(start, count, false)
}

/// [`run_seeds`], in swarm mode when `swarm` ([`run_seed_swarm`]).
///
/// # Errors
///
/// As [`run_seeds`].
///
/// # Examples
///
/// ```
/// let runs = sock_examples::sim_echo::run_seeds_with(10, 3, true).unwrap();
/// assert_eq!(runs.len(), 3);
/// ```
pub fn run_seeds_with(start: u64, count: u64, swarm: bool) -> Result<Vec<Outcome>, (u64, String)> {
    let mut outcomes = Vec::new();
    for seed in start..start.saturating_add(count) {
        outcomes.push(run_caught(seed, swarm).map_err(|msg| (seed, msg))?);
    }
    Ok(outcomes)
}

/// [`run`], with a panic turned into the seed's failure.
fn run_caught(seed: u64, swarm: bool) -> Result<Outcome, String> {
    match std::panic::catch_unwind(|| run(seed, swarm)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(format!(
                "sim_echo: the run panicked: {what}\nSOCK_SEED={seed}"
            ))
        }
    }
}

/// The outcome of a run whose clients returned `results`, or the failure.
fn judge(sim: &Sim, seed: u64, results: Vec<Vec<Echo>>) -> Result<Outcome, String> {
    let world = sim.world();
    let mut outcome = Outcome {
        seed,
        hash: world.hash(),
        events: world.processed(),
        echoed: 0,
        errors: 0,
        virtual_time: world.now(),
    };
    for echo in results.into_iter().flatten() {
        match echo {
            Echo::Exact => outcome.echoed += 1,
            Echo::Clean => outcome.errors += 1,
            Echo::Wrong(what) => return Err(failure(&world, &what)),
        }
    }
    Ok(outcome)
}

/// A failure message: what, the replay line and the last events.
fn failure(world: &World, what: &str) -> String {
    let seed = world.seed();
    let mut s = format!("sim_echo: {what}\nSOCK_SEED={seed}\nlast events:\n");
    for entry in world.log().tail(TAIL) {
        s.push_str(&format!("  {entry}\n"));
    }
    if let Some(swarm) = world.swarm_config() {
        s.push_str(swarm);
    }
    s
}

/// How one echo ended.
#[derive(Debug)]
enum Echo {
    /// The reply was the message.
    Exact,
    /// A clean error of the network's making.
    Clean,
    /// A wrong reply or an unexplained error.
    Wrong(String),
}

/// Starts the echo server on `host`: one task per connection, each echoing everything
/// up to the client's end of stream (a reset connection just ends its task).
fn spawn_server(host: &Host) {
    let listener = host.run(async {
        let l = sock::tcp(Family::INET).expect("a simulated socket");
        l.listen(SERVER, PORT).expect("the server's port is free");
        l
    });
    host.spawn(accept_loop(listener));
}

/// Accepts connections until the listener fails, each served by a task of its own.
async fn accept_loop(listener: Tcp) -> sock::Result<()> {
    loop {
        let conn = listener.accept().await?;
        sock::thread(serve(conn));
    }
}

/// Echoes one connection.
async fn serve(conn: Tcp) -> sock::Result<()> {
    let data = conn.recvall().timeout(DEADLINE * 3).await?;
    if sock::buggify!() {
        // A rare path on purpose: the reply in two parts, a pause between.
        let half = data.len() / 2;
        conn.send(&data[..half]).timeout(DEADLINE).await?;
        sock::sleep(Duration::from_millis(200)).await;
        conn.send(&data[half..]).timeout(DEADLINE).await?;
        return conn.close();
    }
    conn.send(&data).timeout(DEADLINE).await?;
    conn.close()
}

/// Client `index` of the run of `seed`: [`ROUNDS`] echoes of seeded messages.
async fn client(seed: u64, index: usize) -> Vec<Echo> {
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(index as u64 + 1));
    let mut echoes = Vec::new();
    for _ in 0..ROUNDS {
        let len = 1 + rng.below(40_000) as usize;
        let fill = rng.next_u64() as u8;
        let msg: Vec<u8> = (0..len)
            .map(|i| fill.wrapping_add((i % 251) as u8))
            .collect();
        echoes.push(check(&msg, echo_once(&msg).await));
    }
    echoes
}

/// What one echo came to.
fn check(msg: &[u8], reply: sock::Result<Vec<u8>>) -> Echo {
    match reply {
        Ok(reply) if reply == msg => Echo::Exact,
        Ok(reply) => Echo::Wrong(format!(
            "sent {} bytes, got {} back, first difference at {:?}",
            msg.len(),
            reply.len(),
            msg.iter().zip(&reply).position(|(a, b)| a != b)
        )),
        Err(e) if is_clean(e.kind()) => Echo::Clean,
        Err(e) => Echo::Wrong(format!("unexpected error: {e}")),
    }
}

/// Whether a faulty network explains an error of `kind`.
fn is_clean(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Timeout
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionRefused
            | ErrorKind::Closed
    )
}

/// One request: connect by name, send `msg`, half-close, read the reply to its end.
async fn echo_once(msg: &[u8]) -> sock::Result<Vec<u8>> {
    let c = sock::tcp(Family::INET)?;
    c.connect(NAME, PORT).timeout(DEADLINE).await?;
    c.send(msg).timeout(DEADLINE).await?;
    c.shutdown(Shutdown::Write)?;
    let reply = c.recvall().timeout(DEADLINE).await?;
    c.close()?;
    Ok(reply)
}

/// An address from text.
fn ip(s: &str) -> IpAddr {
    s.parse().expect("a literal address")
}
