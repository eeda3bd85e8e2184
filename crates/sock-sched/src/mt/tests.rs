//! Unit tests of the pool without OS code: a queue-and-condvar park that dequeues
//! sentinels in batches. Small enough to run under miri (`cargo +nightly miri test -p
//! sock-sched --lib mt::`), which checks the cross-thread hand-offs (injector, local
//! queues, timer entries, async-task's state machine) for data races and UB.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use super::{JoinHandle, Pool, Sentinel, SharedPark, sleep, sleep_until, spawn};

/// Scales a count down under miri.
fn scaled(n: usize) -> usize {
    if cfg!(miri) { (n / 100).max(4) } else { n }
}

/// Sentinels in a queue; a park takes up to `batch` at once, as a batch dequeue does.
struct QueuePark {
    queue: Mutex<VecDeque<Sentinel>>,
    ready: Condvar,
    batch: usize,
}

impl QueuePark {
    fn new(batch: usize) -> QueuePark {
        QueuePark {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            batch,
        }
    }
}

impl SharedPark for QueuePark {
    fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        let queue = self.queue.lock().unwrap();
        let wait = timeout.unwrap_or(Duration::from_secs(60));
        let (mut queue, _) = self
            .ready
            .wait_timeout_while(queue, wait, |q| q.is_empty())
            .unwrap();
        let n = queue.len().min(self.batch);
        let taken: Vec<Sentinel> = queue.drain(..n).collect();
        drop(queue);
        taken.into_iter().for_each(sentinel);
    }

    fn post(&self, s: Sentinel) {
        self.queue.lock().unwrap().push_back(s);
        self.ready.notify_one();
    }
}

/// Starts `n` worker threads for `pool` and waits until they work (a thread that starts
/// after a `stop` works for the next generation, so `stop_and_join` would wait for it).
fn workers(pool: &Pool, n: usize) -> Vec<thread::JoinHandle<()>> {
    let threads = (0..n)
        .map(|_| {
            let pool = pool.clone();
            thread::spawn(move || pool.start())
        })
        .collect();
    while pool.workers() < n {
        thread::yield_now();
    }
    threads
}

fn stop_and_join(pool: &Pool, threads: Vec<thread::JoinHandle<()>>) {
    pool.stop();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(pool.workers(), 0);
}

/// Wraps a future and asserts that no two threads poll it at once.
struct Exclusive<F> {
    inner: Pin<Box<F>>,
    polling: Arc<AtomicBool>,
}

impl<F: Future> Future for Exclusive<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let was = self.polling.swap(true, Ordering::AcqRel);
        assert!(!was, "a task was polled by two threads at once");
        let r = self.inner.as_mut().poll(cx);
        self.polling.store(false, Ordering::Release);
        r
    }
}

fn exclusive<F: Future>(f: F) -> Exclusive<F> {
    Exclusive {
        inner: Box::pin(f),
        polling: Arc::new(AtomicBool::new(false)),
    }
}

/// A one-slot mailbox whose waker may be called from any thread.
#[derive(Default)]
struct Mailbox {
    state: Mutex<(Option<usize>, Option<Waker>)>,
}

