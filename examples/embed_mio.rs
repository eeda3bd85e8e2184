//! Embedding in a mio host: a `mio::Poll` watches sock's loop fd (`SourceFd`, under
//! its own token) beside the host's own sources, waits at most until the loop's
//! `next_deadline()`, then lets sock run with `poll(Some(Duration::ZERO))`. sock runs
//! the echo server, a client and a repeating timer meanwhile. Unix only (the loop's fd).
//! `cargo run --example embed_mio`

#[cfg(unix)]
fn main() -> sock::Result<()> {
    let r = run()?;
    println!(
        "mio host: {} wake-ups in {:?}; sock echoed {:?}; timer ticked {} times",
        r.frames,
        r.elapsed,
        String::from_utf8_lossy(&r.echoed),
        r.ticks
    );
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    println!("embed_mio: the host waits on the loop's fd, which needs Unix");
}

/// Runs the mio host until sock's work is done (at most `MAX_ITERATIONS` wake-ups).
///
/// # Errors
///
/// Loop or `mio::Poll` creation, or a socket error of sock's side.
#[cfg(unix)]
pub(crate) fn run() -> sock::Result<sock_examples::embed::Report> {
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token};
    use sock_examples::embed::{MAX_ITERATIONS, spawn_work};

    /// The token of sock's loop fd among the host's sources.
    const SOCK: Token = Token(0);
    /// The longest the host sleeps when sock has no deadline (its own frame, say).
    const HOST_TICK: Duration = Duration::from_millis(100);

    let lp = sock::Loop::new()?;
    let work = spawn_work(&lp)?;
    let mut poll = Poll::new()?;
    let fd = lp.as_raw_fd();
    // mio watches it edge-triggered: sock's poll drains the loop's queue, so no edge
    // is ever owed.
    poll.registry()
        .register(&mut SourceFd(&fd), SOCK, Interest::READABLE)?;
    let mut events = Events::with_capacity(64);
    let start = Instant::now();
    let mut wakeups = 0u32;
    while !work.is_finished() && wakeups < MAX_ITERATIONS {
        let until_sock = lp
            .next_deadline()
            .map(|t| t.saturating_duration_since(Instant::now()));
        poll.poll(
            &mut events,
            Some(until_sock.map_or(HOST_TICK, |d| d.min(HOST_TICK))),
        )?;
        for event in &events {
            if event.token() != SOCK {
                // ... the host's own sources, under other tokens ...
            }
        }
        lp.poll(Some(Duration::ZERO)); // sock's events and timers: never blocks
        wakeups += 1;
    }
    poll.registry().deregister(&mut SourceFd(&fd))?;
    work.report(wakeups, start)
}
