//! The task toolkit with real sockets: cancelling a thread parked in a socket operation,
//! a `ThreadSet` of connection threads cancelled on drop, a `Semaphore` bounding
//! connections, the panic policy through `Loop`, and tokio's `sync` primitives running on
//! a sock loop without a tokio runtime.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sock::task::{Outcome, PanicPolicy, Semaphore, ThreadSet};
use sock::{Expires, Family};
use sock_tests::{PATIENCE, listener, pair, yield_now};

/// A UDP socket bound to an ephemeral loopback port.
fn bound() -> sock::Udp {
    let u = sock::udp(Family::INET).unwrap();
    u.bind("127.0.0.1", 0).unwrap();
    u
}

#[test]
fn cancel_drops_a_parked_recv_and_the_socket_stays_usable() {
    sock::run(async {
        let socket = Rc::new(bound());
        let port = socket.local_addr().unwrap().port();
        let s = socket.clone();
        let parked = sock::spawn(async move {
            let mut buf = [0u8; 16];
            s.recv(&mut buf).await
        });
        let outcome = Rc::new(Cell::new(None));
        let o = outcome.clone();
        parked.on_finish(move |out| o.set(Some(out)));
        yield_now().await;
        yield_now().await;
        assert!(
            parked.is_started() && !parked.is_finished(),
            "parked in recv"
        );

        parked.cancel();
        assert_eq!(outcome.get(), Some(Outcome::Cancelled));
        let err = parked.join().await.unwrap_err();
        assert!(err.is_cancelled());

        // The waiter went with the future: a new receive on the same socket works (a
        // second waiter would panic) and gets the datagram.
        let sender = bound();
        sender
            .send_to(b"after", &("127.0.0.1", port))
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        let n = socket.recv(&mut buf).timeout(PATIENCE).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    });
}

#[test]
fn cancel_drops_a_parked_accept_and_the_listener_stays_usable() {
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let server = Rc::new(server);
        let s = server.clone();
        let parked = sock::spawn(async move { s.accept().await.map(drop) });
        yield_now().await;
        parked.cancel();
        assert!(parked.join().await.unwrap_err().is_cancelled());

        let client = sock::tcp(Family::INET).unwrap();
        let accept = {
            let s = server.clone();
            sock::spawn(async move { s.accept().timeout(PATIENCE).await })
        };
        client
            .connect("127.0.0.1", port)
            .timeout(PATIENCE)
            .await
            .unwrap();
        accept.join().await.unwrap().unwrap();
    });
}

#[test]
fn dropping_a_set_of_connection_threads_closes_their_sockets() {
    sock::run(async {
        let mut clients = Vec::new();
        let mut handlers = ThreadSet::new();
        for _ in 0..3 {
            let (client, conn) = pair(Family::INET).await.unwrap();
            handlers.spawn(async move {
                let mut buf = [0u8; 16];
                conn.recv(&mut buf).await // never sent to: parks until cancelled
            });
            clients.push(client);
        }
        yield_now().await;
        assert_eq!(handlers.len(), 3);
        drop(handlers); // cancels the three: their sockets close
        for client in &clients {
            let mut buf = [0u8; 16];
            let n = client.recv(&mut buf).timeout(PATIENCE).await.unwrap();
            assert_eq!(n, 0, "the peer's socket was closed");
        }
    });
}

#[test]
fn a_semaphore_bounds_the_connections_served_at_once() {
    const CLIENTS: usize = 6;
    let busy = Rc::new(Cell::new(0));
    let most = Rc::new(Cell::new(0));
    sock::run(async {
        let (server, port) = listener(Family::INET);
        let (b, m) = (busy.clone(), most.clone());
        let accept_loop = sock::spawn(async move {
            let limit = Semaphore::new(2);
            let mut handlers = ThreadSet::new();
            for _ in 0..CLIENTS {
                let permit = limit.acquire().await;
                let conn = server.accept().timeout(PATIENCE).await.unwrap();
                let (b, m) = (b.clone(), m.clone());
                handlers.spawn(async move {
                    let _permit = permit;
                    b.set(b.get() + 1);
                    m.set(m.get().max(b.get()));
                    sock::sleep(Duration::from_millis(5)).await;
                    b.set(b.get() - 1);
                    conn.send(b"served").await
                });
            }
            while let Some(r) = handlers.join_next().await {
                r.unwrap().unwrap();
            }
        });
        let mut clients = ThreadSet::new();
        for _ in 0..CLIENTS {
            clients.spawn(async move {
                let c = sock::tcp(Family::INET)?;
                c.connect("127.0.0.1", port).timeout(PATIENCE).await?;
                let mut buf = [0u8; 6];
                c.recvn(&mut buf).timeout(PATIENCE).await?;
                assert_eq!(&buf, b"served");
                Ok::<(), sock::Error>(())
            });
        }
        while let Some(r) = clients.join_next().await {
            r.unwrap().unwrap();
        }
        accept_loop.join().await.unwrap();
    });
    assert_eq!(most.get(), 2);
    assert_eq!(busy.get(), 0);
}

