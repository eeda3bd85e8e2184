//! [`SockAddr`]: an owned socket address of any family (IPv4, IPv6, Unix-domain).
//!
//! Stored as the OS's `sockaddr_storage` plus a length, so a lookup result, a
//! `getsockname` result or a Unix path all fit, and the facade can hand the raw pointer
//! to the OS. IP addresses convert to and from `std::net::SocketAddr`; the IP itself is
//! std's `IpAddr` (`octets()` gives the seed's 4 or 16 bytes, `Display` its text).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::Path;

use crate::Family;
use crate::sys::{self, RawSockAddr, RawSockLen};

/// An owned socket address: IPv4, IPv6 or a Unix-domain path (the seed's `sa`).
///
/// `Display` prints `ip:port`, `[v6]:port` (with `%scope` when the scope id is set) or
/// the Unix path.
///
/// # Examples
///
/// ```
/// use sock::{Family, SockAddr};
/// use std::net::SocketAddr;
///
/// let v6: SocketAddr = "[fe80::1%2]:8080".parse()?;
/// let addr = SockAddr::from(v6);
/// assert_eq!(addr.family(), Family::INET6);
/// assert_eq!(addr.port(), 8080);
/// assert_eq!(addr.to_string(), "[fe80::1%2]:8080");
/// assert_eq!(addr.ip().map(|ip| ip.to_string()).as_deref(), Some("fe80::1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SockAddr {
    /// The address bytes; only the first `len` are meaningful (the rest are zero).
    storage: sys::Storage,
    /// The length of the address inside `storage`, as the OS counts it.
    len: RawSockLen,
}

impl SockAddr {
    /// A Unix-domain address for `path`, built without any lookup.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the path is empty, contains a NUL byte or is longer than the
    /// OS allows (`sun_path`, 107 bytes plus the terminating NUL).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Family, SockAddr};
    ///
    /// let addr = SockAddr::unix("/tmp/app.sock")?;
    /// assert_eq!(addr.family(), Family::UNIX);
    /// assert_eq!(addr.as_unix_path(), Some(std::path::Path::new("/tmp/app.sock")));
    /// assert_eq!(addr.to_string(), "/tmp/app.sock");
    /// assert!(SockAddr::unix("").is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn unix(path: impl AsRef<Path>) -> io::Result<SockAddr> {
        let (storage, len) = sys::unix(path.as_ref())?;
        Ok(SockAddr { storage, len })
    }

    /// The address family.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Family, SockAddr};
    /// let addr = SockAddr::from("127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap());
    /// assert_eq!(addr.family(), Family::INET);
    /// ```
    pub fn family(&self) -> Family {
        Family::from_raw(sys::storage_family(&self.storage))
    }

    /// The port (0 for addresses without one, such as Unix-domain ones).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let addr = SockAddr::from("127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap());
    /// assert_eq!(addr.port(), 80);
    /// ```
    pub fn port(&self) -> u16 {
        self.as_socket().map_or(0, |a| a.port())
    }

    /// The IP address, for IPv4 and IPv6 addresses; `octets()` on it gives the seed's
    /// 4 or 16 bytes (`ip:tobinary()`), `Display` its text (`ip:tostring()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// use std::net::IpAddr;
    ///
    /// let addr = SockAddr::from("[::1]:80".parse::<std::net::SocketAddr>().unwrap());
    /// let ip = addr.ip().unwrap();
    /// assert_eq!(ip.to_string(), "::1");
    /// let IpAddr::V6(v6) = ip else { unreachable!() };
    /// assert_eq!(v6.octets().len(), 16);
    /// ```
    #[doc(alias = "addr")]
    pub fn ip(&self) -> Option<IpAddr> {
        self.as_socket().map(|a| a.ip())
    }

    /// The address as a std socket address, for IPv4 and IPv6.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let std_addr: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
    /// assert_eq!(SockAddr::from(std_addr).as_socket(), Some(std_addr));
    /// assert_eq!(SockAddr::unix("/tmp/x").unwrap().as_socket(), None);
    /// ```
    pub fn as_socket(&self) -> Option<SocketAddr> {
        sys::to_socket_addr(&self.storage, self.len)
    }

    /// The path of a Unix-domain address (`None` for other families, unnamed addresses
    /// and Linux abstract ones).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let addr = SockAddr::unix("/run/x.sock").unwrap();
    /// assert_eq!(addr.as_unix_path().unwrap().to_str(), Some("/run/x.sock"));
    /// ```
    pub fn as_unix_path(&self) -> Option<&Path> {
        let bytes = sys::unix_bytes(&self.storage, self.len)?;
        if bytes.first().is_none_or(|b| *b == 0) {
            return None;
        }
        sys::bytes_to_path(bytes)
    }

    /// A pointer to the raw `sockaddr`, valid for [`len`](Self::len) bytes while `self`
    /// lives.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let addr = SockAddr::from("127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap());
    /// // SAFETY: the pointer is valid for `len()` bytes while `addr` lives.
    /// let copy = unsafe { SockAddr::from_raw(addr.as_ptr(), addr.len()) };
    /// assert_eq!(copy, addr);
    /// ```
    pub fn as_ptr(&self) -> *const RawSockAddr {
        std::ptr::from_ref(&self.storage).cast()
    }

    /// The length of the raw address in bytes, as the OS counts it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let v4 = SockAddr::from("127.0.0.1:80".parse::<std::net::SocketAddr>().unwrap());
    /// let v6 = SockAddr::from("[::1]:80".parse::<std::net::SocketAddr>().unwrap());
    /// assert!(v4.len() < v6.len());
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> RawSockLen {
        self.len
    }

    /// Copies a raw socket address of `len` bytes (from `getsockname`, `recvfrom`, …).
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads of `len` bytes.
    ///
    /// # Panics
    ///
    /// If `len` is larger than the OS's `sockaddr_storage`: no socket address is.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::SockAddr;
    /// let addr = SockAddr::unix("/tmp/s").unwrap();
    /// // SAFETY: the pointer is valid for `len()` bytes while `addr` lives.
    /// let copy = unsafe { SockAddr::from_raw(addr.as_ptr(), addr.len()) };
    /// assert_eq!(copy.as_unix_path(), addr.as_unix_path());
    /// ```
    pub unsafe fn from_raw(ptr: *const RawSockAddr, len: RawSockLen) -> SockAddr {
        // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
        let storage = unsafe { sys::copy_raw(ptr, len) };
        SockAddr { storage, len }
    }

    /// The meaningful bytes, for comparison and hashing.
    fn bytes(&self) -> &[u8] {
        // SAFETY: `len` never exceeds the storage's size (`from_raw` asserts it, the
        // other constructors write smaller types) and the storage is plain data.
        unsafe { std::slice::from_raw_parts(self.as_ptr().cast::<u8>(), self.len as usize) }
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(addr: SocketAddr) -> SockAddr {
        let (storage, len) = sys::from_socket_addr(&addr);
        SockAddr { storage, len }
    }
}

