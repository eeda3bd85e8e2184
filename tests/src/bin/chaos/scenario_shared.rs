//! A scenario in the shared-poller mode: a `SharedLoop` with two workers (this thread
//! in `run`, and one more), `SharedTcp`/`SharedUdp` endpoints and `Send` tasks that run
//! wherever their events land.
//!
//! The closers here are other OS threads: the shared sockets are `Send`, so `close()`
//! really comes from outside the loop. There are no loop-mode side ingredients (timers,
//! coroutines and generators belong to a loop), and only the probes that need no
//! loop-mode socket run.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use sock::sched::mt;
use sock::{
    Expires, SockAddr,
    io::OptValue,
    shared::{SharedLoop, SharedTcp, SharedUdp},
};

use crate::endpoint::{Endpoint, Outcome};
use crate::flow::Flow;
use crate::paths::Paths;
use crate::plan::{Kind, Plan, Probe};
use crate::probes;
use crate::reader::{Direct, reader};
use crate::report::{MAIN, PROBE, Task, op, violation};
use crate::scenario_loop::flows;
use crate::shared_ep::{SharedDgram, SharedStream};
use crate::writer::writer;

/// The roles of each endpoint's tasks, by endpoint.
const ROLES: [[Task; 3]; 2] = [
    [
        Task::new(1, "a.writer"),
        Task::new(2, "a.reader"),
        Task::new(3, "a.closer-thread"),
    ],
    [
        Task::new(4, "b.writer"),
        Task::new(5, "b.reader"),
        Task::new(6, "b.closer-thread"),
    ],
];

/// Generous: only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(3);

/// Starts the writers, readers and closer threads of `$eps` (two endpoints of one
/// concrete type: the tasks must be seen to be `Send`, which a generic function cannot
/// show for the boxed futures of every lifetime), joins the tasks, and gives the
/// closer threads.
macro_rules! run_ends {
    ($plan:expr, $eps:expr, $flows:expr) => {{
        let (plan, flows): (&Plan, &[Arc<Flow>; 2]) = ($plan, $flows);
        let mut tasks = Vec::new();
        let mut closers = Vec::new();
        for (i, ep) in $eps.into_iter().enumerate() {
            let end = &plan.ends[i];
            let [w, r, c] = ROLES[i];
            set_buffers(&ep, end.buffers);
            let (mine, theirs) = crate::scenario_loop::halves(&ep, end.halves);
            let writing = writer(theirs, end.writer_steps(), flows[i].clone(), w);
            tasks.push((w, mt::spawn(writing)));
            let (ops, inbound) = (end.reader_steps(), flows[1 - i].clone());
            let reading = async move {
                reader(mine, ops, inbound, r, Direct).await;
            };
            tasks.push((r, mt::spawn(reading)));
            if let Some(ms) = end.closer {
                closers.push(closer_thread(ep, ms, c));
            }
        }
        for (task, t) in tasks {
            op(MAIN, format_args!("join {}", task.label));
            t.await;
        }
        closers
    }};
}

/// The moved receive, boxed so it can change tasks.
type MovedFut = std::pin::Pin<Box<dyn std::future::Future<Output = Outcome> + Send>>;

/// Task 1 polls `$b`'s receive once and hands it over; task 2 awaits it while `$a`
/// sends (a macro for the reason `run_ends!` is one).
macro_rules! moved_between_tasks {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let first = mt::spawn(async move {
            let mut fut: MovedFut = Box::pin(probes::moved_recv(b));
            let early =
                std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
            // Handed back in a tuple: the task gives the operation, not its result.
            (match early {
                std::task::Poll::Ready(out) => Box::pin(std::future::ready(out)) as MovedFut,
                std::task::Poll::Pending => fut,
            },)
        });
        let (fut,) = first.await;
        op(
            PROBE,
            format_args!("moved: await the receive in a second task"),
        );
        let second = mt::spawn(fut);
        let sender = mt::spawn(probes::moved_send(a));
        let out = second.await;
        sender.await;
        probes::moved_check(Some(out));
    }};
}

/// Runs `plan` in the shared mode; joins every thread it started, even after a panic.
pub(crate) fn run(plan: &Plan, paths: &Arc<Paths>) {
    let lp = match SharedLoop::new() {
        Ok(lp) => lp,
        Err(e) => return violation(format!("setup: SharedLoop::new failed: {e}")),
    };
    let helper = {
        let lp = lp.clone();
        thread::spawn(move || lp.start())
    };
    while lp.workers() < 1 {
        thread::yield_now();
    }
    let (plan, paths, inner) = (plan.clone(), paths.clone(), lp.clone());
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run(async move { scenario(inner, plan, paths).await })
    }));
    lp.stop();
    let _ = helper.join();
    if let Ok(closers) = ran {
        closers.into_iter().for_each(|c| drop(c.join()));
    }
}

/// The chaos phase, then the probes; gives the closer threads to join.
async fn scenario(lp: SharedLoop, plan: Plan, paths: Arc<Paths>) -> Vec<thread::JoinHandle<()>> {
    let flows = flows(&plan);
    op(MAIN, format_args!("connect {}", plan.kind.name()));
    let closers = match plan.kind.is_stream() {
        true => match stream_pair(&lp, plan.kind, plan.pre_poll).await {
            Ok((a, b)) => run_ends!(&plan, [SharedStream::new(a), SharedStream::new(b)], &flows),
            Err(e) => {
                violation(format!("setup: connecting the pair failed: {e}"));
                return Vec::new();
            }
        },
        false => match dgram_pair(&lp, &plan, &paths) {
            Ok(pair) => run_ends!(&plan, pair, &flows),
            Err(e) => {
                violation(format!("setup: the datagram pair failed: {e}"));
                return Vec::new();
            }
        },
    };
    op(MAIN, format_args!("check the flows"));
    flows.iter().for_each(|f| f.check());
    for &probe in &plan.probes {
        run_probe(&lp, probe, plan.kind, &paths).await;
    }
    closers
}

