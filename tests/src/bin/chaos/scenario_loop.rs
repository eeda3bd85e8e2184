//! A scenario in the loop mode: one `sock::run` on this thread, `!Send` tasks.
//!
//! The chaos phase connects the pair (the client maybe polled before it connects),
//! starts each endpoint's writer (spawned, run at once with `thread`, or made with
//! `newthread` and resumed), its reader (maybe inside a generator), its closer task,
//! the resumer of suspended writers and the side ingredients, and joins them all; then
//! the flows are checked and the probes run one by one.

use std::sync::Arc;
use std::time::Duration;

use sock::{Expires, SockAddr, Tcp, Thread, io::OptValue};

use crate::endpoint::Endpoint;
use crate::extras::{extra, generator_reader, resumer};
use crate::flow::Flow;
use crate::loop_ep::{LoopDgram, LoopStream};
use crate::paths::Paths;
use crate::plan::{Kind, Plan, Probe, Start, WriteOp};
use crate::probes;
use crate::reader::{Direct, reader};
use crate::report::{MAIN, PROBE, Task, op, violation};
use crate::writer::writer;

/// The roles of each endpoint's tasks, by endpoint.
const ROLES: [[Task; 3]; 2] = [
    [
        Task::new(1, "a.writer"),
        Task::new(2, "a.reader"),
        Task::new(3, "a.closer"),
    ],
    [
        Task::new(4, "b.writer"),
        Task::new(5, "b.reader"),
        Task::new(6, "b.closer"),
    ],
];

/// The resumer of suspended writers.
const RESUMER: Task = Task::new(7, "resumer");

/// The side ingredients' tasks.
const EXTRAS: [Task; 4] = [
    Task::new(8, "extra0"),
    Task::new(9, "extra1"),
    Task::new(10, "extra2"),
    Task::new(11, "extra3"),
];

/// Generous: only turns a hang into a failure.
const PATIENCE: Duration = Duration::from_secs(3);

/// Runs `plan` in the loop mode.
pub(crate) fn run(plan: &Plan, paths: &Arc<Paths>) {
    let (plan, paths) = (plan.clone(), paths.clone());
    sock::run(async move {
        chaos(&plan, &paths).await;
        for &probe in &plan.probes {
            run_probe(probe, plan.kind, &paths).await;
        }
        if plan
            .probes
            .iter()
            .any(|p| matches!(p, Probe::ExactFill { .. }))
        {
            polled_client(plan.kind, &paths).await;
        }
    });
}

/// The flows of `plan`: a→b and b→a.
pub(crate) fn flows(plan: &Plan) -> [Arc<Flow>; 2] {
    let abrupt = plan.ends.iter().any(|e| e.is_abrupt());
    let key = |n: u64| crate::rng::mix(plan.seed ^ n);
    [
        Arc::new(Flow::new("a>b", key(1), plan.kind, abrupt)),
        Arc::new(Flow::new("b>a", key(2), plan.kind, abrupt)),
    ]
}

/// The chaos phase.
async fn chaos(plan: &Plan, paths: &Paths) {
    let flows = flows(plan);
    op(MAIN, format_args!("connect {}", plan.kind.name()));
    if plan.kind.is_stream() {
        match stream_pair(plan.kind, plan.pre_poll, paths).await {
            Ok((a, b)) => run_ends(plan, [LoopStream::new(a), LoopStream::new(b)], &flows).await,
            Err(e) => return violation(format!("setup: connecting the pair failed: {e}")),
        }
    } else {
        match dgram_pair(plan, paths) {
            Ok(pair) => run_ends(plan, pair, &flows).await,
            Err(e) => return violation(format!("setup: the datagram pair failed: {e}")),
        }
    }
    op(MAIN, format_args!("check the flows"));
    flows.iter().for_each(|f| f.check());
}

/// A listening socket of `kind` on loopback (or a fresh unix path) and its address.
fn listener(kind: Kind, paths: &Paths) -> sock::Result<(Tcp, SockAddr)> {
    let s = sock::tcp(kind.family())?;
    match kind {
        Kind::UnixStream => s.listen(&paths.path("listen"), 0)?,
        Kind::Tcp6 => s.listen("::1", 0)?,
        _ => s.listen("127.0.0.1", 0)?,
    }
    let addr = s.local_addr()?;
    Ok((s, addr))
}

/// A connected stream pair (client, accepted). With `pre_poll`, the loop polls the
/// fresh client socket before it connects.
pub(crate) async fn stream_pair(
    kind: Kind,
    pre_poll: bool,
    paths: &Paths,
) -> sock::Result<(Tcp, Tcp)> {
    let (server, addr) = listener(kind, paths)?;
    let client = sock::tcp(kind.family())?;
    if pre_poll {
        op(
            MAIN,
            format_args!("poll the loop with a fresh, unconnected socket"),
        );
        sock::sleep(Duration::from_millis(1)).await;
    }
    let accept = sock::spawn(async move { server.accept().timeout(PATIENCE).await });
    client.connect_to(&addr).timeout(PATIENCE).await?;
    let conn = accept.join().await.expect("the accept task")?;
    Ok((client, conn))
}

