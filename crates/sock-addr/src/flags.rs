//! [`Flags`]: the `AI_*` bits of a lookup, a bitflags-like newtype over the OS's values.

use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign, Sub};
use std::str::FromStr;

use crate::kinds::ParseNameError;
use crate::sys;

/// The `getaddrinfo` flags (`AI_*`), combined with `|`; the seed's `af` argument.
///
/// Each is passed to the OS as is; the raw bits differ between platforms.
///
/// # Examples
///
/// ```
/// use sock::Flags;
///
/// let flags = Flags::PASSIVE | Flags::NUMERICSERV;
/// assert!(flags.contains(Flags::PASSIVE));
/// assert!(!flags.contains(Flags::CANONNAME));
/// assert_eq!(format!("{flags:?}"), "PASSIVE | NUMERICSERV");
/// assert_eq!("passive|numericserv".parse::<Flags>()?, flags);
/// # Ok::<(), sock::addr::ParseNameError>(())
/// ```
#[doc(alias = "af")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(i32);

/// Every named flag with its constant's name and the seed's string.
const NAMED: [(Flags, &str, &str); 7] = [
    (Flags::PASSIVE, "PASSIVE", "passive"),
    (Flags::CANONNAME, "CANONNAME", "canonname"),
    (Flags::NUMERICHOST, "NUMERICHOST", "numerichost"),
    (Flags::NUMERICSERV, "NUMERICSERV", "numericserv"),
    (Flags::ALL, "ALL", "all"),
    (Flags::V4MAPPED, "V4MAPPED", "v4mapped"),
    (Flags::ADDRCONFIG, "ADDRCONFIG", "addrconfig"),
];

impl Flags {
    /// The address is for `bind`: with host `"*"` the result is the wildcard address
    /// (all interfaces) instead of loopback (`AI_PASSIVE`).
    pub const PASSIVE: Flags = Flags(sys::AI_PASSIVE);
    /// Fill in the canonical name of the host in the first entry (`AI_CANONNAME`).
    #[doc(alias = "cannonname")]
    pub const CANONNAME: Flags = Flags(sys::AI_CANONNAME);
    /// The host must be a numeric address; no name is looked up (`AI_NUMERICHOST`).
    pub const NUMERICHOST: Flags = Flags(sys::AI_NUMERICHOST);
    /// The port must be numeric; no service name is looked up (`AI_NUMERICSERV`).
    pub const NUMERICSERV: Flags = Flags(sys::AI_NUMERICSERV);
    /// With [`V4MAPPED`](Self::V4MAPPED): IPv6 and IPv4-mapped addresses both
    /// (`AI_ALL`).
    pub const ALL: Flags = Flags(sys::AI_ALL);
    /// For an `INET6` lookup, return IPv4 addresses as IPv4-mapped IPv6 when there is
    /// no IPv6 address (`AI_V4MAPPED`).
    pub const V4MAPPED: Flags = Flags(sys::AI_V4MAPPED);
    /// Return a family only when the machine has a non-loopback address of that family
    /// configured (`AI_ADDRCONFIG`).
    pub const ADDRCONFIG: Flags = Flags(sys::AI_ADDRCONFIG);

    /// No flags.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock::Flags::empty().is_empty());
    /// ```
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// Whether no flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sock::Flags::ALL.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set in `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    /// assert!((Flags::ALL | Flags::V4MAPPED).contains(Flags::ALL));
    /// ```
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Both sets of flags (same as `|`, usable in `const`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    /// const F: Flags = Flags::ALL.union(Flags::V4MAPPED);
    /// assert_eq!(F, Flags::ALL | Flags::V4MAPPED);
    /// ```
    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// The raw OS bits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    /// assert_eq!(Flags::from_raw(Flags::PASSIVE.as_raw()), Flags::PASSIVE);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// Wraps raw OS bits (unknown bits are kept and passed to the OS).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::Flags;
    /// assert_eq!(Flags::from_raw(0), Flags::empty());
    /// ```
    pub const fn from_raw(raw: i32) -> Flags {
        Flags(raw)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        *self = self.union(rhs);
    }
}

impl BitAnd for Flags {
    type Output = Flags;
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}

impl Sub for Flags {
    type Output = Flags;
    /// The flags of `self` that are not in `rhs`.
    fn sub(self, rhs: Flags) -> Flags {
        Flags(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(empty)");
        }
        let mut rest = *self;
        let mut sep = "";
        for (flag, name, _) in NAMED {
            if self.contains(flag) {
                write!(f, "{sep}{name}")?;
                rest = rest - flag;
                sep = " | ";
            }
        }
        if !rest.is_empty() {
            write!(f, "{sep}{:#x}", rest.0)?;
        }
        Ok(())
    }
}

impl FromStr for Flags {
    type Err = ParseNameError;

    /// Parses the seed's names (`"passive"`, `"canonname"` — also its spelling
    /// `"cannonname"` — `"numerichost"`, `"numericserv"`, `"all"`, `"v4mapped"`,
    /// `"addrconfig"`), ASCII case-insensitive, separated by `|`, `,` or spaces; `""` is
    /// no flags.
    fn from_str(s: &str) -> Result<Flags, ParseNameError> {
        let words = s.split(['|', ',', ' ']).filter(|w| !w.is_empty());
        words
            .map(parse_one)
            .try_fold(Flags::empty(), |acc, f| Ok(acc | f?))
    }
}

fn parse_one(word: &str) -> Result<Flags, ParseNameError> {
    if word.eq_ignore_ascii_case("cannonname") {
        return Ok(Flags::CANONNAME);
    }
    let found = NAMED
        .iter()
        .find(|(_, _, seed)| word.eq_ignore_ascii_case(seed));
    found.map(|(flag, _, _)| *flag).ok_or_else(|| {
        let names: Vec<&str> = NAMED.iter().map(|(_, _, seed)| *seed).collect();
        ParseNameError::new("lookup flag", word, &names)
    })
}
