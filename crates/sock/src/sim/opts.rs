//! Socket options of a simulated socket (`setopt`/`getopt`, `Tcp::set_nodelay`): the
//! OS table's names and value kinds (`opt.rs`), each value kept per socket and given
//! back.
//!
//! Only options with a meaning in the model are taken; any other name of the OS table
//! is `Unsupported`, an unknown one `InvalidInput` as on the OS path. `so_sndbuf` and
//! `so_rcvbuf` set the model's buffer capacities (a TCP socket's send and receive
//! buffers, a UDP socket's receive queue; a UDP send buffer is only kept) and read
//! back as set, not doubled as Linux reports them. An unset option reads as the OS
//! default (or the model's current buffer size). Options set before a socket enters
//! the world take effect when it does (`listen`, `connect`, a UDP `bind`); an accepted
//! socket inherits its listener's, as on Linux.

use sock_addr::Family;

use super::SimSocket;
use crate::error::{Error, ErrorKind, Result};
use crate::opt::{self, OptKind, OptSpec, OptValue};

/// The options the model keeps, with their defaults (`None`: the buffer sizes, read
/// from the model; the read-only ones, computed).
const SIMULATED: &[(&str, Option<Initial>)] = &[
    ("so_reuseaddr", Some(Initial::Bool(false))),
    ("so_reuseport", Some(Initial::Bool(false))),
    ("so_keepalive", Some(Initial::Bool(false))),
    ("so_broadcast", Some(Initial::Bool(false))),
    ("so_linger", Some(Initial::LingerOff)),
    ("so_sndbuf", None),
    ("so_rcvbuf", None),
    ("so_error", None),
    ("so_type", None),
    ("so_acceptconn", None),
    ("tcp_nodelay", Some(Initial::Bool(false))),
    ("tcp_keepidle", Some(Initial::Int(7200))),
    ("tcp_keepintvl", Some(Initial::Int(75))),
    ("tcp_keepcnt", Some(Initial::Int(9))),
    ("ip_ttl", Some(Initial::Int(64))),
    ("ip_tos", Some(Initial::Int(0))),
    ("ipv6_v6only", Some(Initial::Bool(false))),
    ("ipv6_unicast_hops", Some(Initial::Int(64))),
];

/// The default of a kept option.
#[derive(Clone, Copy, Debug)]
enum Initial {
    /// On/off.
    Bool(bool),
    /// A number.
    Int(i32),
    /// `so_linger` off.
    LingerOff,
}

/// `SOCK_STREAM` and `SOCK_DGRAM` as `so_type` reports them (the same on every OS sock
/// runs on).
const SOCK_STREAM: i32 = 1;
/// See [`SOCK_STREAM`].
const SOCK_DGRAM: i32 = 2;

impl SimSocket {
    /// `setopt(name, value)` on a simulated socket.
    pub(crate) fn set_option(&self, name: &str, value: OptValue) -> Result<()> {
        let spec = self.simulated(name)?;
        let value = checked(spec, value)?;
        {
            let mut opts = self.opts.borrow_mut();
            opts.retain(|(n, _)| *n != spec.name);
            opts.push((spec.name, value));
        }
        self.apply_buffers()
    }

    /// `getopt(name)` on a simulated socket.
    pub(crate) fn option(&self, name: &str) -> Result<OptValue> {
        let spec = self.simulated(name)?;
        let kept = self
            .opts
            .borrow()
            .iter()
            .find(|(n, _)| *n == spec.name)
            .cloned();
        if let Some((_, value)) = kept {
            return Ok(value);
        }
        self.unset(spec.name)
    }

    /// Copies every option of `from` (a listener) to this socket (accepted from it),
    /// and applies the buffer sizes.
    pub(crate) fn inherit_options(&self, from: &SimSocket) -> Result<()> {
        *self.opts.borrow_mut() = from.opts.borrow().clone();
        self.apply_buffers()
    }

    /// Sets the model's buffer capacities from `so_sndbuf`/`so_rcvbuf`, once the socket
    /// is in the world (a no-op before, and when neither was set).
    pub(crate) fn apply_buffers(&self) -> Result<()> {
        let (send, recv) = (self.kept_int("so_sndbuf"), self.kept_int("so_rcvbuf"));
        let Some(id) = self.id().filter(|_| send.is_some() || recv.is_some()) else {
            return Ok(());
        };
        let tcp = self.tcp;
        self.world(|w, _| {
            if tcp {
                let (s, r) = w.tcp_buffers(id).unwrap_or((1, 1));
                w.tcp_set_buffers(id, send.unwrap_or(s), recv.unwrap_or(r));
            } else if let Some(r) = recv {
                w.udp_set_recv_buffer(id, r);
            }
            Ok(())
        })
    }