#[test]
fn isolate_keeps_a_loop_serving_after_a_handler_panics() {
    let lp = sock::Loop::new().unwrap();
    lp.set_panic_policy(PanicPolicy::Isolate);
    assert_eq!(lp.panic_policy(), PanicPolicy::Isolate);
    let outcomes = Rc::new(RefCell::new(Vec::new()));
    let o = outcomes.clone();
    lp.run(async move {
        let (server, port) = listener(Family::INET);
        let server = Rc::new(server);
        for request in [&b"boom"[..], b"fine"] {
            let client = sock::tcp(Family::INET).unwrap();
            let s = server.clone();
            let handler = sock::spawn(async move {
                let conn = s.accept().timeout(PATIENCE).await.unwrap();
                let mut buf = [0u8; 4];
                conn.recvn(&mut buf).timeout(PATIENCE).await.unwrap();
                assert_ne!(&buf, b"boom", "a bad request");
                conn.send(b"ok").await.unwrap();
            });
            let o = o.clone();
            handler.on_finish(move |outcome| o.borrow_mut().push(outcome));
            drop(handler); // detached, as a server's connection threads are
            client
                .connect("127.0.0.1", port)
                .timeout(PATIENCE)
                .await
                .unwrap();
            client.send(request).await.unwrap();
            let mut buf = [0u8; 2];
            let got = client.recv(&mut buf).timeout(PATIENCE).await;
            if request == b"fine" {
                assert_eq!(&buf[..got.unwrap()], b"ok");
            }
        }
    });
    assert_eq!(*outcomes.borrow(), [Outcome::Panicked, Outcome::Returned]);
    assert_eq!(lp.isolated_panics(), 1);
}

#[test]
fn tokio_sync_primitives_work_on_the_loop() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(4);
    let limit = Arc::new(tokio::sync::Semaphore::new(2));
    let busy = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let from_os_thread = {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for i in 100..110 {
                tx.blocking_send(i).unwrap(); // wakes the loop from another OS thread
            }
        })
    };
    let received = sock::run(async move {
        let mut workers = ThreadSet::new();
        for i in 0..10u32 {
            let (tx, limit, busy, most) = (tx.clone(), limit.clone(), busy.clone(), most.clone());
            workers.spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let now = busy.fetch_add(1, Ordering::Relaxed) + 1;
                most.fetch_max(now, Ordering::Relaxed);
                sock::sleep(Duration::from_millis(1)).await;
                busy.fetch_sub(1, Ordering::Relaxed);
                tx.send(i).await.unwrap(); // waits whenever the channel is full
            });
        }
        drop(tx);
        let mut received = Vec::new();
        while let Some(v) = rx.recv().await {
            received.push(v);
        }
        while let Some(r) = workers.join_next().await {
            r.unwrap();
        }
        assert_eq!(most.load(Ordering::Relaxed), 2);
        received
    });
    from_os_thread.join().unwrap();
    let mut sorted = received.clone();
    sorted.sort_unstable();
    let expected: Vec<u32> = (0..10).chain(100..110).collect();
    assert_eq!(sorted, expected);
}

#[test]
fn yield_now_lets_the_loop_take_io_events_between_steps() {
    sock::run(async {
        let socket = bound();
        let port = socket.local_addr().unwrap().port();
        let got = Rc::new(Cell::new(false));
        let receiver = sock::spawn({
            let got = got.clone();
            async move {
                let mut buf = [0u8; 8];
                let n = socket.recv(&mut buf).timeout(PATIENCE).await?;
                got.set(true);
                Ok::<usize, sock::Error>(n)
            }
        });
        sock::yield_now().await; // the receiver runs and parks: nothing was sent yet
        assert!(!got.get());
        let sender = sock::udp(Family::INET).unwrap();
        sender.send_to(b"wake", &("127.0.0.1", port)).await.unwrap();
        // A thread that only steps aside: the loop still polls for I/O between steps.
        let mut steps = 0;
        while !got.get() {
            sock::yield_now().await;
            steps += 1;
            assert!(steps < 100, "the receiver was never woken by its datagram");
        }
        assert_eq!(receiver.join().await.unwrap().unwrap(), 4);
    });
}