impl Mailbox {
    fn put(&self, v: usize) {
        let waker = {
            let mut s = self.state.lock().unwrap();
            s.0 = Some(v);
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn take(&self) -> impl Future<Output = usize> + '_ {
        std::future::poll_fn(move |cx| {
            let mut s = self.state.lock().unwrap();
            match s.0.take() {
                Some(v) => Poll::Ready(v),
                None => {
                    s.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

#[test]
fn tasks_spawned_from_outside_all_run() {
    let pool = Pool::new(QueuePark::new(4));
    let threads = workers(&pool, 3);
    let done = Arc::new(AtomicUsize::new(0));
    let handles: Vec<JoinHandle<usize>> = (0..scaled(2000))
        .map(|i| {
            let done = done.clone();
            pool.spawn(exclusive(async move {
                done.fetch_add(1, Ordering::AcqRel);
                i
            }))
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join(), i);
    }
    assert_eq!(done.load(Ordering::Acquire), scaled(2000));
    stop_and_join(&pool, threads);
    assert_eq!(pool.alive(), 0);
}

#[test]
fn concurrent_cross_thread_wakes_never_poll_a_task_twice_at_once() {
    let pool = Pool::new(QueuePark::new(4));
    let threads = workers(&pool, 3);
    let rounds = scaled(500);
    let pairs: Vec<_> = (0..4)
        .map(|_| {
            let (a, b) = (Arc::new(Mailbox::default()), Arc::new(Mailbox::default()));
            let (a2, b2) = (a.clone(), b.clone());
            let ping = pool.spawn(exclusive(async move {
                for i in 0..rounds {
                    a.put(i);
                    assert_eq!(b.take().await, i);
                }
            }));
            let pong = pool.spawn(exclusive(async move {
                for _ in 0..rounds {
                    let v = a2.take().await;
                    b2.put(v);
                }
            }));
            (ping, pong)
        })
        .collect();
    for (ping, pong) in pairs {
        ping.join();
        pong.join();
    }
    stop_and_join(&pool, threads);
}

#[test]
fn timers_fire_never_early_and_all_fire() {
    let pool = Pool::new(QueuePark::new(4));
    let threads = workers(&pool, 2);
    let fired = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..scaled(400))
        .map(|i| {
            let (p, fired) = (pool.clone(), fired.clone());
            pool.spawn(async move {
                let d = Duration::from_micros((i % 7 * 300) as u64);
                let deadline = p.now() + d;
                super::sleep_until(deadline).await;
                assert!(p.now() >= deadline, "timer fired early");
                fired.fetch_add(1, Ordering::AcqRel);
            })
        })
        .collect();
    handles.into_iter().for_each(JoinHandle::join);
    assert_eq!(fired.load(Ordering::Acquire), scaled(400));
    stop_and_join(&pool, threads);
}

#[test]
fn a_cancelled_sleep_does_not_wake_its_task() {
    let pool = Pool::new(QueuePark::new(4));
    let out = pool.run(async {
        let long = sleep(Duration::from_secs(3600));
        let mut long = Box::pin(long);
        // Arm it, then drop it: the entry is cancelled, the run still ends promptly.
        let armed = std::future::poll_fn(|cx| Poll::Ready(long.as_mut().poll(cx).is_pending()));
        assert!(armed.await);
        drop(long);
        sleep(Duration::from_millis(1)).await;
        7
    });
    assert_eq!(out, 7);
}

#[test]
fn stop_reaches_every_worker_when_one_batch_takes_several_stops() {
    // batch 8 > workers: one park may dequeue every stop sentinel at once.
    for _ in 0..scaled(100).min(20) {
        let pool = Pool::new(QueuePark::new(8));
        let threads = workers(&pool, 4);
        stop_and_join(&pool, threads);
    }
}

#[test]
fn run_returns_the_output_stops_the_pool_and_can_run_again() {
    let pool = Pool::new(QueuePark::new(2));
    let threads = workers(&pool, 2);
    let sum = pool.run(async {
        let parts: Vec<_> = (1..=10).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for p in parts {
            sum += p.await;
        }
        sum
    });
    assert_eq!(sum, 55);
    for t in threads {
        t.join().unwrap(); // run() stopped the other workers too
    }
    assert_eq!(pool.run(async { 1 }), 1);
}

#[test]
fn a_task_panic_reaches_its_joiner_and_the_workers_go_on() {
    let pool = Pool::new(QueuePark::new(2));
    let threads = workers(&pool, 2);
    let bad = pool.spawn(async { panic!("boom") });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bad.join()));
    assert!(r.is_err());
    assert_eq!(pool.spawn(async { 3 }).join(), 3);
    stop_and_join(&pool, threads);
}

#[test]
#[should_panic(expected = "outside a worker")]
fn sleep_outside_a_worker_panics() {
    drop(sleep(Duration::from_millis(1)));
}

#[test]
fn a_host_polling_with_zero_timeouts_runs_tasks_and_timers_when_next_deadline_says() {
    let pool = Pool::new(QueuePark::new(4));
    let done = Arc::new(AtomicUsize::new(0));
    for i in 0..scaled(300) {
        let (p, done) = (pool.clone(), done.clone());
        pool.spawn(async move {
            let deadline = p.now() + Duration::from_micros((i % 5 * 400) as u64);
            sleep_until(deadline).await;
            assert!(p.now() >= deadline, "timer fired early");
            let inner = spawn(async { 1 });
            done.fetch_add(inner.await, Ordering::AcqRel);
        })
        .detach();
    }
    let mut polls = 0;
    while done.load(Ordering::Acquire) < scaled(300) && polls < 100_000 {
        // The host's own wait: until sock's next deadline (none: a short frame).
        let wait = pool
            .next_deadline()
            .map(|t| t.saturating_duration_since(pool.now()));
        thread::sleep(wait.unwrap_or(Duration::from_millis(1)));
        pool.poll(Some(Duration::ZERO));
        polls += 1;
    }
    assert_eq!(done.load(Ordering::Acquire), scaled(300));
    assert_eq!(
        pool.workers(),
        0,
        "the host counts as a worker only inside poll"
    );
    assert_eq!(pool.next_deadline(), None, "nothing left to do");
}

#[test]
#[should_panic(expected = "Pool::poll from a task")]
fn poll_from_a_task_panics() {
    let pool = Pool::new(QueuePark::new(4));
    let p = pool.clone();
    pool.run(async move { p.poll(Some(Duration::ZERO)) });
}

/// Spawns on `pool` a task that holds a clone of the pool (a cycle while it lives) and
/// `token`, then awaits `wait`; `join` keeps its handle, else it is detached.
fn spawn_holding(
    pool: &Pool,
    token: &Arc<()>,
    wait: impl Future<Output = ()> + Send + 'static,
    join: bool,
) -> Option<JoinHandle<()>> {
    let held = (pool.clone(), token.clone());
    let task = pool.spawn(async move {
        let _held = held;
        wait.await;
    });
    if join {
        return Some(task);
    }
    task.detach();
    None
}

#[test]
fn close_cancels_queued_and_sleeping_tasks_and_whatever_is_woken_later() {
    let pool = Pool::new(QueuePark::new(4));
    let tokens = [Arc::new(()), Arc::new(()), Arc::new(())];
    let nap = || async { sleep(Duration::from_secs(3600)).await };
    spawn_holding(&pool, &tokens[0], nap(), false); // asleep, detached
    let joined = spawn_holding(&pool, &tokens[1], nap(), true); // asleep, joined
    pool.poll(Some(Duration::ZERO)); // both run and sleep: the timers are orphans now
    spawn_holding(&pool, &tokens[2], async {}, false); // queued, never run
    assert_eq!(pool.alive(), 3);
    pool.close();
    assert_eq!(pool.alive(), 1, "the joined task has a handle left");
    assert_eq!(
        Arc::strong_count(&tokens[0]),
        1,
        "the sleeping task was dropped"
    );
    assert_eq!(
        Arc::strong_count(&tokens[2]),
        1,
        "the queued task was dropped"
    );
    drop(joined); // detached: nothing can wake it, so it is dropped
    assert_eq!(pool.alive(), 0);
    assert_eq!(Arc::strong_count(&tokens[1]), 1);
    assert_eq!(pool.next_deadline(), None);
}

#[test]
#[should_panic(expected = "its pool was closed")]
fn joining_a_task_of_a_closed_pool_panics_saying_so() {
    let pool = Pool::new(QueuePark::new(4));
    let task = pool.spawn(async { 42 });
    pool.close();
    task.join();
}
