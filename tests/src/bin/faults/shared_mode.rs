//! The shared-poller mode under faults: one `SharedLoop` with two workers (this
//! thread and one more) running an echo server (an accept loop and a task per
//! connection) and the clients, all `SharedTcp`; every error the server meets is
//! printed by name.

use std::time::Duration;

use sock::sched::mt;
use sock::{
    ErrorKind, Expires, Family,
    shared::{SharedLoop, SharedTcp},
};

use crate::exchange::{Exchange, Failure, Plan, Serving, failed, report_error};

/// Runs the server and the clients of `plan`; once the clients printed their lines
/// and the server closed their connections, prints `done` and serves on until the
/// process exits.
///
/// # Panics
///
/// If the loop or the listener cannot be made.
pub(crate) fn run(plan: Plan) {
    let lp = SharedLoop::new().expect("a shared loop");
    let helper = lp.clone();
    std::thread::spawn(move || helper.start());
    while lp.workers() < 1 {
        std::thread::yield_now(); // `run` stops the workers there are; this one must be one
    }
    lp.run(async move {
        let listener = SharedTcp::new(Family::INET).expect("a socket");
        listener.listen("127.0.0.1", 0).expect("listen on loopback");
        let port = listener.local_addr().expect("its address").port();
        drop(mt::spawn(accept_loop(listener)));
        let clients: Vec<_> = (0..plan.clients)
            .map(|id| mt::spawn(client(plan, port, id)))
            .collect();
        for client in clients {
            client.await;
        }
        let deadline = std::time::Instant::now() + sock_tests::PATIENCE;
        while !Serving::none_or_past(deadline) {
            mt::sleep(Duration::from_millis(5)).await; // the server's last lines first
        }
        println!("done");
        loop {
            mt::sleep(Duration::from_secs(3600)).await; // the process ends it
        }
    });
}

/// Accepts until a fatal error, as the example's accept loop does.
async fn accept_loop(listener: SharedTcp) {
    loop {
        match listener.accept().await {
            Ok(conn) => drop(mt::spawn(echo(conn))),
            Err(e) => {
                report_error("accept", &e);
                if !e.is_transient_accept() {
                    return report_error("accept-loop-stopped", &e);
                }
                if matches!(
                    e.kind(),
                    ErrorKind::TooManyOpenFiles | ErrorKind::OutOfMemory
                ) {
                    mt::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// Echoes one connection until the peer closes or an error.
async fn echo(conn: SharedTcp) {
    let _serving = Serving::start();
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
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

/// One client: connects, exchanges, prints how it went.
async fn client(plan: Plan, port: u16, id: u32) {
    let mut ex = Exchange::new(&plan, id);
    let end = talk(&plan, port, &mut ex).await;
    ex.report(&end);
}

/// Connects and sends each payload, reading its echo back before the next.
async fn talk(plan: &Plan, port: u16, ex: &mut Exchange) -> Result<(), Failure> {
    let conn = SharedTcp::new(Family::INET).map_err(failed("socket"))?;
    let connect = conn.connect("127.0.0.1", port).timeout(plan.wait());
    connect.await.map_err(failed("connect"))?;
    let mut buf = vec![0u8; 16 * 1024];
    while let Some(payload) = ex.next_payload() {
        mt::sleep(ex.pause()).await;
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
async fn send(plan: &Plan, conn: &SharedTcp, buf: &[u8], ex: &mut Exchange) -> Result<(), Failure> {
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

/// Answers a stall as the loop mode's clients do: a byte on the connection and a
/// connection opened and closed.
async fn nudge(plan: &Plan, conn: &SharedTcp, port: u16, ex: &mut Exchange) -> Result<(), Failure> {
    ex.stalled()?;
    if let Ok(poke) = SharedTcp::new(Family::INET) {
        let _ = poke.connect("127.0.0.1", port).timeout(plan.wait()).await;
    }
    let byte = [ex.nudge_byte()];
    send(plan, conn, &byte, ex).await
}
