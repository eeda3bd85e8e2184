//! The targeted probes, run one at a time after the chaos phase, each on fresh sockets.
//!
//! Each is aimed at a class of bug the random interleaving hits only by luck: a short
//! read at the TCP urgent mark, `readable()` after a read that exactly drained the
//! socket, a past deadline on a long run of ready operations (the fairness budget), an
//! operation polled in one task and finished in another, and a datagram sender whose
//! receiver's queue is full. The generic ones take [`Endpoint`]s made by the mode.

use std::time::{Duration, Instant};

use sock::{ErrorKind, Expires, Tcp, io::OptValue};

use crate::endpoint::{Endpoint, Outcome};
use crate::pattern;
use crate::plan::{Cancel, Cut, Wait};
use crate::report::{PROBE, op, violation};
use crate::watchdog;

/// The key of the probes' byte streams.
const KEY: u64 = 0x5EED;

/// A raw peer sends `before` bytes, one urgent byte, `after` bytes; `conn` (its accepted
/// side, `so_oobinline` if `inline`) must receive every ordinary byte without waiting —
/// and the urgent one in line only with `so_oobinline` (or, without it, if the library
/// chose to deliver it in line: either stream is accepted then).
pub(crate) async fn urgent(
    conn: Tcp,
    peer: socket2::Socket,
    before: usize,
    after: usize,
    inline: bool,
) {
    if inline && conn.setopt("so_oobinline", true).is_err() {
        violation("urgent: setopt so_oobinline failed");
    }
    let mut plain = vec![0u8; before + after];
    pattern::fill(KEY, 0, &mut plain);
    let mark = plain[before] ^ 0xA5; // differs from the byte after it
    op(
        PROBE,
        format_args!("urgent: peer sends {before} + urgent + {after}"),
    );
    let sent = peer.send(&plain[..before]).and_then(|_| {
        peer.send_out_of_band(&[mark])?;
        peer.send(&plain[before..])
    });
    if let Err(e) = sent {
        return violation(format!("urgent: the raw peer could not send: {e}"));
    }
    sock::sleep(Duration::from_millis(2)).await;
    let mut marked = plain.clone();
    marked.insert(before, mark);
    let got = receive_urgent(&conn, &plain, &marked).await;
    if inline && got.is_some_and(|n| n != marked.len()) {
        violation("urgent: with so_oobinline the urgent byte did not arrive in line");
    }
}

/// Receives, each receive allowed 1 s, until the bytes are `plain` (the urgent byte
/// left out) or `marked` (in line); gives how many arrived, `None` after a violation.
async fn receive_urgent(conn: &Tcp, plain: &[u8], marked: &[u8]) -> Option<usize> {
    let (mut got, mut buf) = (Vec::new(), vec![0u8; 65536]);
    loop {
        let inline = marked.starts_with(&got) && !plain.starts_with(&got);
        let want = if inline { marked } else { plain };
        if got == want {
            return Some(got.len());
        }
        op(
            PROBE,
            format_args!("urgent: recv after {} of {}", got.len(), want.len()),
        );
        match conn.recv(&mut buf).timeout(Duration::from_secs(1)).await {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            Err(e) if e.is_timeout() => {
                let (n, of) = (got.len(), plain.len());
                violation(format!(
                    "urgent: {n} of {of} bytes (the urgent one aside) arrived, then a recv waited \
                     1 s for bytes already queued (a short read at the urgent mark must not clear \
                     readiness)"
                ));
                return None;
            }
            other => {
                violation(format!(
                    "urgent: recv after {} bytes gave {other:?}",
                    got.len()
                ));
                return None;
            }
        }
        if !plain.starts_with(&got) && !marked.starts_with(&got) {
            violation(format!(
                "urgent: the {} bytes received are not what was sent",
                got.len()
            ));
            return None;
        }
    }
}

