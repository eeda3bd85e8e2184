//! Replay from a printed seed: a planted failure at a seed-dependent point prints its
//! seed and event index (`SOCK_SEED=…`, `event N`); a second process given that seed
//! fails at the same index with the same event-log hash and the same last events.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Command;
use std::time::Duration;

use sock::sim::{Link, Sim, World};
use sock::{Expires, Family};
use sock_tests::sim::ip;

/// Set in a child process of this binary: run the planted failure.
const CHILD_ENV: &str = "SOCK_SIM_REPLAY_CHILD";
/// Datagrams the client sends.
const SENT: u8 = 40;

/// Host a sends numbered datagrams over a jittered, lossy link to host b, which panics
/// (the planted failure) at the first gap of two or more lost datagrams — where that is
/// depends on the seed's losses — or, with no such gap, once the datagrams stop.
fn planted_failure(sim: &Sim) {
    let a = sim.add_host("a", &[ip("10.0.0.1")]);
    let b = sim.add_host("b", &[ip("10.0.0.2")]);
    let link = Link {
        jitter: Duration::from_micros(500),
        loss: 0.3,
        ..Link::DEFAULT
    };
    sim.world().set_default_link(link);
    a.spawn(async {
        let u = sock::udp(Family::INET)?;
        for i in 0..SENT {
            u.send_to(&[i], &("10.0.0.2", 7)).await?;
            sock::sleep(Duration::from_millis(1)).await;
        }
        Ok::<(), sock::Error>(())
    });
    let served = b.run(async {
        let u = sock::udp(Family::INET)?;
        u.bind("10.0.0.2", 7)?;
        let mut top: Option<u8> = None;
        loop {
            let mut buf = [0u8; 1];
            u.recv(&mut buf).timeout(Duration::from_secs(1)).await?;
            if let Some(t) = top.filter(|t| buf[0] > t + 2) {
                panic!("planted failure: datagrams {}..{} lost", t + 1, buf[0]);
            }
            top = top.max(Some(buf[0]));
        }
        #[allow(unreachable_code)]
        Ok::<(), sock::Error>(())
    });
    panic!("planted failure: no gap; the datagrams stopped ({served:?})");
}

/// The event index at which seed `seed`'s planted failure happens, in this process.
fn failing_index(seed: u64) -> u64 {
    let sim = Sim::new(World::new(seed));
    let failed = catch_unwind(AssertUnwindSafe(|| planted_failure(&sim)));
    assert!(failed.is_err(), "the planted failure always fires");
    sim.world().processed()
}

#[test]
fn the_planted_failure_depends_on_the_seed_and_repeats_with_it() {
    let indexes: Vec<u64> = (1..=6).map(failing_index).collect();
    assert_eq!(
        failing_index(3),
        indexes[2],
        "the same seed, the same index"
    );
    let mut distinct = indexes.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        distinct.len() > 1,
        "the seed moves the failure: {indexes:?}"
    );
}

/// The child: the planted failure on a world of `SOCK_SEED`, or a fresh seed.
#[test]
fn planted_failure_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    planted_failure(&Sim::new(World::from_env()));
}

/// A failed child's report: from the `sock::sim: failed` line to the last event.
fn child_report(seed: Option<u64>) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["planted_failure_child", "--exact", "--nocapture"])
        .args(["--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env_remove("SOCK_SEED");
    if let Some(seed) = seed {
        cmd.env("SOCK_SEED", seed.to_string());
    }
    let out = cmd.output().expect("the child runs");
    assert!(!out.status.success(), "the planted failure fails: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let start = stderr.find("sock::sim: failed").expect("a failure report");
    let report = stderr[start..].lines().take_while(|l| !l.is_empty());
    report.collect::<Vec<_>>().join("\n")
}

/// A number that follows `key` in `text`, up to the next non-digit.
fn number_after(text: &str, key: &str) -> u64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no {key:?} in {text}"));
    let digits: String = text[at + key.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {key:?}"))
}

#[test]
fn a_planted_failure_reproduces_from_its_printed_seed_at_the_same_event_index() {
    let first = child_report(None); // a fresh seed, as an unplanned failure would have
    let seed = number_after(&first, "SOCK_SEED=");
    let index = number_after(&first, ", event ");
    assert!(index > 0, "{first}");
    assert!(
        first.contains("planted failure") || first.contains("udp recv"),
        "{first}"
    );
    let again = child_report(Some(seed));
    assert_eq!(number_after(&again, "SOCK_SEED="), seed);
    assert_eq!(
        number_after(&again, ", event "),
        index,
        "{first}\n---\n{again}"
    );
    // The whole report — virtual time, log length, hash, last events — is the same:
    // one seed, one event-log hash, in two processes.
    assert_eq!(again, first);
    println!("seed {seed}: failed at event {index} in both processes\n{first}");
}
