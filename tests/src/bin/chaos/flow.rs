//! [`Flow`]: the ledger of one direction of a scenario's connection (a→b or b→a), kept
//! by its writer and reader, and the checks made on it when the scenario ends.
//!
//! What is provable, and so checked:
//! - **Streams.** The writer counts as sent exactly what each operation reports
//!   (`Done`: all; a failure: `Error::transferred()`; a drop: the operation's own count)
//!   and continues the seeded stream from there. The reader checks every byte in order.
//!   So an over-reported count shows as a gap, an under-reported one as a repeat, at the
//!   first byte after the cut. At a clean end (EOF, and neither side reset, closed early
//!   or shut its reading down) the reader must have had every byte counted as sent.
//! - **Datagrams.** Each carries its sequence number: none may arrive whose send was
//!   reported failed or dropped, none twice, none out of order; unix datagrams are never
//!   lost on a clean flow (UDP may drop them when the receive buffer is full).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::Waker;

use sock::ErrorKind;

use crate::plan::Kind;
use crate::report::{lock, violation};

/// How a reader ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// EOF (a stream) or the end datagram.
    Eof,
    /// Datagrams: the writer was done and nothing more came.
    Quiet,
    /// An error ended it.
    Error(ErrorKind),
    /// The bytes went wrong (already reported).
    Corrupt,
}

/// One direction of the scenario's connection.
#[derive(Debug)]
pub(crate) struct Flow {
    /// "a>b" or "b>a".
    pub(crate) name: &'static str,
    /// The seeded stream's key.
    pub(crate) key: u64,
    /// The socket kind.
    pub(crate) kind: Kind,
    /// Either endpoint may cut it short (reset, close, shutdown of reading).
    pub(crate) abrupt: bool,
    /// What the writer and reader have recorded.
    state: Mutex<Ledger>,
}

/// The records of a flow.
#[derive(Debug, Default)]
struct Ledger {
    /// Streams: bytes counted as sent.
    sent: u64,
    /// Streams: bytes received and checked.
    received: u64,
    /// The writer has finished.
    writer_done: bool,
    /// How the reader ended, once it has.
    end: Option<End>,
    /// Streams: the last offsets where a send was cut short, and how.
    cuts: VecDeque<(u64, String)>,
    /// Datagrams: sequence numbers reported sent.
    sent_seqs: Vec<u32>,
    /// Datagrams: sequence numbers received.
    got_seqs: Vec<u32>,
    /// Datagrams: truncated below the header, so unknown.
    unknown: usize,
    /// The reader, waiting for the writer to finish.
    waiter: Option<Waker>,
}

impl Flow {
    /// A fresh flow.
    pub(crate) fn new(name: &'static str, key: u64, kind: Kind, abrupt: bool) -> Flow {
        Flow {
            name,
            key,
            kind,
            abrupt,
            state: Mutex::new(Ledger::default()),
        }
    }

    /// Streams: `sent` bytes now counted as sent; `cut` says how an operation that
    /// moved less than asked ended, at that offset.
    pub(crate) fn sent(&self, sent: u64, cut: Option<String>) {
        let mut l = lock(&self.state);
        l.sent = sent;
        if let Some(how) = cut {
            if l.cuts.len() == 8 {
                l.cuts.pop_front();
            }
            l.cuts.push_back((sent, how));
        }
    }

    /// Streams: `received` bytes received and checked so far.
    pub(crate) fn received(&self, received: u64) {
        lock(&self.state).received = received;
    }

    /// Datagrams: `seq` was reported sent.
    pub(crate) fn sent_seq(&self, seq: u32) {
        lock(&self.state).sent_seqs.push(seq);
    }

    /// Datagrams: `seq` arrived.
    pub(crate) fn got_seq(&self, seq: u32) {
        lock(&self.state).got_seqs.push(seq);
    }

    /// Datagrams: one arrived truncated below its header.
    pub(crate) fn got_unknown(&self) {
        lock(&self.state).unknown += 1;
    }

    /// The writer has finished (wakes a reader waiting for that).
    pub(crate) fn writer_done(&self) {
        let waiter = {
            let mut l = lock(&self.state);
            l.writer_done = true;
            l.waiter.take()
        };
        waiter.into_iter().for_each(Waker::wake);
    }

    /// Whether the writer has finished; if not, `waker` is woken when it does.
    pub(crate) fn poll_writer_done(&self, waker: &Waker) -> bool {
        let mut l = lock(&self.state);
        if !l.writer_done {
            l.waiter = Some(waker.clone());
        }
        l.writer_done
    }

    /// Whether the writer has finished.
    pub(crate) fn is_writer_done(&self) -> bool {
        lock(&self.state).writer_done
    }

    /// The reader has ended.
    pub(crate) fn reader_end(&self, end: End) {
        lock(&self.state).end = Some(end);
    }

    /// The cuts near stream offset `at`, for a corruption message.
    pub(crate) fn cuts_near(&self, at: u64) -> String {
        let l = lock(&self.state);
        let near: Vec<String> = l
            .cuts
            .iter()
            .filter(|(off, _)| off.abs_diff(at) <= 1 << 20)
            .map(|(off, how)| format!("{how} at {off}"))
            .collect();
        match near.is_empty() {
            true => "no send was cut short near it".to_owned(),
            false => format!("sends cut short near it: {}", near.join("; ")),
        }
    }

    /// The end-of-scenario checks.
    pub(crate) fn check(&self) {
        let l = lock(&self.state);
        if !l.writer_done {
            violation(format!("{}: the writer never finished", self.name));
        }
        match l.end {
            None => violation(format!("{}: the reader never finished", self.name)),
            Some(End::Error(kind)) if !self.abrupt => violation(format!(
                "{}: a clean {} flow ended with {kind}",
                self.name,
                self.kind.name()
            )),
            _ => {}
        }
        match self.kind.is_stream() {
            true => self.check_stream(&l),
            false => self.check_datagrams(&l),
        }
    }

    /// Streams: nothing received beyond what was counted sent; all of it on a clean end.
    fn check_stream(&self, l: &Ledger) {
        if l.end == Some(End::Corrupt) {
            return;
        }
        if l.received > l.sent {
            violation(format!(
                "{}: {} bytes received but only {} counted as sent ({})",
                self.name,
                l.received,
                l.sent,
                self.cuts_near(l.sent)
            ));
        } else if l.end == Some(End::Eof) && !self.abrupt && l.received != l.sent {
            violation(format!(
                "{}: EOF after {} bytes but {} were counted as sent ({})",
                self.name,
                l.received,
                l.sent,
                self.cuts_near(l.received)
            ));
        }
    }

    /// Datagrams: what arrived was reported sent; unix datagrams of a clean flow all
    /// arrived (but those truncated beyond recognition).
    fn check_datagrams(&self, l: &Ledger) {
        let mut sent = l.sent_seqs.clone();
        sent.sort_unstable();
        for &seq in &l.got_seqs {
            if sent.binary_search(&seq).is_err() {
                violation(format!(
                    "{}: datagram seq {seq} arrived but its send was reported failed or dropped",
                    self.name
                ));
            }
        }
        let lost = sent.len().saturating_sub(l.got_seqs.len());
        if self.kind == Kind::UnixDgram && !self.abrupt && lost > l.unknown {
            violation(format!(
                "{}: {lost} unix datagrams reported sent never arrived ({} sent, {} arrived, {} unreadable)",
                self.name,
                sent.len(),
                l.got_seqs.len(),
                l.unknown
            ));
        }
    }
}
