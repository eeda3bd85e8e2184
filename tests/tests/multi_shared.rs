//! Shared-poller mode: several OS threads on one kernel poller running `Send` tasks,
//! the seed's hand-over of the raw epoll fd / IOCP handle, and clean shutdown.
//!
//! The socket stress is scaled like `multi_loops`: debug builds run 1,000 connection
//! tasks × 10 round trips and 20k timers; release builds the acceptance numbers,
//! 4,000 × 50 and 100k timers (`cargo test --release -p sock-tests --test multi_shared`,
//! `SOCK_STRESS_REPS=10` to repeat, as the `stress` step of `cargo xtask ci` does). On Windows (under Wine in CI) the sockets are
//! overlapped ones on the completion port and the stress stays at the debug size,
//! 1,000 × 10 (about 4 s a repetition under Wine, where every socket call is a round
//! trip to `wineserver`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use sock::sched::mt;
use sock::shared::SharedLoop;

/// Serializes the tests: one checks that a *closed* poller handle is refused, which
/// only holds while no other test opens a handle that could reuse its number.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The raw poller of this thread's shared loop as a plain number, as the seed passes it.
#[cfg(unix)]
mod raw {
    pub(crate) fn get() -> usize {
        sock::os::unix::epoll_fd() as usize
    }
    pub(crate) fn set(n: usize) -> std::io::Result<()> {
        sock::os::unix::set_epoll_fd(n as i32)
    }
}

#[cfg(windows)]
mod raw {
    pub(crate) fn get() -> usize {
        sock::os::windows::iocp() as usize
    }
    pub(crate) fn set(n: usize) -> std::io::Result<()> {
        sock::os::windows::set_iocp(n as _)
    }
}

/// Starts `n` worker threads that join the poller numbered `raw` the seed's way and
/// work until stopped; waits until they all work.
fn workers(lp: &SharedLoop, raw: usize, n: usize) -> Vec<thread::JoinHandle<()>> {
    let threads = (0..n)
        .map(|_| {
            thread::spawn(move || {
                raw::set(raw).expect("adopt the shared poller");
                SharedLoop::current().start();
            })
        })
        .collect();
    while lp.workers() < n {
        thread::yield_now();
    }
    threads
}

fn stop(lp: &SharedLoop, threads: Vec<thread::JoinHandle<()>>) {
    lp.stop();
    for t in threads {
        t.join().expect("a worker panicked");
    }
    assert_eq!(lp.workers(), 0, "every worker left");
}

/// Asserts that no two threads poll the wrapped future at once.
struct Exclusive<F> {
    inner: Pin<Box<F>>,
    polling: Arc<AtomicBool>,
    polls_elsewhere: Arc<AtomicUsize>,
    last: Option<thread::ThreadId>,
}

fn exclusive<F: Future>(f: F, moved: Arc<AtomicUsize>) -> Exclusive<F> {
    Exclusive {
        inner: Box::pin(f),
        polling: Arc::new(AtomicBool::new(false)),
        polls_elsewhere: moved,
        last: None,
    }
}

impl<F: Future> Future for Exclusive<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        assert!(
            !self.polling.swap(true, Ordering::AcqRel),
            "a task was polled by two threads at once"
        );
        let me = thread::current().id();
        if self.last.is_some_and(|t| t != me) {
            self.polls_elsewhere.fetch_add(1, Ordering::Relaxed);
        }
        self.last = Some(me);
        let r = self.inner.as_mut().poll(cx);
        self.polling.store(false, Ordering::Release);
        r
    }
}

#[test]
fn another_thread_adopts_the_raw_poller_and_works_for_it() {
    let _serial = serial();
    let lp = SharedLoop::new().unwrap();
    lp.make_current();
    let raw = raw::get();
    let threads = workers(&lp, raw, 2);
    let ran_on = lp.spawn(async { thread::current().id() }).join();
    assert_ne!(ran_on, thread::current().id(), "ran on a worker, not here");
    stop(&lp, threads);
}

