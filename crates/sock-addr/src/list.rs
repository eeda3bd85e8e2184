//! [`AddrList`]: the owned result of a lookup, and [`AddrInfo`], a view of one entry.
//!
//! The list keeps the OS's own `getaddrinfo` result (behind an `Arc`, so clones are
//! cheap and the off-loop resolver can hand one result to every merged caller) and frees
//! it with `freeaddrinfo` when the last clone drops. Entries are read in place; only the
//! socket address is copied out, as an owned [`SockAddr`]. A lookup the numeric fast
//! path answered (`numeric.rs`) holds its one entry inline instead: no OS list, no
//! allocation.

use std::fmt;
use std::sync::Arc;

use crate::numeric::Numeric;
use crate::sys;
use crate::{Family, Protocol, SockAddr, SocketType};

/// The addresses a lookup returned, in the OS's order; never empty (the seed's `ai`).
///
/// Freed when dropped (the seed's `ai:free()`); `Clone` shares the same OS list.
///
/// # Examples
///
/// ```
/// use sock::{addr::lookup, addr::Hints};
///
/// let list = lookup("127.0.0.1", 8080, &Hints::tcp())?;
/// assert_eq!(list.len(), 1);
/// for entry in &list {
///     assert_eq!(entry.to_string(), "127.0.0.1:8080");
/// }
/// # Ok::<(), sock::addr::LookupError>(())
/// ```
#[derive(Clone)]
pub struct AddrList {
    /// Where the entries are.
    repr: Repr,
}

/// The entries of an [`AddrList`]: the OS's list, or the one entry the numeric fast
/// path made.
#[derive(Clone)]
enum Repr {
    /// The OS's list.
    Os {
        /// The list; freed when the last clone drops.
        list: Arc<sys::OsList>,
        /// How many entries it has (counted once, at construction).
        len: usize,
    },
    /// A lookup answered without the OS.
    Numeric(Numeric),
    /// Entries given to [`AddrList::from_entries`]; never empty.
    #[cfg(feature = "entries")]
    Entries(Arc<[Numeric]>),
}

impl AddrList {
    /// Takes ownership of a list the OS returned.
    pub(crate) fn new(os: sys::OsList) -> AddrList {
        let len = std::iter::successors(Some(os.first()), |e| e.next()).count();
        let list = Arc::new(os);
        AddrList {
            repr: Repr::Os { list, len },
        }
    }

    /// The list of the one entry the numeric fast path answered with.
    pub(crate) fn numeric(entry: Numeric) -> AddrList {
        AddrList {
            repr: Repr::Numeric(entry),
        }
    }

    /// A list of the given entries, in order: (address, socket type, protocol) each, as
    /// `getaddrinfo` would give them; `None` for no entry (a lookup's list is never
    /// empty). For resolvers that answer without the OS, such as sock's simulation.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::addr::{AddrList, Protocol, SocketType};
    ///
    /// let entries = [
    ///     ("[::1]:80".parse().unwrap(), SocketType::STREAM, Protocol::TCP),
    ///     ("127.0.0.1:80".parse().unwrap(), SocketType::STREAM, Protocol::TCP),
    /// ];
    /// let list = AddrList::from_entries(entries).unwrap();
    /// let addrs: Vec<String> = list.iter().map(|e| e.to_string()).collect();
    /// assert_eq!(addrs, ["[::1]:80", "127.0.0.1:80"]);
    /// assert!(AddrList::from_entries([]).is_none());
    /// ```
    #[cfg(feature = "entries")]
    pub fn from_entries(
        entries: impl IntoIterator<Item = (std::net::SocketAddr, SocketType, Protocol)>,
    ) -> Option<AddrList> {
        let entries = entries.into_iter();
        let entries: Arc<[Numeric]> = entries.map(|(a, t, p)| Numeric::new(a, t, p)).collect();
        (!entries.is_empty()).then_some(AddrList {
            repr: Repr::Entries(entries),
        })
    }