/// Before anything was sent, and after `sender` sent `len` bytes that `receiver` read so
/// that the last read exactly filled its buffer, `readable()` with a past deadline must
/// not say ready (nothing is there) — or, if it does, a receive must find something.
pub(crate) async fn exact_fill(sender: Tcp, receiver: Tcp, len: usize) {
    not_ready(&receiver, "on a fresh socket that has had nothing to read").await;
    let mut data = vec![0u8; len];
    pattern::fill(KEY, 0, &mut data);
    op(PROBE, format_args!("exact fill: send {len}"));
    if let Err(e) = sender.send(&data).timeout(Duration::from_secs(3)).await {
        return violation(format!("exact fill: send failed: {e}"));
    }
    if !receive_exactly(&receiver, &mut data).await {
        return;
    }
    let after = format!("after a {len}-byte read that exactly filled its buffer");
    not_ready(&receiver, &after).await;
    drop(sender);
}

/// Checks that `readable()` with a past deadline does not return at once while a read
/// would block (a receive with a past deadline times out); `when` names the moment.
pub(crate) async fn not_ready(receiver: &Tcp, when: &str) {
    op(
        PROBE,
        format_args!("exact fill: readable (past deadline) {when}"),
    );
    let past = sock::clock() - Duration::from_millis(1);
    if receiver.readable().expires(past).await.is_ok() {
        let mut buf = [0u8; 64];
        let r = receiver.recv(&mut buf).expires(past).await;
        if r.as_ref().is_err_and(sock::Error::is_timeout) {
            violation(format!(
                "exact fill: readable() returned at once with no data, {when}"
            ));
        }
    }
}

/// Receives `buf.len()` bytes, each receive asking for exactly what is left (so the
/// last one fills its buffer); false (reported) if that failed.
async fn receive_exactly(receiver: &Tcp, buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        op(
            PROBE,
            format_args!("exact fill: recv {} at {got}", buf.len() - got),
        );
        match receiver
            .recv(&mut buf[got..])
            .timeout(Duration::from_secs(3))
            .await
        {
            Ok(n) if n > 0 => got += n,
            other => {
                violation(format!("exact fill: recv at {got} gave {other:?}"));
                return false;
            }
        }
    }
    true
}

/// `a` sends `count` small items (one write of `count * 8` bytes on a stream, `count`
/// datagrams otherwise) and waits; then `b` receives each with a deadline already
/// past: every one is ready, so none may time out.
pub(crate) async fn expired_burst<E: Endpoint>(a: E, b: E, stream: bool, count: usize) {
    let _ = b.setopt("so_rcvbuf", OptValue::Int(1 << 20));
    let mut buf = Vec::new();
    op(PROBE, format_args!("burst: send {count} items"));
    if !send_items(&a, stream, count, &mut buf).await {
        return;
    }
    E::pause(5).await;
    let mut item = [0u8; 64];
    for i in 0..count {
        op(
            PROBE,
            format_args!("burst: recv {i} of {count} (past deadline)"),
        );
        let len = if stream { 8 } else { 64 };
        match b.recv(&mut item[..len], Cut::PAST).await {
            Outcome::Done(n) if n == 8 || n == 16 => {}
            Outcome::Failed {
                kind: ErrorKind::Timeout,
                ..
            } => {
                return violation(format!(
                    "burst: receive {i} of {count} with a past deadline timed out though \
                     {} items were queued (the fairness budget turned into a timeout)",
                    count - i
                ));
            }
            other => return violation(format!("burst: receive {i} of {count} gave {other:?}")),
        }
    }
}

/// Sends the burst's items; false (reported) if that failed.
async fn send_items<E: Endpoint>(a: &E, stream: bool, count: usize, buf: &mut Vec<u8>) -> bool {
    let cut = Cut {
        wait: Wait::Large,
        cancel: Cancel::Never,
        via: crate::plan::Via::Op,
    };
    if stream {
        buf.resize(count * 8, 0);
        pattern::fill(KEY, 0, buf);
        let out = a.send(buf, cut).await;
        if out != Outcome::Done(buf.len()) {
            violation(format!("burst: sending {} bytes gave {out:?}", buf.len()));
            return false;
        }
        return true;
    }
    for seq in 0..count {
        pattern::datagram(KEY, seq as u32, 16, buf);
        let out = a.send(buf, cut).await;
        if out != Outcome::Done(16) {
            violation(format!("burst: datagram {seq} gave {out:?}"));
            return false;
        }
    }
    true
}

