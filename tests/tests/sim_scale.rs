//! The simulation at scale: 1,000 idle hosts for 24 virtual hours cost work in
//! proportion to their wake-ups, not to the virtual time (no ticks) nor, per round of
//! the drive loop, to the number of hosts.
//!
//! The wall time is printed (run with `--nocapture`), never asserted.

use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::sim::{Host, Sim, World};

/// One virtual hour.
const HOUR: Duration = Duration::from_secs(3600);

/// Hosts in the run, and the virtual hours they idle.
const HOSTS: u32 = 1000;
const HOURS: u32 = 24;

/// A host of the run: `h<i>` owning 10.1.x.y.
fn add_host(sim: &Sim, i: u32) -> Host {
    let addr = IpAddr::from([10, 1, (i >> 8) as u8, i as u8]);
    sim.add_host(&format!("h{i}"), &[addr])
}

#[test]
fn a_thousand_idle_hosts_for_a_virtual_day_cost_work_per_wake_up() {
    let sim = Sim::new(World::from_env_or(24));
    let hosts: Vec<Host> = (0..HOSTS).map(|i| add_host(&sim, i)).collect();
    let wakes = Rc::new(Cell::new(0u32));
    for (i, host) in hosts.iter().enumerate().skip(1) {
        let wakes = wakes.clone();
        // Staggered by a virtual second per host: 24,000 distinct wake-up instants.
        let offset = Duration::from_secs(i as u64);
        host.spawn(async move {
            sock::sleep(offset).await;
            for _ in 0..HOURS {
                sock::sleep(HOUR).await;
                wakes.set(wakes.get() + 1);
            }
        });
    }
    let wall = Instant::now();
    let day = HOUR * HOURS + Duration::from_secs(u64::from(HOSTS));
    hosts[0].run(sock::sleep(day));
    let wall = wall.elapsed();
    let stats = sim.stats();
    println!("{HOSTS} hosts, {HOURS} virtual hours: wall {wall:?}, {stats:?}");
    let idle = HOSTS - 1;
    assert_eq!(wakes.get(), idle * HOURS, "every sleeper woke every hour");
    assert_eq!(sim.world().now(), day);
    // Each sleeper's loop runs once per wake-up (and once to start): 1 ms ticks over a
    // day would be 86.4 million rounds; a look at every host per round, 24 million
    // deadline reads.
    let wake_ups = u64::from(idle * (HOURS + 2));
    assert!(stats.polls <= wake_ups, "{stats:?}");
    assert!(stats.rounds <= 3 * wake_ups, "{stats:?}");
    assert!(
        stats.deadline_reads <= wake_ups + 2 * u64::from(HOSTS),
        "{stats:?}"
    );
}