    /// The entries, in order (the seed's `ai:addrs()` / `ai:next()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    ///
    /// let list = lookup("::1", 8080, &Hints::tcp())?;
    /// let addrs: Vec<String> = list.iter().map(|e| e.to_string()).collect();
    /// assert_eq!(addrs, ["[::1]:8080"]);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    #[doc(alias = "addrs")]
    #[doc(alias = "next")]
    pub fn iter(&self) -> Iter<'_> {
        let next = match &self.repr {
            Repr::Os { list, .. } => Entry::Os(list.first()),
            Repr::Numeric(entry) => Entry::Numeric(entry),
            #[cfg(feature = "entries")]
            Repr::Entries(entries) => Entry::given(entries).expect("from_entries makes none empty"),
        };
        Iter {
            next: Some(next),
            remaining: self.len(),
        }
    }

    /// The first entry (`None` never happens for a list a lookup returned, but an
    /// `Option` keeps callers honest).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().addr().port(), 80);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn first(&self) -> Option<AddrInfo<'_>> {
        self.iter().next()
    }

    /// The number of entries.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    /// assert_eq!(lookup("127.0.0.1", 80, &Hints::udp())?.len(), 1);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Os { len, .. } => *len,
            Repr::Numeric(_) => 1,
            #[cfg(feature = "entries")]
            Repr::Entries(entries) => entries.len(),
        }
    }

    /// Whether the list has no entries (never true for a list a lookup returned).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    /// assert!(!lookup("127.0.0.1", 80, &Hints::udp())?.is_empty());
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The canonical name of the host, when the lookup asked for it with
    /// [`Flags::CANONNAME`](crate::Flags::CANONNAME) (the OS puts it on the first entry).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Flags, addr::lookup, addr::Hints};
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp().flags(Flags::CANONNAME))?;
    /// assert_eq!(list.canonical_name(), Some("127.0.0.1"));
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn canonical_name(&self) -> Option<&str> {
        self.iter().find_map(|e| e.canonical_name())
    }
}

impl<'a> IntoIterator for &'a AddrList {
    type Item = AddrInfo<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for AddrList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The entries of an [`AddrList`], in order.
///
/// # Examples
///
/// ```
/// use sock::{addr::lookup, addr::Hints};
/// let list = lookup("127.0.0.1", 80, &Hints::new())?;
/// let mut iter = list.iter();
/// assert_eq!(iter.len(), list.len());
/// iter.next();
/// assert_eq!(iter.len(), list.len() - 1);
/// # Ok::<(), sock::addr::LookupError>(())
/// ```
#[derive(Clone)]
pub struct Iter<'a> {
    /// The entry `next` returns, if any.
    next: Option<Entry<'a>>,
    /// How many entries are left, including `next`.
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = AddrInfo<'a>;

    fn next(&mut self) -> Option<AddrInfo<'a>> {
        let entry = self.next?;
        self.next = entry.next();
        self.remaining -= 1;
        Some(AddrInfo { entry })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// One entry of an [`AddrList`]: an address with the socket type, family and protocol
/// to open a socket for it.
///
/// `Display` prints the address (the seed's `ai:tostring()`).
///
/// # Examples
///
/// ```
/// use sock::{Family, addr::lookup, addr::{Hints, Protocol, SocketType}};
///
/// let list = lookup("127.0.0.1", 53, &Hints::udp())?;
/// let entry = list.first().unwrap();
/// assert_eq!(entry.socktype(), SocketType::DGRAM);
/// assert_eq!(entry.family(), Family::INET);
/// assert_eq!(entry.protocol(), Protocol::UDP);
/// assert_eq!(entry.to_string(), "127.0.0.1:53");
/// # Ok::<(), sock::addr::LookupError>(())
/// ```
#[derive(Clone, Copy)]
pub struct AddrInfo<'a> {
    /// The entry, borrowed from the list.
    entry: Entry<'a>,
}

