//! The model checker (`sock::sim::Explorer`): every ordering of the events that land on
//! one virtual instant, explored depth-first over real sock code on simulated hosts; a
//! planted ordering bug across two hosts and three messages is found, and its schedule
//! string replays it (in this process and, through `SOCK_SCHEDULE`, in a child); so is
//! an accept-order bug over TCP, while the bytes of one stream never reorder; so is a
//! bug that only the order in which host loops run at one instant exposes.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use sock::sim::{Explorer, SCHEDULE_ENV, Schedule, Sim, World};
use sock::{Expires, Family, Shutdown};
use sock_tests::sim::ip;

/// The server host's address.
const SERVER: &str = "10.0.0.3";
/// The server's port.
const PORT: u16 = 9;
/// A virtual deadline on every wait: a lost message fails the run instead of hanging.
const DEADLINE: Duration = Duration::from_secs(10);
/// Set in a child process of this binary: run the replay child's body.
const CHILD_ENV: &str = "SOCK_SIM_EXPLORE_CHILD";

/// What one run of the three-message scenario saw.
#[derive(Debug)]
struct Run {
    /// The messages in the order the server read them.
    order: Vec<String>,
    /// The world's event-log hash at the end.
    hash: u64,
}

/// A server's check of the messages read so far (called after each one).
type Check = fn(&[String]) -> Result<(), String>;

/// The planted bug: the server assumes host a's message always comes before host b's
/// first one (true in the world's own order, where host a sends first).
fn a_before_b(got: &[String]) -> Result<(), String> {
    let seen = |m: &str| got.iter().any(|g| g == m);
    match seen("b") && !seen("a") {
        true => Err(format!("planted bug: b arrived before a ({got:?})")),
        false => Ok(()),
    }
}

/// The planted bug as an assertion: the server task panics.
fn a_before_b_asserted(got: &[String]) -> Result<(), String> {
    a_before_b(got).unwrap_or_else(|e| panic!("{e}"));
    Ok(())
}

/// A correct server: any order, as long as all three arrive once.
fn any_order(got: &[String]) -> Result<(), String> {
    let mut sorted = got.to_vec();
    sorted.sort();
    sorted.dedup();
    match sorted.len() == got.len() {
        true => Ok(()),
        false => Err(format!("a message twice: {got:?}")),
    }
}

/// Two client hosts send three datagrams in all — `a` from host a, `b` then `c` from host
/// b — to a server host that reads them, checking each with `check`. With equal latency
/// (the default link has no jitter) all three land on the same virtual instant.
fn three_messages(world: World, check: Check) -> Result<Run, String> {
    let sim = Sim::new(world);
    let server = sim.add_host("s", &[ip(SERVER)]);
    let clients: [(&str, &str, &[&str]); 2] =
        [("a", "10.0.0.1", &["a"]), ("b", "10.0.0.2", &["b", "c"])];
    for (name, addr, msgs) in clients {
        let host = sim.add_host(name, &[ip(addr)]);
        host.spawn(async move {
            let u = sock::udp(Family::INET)?;
            for m in msgs {
                u.send_to(m.as_bytes(), &(SERVER, PORT)).await?;
            }
            Ok::<(), sock::Error>(())
        });
    }
    let order = server.run(serve_three(check))?;
    let hash = sim.world().hash();
    Ok(Run { order, hash })
}

/// The server: binds, reads three datagrams (each within [`DEADLINE`]), checks each.
async fn serve_three(check: Check) -> Result<Vec<String>, String> {
    let u = sock::udp(Family::INET).map_err(|e| e.to_string())?;
    u.bind(SERVER, PORT).map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    for _ in 0..3 {
        let mut buf = [0u8; 16];
        let n = u.recv(&mut buf).timeout(DEADLINE).await;
        let n = n.map_err(|e| format!("recv: {e}"))?;
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        check(&got)?;
    }
    Ok(got)
}

#[test]
fn the_default_order_passes_the_buggy_server() {
    let run = three_messages(World::new(0), a_before_b).expect("a is sent first");
    assert_eq!(run.order, ["a", "b", "c"]);
}

