//! Criterion benchmarks (sched): sock-sched beside tokio's current-thread runtime and
//! async-executor's `LocalExecutor` (+ async-io timers), same workloads, same run.
//!
//! Timed with criterion: spawn+complete trivial tasks, a ping-pong between two tasks,
//! the resume/suspend round trip, timer create+cancel. Measured once per runtime in a
//! child process (so each has its own peak RSS): memory per pending task, and 1M random
//! sleeps of 0–1 s (CPU ns per timer from `/proc/<pid>/task/*/schedstat`, peak RSS from
//! `VmHWM`). The child reports are skipped in `--test` (smoke) mode and off Linux.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::Criterion;

/// How many timers/tasks the child reports use.
const MILLION: u64 = 1_000_000;

/// The runtimes compared.
const RUNTIMES: [&str; 3] = ["sock", "tokio", "async-executor"];

fn main() {
    if let Ok(scenario) = std::env::var("SOCK_SCHED_BENCH_CHILD") {
        child::run(&scenario);
        return;
    }
    let smoke = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    spawn(&mut c);
    ping_pong(&mut c);
    resume(&mut c);
    timer_create_cancel(&mut c);
    c.final_summary();
    if !smoke && cfg!(target_os = "linux") {
        child::report();
    }
}

/// A tokio current-thread runtime with timers.
fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime")
}

/// Spawn + complete trivial tasks (the time per iteration is the time per task).
fn spawn(c: &mut Criterion) {
    let mut g = c.benchmark_group("sched/spawn");
    g.bench_function("sock", |b| {
        let ex = sock_sched::Executor::new();
        b.iter_custom(|n| {
            let start = Instant::now();
            for _ in 0..n {
                drop(ex.spawn(async {}));
            }
            ex.start();
            start.elapsed()
        });
    });
    g.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|n| {
            let start = Instant::now();
            let local = tokio::task::LocalSet::new();
            for _ in 0..n {
                drop(local.spawn_local(async {}));
            }
            rt.block_on(local);
            start.elapsed()
        });
    });
    g.bench_function("async-executor", |b| {
        let ex = async_executor::LocalExecutor::new();
        b.iter_custom(|n| {
            let start = Instant::now();
            for _ in 0..n {
                ex.spawn(async {}).detach();
            }
            while ex.try_tick() {}
            start.elapsed()
        });
    });
    g.finish();
}

/// Whose turn it is, and who waits for it: a runtime-agnostic hand-off between two tasks.
#[derive(Default)]
struct Baton {
    /// The side allowed to run (0 or 1).
    turn: Cell<usize>,
    /// The waiting sides' wakers.
    wakers: RefCell<[Option<Waker>; 2]>,
}

impl Baton {
    /// Gives the turn to `side`.
    fn pass(&self, side: usize) {
        self.turn.set(side);
        if let Some(w) = self.wakers.borrow_mut()[side].take() {
            w.wake();
        }
    }

    /// Waits for `side`'s turn.
    fn wait(&self, side: usize) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx: &mut Context<'_>| {
            if self.turn.get() == side {
                return Poll::Ready(());
            }
            self.wakers.borrow_mut()[side] = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

/// One side of a ping-pong of `n` round trips.
async fn player(baton: Rc<Baton>, side: usize, n: u64) {
    for _ in 0..n {
        baton.wait(side).await;
        baton.pass(1 - side);
    }
}

/// A ping-pong between two tasks (time per iteration = one round trip, two hand-offs).
fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("sched/ping_pong");
    g.bench_function("sock", |b| {
        let ex = sock_sched::Executor::new();
        b.iter_custom(|n| {
            let baton = Rc::new(Baton::default());
            let start = Instant::now();
            drop(ex.spawn(player(baton.clone(), 0, n)));
            drop(ex.spawn(player(baton, 1, n)));
            ex.start();
            start.elapsed()
        });
    });
    g.bench_function("tokio", |b| {
        let rt = tokio_rt();
        b.iter_custom(|n| {
            let baton = Rc::new(Baton::default());
            let start = Instant::now();
            let local = tokio::task::LocalSet::new();
            drop(local.spawn_local(player(baton.clone(), 0, n)));
            drop(local.spawn_local(player(baton, 1, n)));
            rt.block_on(local);
            start.elapsed()
        });
    });
    g.bench_function("async-executor", |b| {
        let ex = async_executor::LocalExecutor::new();
        b.iter_custom(|n| {
            let baton = Rc::new(Baton::default());
            let start = Instant::now();
            let a = ex.spawn(player(baton.clone(), 0, n));
            let z = ex.spawn(player(baton, 1, n));
            futures_lite::future::block_on(ex.run(async { (a.await, z.await) }));
            start.elapsed()
        });
    });
    g.finish();
}