/// A connected stream pair (client, accepted), the client maybe polled first.
async fn stream_pair(
    lp: &SharedLoop,
    kind: Kind,
    pre_poll: bool,
) -> sock::Result<(SharedTcp, SharedTcp)> {
    let server = lp.tcp(kind.family())?;
    server.listen(
        if kind == Kind::Tcp6 {
            "::1"
        } else {
            "127.0.0.1"
        },
        0,
    )?;
    let addr = server.local_addr()?;
    let client = lp.tcp(kind.family())?;
    if pre_poll {
        op(
            MAIN,
            format_args!("poll the loop with a fresh, unconnected socket"),
        );
        mt::sleep(Duration::from_millis(1)).await;
    }
    let accept = mt::spawn(async move { server.accept().timeout(PATIENCE).await });
    client.connect_to(&addr).timeout(PATIENCE).await?;
    Ok((client, accept.await?))
}

/// A bound datagram socket of `kind`.
fn bound(lp: &SharedLoop, kind: Kind, paths: &Paths, name: &str) -> sock::Result<SharedUdp> {
    let s = lp.udp(kind.family())?;
    match kind {
        Kind::UnixDgram => s.bind(&paths.path(name), 0)?,
        _ => s.bind("127.0.0.1", 0)?,
    }
    Ok(s)
}

/// The datagram pair, connected or not as planned.
fn dgram_pair(lp: &SharedLoop, plan: &Plan, paths: &Paths) -> sock::Result<[SharedDgram; 2]> {
    let a = bound(lp, plan.kind, paths, "a")?;
    let b = bound(lp, plan.kind, paths, "b")?;
    let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
    let end = |s: SharedUdp, peer: SockAddr, connected: bool| -> sock::Result<SharedDgram> {
        if connected {
            s.connect_to(&peer)?;
        }
        let to = (!connected).then_some(peer);
        Ok(SharedDgram { sock: s, to })
    };
    Ok([
        end(a, b_addr, plan.ends[0].connected)?,
        end(b, a_addr, plan.ends[1].connected)?,
    ])
}

/// Sets the planned buffer sizes.
fn set_buffers<E: Endpoint>(ep: &E, buffers: Option<(i32, i32)>) {
    if let Some((rcv, snd)) = buffers {
        let _ = ep.setopt("so_rcvbuf", OptValue::Int(rcv));
        let _ = ep.setopt("so_sndbuf", OptValue::Int(snd));
    }
}

/// Closes `ep` after `ms` from another OS thread.
fn closer_thread<E: Endpoint + Send>(ep: E, ms: u8, task: Task) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(u64::from(ms)));
        op(task, format_args!("close from another OS thread"));
        ep.close();
    })
}

/// Runs one probe on fresh sockets (those the shared mode has).
async fn run_probe(lp: &SharedLoop, probe: Probe, kind: Kind, paths: &Paths) {
    op(PROBE, format_args!("{probe:?}"));
    let r = match probe {
        Probe::ExpiredBurst { count } => burst(lp, kind, count, paths).await,
        Probe::MovedOp => moved(lp, kind, paths).await,
        Probe::UnixFlood { wait } => flood(lp, wait, paths).await,
        Probe::Urgent { .. } | Probe::ExactFill { .. } => Ok(()),
    };
    if let Err(e) = r {
        violation(format!("probe {probe:?}: setup failed: {e}"));
    }
}

/// The expired-deadline burst on a fresh pair.
async fn burst(lp: &SharedLoop, kind: Kind, count: usize, paths: &Paths) -> sock::Result<()> {
    if kind.is_stream() {
        let (a, b) = stream_pair(lp, kind, false).await?;
        probes::expired_burst(SharedStream::new(a), SharedStream::new(b), true, count).await;
    } else {
        let [a, b] = fresh_dgrams(lp, kind, paths)?;
        probes::expired_burst(a, b, false, count).await;
    }
    Ok(())
}

/// Two connected datagram sockets of `kind`.
fn fresh_dgrams(lp: &SharedLoop, kind: Kind, paths: &Paths) -> sock::Result<[SharedDgram; 2]> {
    let (a, b) = (bound(lp, kind, paths, "pa")?, bound(lp, kind, paths, "pb")?);
    a.connect_to(&b.local_addr()?)?;
    b.connect_to(&a.local_addr()?)?;
    Ok([
        SharedDgram { sock: a, to: None },
        SharedDgram { sock: b, to: None },
    ])
}

/// The moved-operation probe on a fresh pair.
async fn moved(lp: &SharedLoop, kind: Kind, paths: &Paths) -> sock::Result<()> {
    if kind.is_stream() {
        let (a, b) = stream_pair(lp, kind, false).await?;
        moved_between_tasks!(SharedStream::new(a), SharedStream::new(b));
    } else {
        let [a, b] = fresh_dgrams(lp, kind, paths)?;
        moved_between_tasks!(a, b);
    }
    Ok(())
}

/// The unix flood: an unconnected sender, a receiver that never reads.
async fn flood(lp: &SharedLoop, wait: u16, paths: &Paths) -> sock::Result<()> {
    let receiver = bound(lp, Kind::UnixDgram, paths, "flood-r")?;
    let sender = bound(lp, Kind::UnixDgram, paths, "flood-s")?;
    let to = Some(receiver.local_addr()?);
    let (s, r) = (
        SharedDgram { sock: sender, to },
        SharedDgram {
            sock: receiver,
            to: None,
        },
    );
    probes::unix_flood(s, r, wait).await;
    Ok(())
}