/// One entry, borrowed from its list.
#[derive(Clone, Copy)]
enum Entry<'a> {
    /// A node of the OS's list.
    Os(sys::Entry<'a>),
    /// The numeric fast path's entry.
    Numeric(&'a Numeric),
    /// A given entry and those after it.
    #[cfg(feature = "entries")]
    Entries(&'a Numeric, &'a [Numeric]),
}

impl<'a> Entry<'a> {
    /// The entry after this one, if any.
    fn next(self) -> Option<Entry<'a>> {
        match self {
            Entry::Os(e) => e.next().map(Entry::Os),
            Entry::Numeric(_) => None,
            #[cfg(feature = "entries")]
            Entry::Entries(_, rest) => Entry::given(rest),
        }
    }

    /// The first of `entries` (given to `from_entries`), if any.
    #[cfg(feature = "entries")]
    fn given(entries: &'a [Numeric]) -> Option<Entry<'a>> {
        let (first, rest) = entries.split_first()?;
        Some(Entry::Entries(first, rest))
    }

    fn socktype(self) -> SocketType {
        match self {
            Entry::Os(e) => SocketType::from_raw(e.socktype()),
            Entry::Numeric(e) => e.socktype(),
            #[cfg(feature = "entries")]
            Entry::Entries(e, _) => e.socktype(),
        }
    }

    fn family(self) -> Family {
        match self {
            Entry::Os(e) => Family::from_raw(e.family()),
            Entry::Numeric(e) => e.family(),
            #[cfg(feature = "entries")]
            Entry::Entries(e, _) => e.family(),
        }
    }

    fn protocol(self) -> Protocol {
        match self {
            Entry::Os(e) => Protocol::from_raw(e.protocol()),
            Entry::Numeric(e) => e.protocol(),
            #[cfg(feature = "entries")]
            Entry::Entries(e, _) => e.protocol(),
        }
    }

    fn canonical_name(self) -> Option<&'a str> {
        match self {
            Entry::Os(e) => e.canonical_name(),
            Entry::Numeric(_) => None,
            #[cfg(feature = "entries")]
            Entry::Entries(..) => None,
        }
    }

    fn addr(self) -> SockAddr {
        match self {
            Entry::Os(e) => e.addr(),
            Entry::Numeric(e) => e.addr(),
            #[cfg(feature = "entries")]
            Entry::Entries(e, _) => e.addr(),
        }
    }
}

impl<'a> AddrInfo<'a> {
    /// The socket type to open (the seed's `ai:type()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::{Hints, SocketType}};
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().socktype(), SocketType::STREAM);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    #[doc(alias = "type")]
    pub fn socktype(&self) -> SocketType {
        self.entry.socktype()
    }

    /// The address family.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Family, addr::lookup, addr::Hints};
    /// let list = lookup("::1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().family(), Family::INET6);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn family(&self) -> Family {
        self.entry.family()
    }

    /// The protocol to open the socket with.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::{Hints, Protocol}};
    /// let list = lookup("::1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().protocol(), Protocol::TCP);
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn protocol(&self) -> Protocol {
        self.entry.protocol()
    }

    /// The canonical name of the host, on the entry that carries it (the first, when
    /// asked for with [`Flags::CANONNAME`](crate::Flags::CANONNAME); the seed's
    /// `ai:name()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().canonical_name(), None); // not asked for
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    #[doc(alias = "name")]
    pub fn canonical_name(&self) -> Option<&'a str> {
        self.entry.canonical_name()
    }

    /// The socket address (the seed's `ai.addr`), copied out of the list.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{addr::lookup, addr::Hints};
    /// let list = lookup("127.0.0.1", 80, &Hints::tcp())?;
    /// assert_eq!(list.first().unwrap().addr().as_socket(), Some("127.0.0.1:80".parse().unwrap()));
    /// # Ok::<(), sock::addr::LookupError>(())
    /// ```
    pub fn addr(&self) -> SockAddr {
        self.entry.addr()
    }
}

impl From<AddrInfo<'_>> for SockAddr {
    fn from(entry: AddrInfo<'_>) -> SockAddr {
        entry.addr()
    }
}

impl fmt::Display for AddrInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr().fmt(f)
    }
}

impl fmt::Debug for AddrInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AddrInfo");
        d.field("socktype", &self.socktype())
            .field("family", &self.family());
        d.field("protocol", &self.protocol())
            .field("addr", &self.addr());
        if let Some(name) = self.canonical_name() {
            d.field("canonical_name", &name);
        }
        d.finish()
    }
}
