//! Socket options by the seed's names: `setopt("so_reuseaddr", true)`,
//! `getopt("tcp_nodelay")`.
//!
//! Each OS's `sys` module lists the options it offers (`so_*`, `tcp_*`, and the common
//! `ip_*`/`ipv6_*` ones) with their level, number and value kind. An unknown name or a
//! value of the wrong kind is an [`ErrorKind::InvalidInput`] error. `so_linger` takes
//! `0` (reset the connection on close) or `false` (off): a positive linger would make
//! `close` block the whole loop, so it is refused.
//!
//! Linux adds, among others: `ip_freebind` (bind an address no interface has yet, e.g.
//! a service address that comes up later), `udp_cork` (sends are collected into one
//! datagram, which leaves when the option is turned off) and `tcp_fastopen_connect`
//! (with a fast-open cookie from an earlier connection to the server, `connect` returns
//! at once and the first `send` carries its bytes in the SYN; needs the client bit of
//! `net.ipv4.tcp_fastopen`, else [`ErrorKind::Unsupported`]). Other OSes do not know
//! these names: they are unknown options there.

use std::fmt;
use std::time::Duration;

use socket2::SockRef;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

/// The kind of value an option takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptKind {
    /// On/off.
    Bool,
    /// A number.
    Int,
    /// `so_linger`: off, or 0 seconds.
    Linger,
    /// Read-only, a number (`so_error`, `so_type`, …).
    ReadOnly,
}

/// One option of the OS table.
#[derive(Debug)]
pub(crate) struct OptSpec {
    pub(crate) name: &'static str,
    pub(crate) level: i32,
    pub(crate) opt: i32,
    pub(crate) kind: OptKind,
}

/// A socket option value.
///
/// # Examples
///
/// ```
/// use sock::io::OptValue;
///
/// assert_eq!(OptValue::from(true), OptValue::Bool(true));
/// assert_eq!(OptValue::from(4096), OptValue::Int(4096));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptValue {
    /// An on/off option.
    Bool(bool),
    /// A numeric option (buffer sizes, seconds, counts, read-only codes).
    Int(i32),
    /// `so_linger`: `None` when off, else the linger time.
    Linger(Option<Duration>),
}

impl From<bool> for OptValue {
    fn from(v: bool) -> OptValue {
        OptValue::Bool(v)
    }
}

impl From<i32> for OptValue {
    fn from(v: i32) -> OptValue {
        OptValue::Int(v)
    }
}

impl fmt::Display for OptValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptValue::Bool(b) => write!(f, "{b}"),
            OptValue::Int(i) => write!(f, "{i}"),
            OptValue::Linger(None) => f.write_str("off"),
            OptValue::Linger(Some(d)) => write!(f, "{}s", d.as_secs()),
        }
    }
}

impl OptValue {
    /// The value as a bool, if it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::io::OptValue::Bool(true).as_bool(), Some(true));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            OptValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a number, if it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::io::OptValue::Int(7).as_int(), Some(7));
    /// ```
    pub fn as_int(&self) -> Option<i32> {
        match *self {
            OptValue::Int(i) => Some(i),
            _ => None,
        }
    }
}

/// Every option name this OS offers, for discovery and error messages.
///
/// # Examples
///
/// ```
/// assert!(sock::io::option_names().any(|n| n == "so_reuseaddr"));
/// ```
pub fn option_names() -> impl Iterator<Item = &'static str> {
    sys::options().map(|s| s.name)
}

/// The OS table's option `name` (without case), or `InvalidInput`.
pub(crate) fn find(name: &str) -> Result<&'static OptSpec> {
    sys::options()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("unknown socket option '{name}' (see sock::io::option_names())"),
            )
        })
}

/// The error of `value` given to an option of another kind.
pub(crate) fn wrong_value(spec: &OptSpec, value: &OptValue) -> Error {
    let want = match spec.kind {
        OptKind::Bool => "a bool",
        OptKind::Int => "a number",
        OptKind::Linger => "0 (reset on close) or false (off)",
        OptKind::ReadOnly => "nothing: it is read-only",
    };
    Error::new(
        ErrorKind::InvalidInput,
        format!("option '{}' takes {want}, not {value:?}", spec.name),
    )
}

/// Sets option `name` on `s`.
pub(crate) fn set(s: &SockRef<'_>, name: &str, value: OptValue) -> Result<()> {
    set_spec(s, find(name)?, value)
}

/// Sets the option of `spec` on `s`.
fn set_spec(s: &SockRef<'_>, spec: &OptSpec, value: OptValue) -> Result<()> {
    let raw = match (spec.kind, &value) {
        (OptKind::Bool, OptValue::Bool(b)) => i32::from(*b),
        (OptKind::Int, OptValue::Int(i)) => *i,
        (OptKind::Int, OptValue::Bool(b)) => i32::from(*b),
        (OptKind::Linger, _) => return set_linger(s, spec, &value),
        _ => return Err(wrong_value(spec, &value)),
    };
    sys::setsockopt_int(s, spec.level, spec.opt, raw).map_err(|e| option_error(spec, e))
}

fn set_linger(s: &SockRef<'_>, spec: &OptSpec, value: &OptValue) -> Result<()> {
    let linger = match value {
        OptValue::Int(0) | OptValue::Linger(Some(Duration::ZERO)) => Some(Duration::ZERO),
        OptValue::Bool(false) | OptValue::Linger(None) => None,
        OptValue::Int(n) if *n > 0 => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "so_linger > 0 would block the loop in close(); use 0 (reset) or false (off)",
            ));
        }
        _ => return Err(wrong_value(spec, value)),
    };
    s.set_linger(linger).map_err(|e| option_error(spec, e))
}

/// Reads option `name` of `s`.
pub(crate) fn get(s: &SockRef<'_>, name: &str) -> Result<OptValue> {
    get_spec(s, find(name)?)
}

/// Reads the option of `spec` of `s`.
fn get_spec(s: &SockRef<'_>, spec: &OptSpec) -> Result<OptValue> {
    if spec.kind == OptKind::Linger {
        return s
            .linger()
            .map(OptValue::Linger)
            .map_err(|e| option_error(spec, e));
    }
    let raw = sys::getsockopt_int(s, spec.level, spec.opt).map_err(|e| option_error(spec, e))?;
    Ok(match spec.kind {
        OptKind::Bool => OptValue::Bool(raw != 0),
        _ => OptValue::Int(raw),
    })
}

/// Copies to `to` every settable option whose value on `from` differs from `to`'s
/// (best effort: an option that cannot be read or set on either is left as it is). A
/// buffer size the OS reports doubled (Linux) is set to half the reported value, which
/// reads back as the same.
pub(crate) fn copy(from: &SockRef<'_>, to: &SockRef<'_>) {
    for spec in sys::options().filter(|s| s.kind != OptKind::ReadOnly) {
        let (Ok(want), Ok(have)) = (get_spec(from, spec), get_spec(to, spec)) else {
            continue;
        };
        if want == have {
            continue;
        }
        let value = match want {
            OptValue::Int(n) if sys::READ_BACK_DOUBLED.contains(&spec.name) => OptValue::Int(n / 2),
            v => v,
        };
        let _ = set_spec(to, spec, value);
    }
}

fn option_error(spec: &OptSpec, e: std::io::Error) -> Error {
    let msg = format!("option '{}': {e}", spec.name);
    Error::from(e).with_message(msg)
}
