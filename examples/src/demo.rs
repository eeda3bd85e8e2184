//! The tour behind `cargo run --release --example demo`: address lookup, a TCP echo
//! server with a client, a deliberate timeout, a UDP exchange, an interruptible sleep job,
//! timers, and a generator doing socket I/O — all on loopback, returning a short report.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use sock::addr::{Flags, Hints, lookup};
use sock::{ErrorKind, Expires, Family, time::SleepJob};

/// Runs the tour on the current loop and returns the report lines.
///
/// # Errors
///
/// Any socket error of the tour (none is expected on a working loopback).
///
/// # Panics
///
/// If loopback misbehaves (an echo differs, the deliberate timeout does not happen).
pub async fn tour() -> sock::Result<Vec<String>> {
    let mut report = Vec::new();
    let t0 = sock::clock();

    // 1. Address lookup, with the flags getaddrinfo offers.
    let hints = Hints::tcp().flags(Flags::CANONNAME);
    let list = lookup("localhost", "http", &hints).map_err(sock::Error::from)?;
    for ai in list.iter() {
        println!("lookup localhost:http -> {ai}");
    }
    report.push(format!("lookup: localhost has {} address(es)", list.len()));

    // 2. A TCP echo server and a client, two threads on this loop.
    let server = sock::tcp(Family::INET)?;
    server.listen("127.0.0.1", 0)?;
    let port = server.local_addr()?.port();
    println!("echo server on {}", server.local_addr()?);
    let served = Rc::new(Cell::new(0));
    let counter = served.clone();
    sock::thread(async move {
        loop {
            let conn = match server.accept().await {
                Ok(conn) => conn,
                Err(e) => match crate::serve::on_error(e).await {
                    Ok(()) => continue, // one connection's error (e.is_transient_accept())
                    Err(_) => break,    // fatal: e.g. the server was closed
                },
            };
            counter.set(counter.get() + 1);
            sock::thread(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = conn.recv(&mut buf).await {
                    if conn.send(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let client = sock::tcp(Family::INET)?;
    client
        .connect("127.0.0.1", port)
        .timeout(Duration::from_secs(5))
        .await?;
    let started = sock::clock();
    let mut buf = [0u8; 32];
    for i in 0..1000u32 {
        client.send(&i.to_le_bytes()).await?;
        client
            .recvn(&mut buf[..4])
            .timeout(Duration::from_secs(5))
            .await?;
        assert_eq!(buf[..4], i.to_le_bytes());
    }
    let per_rt = sock::clock().duration_since(started) / 1000;
    report.push(format!("tcp echo: 1000 round trips, {per_rt:?} each"));

    // 3. A deadline that expires on purpose: nobody sends, recv gives up.
    let err = client
        .recv(&mut buf)
        .timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    report.push(format!(
        "deadline: recv failed with '{}' as planned",
        err.name()
    ));

    // 4. UDP request/response.
    let udp_server = sock::udp(Family::INET)?;
    udp_server.bind("127.0.0.1", 0)?;
    let udp_port = udp_server.local_addr()?.port();
    sock::thread(async move {
        let mut buf = [0u8; 64];
        if let Ok((n, from)) = udp_server.recv_from(&mut buf).await {
            buf[..n].make_ascii_uppercase();
            let _ = udp_server.send_to(&buf[..n], &from).await;
        }
    });
    let udp = sock::udp(Family::INET)?;
    udp.send_to(b"shout", &("127.0.0.1", udp_port)).await?;
    let (n, from) = udp
        .recv_from(&mut buf)
        .timeout(Duration::from_secs(5))
        .await?;
    report.push(format!(
        "udp: {from} answered {:?}",
        String::from_utf8_lossy(&buf[..n])
    ));

    // 5. An interruptible sleep job, woken early by a timer.
    let job: SleepJob<&'static str> = SleepJob::new();
    let waker = job.clone();
    sock::time::run_after(Duration::from_millis(20), move || {
        waker.wakeup("woken by a timer");
    });
    let got = job.sleep(Duration::from_secs(10)).await;
    report.push(format!("sleep job: {}", got.unwrap_or("timed out")));

    // 6. A repeating timer that stops itself after three ticks.
    let ticks = Rc::new(Cell::new(0));
    let t = ticks.clone();
    sock::time::run_every(Duration::from_millis(5), move || {
        t.set(t.get() + 1);
        t.get() < 3
    });
    sock::sleep(Duration::from_millis(40)).await;
    report.push(format!(
        "run_every: {} ticks, then it stopped itself",
        ticks.get()
    ));

    // 7. A generator whose body does socket I/O: numbers echoed by the server.
    let gen_client = sock::tcp(Family::INET)?;
    gen_client
        .connect("127.0.0.1", port)
        .timeout(Duration::from_secs(5))
        .await?;
    let mut echoes = sock::task::cowrap(move |co| async move {
        let mut buf = [0u8; 1];
        for i in 1..=5u8 {
            if gen_client.send(&[i]).await.is_err() || gen_client.recvn(&mut buf).await.is_err() {
                break;
            }
            co.yield_(buf[0]).await;
        }
    });
    let mut sum = 0u32;
    while let Some(v) = echoes.next().await {
        sum += u32::from(v);
    }
    report.push(format!("generator: echoed 1..=5, sum {sum}"));

    report.push(format!("connections served: {}", served.get()));
    report.push(format!(
        "total time: {:?}",
        sock::clock().duration_since(t0)
    ));
    Ok(report)
}