impl From<SocketAddrV4> for SockAddr {
    fn from(addr: SocketAddrV4) -> SockAddr {
        SockAddr::from(SocketAddr::V4(addr))
    }
}

impl From<SocketAddrV6> for SockAddr {
    fn from(addr: SocketAddrV6) -> SockAddr {
        SockAddr::from(SocketAddr::V6(addr))
    }
}

impl PartialEq for SockAddr {
    fn eq(&self, other: &SockAddr) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for SockAddr {}

impl Hash for SockAddr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(addr) = self.as_socket() {
            return addr.fmt(f);
        }
        match sys::unix_bytes(&self.storage, self.len) {
            Some([]) => f.write_str("(unnamed)"),
            Some([0, name @ ..]) => write!(f, "@{}", name.escape_ascii()),
            Some(_) => match self.as_unix_path() {
                Some(path) => path.display().fmt(f),
                None => f.write_str("(invalid unix path)"),
            },
            None => write!(f, "(address of family {:?})", self.family()),
        }
    }
}

impl fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SockAddr({:?}, {self})", self.family())
    }
}

/// Checks the bytes of a unix socket path: not empty, no NUL, at most `max` bytes.
pub(crate) fn check_unix_path(bytes: &[u8], max: usize) -> io::Result<()> {
    if bytes.is_empty() {
        Err(invalid("unix socket path is empty"))
    } else if bytes.contains(&0) {
        Err(invalid("unix socket path contains a NUL byte"))
    } else if bytes.len() > max {
        Err(invalid("unix socket path is longer than the OS allows"))
    } else {
        Ok(())
    }
}

/// An `InvalidInput` error with `message`.
pub(crate) fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
