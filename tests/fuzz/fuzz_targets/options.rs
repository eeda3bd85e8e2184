//! Socket options by name: `setopt` then `getopt` with any name and value on real
//! sockets — a TCP/IPv4, a UDP/IPv6 and a unix stream socket, created once per process
//! (options set by earlier inputs stay set; the sockets never connect or send, so no
//! option can reach the network).
//!
//! The input picks the socket, the name (a known one, in either case, or any string) and
//! the value (a bool, any `i32`, linger off or a linger time). Nothing may panic; an
//! unknown name is `InvalidInput` for both calls; and on the options whose value the
//! kernel keeps as given (listed below, on the sockets they apply to), a successful
//! `setopt` is read back by `getopt`.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use sock::{ErrorKind, Family, Tcp, Udp, io::OptValue};
use sock_fuzz::Input;

/// One of the sockets, with what may be checked on it.
struct Socket {
    /// The socket.
    handle: Handle,
    /// The option name prefixes whose round trip is checked here (`tcp_` on TCP only,
    /// `ip_` on IPv4, `ipv6_` on IPv6; the `so_` ones everywhere).
    levels: &'static [&'static str],
}

/// On/off options the kernel reads back as set.
const STABLE_BOOLS: [&str; 12] = [
    "so_reuseaddr",
    "so_reuseport",
    "so_keepalive",
    "so_broadcast",
    "so_oobinline",
    "so_dontroute",
    "so_passcred",
    "so_timestamp",
    "tcp_nodelay",
    "tcp_cork",
    "ip_multicast_loop",
    "ipv6_v6only",
];

/// Numeric options the kernel reads back as set (when it accepts a value of 0 or more;
/// negative values mean "the default" for some).
const STABLE_INTS: [&str; 11] = [
    "so_mark",
    "so_priority",
    "ip_ttl",
    "ip_multicast_ttl",
    "ipv6_unicast_hops",
    "tcp_keepidle",
    "tcp_keepintvl",
    "tcp_keepcnt",
    "tcp_syncnt",
    "tcp_user_timeout",
    "tcp_notsent_lowat",
];

/// A stream or a datagram socket.
enum Handle {
    /// TCP or a unix stream.
    Stream(Tcp),
    /// UDP.
    Datagram(Udp),
}

impl Handle {
    /// `setopt`.
    fn set(&self, name: &str, value: OptValue) -> sock::Result<()> {
        match self {
            Handle::Stream(s) => s.setopt(name, value),
            Handle::Datagram(s) => s.setopt(name, value),
        }
    }

    /// `getopt`.
    fn get(&self, name: &str) -> sock::Result<OptValue> {
        match self {
            Handle::Stream(s) => s.getopt(name),
            Handle::Datagram(s) => s.getopt(name),
        }
    }
}

thread_local! {
    static SOCKETS: Vec<Socket> = open();
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let which = usize::from(input.byte());
    let name = pick_name(&mut input);
    let value = pick_value(&mut input);
    SOCKETS.with(|sockets| check(&sockets[which % sockets.len()], &name, value));
});

/// The sockets every input works on.
fn open() -> Vec<Socket> {
    let tcp = sock::tcp(Family::INET).expect("a TCP socket");
    let udp = sock::udp(Family::INET6).expect("a UDP/IPv6 socket");
    let unix = sock::tcp(Family::UNIX).expect("a unix stream socket");
    vec![
        Socket {
            handle: Handle::Stream(tcp),
            levels: &["so_", "tcp_", "ip_"],
        },
        Socket {
            handle: Handle::Datagram(udp),
            levels: &["so_", "ipv6_"],
        },
        Socket {
            handle: Handle::Stream(unix),
            levels: &["so_"],
        },
    ]
}

/// A known option name (upper-cased or not), or any string.
fn pick_name(input: &mut Input<'_>) -> String {
    let names: Vec<&str> = sock::io::option_names().collect();
    let pick = input.byte();
    if pick >= 0xc0 {
        let len = usize::from(input.byte() % 48);
        return input.string(len);
    }
    let name = names[usize::from(pick) % names.len()];
    match input.byte() % 2 {
        0 => name.to_owned(),
        _ => name.to_ascii_uppercase(),
    }
}

/// A bool, any number, linger off, or a linger time of 0 to 3 s.
fn pick_value(input: &mut Input<'_>) -> OptValue {
    match input.byte() % 4 {
        0 => OptValue::Bool(input.byte() % 2 == 1),
        1 => OptValue::Int(input.i32()),
        2 => OptValue::Linger(None),
        _ => OptValue::Linger(Some(Duration::from_secs(u64::from(input.byte() % 4)))),
    }
}

/// Sets and reads back `name` on `socket`.
fn check(socket: &Socket, name: &str, value: OptValue) {
    let set = socket.handle.set(name, value.clone());
    let got = socket.handle.get(name);
    let _ = format!("{value} {value:?} {set:?} {got:?}");
    if let Ok(read) = &got {
        let _ = read.to_string();
    }
    let lower = name.to_ascii_lowercase();
    if !sock::io::option_names().any(|known| known == lower) {
        assert_eq!(set.map_err(|e| e.kind()), Err(ErrorKind::InvalidInput));
        assert_eq!(got.map_err(|e| e.kind()), Err(ErrorKind::InvalidInput));
        return;
    }
    let checked_here = socket.levels.iter().any(|p| lower.starts_with(p));
    if set.is_ok()
        && checked_here
        && let Some(want) = read_back(&lower, &value)
    {
        assert_eq!(got.ok(), Some(want), "{name} set to {value:?}");
    }
}

/// What `getopt(name)` must give after `setopt(name, value)` succeeded, where known.
fn read_back(name: &str, value: &OptValue) -> Option<OptValue> {
    if name == "so_linger" {
        return Some(match value {
            OptValue::Int(0) | OptValue::Linger(Some(Duration::ZERO)) => {
                OptValue::Linger(Some(Duration::ZERO))
            }
            _ => OptValue::Linger(None),
        });
    }
    match value {
        OptValue::Bool(b) if STABLE_BOOLS.contains(&name) => Some(OptValue::Bool(*b)),
        OptValue::Bool(b) if STABLE_INTS.contains(&name) => Some(OptValue::Int(i32::from(*b))),
        OptValue::Int(i) if *i >= 0 && STABLE_INTS.contains(&name) => Some(OptValue::Int(*i)),
        _ => None,
    }
}
