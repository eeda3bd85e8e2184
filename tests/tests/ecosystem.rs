//! Other crates' async primitives on sock loops — each claim of the guide for readers
//! coming from tokio (`sock::task`'s docs) held to real sockets on loopback.
//!
//! What works: tokio's `sync` (mpsc, oneshot, `Mutex`, `RwLock`, `Notify`, `Semaphore`,
//! watch, broadcast), async-channel and futures-channel between sock threads, each
//! woken by a thread that was parked on a socket until the test's bytes arrived; the
//! `Send` ones across the loops of `spawn_loops`; `tokio::select!` and tokio's I/O
//! utilities over sock streams. What does not: tokio's timers, sockets, `spawn` and
//! `spawn_blocking` without a tokio runtime — they panic — and how they work with one
//! entered.
//!
//! Every wait on a foreign primitive runs under [`within`], so a lost wake-up fails the
//! test instead of hanging it.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use futures_lite::StreamExt;
use sock::{Expires, Family, Tcp, Thread};
use sock_tests::{PATIENCE, listener, pair};

/// Round trips per relay: each parks both sides again.
const ROUNDS: u32 = 5;

/// tokio's panic for work that needs its runtime, when there is none on the thread.
const NO_RUNTIME: &str =
    "there is no reactor running, must be called from the context of a Tokio 1.x runtime";

/// Awaits `fut`, failing the test if it is not woken within [`PATIENCE`] (the scope
/// drops a future that waits on anything but sock, so a lost wake-up ends here).
async fn within<T>(fut: impl Future<Output = T>) -> T {
    sock::timeout(PATIENCE, async { Ok(fut.await) })
        .await
        .expect("not woken within PATIENCE: a wake-up was lost")
}

/// A sock thread that parks in `recvn` on `conn` until 4 bytes come, hands them to
/// `forward` as a `u32`, and parks again; it ends when the peer closes.
fn forward_each(conn: Tcp, mut forward: impl AsyncFnMut(u32) + 'static) -> Thread<()> {
    sock::thread(async move {
        let mut buf = [0u8; 4];
        while conn.recvn(&mut buf).timeout(PATIENCE).await.is_ok() {
            forward(u32::from_le_bytes(buf)).await;
        }
    })
}

/// `rounds` relays on this thread's loop: the test writes `i` to a socket; a sock thread
/// parked in `recvn` on the other end wakes and passes `i` to `forward`; the test,
/// parked in `receive` meanwhile, must wake with `i`.
async fn relay_on_loop(
    rounds: u32,
    forward: impl AsyncFnMut(u32) + 'static,
    mut receive: impl AsyncFnMut() -> u32,
) {
    let (client, server) = pair(Family::INET).await.unwrap();
    let parked_before = sock::metrics().ops_parked;
    let reader = forward_each(server, forward);
    for i in 0..rounds {
        client.send(&i.to_le_bytes()).await.unwrap();
        assert_eq!(within(receive()).await, i);
    }
    let parked = sock::metrics().ops_parked - parked_before;
    assert!(
        parked >= u64::from(rounds),
        "the reader parked {parked} times"
    );
    drop(client); // the reader sees EOF and ends
    within(reader.join()).await.unwrap();
}

/// [`relay_on_loop`] on this OS thread's loop.
fn relay(rounds: u32, forward: impl AsyncFnMut(u32) + 'static, receive: impl AsyncFnMut() -> u32) {
    sock::run(relay_on_loop(rounds, forward, receive));
}

/// The message of a panic payload (`panic!` with a literal or a formatted string).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    match payload.downcast_ref::<&str>() {
        Some(s) => s,
        None => payload.downcast_ref::<String>().map_or("", String::as_str),
    }
}

/// Runs `fut` on this thread's loop and returns the message it panicked with.
fn panic_of(fut: impl Future<Output = ()>) -> String {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| sock::run(fut)));
    let payload = caught.expect_err("expected a panic");
    panic_message(&*payload).to_owned()
}

#[test]
fn tokio_mpsc_wakes_a_receiver_on_the_loop() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
    relay(
        ROUNDS,
        async move |v| tx.send(v).await.unwrap(),
        async || rx.recv().await.unwrap(),
    );
}

#[test]
fn tokio_oneshot_wakes_a_receiver_on_the_loop() {
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    let (mut tx, mut rx) = (Some(tx), Some(rx));
    relay(
        1,
        async move |v| tx.take().unwrap().send(v).unwrap(),
        async || rx.take().unwrap().await.unwrap(),
    );
}

#[test]
fn tokio_notify_wakes_a_waiter_on_the_loop() {
    let notify = Rc::new(tokio::sync::Notify::new());
    let value = Rc::new(Cell::new(u32::MAX));
    let (n, v) = (notify.clone(), value.clone());
    relay(
        ROUNDS,
        async move |i| {
            v.set(i);
            n.notify_one();
        },
        async || {
            notify.notified().await;
            value.get()
        },
    );
}

