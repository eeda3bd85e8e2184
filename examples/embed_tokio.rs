//! Embedding in a tokio host: a current-thread runtime watches sock's loop fd with an
//! `AsyncFd` and sleeps with `sleep_until(next_deadline)`, then lets sock run with
//! `poll(Some(Duration::ZERO))`; a tokio interval (the host's own work) ticks
//! meanwhile. sock runs the echo server, a client and a repeating timer. Unix only
//! (the loop's fd). `cargo run --example embed_tokio`

#[cfg(unix)]
fn main() -> sock::Result<()> {
    let (r, host_ticks) = run()?;
    println!(
        "tokio host: {} wake-ups in {:?} ({} of its own interval); sock echoed {:?}; \
         timer ticked {} times",
        r.frames,
        r.elapsed,
        host_ticks,
        String::from_utf8_lossy(&r.echoed),
        r.ticks
    );
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    println!("embed_tokio: the host waits on the loop's fd, which needs Unix");
}

/// The loop's fd for `AsyncFd`, which borrows it.
#[cfg(unix)]
struct LoopFd(std::os::fd::RawFd);

#[cfg(unix)]
impl std::os::fd::AsRawFd for LoopFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.0
    }
}

/// Runs the tokio host until sock's work is done (at most `MAX_ITERATIONS` wake-ups);
/// the report and how often the host's own 10 ms interval ticked.
///
/// # Errors
///
/// Loop or runtime creation, or a socket error of sock's side.
#[cfg(unix)]
pub(crate) fn run() -> sock::Result<(sock_examples::embed::Report, u32)> {
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    use sock_examples::embed::{MAX_ITERATIONS, spawn_work};
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    let lp = sock::Loop::new()?;
    let work = spawn_work(&lp)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let start = Instant::now();
    let (wakeups, host_ticks) = rt.block_on(async {
        // SAFETY: the loop's fd stays open and the same while `fd` lives: `lp`
        // outlives this block. tokio watches it edge-triggered; sock's poll drains the
        // loop's queue, so no edge is ever owed.
        let fd =
            unsafe { AsyncFd::register_with_interest(LoopFd(lp.as_raw_fd()), Interest::READABLE) }
                .map_err(std::io::Error::from)?;
        let mut host = tokio::time::interval(Duration::from_millis(10));
        let (mut wakeups, mut host_ticks) = (0u32, 0u32);
        while !work.is_finished() && wakeups < MAX_ITERATIONS {
            let deadline = lp.next_deadline();
            tokio::select! {
                ready = fd.readable() => ready?.clear_ready(),
                () = sleep_until(deadline) => {}
                _ = host.tick() => host_ticks += 1, // the host's own work
            }
            lp.poll(Some(Duration::ZERO)); // sock's events and timers: never blocks
            wakeups += 1;
        }
        Ok::<_, std::io::Error>((wakeups, host_ticks))
    })?;
    Ok((work.report(wakeups, start)?, host_ticks))
}

/// Sleeps until `deadline`; forever when there is none.
#[cfg(unix)]
async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
