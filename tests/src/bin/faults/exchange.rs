//! One client's conversation with the echo server, apart from the socket calls: the
//! seeded payloads, the bytes still owed by the echo, the check of every byte that
//! comes back, and the lines the child prints about errors and clients.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sock_tests::harness::rng::Rng;

/// The largest payload of one exchange (a random length from 1 byte up).
const MAX_PAYLOAD: u64 = 16 * 1024;

/// The longest pause of a client between two exchanges, in milliseconds: the clients
/// think, as real ones do, so a healthy process is idle most of the run and a spinning
/// one stands out.
const MAX_PAUSE_MS: u64 = 15;

/// A client gives up after this many stalls: a fault that keeps it stalled is a hang.
const MAX_STALLS: u32 = 40;

/// What the child was asked to run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    /// Seeds the clients' payloads.
    pub(crate) seed: u64,
    /// Concurrent clients.
    pub(crate) clients: u32,
    /// Payloads each client sends, each echoed before the next.
    pub(crate) exchanges: u32,
    /// `Some(d)`: waits longer than `d` are stalls, answered with a nudge (the
    /// injected error is `EAGAIN`); `None`: a wait longer than
    /// [`sock_tests::PATIENCE`] is a failure.
    pub(crate) stall: Option<Duration>,
}

impl Plan {
    /// How long one receive or send may wait before it is a stall or a failure.
    pub(crate) fn wait(&self) -> Duration {
        self.stall.unwrap_or(sock_tests::PATIENCE)
    }
}

/// Why a client stopped early: the operation and its error, or corrupted bytes.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An operation failed; the error carries its kind's name.
    Op(&'static str, sock::Error),
    /// A byte of the echo differs from the one sent.
    Corrupt(String),
}

/// The byte stream of one connection: what was sent and not yet echoed back.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// The client's number.
    pub(crate) id: u32,
    /// Makes the payloads (and nudge bytes).
    rng: Rng,
    /// Sent, not yet echoed, in order.
    owed: VecDeque<u8>,
    /// Payloads still to send.
    left: u32,
    /// Bytes that came back and matched.
    pub(crate) echoed: u64,
    /// Waits that ran out and were answered with a nudge or a retry.
    pub(crate) stalls: u32,
}

impl Exchange {
    /// Client `id`'s conversation under `plan`.
    pub(crate) fn new(plan: &Plan, id: u32) -> Exchange {
        Exchange {
            id,
            rng: Rng::derive(plan.seed, &format!("client {id}")),
            owed: VecDeque::new(),
            left: plan.exchanges,
            echoed: 0,
            stalls: 0,
        }
    }

    /// The next payload to send (now owed by the echo), or `None` when all went.
    pub(crate) fn next_payload(&mut self) -> Option<Vec<u8>> {
        self.left = self.left.checked_sub(1)?;
        let mut payload = vec![0; self.rng.range(1, MAX_PAYLOAD) as usize];
        self.rng.fill(&mut payload);
        self.owed.extend(&payload);
        Some(payload)
    }

    /// How long to pause before the next exchange.
    pub(crate) fn pause(&mut self) -> Duration {
        Duration::from_millis(self.rng.range(1, MAX_PAUSE_MS))
    }

    /// Whether the echo still owes bytes.
    pub(crate) fn owed(&self) -> bool {
        !self.owed.is_empty()
    }

    /// Checks bytes that came back against those owed, in order.
    pub(crate) fn check(&mut self, got: &[u8]) -> Result<(), Failure> {
        for &byte in got {
            match self.owed.pop_front() {
                Some(want) if want == byte => self.echoed += 1,
                Some(want) => {
                    let at = self.echoed;
                    return Err(Failure::Corrupt(format!("byte {at}: {byte} for {want}")));
                }
                None => return Err(Failure::Corrupt("more bytes than were sent".into())),
            }
        }
        Ok(())
    }

    /// Counts a stall; fails once there were too many.
    pub(crate) fn stalled(&mut self) -> Result<(), Failure> {
        self.stalls += 1;
        if self.stalls > MAX_STALLS {
            let e = sock::Error::new(sock::ErrorKind::Timeout, "stalled too often");
            return Err(Failure::Op("stall", e));
        }
        Ok(())
    }

    /// One more byte to send to wake a server parked by a fake `EAGAIN`; owed back.
    pub(crate) fn nudge_byte(&mut self) -> u8 {
        let byte = self.rng.next_u64() as u8;
        self.owed.push_back(byte);
        byte
    }

    /// Prints the client's line: `client id=… result=ok|failed|corrupt …`.
    pub(crate) fn report(&self, end: &Result<(), Failure>) {
        let (id, bytes, stalls) = (self.id, self.echoed, self.stalls);
        let outcome = match end {
            Ok(()) => "result=ok".to_string(),
            Err(Failure::Op(op, e)) => format!("result=failed {}", describe(op, e)),
            Err(Failure::Corrupt(what)) => format!("result=corrupt what={what:?}"),
        };
        println!("client id={id} {outcome} bytes={bytes} stalls={stalls}");
    }
}

/// `op=… name=… errno=…` for an error of `op`.
fn describe(op: &str, e: &sock::Error) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    format!("op={op} name={} errno={errno}", e.name())
}

/// Connections the server is serving now.
static SERVING: AtomicUsize = AtomicUsize::new(0);

/// Counts one connection the server serves, until dropped.
#[derive(Debug)]
pub(crate) struct Serving(());

impl Serving {
    /// Counts a connection the server starts serving.
    pub(crate) fn start() -> Serving {
        SERVING.fetch_add(1, Ordering::SeqCst);
        Serving(())
    }

    /// Whether the server serves no connection now, or `deadline` has passed; polled
    /// after the clients finished, so that `done` comes after the server's last line.
    pub(crate) fn none_or_past(deadline: Instant) -> bool {
        SERVING.load(Ordering::SeqCst) == 0 || Instant::now() >= deadline
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        SERVING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Prints the line of an error the server met: `error side=server op=… name=…`.
pub(crate) fn report_error(op: &str, e: &sock::Error) {
    println!("error side=server {}", describe(op, e));
}

/// A [`Failure::Op`] for `op`, for `map_err`.
pub(crate) fn failed(op: &'static str) -> impl Fn(sock::Error) -> Failure {
    move |e| Failure::Op(op, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            seed: 1,
            clients: 1,
            exchanges: 2,
            stall: None,
        }
    }

    #[test]
    fn the_echo_of_what_was_sent_checks_and_a_changed_byte_does_not() {
        let mut ex = Exchange::new(&plan(), 0);
        let payload = ex.next_payload().unwrap();
        let nudge = ex.nudge_byte();
        let (head, tail) = payload.split_at(payload.len() / 2);
        assert!(ex.check(head).is_ok() && ex.check(tail).is_ok());
        assert!(ex.check(&[nudge.wrapping_add(1)]).is_err());
    }

    #[test]
    fn the_payloads_run_out_and_repeat_by_seed() {
        let (mut a, mut b) = (Exchange::new(&plan(), 3), Exchange::new(&plan(), 3));
        assert_eq!(a.next_payload(), b.next_payload());
        assert!(a.next_payload().is_some() && a.next_payload().is_none());
    }
}