#[test]
fn adopting_a_closed_or_foreign_handle_is_a_clear_error() {
    let _serial = serial();
    let raw = {
        let lp = SharedLoop::new().unwrap();
        lp.make_current();
        let raw = raw::get();
        SharedLoop::new().unwrap().make_current(); // drop the last clone of `lp`
        raw
    };
    let err = raw::set(raw).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("not open"), "{err}");
}

#[test]
fn tasks_and_timers_on_four_threads_lose_nothing_and_shut_down_cleanly() {
    let _serial = serial();
    let timers = if cfg!(debug_assertions) {
        20_000
    } else {
        100_000
    };
    let lp = SharedLoop::new().unwrap();
    lp.make_current();
    let threads = workers(&lp, raw::get(), 4);
    let fired = Arc::new(AtomicUsize::new(0));
    let moved = Arc::new(AtomicUsize::new(0));
    let per_task = 100;
    let tasks: Vec<_> = (0..timers / per_task)
        .map(|i| {
            let fired = fired.clone();
            lp.spawn(exclusive(
                async move {
                    for k in 0..per_task {
                        let d = Duration::from_micros(((i * 7 + k * 13) % 1500) as u64);
                        let sleep = mt::sleep(d);
                        let deadline = sleep.deadline();
                        sleep.await;
                        assert!(std::time::Instant::now() >= deadline, "a timer fired early");
                        fired.fetch_add(1, Ordering::Relaxed);
                    }
                },
                moved.clone(),
            ))
        })
        .collect();
    tasks.into_iter().for_each(mt::JoinHandle::join);
    assert_eq!(fired.load(Ordering::Relaxed), timers, "a timer was lost");
    assert_eq!(lp.alive(), 0);
    stop(&lp, threads);
}

#[test]
fn stop_reaches_every_worker_whatever_the_batches() {
    let _serial = serial();
    for _ in 0..20 {
        let lp = SharedLoop::new().unwrap();
        lp.make_current();
        let threads = workers(&lp, raw::get(), 4);
        stop(&lp, threads);
    }
}

#[cfg(any(target_os = "linux", windows))]
mod sockets {
    use super::*;
    use sock::{Expires, Family, shared::SharedTcp};
    use std::sync::mpsc;