/// A value handed to a coroutine and one handed back (time per iteration = one round trip).
fn resume(c: &mut Criterion) {
    let mut g = c.benchmark_group("sched/resume_round_trip");
    g.bench_function("sock resume+yield_", |b| {
        let ex = sock_sched::Executor::new();
        let t = ex.newthread(async {
            let mut x = sock_sched::suspend().await.take::<u64>();
            loop {
                x = sock_sched::yield_(x + 1).await.take::<u64>();
            }
        });
        t.resume(());
        let mut i = 0u64;
        b.iter(|| {
            i = t.resume(i).take::<u64>();
            black_box(i)
        });
    });
    g.bench_function("sock transfer", |b| {
        let ex = sock_sched::Executor::new();
        b.iter_custom(|n| {
            ex.run(async move {
                let me = sock_sched::current();
                let echo = sock_sched::newthread(async move {
                    let mut x = sock_sched::suspend().await.take::<u64>();
                    loop {
                        x = sock_sched::transfer(&me, x + 1).await.take::<u64>();
                    }
                });
                echo.resume(());
                let start = Instant::now();
                let mut x = 0u64;
                for _ in 0..n {
                    x = sock_sched::transfer(&echo, x).await.take::<u64>();
                }
                black_box(x);
                start.elapsed()
            })
        });
    });
    g.bench_function("tokio mpsc+oneshot", |b| {
        let rt = tokio_rt();
        b.iter_custom(|n| {
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async move {
                let (req, mut reqs) = tokio::sync::mpsc::unbounded_channel::<(
                    u64,
                    tokio::sync::oneshot::Sender<u64>,
                )>();
                let worker = tokio::task::spawn_local(async move {
                    while let Some((x, reply)) = reqs.recv().await {
                        let _ = reply.send(x + 1);
                    }
                });
                let start = Instant::now();
                let mut x = 0u64;
                for _ in 0..n {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    req.send((x, tx)).expect("worker alive");
                    x = rx.await.expect("worker replies");
                }
                black_box(x);
                let elapsed = start.elapsed();
                drop(req);
                worker.await.expect("worker ends");
                elapsed
            })
        });
    });
    g.bench_function("async-executor baton", |b| {
        let ex = async_executor::LocalExecutor::new();
        b.iter_custom(|n| {
            let baton = Rc::new(Baton::default());
            let start = Instant::now();
            let a = ex.spawn(player(baton.clone(), 0, n));
            let z = ex.spawn(player(baton, 1, n));
            futures_lite::future::block_on(ex.run(async { (a.await, z.await) }));
            start.elapsed()
        });
    });
    g.finish();
}