#[test]
fn tokio_semaphore_wakes_an_acquirer_on_the_loop() {
    let permits = Rc::new(tokio::sync::Semaphore::new(0));
    let value = Rc::new(Cell::new(u32::MAX));
    let (p, v) = (permits.clone(), value.clone());
    relay(
        ROUNDS,
        async move |i| {
            v.set(i);
            p.add_permits(1);
        },
        async || {
            permits.acquire().await.unwrap().forget();
            value.get()
        },
    );
}

#[test]
fn tokio_watch_wakes_a_watcher_on_the_loop() {
    let (tx, mut rx) = tokio::sync::watch::channel(u32::MAX);
    relay(
        ROUNDS,
        async move |v| tx.send(v).unwrap(),
        async || {
            rx.changed().await.unwrap();
            *rx.borrow_and_update()
        },
    );
}

#[test]
fn tokio_broadcast_wakes_every_receiver_on_the_loop() {
    let (tx, mut first) = tokio::sync::broadcast::channel::<u32>(4);
    let mut second = tx.subscribe();
    relay(
        ROUNDS,
        async move |v| assert_eq!(tx.send(v).unwrap(), 2),
        async || {
            let a = first.recv().await.unwrap();
            assert_eq!(second.recv().await.unwrap(), a);
            a
        },
    );
}

#[test]
fn tokio_mutex_held_across_a_socket_wait_wakes_the_next_locker() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let shared = Rc::new(tokio::sync::Mutex::new(0u32));
        let holder = sock::thread({
            let shared = shared.clone();
            async move {
                let mut guard = shared.lock().await;
                let mut buf = [0u8; 4];
                server.recvn(&mut buf).timeout(PATIENCE).await.unwrap(); // parks, locked
                *guard = u32::from_le_bytes(buf);
            }
        });
        assert!(
            shared.try_lock().is_err(),
            "the holder parked holding the lock"
        );
        client.send(&7u32.to_le_bytes()).await.unwrap();
        assert_eq!(*within(shared.lock()).await, 7);
        within(holder.join()).await.unwrap();
    });
}

#[test]
fn tokio_rwlock_held_across_a_socket_wait_wakes_the_readers() {
    sock::run(async {
        let (client, server) = pair(Family::INET).await.unwrap();
        let shared = Rc::new(tokio::sync::RwLock::new(0u32));
        let writer = sock::thread({
            let shared = shared.clone();
            async move {
                let mut guard = shared.write().await;
                let mut buf = [0u8; 4];
                server.recvn(&mut buf).timeout(PATIENCE).await.unwrap(); // parks, locked
                *guard = u32::from_le_bytes(buf);
            }
        });
        let reader = sock::thread({
            let shared = shared.clone();
            async move { *shared.read().await }
        });
        client.send(&9u32.to_le_bytes()).await.unwrap();
        assert_eq!(*within(shared.read()).await, 9);
        assert_eq!(within(reader.join()).await.unwrap(), 9);
        within(writer.join()).await.unwrap();
    });
}

#[test]
fn async_channel_wakes_a_receiver_on_the_loop() {
    let (tx, rx) = async_channel::bounded::<u32>(1);
    relay(
        ROUNDS,
        async move |v| tx.send(v).await.unwrap(),
        async || rx.recv().await.unwrap(),
    );
}

#[test]
fn futures_channel_mpsc_wakes_a_receiver_on_the_loop() {
    let (mut tx, mut rx) = futures_channel::mpsc::channel::<u32>(0);
    relay(
        ROUNDS,
        async move |v| {
            poll_fn(|cx| tx.poll_ready(cx)).await.unwrap(); // waits while the slot is full
            tx.start_send(v).unwrap();
        },
        async || rx.next().await.unwrap(),
    );
}

#[test]
fn futures_channel_oneshot_wakes_a_receiver_on_the_loop() {
    let (tx, rx) = futures_channel::oneshot::channel::<u32>();
    let (mut tx, mut rx) = (Some(tx), Some(rx));
    relay(
        1,
        async move |v| tx.take().unwrap().send(v).unwrap(),
        async || rx.take().unwrap().await.unwrap(),
    );
}

/// Loop A relays to loop B and back (B echoes each value): the reader on A, woken by its
/// socket, sends to B's OS thread; A's test thread waits for B's answer. Both wake-ups
/// cross OS threads.
fn across_loops<C>(
    make: impl FnOnce() -> C + Send + 'static,
    echo: impl Future<Output = ()> + Send + 'static,
) where
    C: Future<Output = ()> + 'static,
{
    let loops = sock::loops::spawn_loops(2).unwrap();
    let [a, b] = loops.handles() else {
        unreachable!("two loops")
    };
    let echoed = b.spawn(echo);
    a.spawn_with(make).join().unwrap();
    echoed.join().unwrap();
    loops.join().unwrap();
}

