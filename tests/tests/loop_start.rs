//! `start()` returns once nothing can run again — no ready thread, no armed timer, no
//! parked socket operation, no wake-up pending from another OS thread — and cancels the
//! suspended threads nobody can resume (their `on_finish` told `Cancelled`), while a
//! parked socket operation, a timer or a job on another OS thread keeps it running.
//!
//! Each test runs on a fresh OS thread, so it gets a fresh current loop.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use sock::Family;
use sock::sched::Outcome;

/// Runs `f` on a fresh OS thread (a fresh current loop) and waits for it.
fn on_fresh_thread(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(f).join().expect("the test thread");
}

/// Records a thread's outcome.
fn outcome_cell(thread: &sock::Thread<()>) -> Rc<Cell<Option<Outcome>>> {
    let cell = Rc::new(Cell::new(None));
    let seen = cell.clone();
    thread.on_finish(move |outcome| seen.set(Some(outcome)));
    cell
}

#[test]
fn start_returns_when_only_suspended_threads_are_left() {
    on_fresh_thread(|| {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let t = sock::thread(async move {
            r.set(true);
            sock::task::suspend().await;
        });
        sock::start(); // returned: the repro of issue 13 hung here
        assert!(ran.get(), "the thread ran up to its suspend");
        assert!(!t.is_finished(), "a thread whose handle is held is kept");
    });
}

#[test]
fn a_kept_suspended_thread_can_be_resumed_after_start_returns() {
    on_fresh_thread(|| {
        let steps = Rc::new(Cell::new(0));
        let s = steps.clone();
        let t = sock::thread(async move {
            s.set(1);
            sock::task::suspend().await;
            s.set(2);
        });
        sock::start();
        assert_eq!(steps.get(), 1);
        t.resume(());
        sock::start();
        assert_eq!(steps.get(), 2);
        assert!(t.is_finished());
    });
}

#[test]
fn an_unreachable_suspended_thread_is_cancelled_and_told() {
    on_fresh_thread(|| {
        let t = sock::thread(async {
            sock::task::suspend().await;
        });
        let outcome = outcome_cell(&t);
        drop(t);
        sock::start();
        assert_eq!(outcome.get(), Some(Outcome::Cancelled));
    });
}

#[test]
fn a_thread_pending_forever_without_a_waker_is_cancelled() {
    on_fresh_thread(|| {
        let t = sock::thread(std::future::pending::<()>());
        let outcome = outcome_cell(&t);
        drop(t);
        sock::start();
        assert_eq!(outcome.get(), Some(Outcome::Cancelled));
    });
}

#[test]
fn cancelling_an_unreachable_thread_wakes_the_thread_waiting_on_it() {
    on_fresh_thread(|| {
        // `holder` is suspended and keeps `tx`; `waiter` awaits `rx`. Cancelling `holder`
        // drops `tx`, which wakes `waiter` with "closed": the loop goes on and it ends.
        let (tx, rx) = futures_oneshot();
        let holder = sock::thread(async move {
            let _tx = tx;
            sock::task::suspend().await;
        });
        drop(holder);
        let woke = Rc::new(Cell::new(false));
        let w = woke.clone();
        let waiter = sock::thread(async move {
            rx.await;
            w.set(true);
        });
        sock::start();
        assert!(
            woke.get(),
            "the waiter was woken by the cancelled holder's drop"
        );
        assert!(waiter.is_finished());
    });
}

#[test]
fn a_parked_socket_operation_keeps_start_running() {
    on_fresh_thread(|| {
        let rx = sock::udp(Family::INET).unwrap();
        rx.bind("127.0.0.1", 0).unwrap();
        let addr = rx.local_addr().unwrap();
        let got = Rc::new(Cell::new(0usize));
        let g = got.clone();
        sock::thread(async move {
            let mut buf = [0u8; 16];
            g.set(rx.recv(&mut buf).await.unwrap());
        });
        // The only other source of work is a timer that sends the datagram; after it
        // fired, nothing but the parked `recv` is left, and `start` must wait for it.
        sock::time::run_after(Duration::from_millis(20), move || {
            let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            tx.send_to(b"hello", addr.as_socket().unwrap()).unwrap();
        });
        sock::start();
        assert_eq!(got.get(), 5);
    });
}

#[test]
fn a_job_on_another_os_thread_keeps_start_running() {
    on_fresh_thread(|| {
        let got = Rc::new(Cell::new(0));
        let g = got.clone();
        sock::thread(async move {
            let (tx, rx) = std::sync::mpsc::channel::<u32>();
            let waiter = ChannelWait::new(rx);
            let waker_slot = waiter.slot.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(7).unwrap();
                if let Some(w) = waker_slot.lock().unwrap().take() {
                    w.wake();
                }
            });
            g.set(waiter.await);
        });
        sock::start();
        assert_eq!(got.get(), 7);
    });
}

/// A one-shot channel on the loop (no tokio): the receiver ends with `()` when the value
/// comes or the sender is dropped.
fn futures_oneshot() -> (OneshotTx, OneshotRx) {
    let state = Rc::new(OneshotState::default());
    (OneshotTx(state.clone()), OneshotRx(state))
}

/// The shared state of [`futures_oneshot`].
#[derive(Default)]
struct OneshotState {
    closed: Cell<bool>,
    waker: Cell<Option<std::task::Waker>>,
}

/// The sending side: closes on drop.
struct OneshotTx(Rc<OneshotState>);

impl Drop for OneshotTx {
    fn drop(&mut self) {
        self.0.closed.set(true);
        if let Some(w) = self.0.waker.take() {
            w.wake();
        }
    }
}

/// The receiving side.
struct OneshotRx(Rc<OneshotState>);

impl std::future::Future for OneshotRx {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0.closed.get() {
            return std::task::Poll::Ready(());
        }
        self.0.waker.set(Some(cx.waker().clone()));
        std::task::Poll::Pending
    }
}

/// Waits for a value from a std channel fed by another OS thread, which wakes the
/// stored waker after sending.
struct ChannelWait {
    rx: std::sync::mpsc::Receiver<u32>,
    slot: std::sync::Arc<std::sync::Mutex<Option<std::task::Waker>>>,
}

impl ChannelWait {
    fn new(rx: std::sync::mpsc::Receiver<u32>) -> Self {
        Self {
            rx,
            slot: Default::default(),
        }
    }
}

impl std::future::Future for ChannelWait {
    type Output = u32;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        match self.rx.try_recv() {
            Ok(v) => std::task::Poll::Ready(v),
            Err(_) => std::task::Poll::Pending,
        }
    }
}