    /// The spec of `name` when the model keeps it: `InvalidInput` for a name the OS
    /// table lacks, `Unsupported` for one without a meaning here (or a TCP option on
    /// a UDP socket).
    fn simulated(&self, name: &str) -> Result<&'static OptSpec> {
        let spec = opt::find(name)?;
        let kept = SIMULATED.iter().any(|(n, _)| *n == spec.name);
        let fits = self.tcp || !spec.name.starts_with("tcp_");
        let v6 = spec.name.starts_with("ipv6_");
        let family_fits = !v6 || self.family != Family::INET;
        if kept && fits && family_fits {
            return Ok(spec);
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "sock::sim: option '{}' is not simulated on this socket",
                spec.name
            ),
        ))
    }

    /// The value of an option never set on this socket.
    fn unset(&self, name: &'static str) -> Result<OptValue> {
        let default = SIMULATED
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, d)| *d);
        Ok(match (default, name) {
            (Some(Initial::Bool(b)), _) => OptValue::Bool(b),
            (Some(Initial::Int(i)), _) => OptValue::Int(i),
            (Some(Initial::LingerOff), _) => OptValue::Linger(None),
            (None, "so_error") => OptValue::Int(0),
            (None, "so_type") => OptValue::Int(if self.tcp { SOCK_STREAM } else { SOCK_DGRAM }),
            (None, "so_acceptconn") => OptValue::Int(i32::from(self.is_listener()?)),
            (None, name) => OptValue::Int(self.buffer(name == "so_sndbuf")?),
        })
    }

    /// The model's send (`send`) or receive buffer capacity, saturated to an `i32`.
    fn buffer(&self, send: bool) -> Result<i32> {
        let (tcp, id) = (self.tcp, self.id());
        let bytes = self.world(|w, host| {
            Ok(match (tcp, id) {
                (true, Some(id)) => w.tcp_buffers(id).unwrap_or_default(),
                (true, None) => w.tcp_default_buffers(host),
                (false, id) => {
                    let r = w.udp_recv_buffer(id);
                    (w.udp_recv_buffer(None), r)
                }
            })
        })?;
        let n = if send { bytes.0 } else { bytes.1 };
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Whether the socket listens.
    fn is_listener(&self) -> Result<bool> {
        let Some(id) = self.id().filter(|_| self.tcp) else {
            return Ok(false);
        };
        self.world(|w, _| Ok(w.tcp_is_listening(id)))
    }

    /// A kept numeric option's value as a buffer size (at least one byte).
    fn kept_int(&self, name: &str) -> Option<usize> {
        let opts = self.opts.borrow();
        let (_, value) = opts.iter().find(|(n, _)| *n == name)?;
        value
            .as_int()
            .map(|n| usize::try_from(n).unwrap_or(0).max(1))
    }
}

/// `value` as the kind `spec` takes (a bool for a numeric option is 0/1, as the OS path
/// takes it), or `InvalidInput`; `so_linger` takes only 0 (reset) or off, as there.
fn checked(spec: &OptSpec, value: OptValue) -> Result<OptValue> {
    use std::time::Duration;
    match (spec.kind, &value) {
        (OptKind::Bool, OptValue::Bool(_)) | (OptKind::Int, OptValue::Int(_)) => Ok(value),
        (OptKind::Int, OptValue::Bool(b)) => Ok(OptValue::Int(i32::from(*b))),
        (OptKind::Linger, OptValue::Int(0) | OptValue::Linger(Some(Duration::ZERO))) => {
            Ok(OptValue::Linger(Some(Duration::ZERO)))
        }
        (OptKind::Linger, OptValue::Bool(false) | OptValue::Linger(None)) => {
            Ok(OptValue::Linger(None))
        }
        (OptKind::Linger, OptValue::Int(n)) if *n > 0 => Err(Error::new(
            ErrorKind::InvalidInput,
            "so_linger > 0 would block the loop in close(); use 0 (reset) or false (off)",
        )),
        _ => Err(opt::wrong_value(spec, &value)),
    }
}