/// A bound datagram socket of `kind`.
fn bound(kind: Kind, paths: &Paths, name: &str) -> sock::Result<sock::Udp> {
    let s = sock::udp(kind.family())?;
    match kind {
        Kind::UnixDgram => s.bind(&paths.path(name), 0)?,
        _ => s.bind("127.0.0.1", 0)?,
    }
    Ok(s)
}

/// The datagram pair, each connected to the other or sending with `sendto`, as planned.
fn dgram_pair(plan: &Plan, paths: &Paths) -> sock::Result<[LoopDgram; 2]> {
    let (a, b) = (bound(plan.kind, paths, "a")?, bound(plan.kind, paths, "b")?);
    let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
    let end = |s: sock::Udp, peer: SockAddr, connected: bool| -> sock::Result<LoopDgram> {
        if connected {
            s.connect_to(&peer)?;
        }
        let to = (!connected).then_some(peer);
        Ok(LoopDgram { sock: s, to })
    };
    Ok([
        end(a, b_addr, plan.ends[0].connected)?,
        end(b, a_addr, plan.ends[1].connected)?,
    ])
}

/// The reader's and the writer's endpoint: `ep`'s halves if `split`, else `ep` twice.
pub(crate) fn halves<E: Endpoint>(ep: &E, split: bool) -> (E, E) {
    match split {
        true => ep.clone().into_halves(),
        false => (ep.clone(), ep.clone()),
    }
}

/// Starts every task of the chaos phase on the endpoints and joins them.
async fn run_ends<E: Endpoint>(plan: &Plan, eps: [E; 2], flows: &[Arc<Flow>; 2]) {
    let mut tasks: Vec<(Task, Thread<()>)> = Vec::new();
    let mut writers = Vec::new();
    for (i, ep) in eps.into_iter().enumerate() {
        let end = &plan.ends[i];
        let [w, r, c] = ROLES[i];
        if let Some((rcv, snd)) = end.buffers {
            let _ = ep.setopt("so_rcvbuf", OptValue::Int(rcv));
            let _ = ep.setopt("so_sndbuf", OptValue::Int(snd));
        }
        let (mine, theirs) = halves(&ep, end.halves);
        let writing = writer(theirs, end.writer_steps(), flows[i].clone(), w);
        let t = start(end.start, writing);
        writers.push(t.to_ref());
        tasks.push((w, t));
        let (ops, inbound) = (end.reader_steps(), flows[1 - i].clone());
        let t = match end.generator {
            true => sock::spawn(generator_reader(mine, ops, inbound, r)),
            false => sock::spawn(async move {
                reader(mine, ops, inbound, r, Direct).await;
            }),
        };
        tasks.push((r, t));
        if let Some(ms) = end.closer {
            tasks.push((c, sock::spawn(closer(ep, ms, c))));
        }
    }
    if plan
        .ends
        .iter()
        .any(|e| e.writer.contains(&WriteOp::Suspend))
    {
        tasks.push((RESUMER, sock::spawn(resumer(writers, RESUMER))));
    }
    for (&x, &task) in plan.extras.iter().zip(EXTRAS.iter()) {
        tasks.push((task, sock::spawn(extra(x, task))));
    }
    join_all(tasks).await;
}

/// Starts a writer as planned.
fn start(how: Start, writing: impl std::future::Future<Output = ()> + 'static) -> Thread<()> {
    match how {
        Start::Spawn => sock::spawn(writing),
        Start::Thread => sock::thread(writing),
        Start::NewThread => {
            let t = sock::task::newthread(writing);
            t.resume(());
            t
        }
    }
}

/// Closes `ep` after `ms` from another task.
async fn closer<E: Endpoint>(ep: E, ms: u8, task: Task) {
    sock::sleep(Duration::from_millis(u64::from(ms))).await;
    op(task, format_args!("close from another task"));
    ep.close();
}

/// Joins the tasks; a panic is a violation.
async fn join_all(tasks: Vec<(Task, Thread<()>)>) {
    for (task, t) in tasks {
        op(MAIN, format_args!("join {}", task.label));
        if let Err(e) = t.join().await {
            violation(format!("{} ended abnormally: {e}", task.label));
        }
    }
}

/// Runs one probe on fresh sockets.
async fn run_probe(probe: Probe, kind: Kind, paths: &Paths) {
    op(PROBE, format_args!("{probe:?}"));
    let result = match probe {
        Probe::Urgent {
            before,
            after,
            inline,
        } => urgent(kind, before, after, inline, paths).await,
        Probe::ExactFill { len } => exact_fill(kind, len, paths).await,
        Probe::ExpiredBurst { count } => burst(kind, count, paths).await,
        Probe::MovedOp => moved(kind, paths).await,
        Probe::UnixFlood { wait } => flood(wait, paths).await,
    };
    match result {
        Ok(fut) => fut.await,
        Err(e) => violation(format!("probe {probe:?}: setup failed: {e}")),
    }
}