#[test]
fn tokio_mpsc_carries_values_between_loops() {
    let (to_b, mut at_b) = tokio::sync::mpsc::channel::<u32>(1);
    let (to_a, mut at_a) = tokio::sync::mpsc::channel::<u32>(1);
    across_loops(
        move || {
            relay_on_loop(
                ROUNDS,
                async move |v| to_b.send(v).await.unwrap(),
                async move || at_a.recv().await.unwrap(),
            )
        },
        async move {
            while let Some(v) = at_b.recv().await {
                to_a.send(v).await.unwrap();
            }
        },
    );
}

#[test]
fn async_channel_carries_values_between_loops() {
    let (to_b, at_b) = async_channel::bounded::<u32>(1);
    let (to_a, at_a) = async_channel::bounded::<u32>(1);
    across_loops(
        move || {
            relay_on_loop(
                ROUNDS,
                async move |v| to_b.send(v).await.unwrap(),
                async move || at_a.recv().await.unwrap(),
            )
        },
        async move {
            while let Ok(v) = at_b.recv().await {
                to_a.send(v).await.unwrap();
            }
        },
    );
}

#[test]
fn tokio_select_races_a_socket_against_a_channel() {
    sock::run(async {
        let (to_reader, reader_end) = pair(Family::INET).await.unwrap();
        let (client, server) = pair(Family::INET).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let reader = forward_each(reader_end, async move |v| tx.send(v).await.unwrap());
        let mut buf = [0u8; 8];
        to_reader.send(&5u32.to_le_bytes()).await.unwrap();
        let first = tokio::select! {
            r = server.recv(&mut buf) => Err(r.map_err(|e| e.kind())),
            v = rx.recv() => Ok(v),
        };
        assert_eq!(first, Ok(Some(5))); // nothing came on `server`: the channel won
        client.send(b"ping").await.unwrap();
        let second = tokio::select! {
            r = server.recv(&mut buf).timeout(PATIENCE) => Ok(r.unwrap()),
            v = rx.recv() => Err(v),
        };
        assert_eq!(second, Ok(4)); // the reader is parked: only the socket was ready
        assert_eq!(&buf[..4], b"ping");
        drop(to_reader);
        within(reader.join()).await.unwrap();
    });
}

#[test]
fn tokio_io_utilities_read_lines_from_a_sock_stream() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    sock::run(async {
        let (mut client, server) = pair(Family::INET).await.unwrap();
        let writer = sock::thread(async move {
            client.write_all(b"one\ntwo\n").await.unwrap();
            AsyncWriteExt::shutdown(&mut client).await.unwrap();
        });
        let mut lines = BufReader::new(server).lines();
        let mut got = Vec::new();
        while let Some(line) = within(lines.next_line()).await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two"]);
        within(writer.join()).await.unwrap();
    });
}

#[test]
fn tokio_sleep_panics_without_a_tokio_runtime() {
    let msg = panic_of(async { tokio::time::sleep(Duration::from_millis(1)).await });
    assert_eq!(msg, NO_RUNTIME);
}

#[test]
fn tokio_timeout_panics_without_a_tokio_runtime() {
    let msg = panic_of(async {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {}).await;
    });
    assert_eq!(msg, NO_RUNTIME);
}

#[test]
fn tokio_net_panics_without_a_tokio_runtime() {
    let (_server, port) = listener(Family::INET);
    let msg = panic_of(async move {
        let _ = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    });
    assert_eq!(msg, NO_RUNTIME);
}

#[test]
fn tokio_spawn_panics_without_a_tokio_runtime() {
    let msg = panic_of(async {
        drop(tokio::spawn(async {}));
    });
    assert_eq!(msg, NO_RUNTIME);
}

#[test]
fn tokio_spawn_blocking_panics_without_a_tokio_runtime() {
    let msg = panic_of(async {
        drop(tokio::task::spawn_blocking(|| ()));
    });
    assert_eq!(msg, NO_RUNTIME);
}

#[test]
fn tokio_time_net_and_spawn_work_with_a_tokio_runtime_entered() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _entered = rt.enter(); // tokio's timers and sockets find its driver from here
    sock::run(async {
        let (server, port) = listener(Family::INET);
        tokio::time::sleep(Duration::from_millis(1)).await; // driven on tokio's worker
        let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
        let mut stream = within(connect).await.unwrap();
        let conn = server.accept().timeout(PATIENCE).await.unwrap();
        conn.send(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        within(tokio::io::AsyncReadExt::read_exact(&mut stream, &mut buf))
            .await
            .unwrap();
        assert_eq!(&buf, b"hello");
        let on_tokio = tokio::spawn(async { std::thread::current().id() }); // a `Send` task
        assert_ne!(within(on_tokio).await.unwrap(), std::thread::current().id());
    });
}
