//! The methods every socket type has (kind, bind, close, addresses, options), written
//! once and stamped onto [`Tcp`](crate::Tcp) and [`Udp`](crate::Udp) by
//! `socket_common!`, as std does for its integer types. Each type keeps its `core`.

/// Implements the shared socket methods for `$ty`; `$make` is an expression making one,
/// used in the doc examples.
macro_rules! socket_common {
    ($ty:ident, $make:literal) => {
        impl $ty {
            /// The address family (`inet`, `inet6`, `unix`; for a socket made with
            /// `Family::UNSPEC`, the family its bind/connect chose).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// assert_eq!(s.family(), sock::Family::INET);
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn family(&self) -> Family {
                self.core.family()
            }

            /// The socket type (the seed's `'tcp'`, `'udp'`, `'raw'`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// println!("{:?}", s.socktype());
            /// # Ok::<(), sock::Error>(())
            /// ```
            #[doc(alias = "type")]
            pub fn socktype(&self) -> SocketType {
                self.core.socktype()
            }

            /// The protocol.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// println!("{:?}", s.protocol());
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn protocol(&self) -> Protocol {
                self.core.protocol()
            }

            /// Binds to `host` (`"*"` = all interfaces; the path for unix sockets) and
            /// `port` (0 = any free port).
            ///
            /// # Errors
            ///
            /// [`ErrorKind::AddressInUse`](crate::ErrorKind), `AccessDenied`, a lookup
            /// error, …
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind("127.0.0.1", 0)?;
            /// assert_ne!(s.local_addr()?.port(), 0);
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn bind(&self, host: &str, port: impl Into<Port>) -> Result<()> {
                let addrs =
                    crate::target::local(host, port.into(), self.family(), self.socktype())?;
                self.core.bind(&addrs[0])
            }

            /// Binds to the first address of `target`: an already resolved address, or
            /// a `(host, port, flags)` lookup (the seed's `bind(host, port, af)`; see
            /// [`ToAddrs`](crate::addr::ToAddrs)), made now with `PASSIVE` added.
            ///
            /// # Errors
            ///
            /// As [`bind`](Self::bind); `InvalidInput` for an empty target; with
            /// [`Flags::NUMERICHOST`](crate::Flags::NUMERICHOST), `HostNotFound` at once
            /// for a host that is not a numeric address.
            ///
            /// # Examples
            ///
            /// ```
            /// use sock::Flags;
            ///
            #[doc = concat!("let s = ", $make, ";")]
            /// s.bind_to(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap())?;
            #[doc = concat!("let t = ", $make, ";")]
            /// t.bind_to(&("127.0.0.1", 0, Flags::NUMERICHOST))?; // never asks a name server
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn bind_to(&self, target: &impl ToAddrs) -> Result<()> {
                let target = crate::target::target_of(target);
                let addrs = crate::target::local_addrs(target, self.family(), self.socktype())?;
                let first = addrs.first().ok_or_else(|| {
                    crate::Error::new(crate::ErrorKind::InvalidInput, "no address to bind to")
                })?;
                self.core.bind(first)
            }

            /// Closes the socket for every handle (a TCP connection sends FIN, or RST
            /// when unread data remains or `so_linger` is 0). Every task waiting on it
            /// fails with `Closed`. Closing twice is a no-op. Once `as_fd`/`as_socket`
            /// has lent the OS handle out, it is shut down instead (FIN) and freed with
            /// the last handle, so no borrowed handle outlives it.
            ///
            /// # Errors
            ///
            /// The OS error of deregistering (the socket is freed all the same).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// s.close()?;
            /// assert!(s.is_closed());
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn close(&self) -> Result<()> {
                self.core.close()
            }

            /// Whether [`close`](Self::close) was called.
            ///
            /// # Examples
            ///
            /// See [`close`](Self::close).
            pub fn is_closed(&self) -> bool {
                self.core.is_closed()
            }

            /// The local address.
            ///
            /// # Errors
            ///
            /// `Closed`, or the OS error of `getsockname`.
            ///
            /// # Examples
            ///
            /// See [`bind`](Self::bind).
            pub fn local_addr(&self) -> Result<SockAddr> {
                self.core.local_addr()
            }

            /// The connected peer's address.
            ///
            /// # Errors
            ///
            /// `NotConnected`, `Closed`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// assert!(s.remote_addr().is_err()); // not connected
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn remote_addr(&self) -> Result<SockAddr> {
                self.core.peer_addr()
            }

            /// Sets an option by the seed's name (`"so_reuseaddr"`, `"tcp_nodelay"`, …;
            /// see [`option_names`](crate::io::option_names)).
            ///
            /// # Errors
            ///
            /// `InvalidInput` for an unknown name or a value of the wrong kind;
            /// `Unsupported` where the OS refuses the option for this socket.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let s = ", $make, ";")]
            /// s.setopt("so_reuseaddr", true)?;
            /// assert_eq!(s.getopt("so_reuseaddr")?, sock::io::OptValue::Bool(true));
            /// assert!(s.setopt("so_nonsense", 1).is_err());
            /// # Ok::<(), sock::Error>(())
            /// ```
            pub fn setopt(&self, name: &str, value: impl Into<OptValue>) -> Result<()> {
                self.core.setopt(name, value.into())
            }

            /// Reads an option by the seed's name.
            ///
            /// # Errors
            ///
            /// `InvalidInput` for an unknown name.
            ///
            /// # Examples
            ///
            /// See [`setopt`](Self::setopt).
            pub fn getopt(&self, name: &str) -> Result<OptValue> {
                self.core.getopt(name)
            }
        }
    };
}

pub(crate) use socket_common;
