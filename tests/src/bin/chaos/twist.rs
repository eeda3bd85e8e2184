//! The ingredients drawn after the rest of a plan, from a generator forked last, so
//! every older draw of a seed keeps its meaning: the calls a stream send or receive
//! moves its bytes through ([`Via`]), halves (`into_split`), and scope deadlines over
//! runs of steps ([`Span`]). A `--skip`ped one is drawn and then dropped.

use crate::plan::{EndPlan, Kind, ReadOp, Skips, WriteOp};
use crate::rng::Rng;

/// How a stream send or receive moves its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// The operation (`send`, `recv`, `recvn`) with `.expires` for its deadline.
    Op,
    /// `poll_send`/`poll_recv` through `poll_fn` (a send repeats until all went),
    /// under a scope deadline for its deadline.
    Poll,
    /// `writable()`/`readable()`, then `try_send`/`try_recv` (`WouldBlock`: wait
    /// again), under a scope deadline.
    Try,
    /// `futures_lite::AsyncWriteExt::write`/`AsyncReadExt::read` (and `close`), under a
    /// scope deadline; halves take `Poll` instead.
    Futures,
    /// `tokio::io::AsyncWriteExt::write`/`AsyncReadExt::read` (and `shutdown`), as
    /// `Futures`.
    Tokio,
}

/// A run of steps under one scope deadline (`sock::timeout` or `sock::deadline`; the
/// shared mode's in the shared mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// The first step.
    pub(crate) from: usize,
    /// How many steps (fewer if the plan ends first).
    pub(crate) len: usize,
    /// The deadline, ms from the span's start.
    pub(crate) ms: u16,
    /// Through `deadline` with an `Instant` (else `timeout` with a `Duration`).
    pub(crate) absolute: bool,
}

/// Draws the twists of both ends and applies those the kind, mode and skips allow.
pub(crate) fn draw(ends: &mut [EndPlan; 2], kind: Kind, skips: &Skips, rng: &mut Rng) {
    for end in ends.iter_mut() {
        draw_end(end, kind, skips, &mut rng.fork());
    }
}

/// One end's twists.
fn draw_end(end: &mut EndPlan, kind: Kind, skips: &Skips, rng: &mut Rng) {
    let stream = kind.is_stream();
    let vias = !skips.has("via") && stream;
    for op in &mut end.writer {
        let via = pick_via(rng);
        if let (WriteOp::Send(_, cut), true) = (op, vias) {
            cut.via = via;
        }
    }
    for op in &mut end.reader {
        let via = pick_via(rng);
        if let (ReadOp::Recv(_, cut), true) = (op, vias) {
            cut.via = via;
        }
    }
    let finish = pick_via(rng);
    let halves = rng.chance(25);
    let writer_scope = rng.chance(25).then(|| span(rng, end.writer.len()));
    let reader_scope = rng.chance(20).then(|| span(rng, end.reader.len()));
    end.finish = if vias { finish } else { Via::Op };
    end.halves = halves && stream && !skips.has("halves");
    let scopes = !skips.has("scope");
    end.writer_scope = writer_scope.filter(|_| scopes);
    // Not in a generator: a scope that ends while the body yields a chunk's size
    // would drop the yield the consumer counts.
    end.reader_scope = reader_scope.filter(|_| scopes && stream && !end.generator);
}

/// A way to move bytes.
fn pick_via(rng: &mut Rng) -> Via {
    rng.pick(&[
        (50, Via::Op),
        (15, Via::Poll),
        (15, Via::Try),
        (10, Via::Futures),
        (10, Via::Tokio),
    ])
}

/// A span over a plan of `steps` steps.
fn span(rng: &mut Rng, steps: usize) -> Span {
    let from = rng.below(steps as u64) as usize;
    let len = rng.size(2, 6);
    let ms = rng.pick(&[(2, (0, 0)), (5, (1, 20)), (3, (21, 200))]);
    Span {
        from,
        len,
        ms: rng.range(ms.0, ms.1) as u16,
        absolute: rng.chance(50),
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Plan, Skips, WriteOp};

    use super::*;

    /// The writer's steps with every via put back to `Op`.
    fn plain(ops: &[WriteOp]) -> Vec<WriteOp> {
        let mut ops = ops.to_vec();
        for op in &mut ops {
            if let WriteOp::Send(_, cut) = op {
                cut.via = Via::Op;
            }
        }
        ops
    }

    #[test]
    fn twists_leave_the_older_draws_alone() {
        let skips = Skips(vec!["via".into(), "halves".into(), "scope".into()]);
        let mut twisted = 0;
        for seed in 0..300 {
            let (a, b) = (Plan::new(seed, &Skips::default()), Plan::new(seed, &skips));
            for (x, y) in a.ends.iter().zip(&b.ends) {
                assert_eq!(plain(&x.writer), y.writer);
                assert_eq!(x.reader.len(), y.reader.len());
                assert!(!y.halves && y.writer_scope.is_none() && y.reader_scope.is_none());
                twisted += usize::from(x.halves || x.writer_scope.is_some());
            }
            assert_eq!(a.probes, b.probes);
        }
        assert!(twisted > 0, "300 seeds drew no twist");
    }
}