#[test]
fn the_explorer_finds_the_planted_ordering_bug_and_its_schedule_replays_it() {
    let failure = Explorer::new()
        .run(|w| three_messages(w, a_before_b))
        .expect_err("some ordering delivers b before a");
    println!("found: {failure}");
    assert!(failure.message().contains("planted bug"), "{failure}");
    // The first pick is which client host's loop runs first (0: a, host order). Then,
    // depth-first: 0.0.0 (a b c) and 0.0.1 (a c b) pass, 0.1.0 (b a c) is the first to fail.
    assert_eq!(failure.schedule().to_string(), "0.1.0");
    assert_eq!(failure.schedules(), 3);
    for _ in 0..2 {
        let again = Explorer::replay(failure.schedule(), |w| three_messages(w, a_before_b));
        let again = again.expect_err("the schedule replays the failure");
        assert_eq!(again.message(), failure.message());
        assert_eq!(again.schedule(), failure.schedule());
    }
    let text: Schedule = failure.schedule().to_string().parse().expect("it parses");
    assert_eq!(&text, failure.schedule());
}

#[test]
fn a_panicking_server_is_caught_the_same_way() {
    let failure = Explorer::new()
        .run(|w| three_messages(w, a_before_b_asserted))
        .expect_err("some ordering makes the server panic");
    assert!(failure.message().starts_with("planted bug"), "{failure}");
    assert_eq!(failure.schedule().to_string(), "0.1.0");
}

#[test]
fn a_correct_server_passes_every_ordering_of_the_three_messages() {
    let orders = RefCell::new(BTreeSet::new());
    let explored = Explorer::new()
        .run(|w| {
            let run = three_messages(w, any_order)?;
            orders.borrow_mut().insert(run.order.join(""));
            Ok::<(), String>(())
        })
        .expect("every ordering is fine for a correct server");
    println!("explored: {explored:?}, orders {:?}", orders.borrow());
    assert!(explored.exhaustive);
    assert_eq!(
        explored.schedules, 12,
        "2 host orders, then 3 candidates, then 2, then 1"
    );
    assert_eq!(explored.max_depth, 3);
    // Every permutation of a, b, c ran (b before c too: UDP promises no order).
    assert_eq!(orders.borrow().len(), 6, "{:?}", orders.borrow());
}

#[test]
fn the_all_zero_schedule_is_the_worlds_own_order() {
    let plain = three_messages(World::new(5), any_order).expect("passes");
    let hash = RefCell::new(0);
    let zeros: Schedule = "0.0.0".parse().expect("a schedule");
    Explorer::new()
        .seed(5)
        .replay_with(&zeros, &mut |w| {
            three_messages(w, any_order).map(|r| *hash.borrow_mut() = r.hash)
        })
        .expect("the world's own order passes");
    assert_eq!(
        *hash.borrow(),
        plain.hash,
        "a chooser picking 0 changes nothing"
    );
}

#[test]
fn a_schedule_that_does_not_fit_the_run_is_an_error() {
    let wrong: Schedule = "5".parse().expect("a schedule");
    let err = Explorer::replay(&wrong, |w| three_messages(w, any_order))
        .expect_err("there is no 6th candidate");
    assert!(err.message().contains("does not fit"), "{err}");
    assert!("1.b".parse::<Schedule>().is_err());
}

#[test]
fn the_bounds_stop_an_exploration() {
    let explored = Explorer::new()
        .max_schedules(4)
        .run(|w| three_messages(w, any_order))
        .expect("passes");
    assert_eq!((explored.schedules, explored.exhaustive), (4, false));
    let shallow = Explorer::new()
        .max_depth(1)
        .run(|w| three_messages(w, any_order))
        .expect("passes");
    // Depth 1: only the first choice point, which client host's loop runs first.
    assert_eq!((shallow.schedules, shallow.exhaustive), (2, true));
}

