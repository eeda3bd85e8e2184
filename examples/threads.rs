//! Both multi-threading modes on loopback: loops per thread sharing one listener, and
//! the seed's shared kernel poller handed to other OS threads by its number.
//! `cargo run --release --example threads`

fn main() -> sock::Result<()> {
    let (conns, rounds) = (200, 50);
    let tally = sock_examples::threads::loops_per_thread(2, conns, rounds)?;
    println!(
        "loops per thread: 2 loops sharing one listener served {:?} of {} round trips \
         (a connection wakes one idle loop, which accepts all that wait: a burst can go to one)",
        tally.counts(),
        conns * rounds
    );
    let tally = sock_examples::threads::shared_poller(2, conns, rounds)?;
    println!(
        "shared poller: 2 OS threads on one kernel poller served {:?} of {} round trips",
        tally.counts(),
        conns * rounds
    );
    Ok(())
}
