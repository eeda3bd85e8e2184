//! Embedding: sock's loop driven by a host's loop. The sock side is the same for every
//! host ([`spawn_work`]): the echo server of `echo_server`, a client making a few round
//! trips through it, and a repeating timer. The hosts:
//!
//! - [`run`]: a fake 60 Hz frame loop (a game, a GUI) that calls
//!   `poll(Some(Duration::ZERO))` once per frame, which never blocks;
//! - `examples/embed_mio.rs`: a `mio::Poll` watching the loop's fd beside its own sources;
//! - `examples/embed_tokio.rs`: a tokio current-thread runtime with the loop's fd in an
//!   `AsyncFd` and `sleep_until(next_deadline)`.
//!
//! The event-driven hosts follow the contract on [`sock::Loop`]: wait until the loop's
//! fd is readable, at most until `next_deadline()`, then `poll(Some(ZERO))`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::{Expires, Family, Thread};

/// Round trips the client makes through the echo server.
pub const ROUNDS: usize = 3;

/// Host iterations (frames, wake-ups) a host runs at most.
pub const MAX_ITERATIONS: u32 = 600;

/// What a host loop saw.
#[derive(Debug)]
pub struct Report {
    /// Iterations the host ran (frames, or wake-ups of an event-driven host).
    pub frames: u32,
    /// How long it took.
    pub elapsed: Duration,
    /// What the client got back from the echo server, round after round.
    pub echoed: Vec<u8>,
    /// How often the repeating timer fired.
    pub ticks: u32,
}

/// sock's side of an embedding, running on a loop a host drives.
#[derive(Debug)]
pub struct Work {
    /// The client: what the echo server sent back.
    pub client: Thread<sock::Result<Vec<u8>>>,
    /// How often the repeating timer fired so far.
    pub ticks: Rc<Cell<u32>>,
}

impl Work {
    /// Whether the client finished.
    pub fn is_finished(&self) -> bool {
        self.client.is_finished()
    }

    /// The report of a host that ran `frames` iterations since `start`.
    ///
    /// # Errors
    ///
    /// The client's socket error.
    ///
    /// # Panics
    ///
    /// If the client has not finished, or panicked.
    pub fn report(self, frames: u32, start: Instant) -> sock::Result<Report> {
        let echoed = self
            .client
            .try_join()
            .expect("the client finished")
            .expect("the client ran")?;
        Ok(Report {
            frames,
            elapsed: start.elapsed(),
            echoed,
            ticks: self.ticks.get(),
        })
    }
}

/// Spawns sock's side on `lp`: a timer ticking every 50 ms, the echo server on an
/// ephemeral loopback port, and a client making [`ROUNDS`] round trips of `frame`
/// through it, then sleeping 200 ms (so the timer ticks meanwhile).
///
/// # Errors
///
/// The listener's socket errors.
pub fn spawn_work(lp: &sock::Loop) -> sock::Result<Work> {
    let ticks = Rc::new(Cell::new(0u32));
    let t = ticks.clone();
    let listener = lp.run(async { sock::tcp(Family::INET) })?;
    listener.listen("127.0.0.1", 0)?;
    let port = listener.local_addr()?.port();
    lp.spawn(async move {
        sock::time::run_every(Duration::from_millis(50), move || {
            t.set(t.get() + 1);
            true
        });
        let _ = crate::echo::serve(listener).await;
    });
    let client = lp.spawn(client(port));
    Ok(Work { client, ticks })
}

/// The client: [`ROUNDS`] echoes of `frame`, then a nap.
async fn client(port: u16) -> sock::Result<Vec<u8>> {
    let c = sock::tcp(Family::INET)?;
    c.connect("127.0.0.1", port)
        .timeout(Duration::from_secs(5))
        .await?;
    let mut echoed = Vec::new();
    for _ in 0..ROUNDS {
        c.send(b"frame").await?;
        let mut buf = [0u8; 5];
        c.recvn(&mut buf).timeout(Duration::from_secs(5)).await?;
        echoed.extend_from_slice(&buf);
    }
    sock::sleep(Duration::from_millis(200)).await;
    Ok(echoed)
}

/// Runs a 60 Hz frame loop until sock's work is done (at most [`MAX_ITERATIONS`]
/// frames), calling `poll(Some(Duration::ZERO))` once per frame.
///
/// # Errors
///
/// Loop creation or any socket error of sock's side.
///
/// # Panics
///
/// If the client panicked.
pub fn run() -> sock::Result<Report> {
    let lp = sock::Loop::new()?;
    let work = spawn_work(&lp)?;
    let frame = Duration::from_micros(16_667);
    let start = Instant::now();
    let mut frames = 0u32;
    while !work.is_finished() && frames < MAX_ITERATIONS {
        let frame_start = Instant::now();
        lp.poll(Some(Duration::ZERO)); // sock's share of the frame: never blocks
        // ... the host renders its frame here ...
        frames += 1;
        if let Some(rest) = frame.checked_sub(frame_start.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    work.report(frames, start)
}
