//! The OS enumerations a lookup is parameterised by: [`Family`], [`SocketType`],
//! [`Protocol`].
//!
//! Each is a newtype over the OS's raw `int` with associated constants (socket2's
//! `Domain`/`Type`/`Protocol` shape), so values the OS returns that have no constant here
//! still round-trip. `Debug` prints the constant's name; `FromStr` and `name()` speak the
//! seed's strings (`"inet"`, `"tcp"`, …), with `""` and `"0"` meaning "any".

use std::fmt;
use std::str::FromStr;

use crate::sys;

/// Generates a newtype with constants, `Debug`, `name`, `FromStr`, `as_raw`/`from_raw`.
macro_rules! os_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, what = $what:literal;
        $( $(#[$cmeta:meta])* $konst:ident = $raw:expr, $seed:literal; )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(i32);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($raw); )*

            /// The raw OS value.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sock::addr::", stringify!($name), ";")]
            #[doc = concat!("let v = ", stringify!($name), "::default();")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::from_raw(v.as_raw()), v);")]
            /// ```
            pub const fn as_raw(self) -> i32 {
                self.0
            }

            /// Wraps a raw OS value (any value: the OS may return ones without a constant).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sock::addr::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::from_raw(0), ", stringify!($name), "::default());")]
            /// ```
            pub const fn from_raw(raw: i32) -> $name {
                $name(raw)
            }

            /// The seed's string for this value (`""` for "any" and for values without a
            /// name); `FromStr` parses it back.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sock::addr::", stringify!($name), ";")]
            #[doc = concat!("for s in [", $(stringify!($seed), ", ",)* "] {")]
            #[doc = concat!("    assert_eq!(s.parse::<", stringify!($name), ">().unwrap().name(), s);")]
            /// }
            /// ```
            pub fn name(self) -> &'static str {
                $( if self == $name::$konst { return $seed; } )*
                ""
            }

            /// The constant's name, if this value has one.
            fn const_name(self) -> Option<&'static str> {
                $( if self == $name::$konst { return Some(stringify!($konst)); } )*
                None
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.const_name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseNameError;

            /// Parses the seed's string (ASCII case-insensitive); `""` and `"0"` = any.
            fn from_str(s: &str) -> Result<$name, ParseNameError> {
                if s.is_empty() || s == "0" {
                    return Ok($name::default());
                }
                $( if !$seed.is_empty() && s.eq_ignore_ascii_case($seed) {
                    return Ok($name::$konst);
                } )*
                Err(ParseNameError::new($what, s, &[$($seed),*]))
            }
        }
    };
}

os_enum! {
    /// An address family (`AF_*`): the seed's `"inet"`, `"inet6"`, `"unix"`, or any.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Family;
    ///
    /// assert_eq!("inet6".parse::<Family>()?, Family::INET6);
    /// assert_eq!(format!("{:?}", Family::INET), "INET");
    /// assert_eq!(Family::UNIX.name(), "unix");
    /// assert_eq!(Family::default(), Family::UNSPEC);
    /// # Ok::<(), sock::addr::ParseNameError>(())
    /// ```
    #[doc(alias = "af")]
    pub struct Family, what = "address family";
    /// Any family (`AF_UNSPEC`, the seed's `0`).
    UNSPEC = sys::AF_UNSPEC, "";
    /// IPv4 (`AF_INET`, `"inet"`).
    INET = sys::AF_INET, "inet";
    /// IPv6 (`AF_INET6`, `"inet6"`).
    INET6 = sys::AF_INET6, "inet6";
    /// Unix-domain sockets (`AF_UNIX`, `"unix"`).
    UNIX = sys::AF_UNIX, "unix";
}

os_enum! {
    /// A socket type (`SOCK_*`): the seed's `"tcp"` (stream), `"udp"` (datagram),
    /// `"raw"`, or any.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::addr::SocketType;
    ///
    /// assert_eq!("tcp".parse::<SocketType>()?, SocketType::STREAM);
    /// assert_eq!(format!("{:?}", SocketType::DGRAM), "DGRAM");
    /// assert_eq!(SocketType::RAW.name(), "raw");
    /// # Ok::<(), sock::addr::ParseNameError>(())
    /// ```
    #[doc(alias = "type")]
    pub struct SocketType, what = "socket type";
    /// Any socket type (`0`, the seed's default).
    ANY = 0, "";
    /// A byte stream (`SOCK_STREAM`, the seed's `"tcp"`).
    STREAM = sys::SOCK_STREAM, "tcp";
    /// Datagrams (`SOCK_DGRAM`, the seed's `"udp"`).
    DGRAM = sys::SOCK_DGRAM, "udp";
    /// Raw IP (`SOCK_RAW`, `"raw"`).
    RAW = sys::SOCK_RAW, "raw";
}

os_enum! {
    /// An IP protocol (`IPPROTO_*`): the seed's `"ip"`, `"ipv6"`, `"tcp"`, `"udp"`,
    /// `"raw"`, `"icmp"`, `"igmp"`, `"icmpv6"`; `IP` (0) is also "the default for the
    /// socket type".
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::addr::Protocol;
    ///
    /// assert_eq!("icmpv6".parse::<Protocol>()?, Protocol::ICMPV6);
    /// assert_eq!(format!("{:?}", Protocol::TCP), "TCP");
    /// assert_eq!(Protocol::default(), Protocol::IP);
    /// # Ok::<(), sock::addr::ParseNameError>(())
    /// ```
    pub struct Protocol, what = "protocol";
    /// IP, or "the default protocol for the socket type" (`0`).
    IP = sys::IPPROTO_IP, "ip";
    /// IPv6 (`IPPROTO_IPV6`).
    IPV6 = sys::IPPROTO_IPV6, "ipv6";
    /// TCP (`IPPROTO_TCP`).
    TCP = sys::IPPROTO_TCP, "tcp";
    /// UDP (`IPPROTO_UDP`).
    UDP = sys::IPPROTO_UDP, "udp";
    /// Raw IP packets (`IPPROTO_RAW`).
    RAW = sys::IPPROTO_RAW, "raw";
    /// ICMP (`IPPROTO_ICMP`).
    ICMP = sys::IPPROTO_ICMP, "icmp";
    /// IGMP (`IPPROTO_IGMP`).
    IGMP = sys::IPPROTO_IGMP, "igmp";
    /// ICMPv6 (`IPPROTO_ICMPV6`).
    ICMPV6 = sys::IPPROTO_ICMPV6, "icmpv6";
}

/// A string that is not one of the seed's names for a family, socket type, protocol or
/// flag.
///
/// # Examples
///
/// ```
/// use sock::Family;
///
/// let err = "ipx".parse::<Family>().unwrap_err();
/// assert_eq!(err.to_string(), r#"unknown address family "ipx" (expected one of: inet, inet6, unix)"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {input:?} (expected one of: {expected})")]
pub struct ParseNameError {
    /// What was being parsed.
    what: &'static str,
    /// The rejected input.
    input: String,
    /// The accepted names, comma-separated.
    expected: String,
}

impl ParseNameError {
    pub(crate) fn new(what: &'static str, input: &str, names: &[&str]) -> ParseNameError {
        let names: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
        ParseNameError {
            what,
            input: input.to_owned(),
            expected: names.join(", "),
        }
    }
}