/// The future a probe's set-up gives.
type ProbeFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// Sets up the urgent-data probe: a raw (socket2) client whose accepted side is ours.
async fn urgent(
    kind: Kind,
    before: usize,
    after: usize,
    inline: bool,
    paths: &Paths,
) -> sock::Result<ProbeFut> {
    let (server, addr) = listener(kind, paths)?;
    let domain = if kind == Kind::Tcp6 {
        socket2::Domain::IPV6
    } else {
        socket2::Domain::IPV4
    };
    let peer = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
    let target = addr.as_socket().expect("a TCP listener has an IP address");
    peer.connect(&target.into())?;
    let conn = server.accept().timeout(PATIENCE).await?;
    Ok(Box::pin(probes::urgent(conn, peer, before, after, inline)))
}

/// Sets up the exact-fill probe on a fresh pair.
async fn exact_fill(kind: Kind, len: usize, paths: &Paths) -> sock::Result<ProbeFut> {
    let (sender, receiver) = stream_pair(kind, false, paths).await?;
    Ok(Box::pin(probes::exact_fill(sender, receiver, len)))
}

/// The exact-fill probe's last part, run after every other probe (unfixed, the loop
/// may freeze in it): `readable()` on a client polled before it connected (its first
/// event was a hang-up), whose peer never sends, must not say ready.
async fn polled_client(kind: Kind, paths: &Paths) {
    match stream_pair(kind, true, paths).await {
        Ok((polled, _peer)) => {
            let when = "on a client polled before it connected, whose peer never sent";
            probes::not_ready(&polled, when).await;
        }
        Err(e) => violation(format!("probe polled client: setup failed: {e}")),
    }
}

/// Sets up the expired-deadline burst on a fresh pair of `kind`.
async fn burst(kind: Kind, count: usize, paths: &Paths) -> sock::Result<ProbeFut> {
    if kind.is_stream() {
        let (a, b) = stream_pair(kind, false, paths).await?;
        return Ok(Box::pin(probes::expired_burst(
            LoopStream::new(a),
            LoopStream::new(b),
            true,
            count,
        )));
    }
    let [a, b] = fresh_dgrams(kind, paths)?;
    Ok(Box::pin(probes::expired_burst(a, b, false, count)))
}

/// Two connected datagram sockets of `kind`.
fn fresh_dgrams(kind: Kind, paths: &Paths) -> sock::Result<[LoopDgram; 2]> {
    let (a, b) = (bound(kind, paths, "pa")?, bound(kind, paths, "pb")?);
    a.connect_to(&b.local_addr()?)?;
    b.connect_to(&a.local_addr()?)?;
    Ok([
        LoopDgram { sock: a, to: None },
        LoopDgram { sock: b, to: None },
    ])
}

/// Sets up the moved-operation probe: a receive polled once in one task, then finished
/// in another.
async fn moved(kind: Kind, paths: &Paths) -> sock::Result<ProbeFut> {
    if kind.is_stream() {
        let (a, b) = stream_pair(kind, false, paths).await?;
        return Ok(Box::pin(moved_between_tasks(
            LoopStream::new(a),
            LoopStream::new(b),
        )));
    }
    let [a, b] = fresh_dgrams(kind, paths)?;
    Ok(Box::pin(moved_between_tasks(a, b)))
}

/// The moved-operation probe: task 1 polls `b`'s receive once and hands it over; task 2
/// awaits it while `a` sends.
async fn moved_between_tasks<E: Endpoint>(a: E, b: E) {
    let slot = std::rc::Rc::new(std::cell::RefCell::new(None));
    let put = slot.clone();
    let first = sock::spawn(async move {
        let mut fut: MovedFut = Box::pin(probes::moved_recv(b));
        let early = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        *put.borrow_mut() = Some(match early {
            std::task::Poll::Ready(out) => Box::pin(std::future::ready(out)),
            std::task::Poll::Pending => fut,
        });
    });
    let _ = first.join().await;
    op(
        PROBE,
        format_args!("moved: await the receive in a second task"),
    );
    let fut = slot.borrow_mut().take();
    let second = sock::spawn(async move {
        match fut {
            Some(f) => Some(f.await),
            None => None,
        }
    });
    let sender = sock::spawn(probes::moved_send(a));
    let out = second.join().await;
    let _ = sender.join().await;
    match out {
        Ok(out) => probes::moved_check(out),
        Err(e) => violation(format!("moved: the second task ended abnormally: {e}")),
    }
}

/// The moved receive, boxed so it can change tasks.
type MovedFut = std::pin::Pin<Box<dyn std::future::Future<Output = crate::endpoint::Outcome>>>;

/// Sets up the unix flood: an unconnected sender and a receiver that never reads.
async fn flood(wait: u16, paths: &Paths) -> sock::Result<ProbeFut> {
    let receiver = bound(Kind::UnixDgram, paths, "flood-r")?;
    let sender = bound(Kind::UnixDgram, paths, "flood-s")?;
    let to = Some(receiver.local_addr()?);
    let (s, r) = (
        LoopDgram { sock: sender, to },
        LoopDgram {
            sock: receiver,
            to: None,
        },
    );
    Ok(Box::pin(probes::unix_flood(s, r, wait)))
}