/// The receive the moved-operation probe polls in one task and finishes in another:
/// 16 bytes (or a 16-byte datagram) from the peer.
pub(crate) async fn moved_recv<E: Endpoint>(ep: E) -> Outcome {
    let mut buf = [0u8; 64];
    let cut = Cut {
        wait: Wait::Large,
        cancel: Cancel::Never,
        via: crate::plan::Via::Op,
    };
    ep.recv(&mut buf, cut).await
}

/// The peer's side of the moved-operation probe: sends 16 bytes once the receive moved.
pub(crate) async fn moved_send<E: Endpoint>(ep: E) {
    let mut buf = Vec::new();
    pattern::datagram(KEY, 1, 16, &mut buf);
    E::pause(2).await;
    op(PROBE, format_args!("moved: peer sends 16 bytes"));
    let out = ep.send(&buf, Cut::PLAIN).await;
    op(PROBE, format_args!("moved: the peer's send gave {out:?}"));
}

/// Checks the moved receive's outcome.
pub(crate) fn moved_check(out: Option<Outcome>) {
    if out != Some(Outcome::Done(16)) {
        violation(format!(
            "moved: a receive polled once in one task, then awaited in another, gave {out:?}"
        ));
    }
}

/// Unconnected unix datagrams from `sender` to `receiver`, which never reads: sends
/// until one times out (the queue is full), then one send with a `wait` ms deadline
/// must time out without keeping a core busy for half of that time.
pub(crate) async fn unix_flood<E: Endpoint>(sender: E, receiver: E, wait: u16) {
    let buf = [7u8; 64];
    if !fill_queue(&sender, &buf).await {
        return;
    }
    op(
        PROBE,
        format_args!("flood: send to a full queue, {wait}ms deadline"),
    );
    let (load0, t0) = (watchdog::own_load(), Instant::now());
    let cut = Cut {
        wait: Wait::Ms(wait),
        cancel: Cancel::Never,
        via: crate::plan::Via::Op,
    };
    let out = sender.send(&buf, cut).await;
    let (load, wall) = (watchdog::own_load(), t0.elapsed());
    let cpu = load.cpu.saturating_sub(load0.cpu);
    let runnable = load.runnable.saturating_sub(load0.runnable);
    if !out.is(ErrorKind::Timeout) {
        violation(format!(
            "flood: a send to a full queue gave {out:?}, not a timeout"
        ));
    }
    // A spin keeps a core busy for the whole wait. The CPU time is the process's (the
    // other endpoints' tasks and the shared workers count too) in 10 ms clock ticks, so
    // on a loaded machine an honest wait has shown 5–6 ticks of a 165–190 ms window:
    // the bar is half the window, which a spin passes and that noise does not.
    if runnable * 2 > wall && cpu * 2 > wall && wall >= Duration::from_millis(100) {
        violation(format!(
            "flood: a send waiting on a full unix datagram queue spun: runnable {runnable:?} \
             (on a CPU {cpu:?}) of {wall:?}"
        ));
    }
    drop(receiver);
}

/// Sends datagrams with a 1 ms deadline until one times out (the receiver's queue is
/// full); false (reported) if a send failed otherwise.
async fn fill_queue<E: Endpoint>(sender: &E, buf: &[u8]) -> bool {
    let short = Cut {
        wait: Wait::Tiny,
        cancel: Cancel::Never,
        via: crate::plan::Via::Op,
    };
    for i in 0..200 {
        op(PROBE, format_args!("flood: send {i}"));
        match sender.send(buf, short).await {
            Outcome::Done(64) => {}
            o if o.is(ErrorKind::Timeout) => return true,
            other => {
                violation(format!("flood: send {i} gave {other:?}"));
                return false;
            }
        }
    }
    true
}
