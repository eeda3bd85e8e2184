//! Embedding: a host loop (a fake 60 Hz frame loop, as a game or a GUI would have)
//! drives sock with `poll(Some(Duration::ZERO))` once per frame, which never blocks.
//! Meanwhile a sock thread runs a TCP exchange and a timer ticks.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use sock::{Expires, Family};

/// What the host loop saw.
#[derive(Debug)]
pub struct Report {
    /// Frames the host ran.
    pub frames: u32,
    /// How long it took.
    pub elapsed: Duration,
    /// What the sock thread got back from its echo.
    pub echoed: Vec<u8>,
    /// How often the repeating timer fired.
    pub ticks: u32,
}

/// Runs the host loop until sock's work is done (at most 600 frames).
///
/// # Errors
///
/// Loop creation or any socket error of the sock thread.
///
/// # Panics
///
/// If the sock thread panicked.
pub fn run() -> sock::Result<Report> {
    let lp = sock::Loop::new()?;
    let ticks = Rc::new(Cell::new(0u32));
    let t = ticks.clone();
    let worker = lp.spawn(async move {
        sock::run_every(Duration::from_millis(50), move || {
            t.set(t.get() + 1);
            true
        });
        let server = sock::tcp(Family::INET)?;
        server.listen("127.0.0.1", 0)?;
        let port = server.local_addr()?.port();
        sock::thread(async move {
            if let Ok(conn) = server.accept().await {
                let mut buf = [0u8; 5];
                if conn.recvn(&mut buf).await.is_ok() {
                    let _ = conn.send(&buf).await;
                }
            }
        });
        let client = sock::tcp(Family::INET)?;
        client
            .connect("127.0.0.1", port)
            .timeout(Duration::from_secs(5))
            .await?;
        client.send(b"frame").await?;
        let mut buf = [0u8; 5];
        client
            .recvn(&mut buf)
            .timeout(Duration::from_secs(5))
            .await?;
        sock::sleep(Duration::from_millis(200)).await;
        Ok::<_, sock::Error>(buf)
    });

    let frame = Duration::from_micros(16_667);
    let start = Instant::now();
    let mut frames = 0u32;
    while !worker.is_finished() && frames < 600 {
        let frame_start = Instant::now();
        lp.poll(Some(Duration::ZERO)); // sock's share of the frame: never blocks
        // ... the host renders its frame here ...
        frames += 1;
        if let Some(rest) = frame.checked_sub(frame_start.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    let echoed = worker
        .try_join()
        .expect("worker finished")
        .expect("worker ran")?;
    Ok(Report {
        frames,
        elapsed: start.elapsed(),
        echoed: echoed.to_vec(),
        ticks: ticks.get(),
    })
}