    /// Runs `f` on a new shared loop that two threads adopted by its raw number; stops
    /// them after.
    fn on_two_adopting_workers<T: Send + 'static>(
        f: impl std::future::Future<Output = T> + Send + 'static,
    ) -> T {
        let _serial = serial();
        let lp = SharedLoop::new().unwrap();
        lp.make_current();
        let threads = workers(&lp, raw::get(), 2);
        let out = lp.spawn(f).join();
        stop(&lp, threads);
        out
    }

    fn reps() -> usize {
        std::env::var("SOCK_STRESS_REPS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1)
    }

    /// (connection tasks, round trips each).
    fn scale() -> (usize, usize) {
        if cfg!(debug_assertions) || cfg!(windows) {
            (1_000, 10)
        } else {
            (4_000, 50)
        }
    }

    async fn echo(conn: SharedTcp) -> sock::Result<usize> {
        let mut buf = [0u8; 64];
        let mut trips = 0;
        loop {
            match conn.recvn(&mut buf).await {
                Ok(()) => {}
                Err(e) if e.kind() == sock::ErrorKind::Eof && e.transferred() == 0 => {
                    return Ok(trips);
                }
                Err(e) => return Err(e),
            }
            conn.send(&buf).await?;
            trips += 1;
        }
    }

    async fn client(addr: sock::SockAddr, id: usize, rounds: usize) -> sock::Result<usize> {
        let c = SharedTcp::new(Family::INET)?;
        c.connect_to(&addr).timeout(sock_tests::PATIENCE).await?;
        let (mut out, mut back) = ([0u8; 64], [0u8; 64]);
        for round in 0..rounds {
            out.fill((id + round) as u8);
            out[..8].copy_from_slice(&(id as u64).to_le_bytes());
            c.send(&out).timeout(sock_tests::PATIENCE).await?;
            c.recvn(&mut back).timeout(sock_tests::PATIENCE).await?;
            assert_eq!(out, back, "echo of client {id} round {round} corrupted");
        }
        c.close();
        Ok(rounds)
    }

    #[test]
    fn four_threads_run_send_connection_tasks_on_one_kernel_poller() {
        let _serial = serial();
        let (conns, rounds) = scale();
        for _ in 0..reps() {
            let lp = SharedLoop::new().unwrap();
            lp.make_current();
            let threads = workers(&lp, raw::get(), 4);
            let moved = Arc::new(AtomicUsize::new(0));
            let server = lp.tcp(Family::INET).unwrap();
            server.listen("127.0.0.1", 0).unwrap();
            let addr = server.local_addr().unwrap();
            let (tx, rx) = mpsc::channel();
            let m = moved.clone();
            lp.spawn(async move {
                loop {
                    let conn = server.accept().await.expect("accept");
                    let tx = tx.clone();
                    let m = m.clone();
                    mt::spawn(exclusive(async move { tx.send(echo(conn).await) }, m)).detach();
                }
            })
            .detach();
            let clients: Vec<_> = (0..conns)
                .map(|i| lp.spawn(exclusive(client(addr.clone(), i, rounds), moved.clone())))
                .collect();
            let done: usize = clients.into_iter().map(|c| c.join().expect("client")).sum();
            assert_eq!(done, conns * rounds, "a round trip was lost");
            let served: usize = (0..conns).map(|_| rx.recv().unwrap().expect("echo")).sum();
            assert_eq!(served, conns * rounds);
            println!(
                "{} polls of a task on another thread than its previous poll",
                moved.load(Ordering::Relaxed)
            );
            stop(&lp, threads);
        }
    }

    #[test]
    fn a_deadline_fires_on_the_worker_running_the_task() {
        let _serial = serial();
        let lp = SharedLoop::new().unwrap();
        let kind = lp.run(async {
            let s = SharedTcp::new(Family::INET)?;
            s.listen("127.0.0.1", 0)?;
            let e = s
                .accept()
                .timeout(Duration::from_millis(5))
                .await
                .unwrap_err();
            Ok::<_, sock::Error>(e.kind())
        });
        assert_eq!(kind.unwrap(), sock::ErrorKind::Timeout);
    }

    #[test]
    fn connect_by_name_resolves_off_the_loop() {
        let r = on_two_adopting_workers(async {
            let server = SharedTcp::new(Family::INET)?;
            server.listen("127.0.0.1", 0)?;
            let port = server.local_addr()?.port();
            let accepted = mt::spawn(async move { server.accept().await.map(|_| ()) });
            let c = SharedTcp::new(Family::INET)?;
            c.connect("localhost", port)
                .timeout(sock_tests::PATIENCE)
                .await?;
            accepted.await?;
            Ok::<_, sock::Error>((c.remote_addr()?.port(), port))
        })
        .unwrap();
        let (connected, listening) = r;
        assert_eq!(connected, listening);
    }

    #[test]
    fn close_wakes_a_waiting_receiver_with_closed() {
        let r = on_two_adopting_workers(async {
            let server = SharedTcp::new(Family::INET)?;
            server.listen("127.0.0.1", 0)?;
            let c = SharedTcp::new(Family::INET)?;
            c.connect_to(&server.local_addr()?).await?;
            let c2 = c.clone();
            let waiter = mt::spawn(async move {
                let mut buf = [0u8; 8];
                c2.recv(&mut buf).await.map(|_| ())
            });
            mt::sleep(Duration::from_millis(5)).await;
            c.close();
            Ok::<_, sock::Error>(waiter.await)
        })
        .unwrap();
        assert_eq!(r.unwrap_err().kind(), sock::ErrorKind::Closed);
    }
}
