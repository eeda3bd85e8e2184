//! Which faults are injected, where, and what each must lead to.
//!
//! Only pairs a kernel can produce on these sockets are listed. Left out: `EINTR` from
//! `connect` (a non-blocking connect never sleeps, so it is never interrupted; an
//! injected one would leave a socket that never connects), `EAGAIN` from `connect`
//! (for TCP it means "no local port", not "try later"), `ECONNABORTED` outside
//! `accept4`, `ENOBUFS` from `recvfrom`, and anything but `EINTR` from `epoll_wait`.
//!
//! The TCP suites read with `recvfrom` and write with `sendto` (the `recvmsg` and
//! `sendmsg` forms are UDP's); both forms of a pair are in the injected set, each
//! counted on its own.

use sock_tests::harness::rng::Rng;

/// What an injected error must lead to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Retried at once and never seen (`EINTR`): no error anywhere, every client done.
    Retried,
    /// The operation parks and goes on at the next event (`EAGAIN`, which on an
    /// edge-triggered poller is a promise that an event will come; the clients make
    /// one when they stall): no error anywhere, every client done.
    Parks,
    /// Reported by this kind's name, once per injection, by the operation that met it;
    /// an `accept` error leaves the connection waiting for the next `accept`.
    Surfaces(&'static str),
}

/// One syscall fault and the range its random position is drawn from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fault {
    /// The syscall set, as strace's `-e inject=` takes it.
    pub(crate) syscalls: &'static str,
    /// The errno's symbolic name.
    pub(crate) errno: &'static str,
    /// What it must lead to.
    pub(crate) expect: Expect,
    /// The first failing call is one of these (per thread: strace counts per tracee).
    first: (u64, u64),
    /// Then every `step`-th call, `step` one of these.
    step: (u64, u64),
}

/// A fault of `syscalls` with `errno`.
const fn fault(
    syscalls: &'static str,
    errno: &'static str,
    expect: Expect,
    first: (u64, u64),
    step: (u64, u64),
) -> Fault {
    Fault {
        syscalls,
        errno,
        expect,
        first,
        step,
    }
}

/// Accepts: six per run plus a few that find nothing; fail early and often.
const ACCEPT: ((u64, u64), (u64, u64)) = ((1, 6), (2, 5));
/// Reads and writes interrupted: hundreds of calls per run; one in every 8 to 40.
const IO: ((u64, u64), (u64, u64)) = ((1, 40), (8, 40));
/// Reads and writes failed: each costs a connection, so rarer, and some survive.
const IO_FAIL: ((u64, u64), (u64, u64)) = ((1, 80), (40, 150));
/// Reads and writes told "would block": rarer, each costs a stall of the client.
const IO_AGAIN: ((u64, u64), (u64, u64)) = ((1, 40), (25, 60));
/// Waits of the loop: dozens per run.
const WAIT: ((u64, u64), (u64, u64)) = ((1, 20), (2, 12));
/// Connects: one per client (and per poke).
const CONNECT: ((u64, u64), (u64, u64)) = ((1, 6), (2, 4));

const OOM: Expect = Expect::Surfaces("out_of_memory");
const ABORTED: Expect = Expect::Surfaces("connection_aborted");
const RECV: &str = "recvfrom,recvmsg";
const SEND: &str = "sendto,sendmsg";

/// Every fault, in the order each round runs them.
pub(crate) const FAULTS: [Fault; 15] = [
    fault("accept4", "EINTR", Expect::Retried, ACCEPT.0, ACCEPT.1),
    fault("accept4", "EAGAIN", Expect::Parks, ACCEPT.0, ACCEPT.1),
    fault("accept4", "ECONNABORTED", ABORTED, ACCEPT.0, ACCEPT.1),
    fault("accept4", "ENOBUFS", OOM, ACCEPT.0, ACCEPT.1),
    fault("accept4", "ENOMEM", OOM, ACCEPT.0, ACCEPT.1),
    fault(RECV, "EINTR", Expect::Retried, IO.0, IO.1),
    fault(RECV, "EAGAIN", Expect::Parks, IO_AGAIN.0, IO_AGAIN.1),
    fault(RECV, "ENOMEM", OOM, IO_FAIL.0, IO_FAIL.1),
    fault(SEND, "EINTR", Expect::Retried, IO.0, IO.1),
    fault(SEND, "EAGAIN", Expect::Parks, IO_AGAIN.0, IO_AGAIN.1),
    fault(SEND, "ENOBUFS", OOM, IO_FAIL.0, IO_FAIL.1),
    fault(SEND, "ENOMEM", OOM, IO_FAIL.0, IO_FAIL.1),
    fault("epoll_wait", "EINTR", Expect::Retried, WAIT.0, WAIT.1),
    fault("connect", "ENOBUFS", OOM, CONNECT.0, CONNECT.1),
    fault("connect", "ENOMEM", OOM, CONNECT.0, CONNECT.1),
];

/// The two ways of running sockets, each with its own server and clients.
pub(crate) const MODES: [&str; 2] = ["loop", "shared"];

/// One run: a fault in a mode, at positions drawn for one round of one seed.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    /// `loop` or `shared`.
    pub(crate) mode: &'static str,
    /// The fault.
    pub(crate) fault: Fault,
    /// strace's `when=` expression: `first+step`.
    pub(crate) when: String,
    /// Seeds the clients' payloads.
    pub(crate) payload_seed: u64,
}

impl Case {
    /// The case of `fault` in `mode` for `round` of the run seeded `seed`.
    pub(crate) fn new(mode: &'static str, fault: Fault, seed: u64, round: u32) -> Case {
        let mut rng = Rng::derive(seed, &format!("{round}:{}", name(mode, &fault)));
        let first = rng.range(fault.first.0, fault.first.1);
        let step = rng.range(fault.step.0, fault.step.1);
        Case {
            mode,
            fault,
            when: format!("{first}+{step}"),
            payload_seed: rng.next_u64(),
        }
    }

    /// `mode:syscall:ERRNO`, what `--only` matches.
    pub(crate) fn name(&self) -> String {
        name(self.mode, &self.fault)
    }

    /// The argument of strace's `-e inject=`.
    pub(crate) fn inject(&self) -> String {
        let Fault {
            syscalls, errno, ..
        } = self.fault;
        format!("inject={syscalls}:error={errno}:when={}", self.when)
    }
}

/// `mode:syscall:ERRNO` with the first syscall of the set.
fn name(mode: &str, fault: &Fault) -> String {
    let syscall = fault.syscalls.split(',').next().unwrap_or_default();
    format!("{mode}:{syscall}:{}", fault.errno)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_repeat_for_a_seed_and_round_and_stay_in_range() {
        let a = Case::new("loop", FAULTS[3], 99, 2);
        let b = Case::new("loop", FAULTS[3], 99, 2);
        assert_eq!((a.when.clone(), a.payload_seed), (b.when, b.payload_seed));
        let (first, step) = a.when.split_once('+').unwrap();
        let (first, step): (u64, u64) = (first.parse().unwrap(), step.parse().unwrap());
        assert!((1..=6).contains(&first) && (2..=5).contains(&step));
        assert_eq!(a.name(), "loop:accept4:ENOBUFS");
        assert!(a.inject().starts_with("inject=accept4:error=ENOBUFS:when="));
    }

    #[test]
    fn no_errno_is_retried_forever() {
        assert!(FAULTS.iter().all(|f| f.step.0 >= 2));
    }
}