/// Polls `f` once with a no-op waker.
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// Create a timer, arm it, cancel it.
fn timer_create_cancel(c: &mut Criterion) {
    let mut g = c.benchmark_group("sched/timer_create_cancel");
    let d = Duration::from_secs(10);
    g.bench_function("sock run_after+cancel", |b| {
        let ex = sock_sched::Executor::new();
        b.iter(|| black_box(ex.run_after(d, || {})).cancel());
    });
    g.bench_function("sock Sleep poll+drop", |b| {
        let ex = sock_sched::Executor::new();
        b.iter_custom(|n| {
            ex.run(async move {
                let start = Instant::now();
                for _ in 0..n {
                    let _ = black_box(poll_once(sock_sched::sleep(d)));
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("tokio sleep poll+drop", |b| {
        let rt = tokio_rt();
        let _guard = rt.enter();
        b.iter(|| black_box(poll_once(tokio::time::sleep(d))));
    });
    g.bench_function("async-io Timer poll+drop", |b| {
        b.iter(|| black_box(poll_once(async_io::Timer::after(d))));
    });
    g.finish();
}

/// Scenarios measured once per runtime, each in its own process.
mod child {
    use super::*;

    /// Runs every child scenario and prints a summary.
    pub(super) fn report() {
        println!("\nsched/report: one child process per runtime and scenario");
        for rt in RUNTIMES {
            let out = spawn_child(&format!("tasks:{rt}"));
            println!("sched/pending_task_memory/{rt}: {out}");
        }
        for rt in RUNTIMES {
            let out = spawn_child(&format!("sleeps:{rt}"));
            println!("sched/million_random_sleeps/{rt}: {out}");
        }
    }

    /// Runs this binary on `scenario` and returns what it printed.
    fn spawn_child(scenario: &str) -> String {
        let exe = std::env::current_exe().expect("bench binary path");
        let out = std::process::Command::new(exe)
            .env("SOCK_SCHED_BENCH_CHILD", scenario)
            .output()
            .expect("child bench process");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() {
            text
        } else {
            format!("failed: {}", String::from_utf8_lossy(&out.stderr))
        }
    }

    /// Runs one scenario and prints its result line.
    pub(super) fn run(scenario: &str) {
        match scenario.split_once(':') {
            Some(("tasks", rt)) => pending_tasks(rt),
            Some(("sleeps", rt)) => sleeps(rt),
            _ => panic!("unknown scenario {scenario}"),
        }
    }

    /// Bytes of RSS per pending task (the futures are zero-sized).
    fn pending_tasks(rt: &str) {
        let before = status_kib("VmRSS:");
        let keep: Box<dyn std::any::Any> = match rt {
            "sock" => {
                let ex = sock_sched::Executor::new();
                for _ in 0..MILLION {
                    drop(ex.spawn(std::future::pending::<()>()));
                }
                ex.poll(Some(Duration::ZERO));
                Box::new(ex)
            }
            "tokio" => {
                let rt = tokio_rt();
                let local = tokio::task::LocalSet::new();
                for _ in 0..MILLION {
                    drop(local.spawn_local(std::future::pending::<()>()));
                }
                rt.block_on(local.run_until(tokio::task::yield_now()));
                Box::new((rt, local))
            }
            _ => {
                let ex = Box::leak(Box::new(async_executor::LocalExecutor::new()));
                for _ in 0..MILLION {
                    ex.spawn(std::future::pending::<()>()).detach();
                }
                for _ in 0..MILLION {
                    ex.try_tick();
                }
                Box::new(())
            }
        };
        let after = status_kib("VmRSS:");
        println!("{} B/task", (after - before) * 1024 / MILLION);
        drop(keep);
    }

    /// 1M sleeps of random length in 0–1 s: CPU ns per timer and peak RSS.
    fn sleeps(rt: &str) {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            Duration::from_nanos(rng % 1_000_000_000)
        };
        let cpu_start = cpu_ns();
        let wall = Instant::now();
        match rt {
            "sock" => {
                let ex = sock_sched::Executor::new();
                for _ in 0..MILLION {
                    let d = next();
                    drop(ex.spawn(async move { sock_sched::sleep(d).await }));
                }
                ex.start();
            }
            "tokio" => {
                let rt = tokio_rt();
                let local = tokio::task::LocalSet::new();
                for _ in 0..MILLION {
                    let d = next();
                    drop(local.spawn_local(async move { tokio::time::sleep(d).await }));
                }
                rt.block_on(local);
            }
            _ => {
                let ex = async_executor::LocalExecutor::new();
                let tasks: Vec<_> = (0..MILLION)
                    .map(|_| {
                        let d = next();
                        ex.spawn(async move { async_io::Timer::after(d).await })
                    })
                    .collect();
                async_io::block_on(ex.run(async {
                    for t in tasks {
                        t.await;
                    }
                }));
            }
        }
        let cpu = cpu_ns() - cpu_start;
        println!(
            "{} CPU ns/timer, peak RSS {} MiB, wall {:.2} s",
            cpu / MILLION,
            status_kib("VmHWM:") / 1024,
            wall.elapsed().as_secs_f64()
        );
    }

    /// A `/proc/self/status` field in KiB.
    fn status_kib(field: &str) -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// CPU time used by every thread of this process, in nanoseconds.
    fn cpu_ns() -> u64 {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return 0;
        };
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}