/// Two clients each send `from <name>` in three writes over TCP to a server that reads
/// both connections to their end; whether every byte came in order.
fn two_streams(world: World) -> Result<(), String> {
    let sim = Sim::new(world);
    let server = sim.add_host("s", &[ip(SERVER)]);
    for (name, addr) in [("a", "10.0.0.1"), ("b", "10.0.0.2")] {
        let host = sim.add_host(name, &[ip(addr)]);
        host.spawn(async move {
            let c = sock::tcp(Family::INET)?;
            c.connect(SERVER, PORT).timeout(DEADLINE).await?;
            for part in ["from", " ", name] {
                c.send(part.as_bytes()).await?;
            }
            c.shutdown(Shutdown::Write)?;
            c.recvall().timeout(DEADLINE).await // waits for the server's close
        });
    }
    let got = server.run(async {
        let l = sock::tcp(Family::INET)?;
        l.listen(SERVER, PORT)?;
        let mut got = BTreeSet::new();
        for _ in 0..2 {
            let conn = l.accept().timeout(DEADLINE).await?;
            let data = conn.recvall().timeout(DEADLINE).await?;
            got.insert(String::from_utf8_lossy(&data).into_owned());
            conn.close()?;
        }
        Ok::<_, sock::Error>(got)
    });
    let got = got.map_err(|e| e.to_string())?;
    let want = BTreeSet::from(["from a".to_string(), "from b".to_string()]);
    (got == want).then_some(()).ok_or(format!("got {got:?}"))
}

#[test]
fn tcp_streams_keep_their_order_under_every_schedule() {
    let explored = Explorer::new()
        .run(two_streams)
        .expect("orderings between connections never reorder one stream");
    println!("explored: {explored:?}");
    assert!(explored.exhaustive, "{explored:?}");
    assert!(
        explored.schedules > 1,
        "the two connections race: {explored:?}"
    );
}

/// Two TCP connections, one from host a and one from host b, each sending its name, to
/// a server that accepts them one by one; `a_first` plants the bug of
/// assuming host a's connection is accepted first. Whether the server was content.
fn two_connections(world: World, a_first: bool) -> Result<(), String> {
    let sim = Sim::new(world);
    let server = sim.add_host("s", &[ip(SERVER)]);
    let clients: [(&str, &str, usize); 2] = [("a", "10.0.0.1", 1), ("b", "10.0.0.2", 1)];
    for (name, addr, conns) in clients {
        let host = sim.add_host(name, &[ip(addr)]);
        for _ in 0..conns {
            host.spawn(async move {
                let c = sock::tcp(Family::INET)?;
                c.connect(SERVER, PORT).timeout(DEADLINE).await?;
                c.send(name.as_bytes()).await?;
                c.close()
            });
        }
    }
    let names = server.run(accept_two());
    let names = names.map_err(|e| e.to_string())?;
    match (a_first, names.first().map(String::as_str)) {
        (true, Some(first)) if first != "a" => Err(format!("planted bug: {names:?}")),
        _ if names.len() == 2 => Ok(()),
        _ => Err(format!("not two connections: {names:?}")),
    }
}

/// The server of [`two_connections`]: the names sent, in accept order.
async fn accept_two() -> sock::Result<Vec<String>> {
    let l = sock::tcp(Family::INET)?;
    l.listen(SERVER, PORT)?;
    let mut names = Vec::new();
    for _ in 0..2 {
        let conn = l.accept().timeout(DEADLINE).await?;
        let data = conn.recvall().timeout(DEADLINE).await?;
        names.push(String::from_utf8_lossy(&data).into_owned());
    }
    Ok(names)
}

#[test]
fn the_explorer_finds_an_accept_order_bug_over_tcp() {
    two_connections(World::new(0), true).expect("the default order accepts a first");
    let failure = Explorer::new()
        .run(|w| two_connections(w, true))
        .expect_err("some ordering accepts b's connection first");
    println!("found: {failure}");
    assert!(failure.message().contains("planted bug"), "{failure}");
    let again = Explorer::replay(failure.schedule(), |w| two_connections(w, true));
    assert_eq!(again.expect_err("it replays").message(), failure.message());
    let correct = Explorer::new().run(|w| two_connections(w, false));
    let correct = correct.expect("any accept order is fine for a correct server");
    println!("correct server: {correct:?}");
    assert!(correct.exhaustive && correct.schedules > 1, "{correct:?}");
}

