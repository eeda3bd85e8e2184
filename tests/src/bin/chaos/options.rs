//! Socket options by name, valid and not, and what each must give.
//!
//! An unknown name and a value of the wrong kind are `InvalidInput` (so is a positive
//! `so_linger`, which would block the loop, and setting a read-only option); a flag set
//! reads back the same; `so_type` reads back the socket's type; in the loop mode an
//! option of a closed socket is `Closed`. Options of another protocol (`tcp_nodelay` on
//! a datagram socket) may succeed or fail, as the OS decides.

use sock::{ErrorKind, io::OptValue};

use crate::endpoint::Endpoint;
use crate::plan::{Kind, OptArg};
use crate::report::violation;

/// What a call must give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Success.
    Ok,
    /// This error.
    Fails(ErrorKind),
    /// Whatever the OS says.
    Any,
}

/// Sets `name` to `arg` on `ep` (`closed`: by this task; another may have closed it
/// too) and checks the result (and the read-back of a flag).
pub(crate) fn check_set<E: Endpoint>(ep: &E, name: &str, arg: OptArg, closed: bool, kind: Kind) {
    let closed = closed || ep.is_closed();
    let value = match arg {
        OptArg::Bool(b) => OptValue::Bool(b),
        OptArg::Int(i) => OptValue::Int(i),
    };
    let r = ep.setopt(name, value.clone());
    let expect = after_close::<E>(closed, set_expect(name, arg, kind));
    judge("setopt", name, &r, expect);
    if let (Ok(()), OptValue::Bool(b), false) = (&r, &value, closed) {
        match ep.getopt(name) {
            Ok(OptValue::Bool(got)) if got == *b => {}
            other => violation(format!("getopt {name} after setting {b} gave {other:?}")),
        }
    }
}

/// Reads `name` from `ep` and checks the result.
pub(crate) fn check_get<E: Endpoint>(ep: &E, name: &str, closed: bool, kind: Kind) {
    let closed = closed || ep.is_closed();
    let r = ep.getopt(name);
    let expect = after_close::<E>(closed, get_expect(name, kind));
    judge("getopt", name, &r, expect);
    if let (Ok(v), "so_type", false) = (&r, name, closed) {
        let want = if kind.is_stream() { 1 } else { 2 };
        if *v != OptValue::Int(want) {
            violation(format!(
                "getopt so_type on a {} socket gave {v:?}",
                kind.name()
            ));
        }
    }
}

/// What setting `name` to `arg` must give on an open socket of `kind`.
fn set_expect(name: &str, arg: OptArg, kind: Kind) -> Expect {
    match (name, arg) {
        ("so_bogus", _) | ("so_type", _) | ("so_linger", OptArg::Int(1..)) => {
            Expect::Fails(ErrorKind::InvalidInput)
        }
        ("so_reuseaddr" | "so_rcvbuf" | "so_sndbuf", _) => Expect::Ok,
        ("so_keepalive" | "tcp_nodelay", _) if kind.is_tcp() => Expect::Ok,
        ("so_broadcast", _) if kind == Kind::Udp4 => Expect::Ok,
        ("ip_ttl", _) if matches!(kind, Kind::Tcp4 | Kind::Udp4) => Expect::Ok,
        _ => Expect::Any,
    }
}

/// What reading `name` must give on an open socket of `kind`.
fn get_expect(name: &str, kind: Kind) -> Expect {
    match name {
        "so_bogus" => Expect::Fails(ErrorKind::InvalidInput),
        "so_type" | "so_reuseaddr" | "so_rcvbuf" | "so_sndbuf" | "so_linger" => Expect::Ok,
        "so_keepalive" | "tcp_nodelay" if kind.is_tcp() => Expect::Ok,
        _ => Expect::Any,
    }
}

/// The expectation once this side closed the socket: `Closed` in the loop mode (an
/// unknown name may be refused first); the shared mode keeps the fd open until the last
/// handle goes, so options still work there.
fn after_close<E: Endpoint>(closed: bool, open: Expect) -> Expect {
    match (closed, E::SHARED, open) {
        (false, ..) | (true, true, _) => open,
        (true, false, Expect::Fails(ErrorKind::InvalidInput)) => Expect::Any,
        (true, false, _) => Expect::Fails(ErrorKind::Closed),
    }
}

/// Reports `r` if it is not what `expect` says.
fn judge<T: std::fmt::Debug>(call: &str, name: &str, r: &sock::Result<T>, expect: Expect) {
    let fine = match (expect, r) {
        (Expect::Any, _) | (Expect::Ok, Ok(_)) => true,
        (Expect::Fails(kind), Err(e)) => e.kind() == kind,
        _ => false,
    };
    if !fine {
        violation(format!("{call} {name}: expected {expect:?}, got {r:?}"));
    }
}
