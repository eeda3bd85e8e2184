//! The loop mode under faults: the echo server of the `echo_server` example (an
//! accept loop that goes on after per-connection errors, one sock thread per
//! connection, `readable` before each read) on an OS thread of its own, and the
//! clients as sock threads on the main thread's loop. Every error the server meets is
//! printed by name; the example's own code swallows them, so its logic is repeated
//! here with a print at each place it drops an error.

use std::sync::mpsc;
use std::time::Duration;

use sock::{ErrorKind, Expires, Family, Tcp};

use crate::exchange::{Exchange, Failure, Plan, Serving, failed, report_error};

/// Starts the server on a thread of its own; its port.
///
/// # Panics
///
/// If the listener cannot be made.
pub(crate) fn start_server() -> u16 {
    let (tell, port) = mpsc::channel();
    std::thread::spawn(move || {
        let stopped = sock::run(async move {
            let listener = sock::tcp(Family::INET)?;
            listener.listen("127.0.0.1", 0)?;
            let _ = tell.send(listener.local_addr()?.port());
            accept_loop(listener).await
        });
        if let Err(e) = stopped {
            report_error("accept-loop-stopped", &e);
        }
    });
    port.recv().expect("the server thread failed to listen")
}

/// The example's accept loop (`sock_examples::serve::accept_loop` and `on_error`).
async fn accept_loop(listener: Tcp) -> sock::Result<()> {
    loop {
        match listener.accept().await {
            Ok(conn) => {
                sock::thread(echo(conn));
            }
            Err(e) => {
                report_error("accept", &e);
                if !e.is_transient_accept() {
                    return Err(e);
                }
                if matches!(
                    e.kind(),
                    ErrorKind::TooManyOpenFiles | ErrorKind::OutOfMemory
                ) {
                    sock::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// The example's connection handler (`sock_examples::echo::serve_conn`).
async fn echo(conn: Tcp) {
    let _serving = Serving::start();
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Err(e) = conn.readable().await {
            return report_error("readable", &e);
        }
        match conn.recv(&mut buf).await {
            Ok(0) => return,
            Ok(n) => {
                if let Err(e) = conn.send(&buf[..n]).await {
                    return report_error("send", &e);
                }
            }
            Err(e) => return report_error("recv", &e),
        }
    }
}

/// Runs every client of `plan` against the server at `port`, concurrently, each
/// printing its line; returns once the server has closed their connections too (or
/// after [`sock_tests::PATIENCE`]).
pub(crate) fn run_clients(plan: Plan, port: u16) {
    sock::run(async move {
        let clients: Vec<_> = (0..plan.clients)
            .map(|id| sock::spawn(client(plan, port, id)))
            .collect();
        for client in clients {
            let _ = client.join().await;
        }
        let deadline = std::time::Instant::now() + sock_tests::PATIENCE;
        while !Serving::none_or_past(deadline) {
            sock::sleep(Duration::from_millis(5)).await;
        }
    });
}

/// One client: connects, exchanges, prints how it went.
async fn client(plan: Plan, port: u16, id: u32) {
    let mut ex = Exchange::new(&plan, id);
    let end = talk(&plan, port, &mut ex).await;
    ex.report(&end);
}

/// Connects and sends each payload, reading its echo back before the next.
async fn talk(plan: &Plan, port: u16, ex: &mut Exchange) -> Result<(), Failure> {
    let conn = sock::tcp(Family::INET).map_err(failed("socket"))?;
    let connect = conn.connect("127.0.0.1", port).timeout(plan.wait());
    connect.await.map_err(failed("connect"))?;
    let mut buf = vec![0u8; 16 * 1024];
    while let Some(payload) = ex.next_payload() {
        sock::sleep(ex.pause()).await;
        send(plan, &conn, &payload, ex).await?;
        while ex.owed() {
            match conn.recv(&mut buf).timeout(plan.wait()).await {
                Ok(0) => return Err(Failure::Op("recv", ErrorKind::Eof.into())),
                Ok(n) => ex.check(&buf[..n])?,
                Err(e) if e.is_timeout() && plan.stall.is_some() => {
                    nudge(plan, &conn, port, ex).await?;
                }
                Err(e) => return Err(Failure::Op("recv", e)),
            }
        }
    }
    Ok(())
}

/// Sends all of `buf`; a send that stalls (under `EAGAIN`) goes on from where it
/// stopped.
async fn send(plan: &Plan, conn: &Tcp, buf: &[u8], ex: &mut Exchange) -> Result<(), Failure> {
    let mut sent = 0;
    loop {
        match conn.send(&buf[sent..]).timeout(plan.wait()).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_timeout() && plan.stall.is_some() => {
                sent += e.transferred();
                ex.stalled()?;
            }
            Err(e) => return Err(Failure::Op("send", e)),
        }
    }
}

/// Answers a stall: one more byte on the connection (an event for a server parked
/// on it) and a connection opened and closed at once (an event for a listener
/// parked with a connection waiting).
async fn nudge(plan: &Plan, conn: &Tcp, port: u16, ex: &mut Exchange) -> Result<(), Failure> {
    ex.stalled()?;
    if let Ok(poke) = sock::tcp(Family::INET) {
        let _ = poke.connect("127.0.0.1", port).timeout(plan.wait()).await;
    }
    let byte = [ex.nudge_byte()];
    send(plan, conn, &byte, ex).await
}