/// Two client hosts whose tasks wake at the same virtual instant, each on its own loop
/// timer (no world event: only the order the host loops run in decides), and note
/// their name in a journal both share (standing for a service the test keeps in-process,
/// such as a lock server); `a_first` plants the bug of assuming host a's loop always
/// runs first. The journal.
fn same_instant_timers(world: World, a_first: bool) -> Result<Vec<&'static str>, String> {
    let sim = Sim::new(world);
    let server = sim.add_host("s", &[ip(SERVER)]);
    let journal = Rc::new(RefCell::new(Vec::new()));
    for (name, addr) in [("a", "10.0.0.1"), ("b", "10.0.0.2")] {
        let host = sim.add_host(name, &[ip(addr)]);
        let journal = Rc::clone(&journal);
        host.spawn(async move {
            sock::sleep(Duration::from_secs(1)).await;
            journal.borrow_mut().push(name);
        });
    }
    server.run(sock::sleep(Duration::from_secs(2)));
    let got = journal.borrow().clone();
    match got.as_slice() {
        ["b", "a"] if a_first => Err(format!("planted bug: {got:?}")),
        [_, _] => Ok(got),
        _ => Err(format!("not two entries: {got:?}")),
    }
}

#[test]
fn the_explorer_finds_a_bug_only_the_host_loop_order_exposes() {
    let plain = same_instant_timers(World::new(0), true);
    assert_eq!(plain.expect("host order runs a first"), ["a", "b"]);
    let failure = Explorer::new()
        .run(|w| same_instant_timers(w, true))
        .expect_err("some host-loop order runs b's timer first");
    println!("found: {failure}");
    assert!(failure.message().contains("planted bug"), "{failure}");
    // At 0 s which client loop starts first (0: a), at 1 s which wakes first (1: b).
    assert_eq!(failure.schedule().to_string(), "0.1");
    let again = Explorer::replay(failure.schedule(), |w| same_instant_timers(w, true));
    assert_eq!(again.expect_err("it replays").message(), failure.message());
    let orders = RefCell::new(BTreeSet::new());
    let correct = Explorer::new().run(|w| {
        let got = same_instant_timers(w, false)?;
        orders.borrow_mut().insert(got.concat());
        Ok::<(), String>(())
    });
    let correct = correct.expect("either order is fine for a correct check");
    assert_eq!((correct.schedules, correct.exhaustive), (4, true));
    let both = BTreeSet::from(["ab".to_string(), "ba".to_string()]);
    assert_eq!(*orders.borrow(), both);
}

/// The child: explores the (panicking) buggy server with `SOCK_SCHEDULE` set, which
/// replays that one schedule; prints what it found.
#[test]
fn replay_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    match Explorer::new().run(|w| three_messages(w, a_before_b_asserted)) {
        Ok(explored) => println!("child passed: {explored:?}"),
        Err(failure) => println!("child failed: {failure}"),
    }
}

#[test]
fn sock_schedule_replays_a_schedule_in_another_process() {
    let exe = std::env::current_exe().expect("the test binary");
    let child = |schedule: &str| {
        let out = Command::new(&exe)
            .args(["replay_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .env(SCHEDULE_ENV, schedule)
            .env_remove("SOCK_SEED")
            .output()
            .expect("the child runs");
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (stdout, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (failing, report) = child("0.1.0");
    assert!(failing.contains("child failed: schedule \"0.1.0\" failed after 1 schedules"));
    assert!(
        failing.contains("planted bug: b arrived before a"),
        "{failing}"
    );
    // The simulation's own failure report names the schedule next to the seed.
    assert!(report.contains("(replay: SOCK_SEED=0)"), "{report}");
    assert!(report.contains("(replay: SOCK_SCHEDULE=0.1.0)"), "{report}");
    let (passing, _) = child("0.0.1");
    assert!(passing.contains("child passed"), "{passing}");
    assert!(passing.contains("schedules: 1"), "{passing}");
}
