//! [`Error`] and [`ErrorKind`]: one error type for every socket and loop operation.
//!
//! OS errors are normalized into kinds named after the seed's strings
//! (`"address_already_in_use"`, `"timeout"`, …) so programs can branch on them portably;
//! the OS error stays reachable as the [`source`](std::error::Error::source). An
//! operation that moved some bytes before failing (a `send` that timed out half-way, a
//! `recvn` that hit EOF) says how many in [`Error::transferred`].

use std::fmt;
use std::io;

use crate::sys;

/// What went wrong, portably. Compare kinds, not messages.
///
/// # Examples
///
/// ```
/// use sock::ErrorKind;
///
/// assert_eq!(ErrorKind::AddressInUse.name(), "address_already_in_use");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The deadline passed before the operation completed.
    Timeout,
    /// The socket was closed (by this side) before or during the operation.
    Closed,
    /// The OS refused: a privileged port, a raw socket without the capability, …
    AccessDenied,
    /// The local address is taken.
    AddressInUse,
    /// The local address does not belong to this machine.
    AddressNotAvailable,
    /// Nothing listens at the remote address.
    ConnectionRefused,
    /// The peer reset the connection (or it was reset locally while sending).
    ConnectionReset,
    /// The connection was aborted locally.
    ConnectionAborted,
    /// The socket is not connected.
    NotConnected,
    /// The peer closed the connection before the expected bytes arrived (`recvn`).
    Eof,
    /// No route to the network. Also a `connect` that Linux refuses with `EINVAL`
    /// because the route to the address is a blackhole (`ip route add blackhole …`):
    /// from `connect` only; elsewhere `EINVAL` stays [`InvalidInput`](ErrorKind::InvalidInput).
    NetworkUnreachable,
    /// No route to the host.
    HostUnreachable,
    /// The process (`EMFILE`) or the system (`ENFILE`) is out of file descriptors;
    /// on Windows, out of socket handles (`WSAEMFILE`).
    TooManyOpenFiles,
    /// The kernel is out of memory or of socket buffer space (`ENOMEM`, `ENOBUFS`;
    /// `WSAENOBUFS`, `WSA_NOT_ENOUGH_MEMORY`). Usually passing: wait a little and retry.
    OutOfMemory,
    /// An earlier `connect` of this socket has not finished (`EALREADY`,
    /// `WSAEALREADY`): e.g. connecting again after a connect that timed out. Close the
    /// socket and connect with a new one.
    InProgress,
    /// A file-system path does not exist (`ENOENT`): a unix socket path nobody bound,
    /// or a directory of a path to bind that is missing.
    NotFound,
    /// A name could not be resolved.
    HostNotFound,
    /// A service name could not be resolved.
    ServiceNotFound,
    /// The host exists but has no address of the family asked for (`EAI_NODATA`,
    /// `EAI_ADDRFAMILY`): e.g. `bind("::1")` on an IPv4 socket.
    NoAddress,
    /// The resolver failed for now (`EAI_AGAIN`): trying again later may work.
    TryAgain,
    /// A datagram is larger than the socket (or its receive buffer) allows.
    MessageTooLong,
    /// A bad argument: an unknown option name, a value of the wrong type, …
    InvalidInput,
    /// The OS or this socket type does not support the operation.
    Unsupported,
    /// The call would have to wait: only the non-waiting `try_*` calls report it (the
    /// operations park instead).
    WouldBlock,
    /// Any other failure; the OS error is the source.
    Other,
}

impl ErrorKind {
    /// The seed's normalized string for this kind.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::ErrorKind::Timeout.name(), "timeout");
    /// ```
    pub fn name(self) -> &'static str {
        use ErrorKind::*;
        match self {
            Timeout => "timeout",
            Closed => "closed",
            AccessDenied => "access_denied",
            AddressInUse => "address_already_in_use",
            AddressNotAvailable => "address_not_available",
            ConnectionRefused => "connection_refused",
            ConnectionReset => "connection_reset",
            ConnectionAborted => "connection_aborted",
            NotConnected => "not_connected",
            Eof => "eof",
            NetworkUnreachable => "network_unreachable",
            HostUnreachable => "host_unreachable",
            TooManyOpenFiles => "too_many_open_files",
            OutOfMemory => "out_of_memory",
            InProgress => "in_progress",
            NotFound => "not_found",
            HostNotFound => "host_not_found",
            ServiceNotFound => "service_not_found",
            NoAddress => "no_address",
            TryAgain => "try_again",
            MessageTooLong => "message_too_long",
            InvalidInput => "invalid_input",
            Unsupported => "unsupported",
            WouldBlock => "would_block",
            Other => "other",
        }
    }

    /// The closest `std::io::ErrorKind`.
    fn to_io(self) -> io::ErrorKind {
        use ErrorKind::*;
        match self {
            Timeout => io::ErrorKind::TimedOut,
            Closed => io::ErrorKind::NotConnected,
            AccessDenied => io::ErrorKind::PermissionDenied,
            AddressInUse => io::ErrorKind::AddrInUse,
            AddressNotAvailable => io::ErrorKind::AddrNotAvailable,
            ConnectionRefused => io::ErrorKind::ConnectionRefused,
            ConnectionReset => io::ErrorKind::ConnectionReset,
            ConnectionAborted => io::ErrorKind::ConnectionAborted,
            NotConnected => io::ErrorKind::NotConnected,
            NetworkUnreachable => io::ErrorKind::NetworkUnreachable,
            HostUnreachable => io::ErrorKind::HostUnreachable,
            InvalidInput => io::ErrorKind::InvalidInput,
            Unsupported => io::ErrorKind::Unsupported,
            WouldBlock => io::ErrorKind::WouldBlock,
            Eof => io::ErrorKind::UnexpectedEof,
            OutOfMemory => io::ErrorKind::OutOfMemory,
            NotFound => io::ErrorKind::NotFound,
            TooManyOpenFiles | InProgress | HostNotFound | ServiceNotFound | NoAddress
            | TryAgain | MessageTooLong | Other => io::ErrorKind::Other,
        }
    }

    /// Normalizes an OS error: the errno/WSA code first, then std's kind.
    fn from_io(e: &io::Error) -> ErrorKind {
        if let Some(kind) = e.raw_os_error().and_then(sys::classify_os_error) {
            return kind;
        }
        if e.get_ref()
            .is_some_and(|inner| inner.is::<sock_poll::Closed>())
        {
            return ErrorKind::Closed;
        }
        if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
            return inner.kind(); // a sock error that went through io::Error keeps its kind
        }
        use io::ErrorKind as Io;
        match e.kind() {
            Io::TimedOut => ErrorKind::Timeout,
            Io::PermissionDenied => ErrorKind::AccessDenied,
            Io::AddrInUse => ErrorKind::AddressInUse,
            Io::AddrNotAvailable => ErrorKind::AddressNotAvailable,
            Io::ConnectionRefused => ErrorKind::ConnectionRefused,
            Io::ConnectionReset | Io::BrokenPipe => ErrorKind::ConnectionReset,
            Io::ConnectionAborted => ErrorKind::ConnectionAborted,
            Io::NotConnected => ErrorKind::NotConnected,
            Io::NetworkUnreachable => ErrorKind::NetworkUnreachable,
            Io::HostUnreachable => ErrorKind::HostUnreachable,
            Io::InvalidInput => ErrorKind::InvalidInput,
            Io::Unsupported => ErrorKind::Unsupported,
            Io::WouldBlock => ErrorKind::WouldBlock,
            Io::UnexpectedEof => ErrorKind::Eof,
            Io::OutOfMemory => ErrorKind::OutOfMemory,
            Io::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of a sock operation: a normalized [`ErrorKind`], the bytes moved before the
/// failure, and the underlying error as the source.
///
/// # Examples
///
/// ```
/// use sock::{Error, ErrorKind};
///
/// let e = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
/// assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
/// assert_eq!(e.name(), "connection_refused");
/// let io: std::io::Error = e.into(); // `?` works in io code
/// assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
/// ```
///
/// An error that is only a kind (`Closed`, `Timeout`, `WouldBlock`, …) is one word and
/// allocates nothing; one with a message, a context, a byte count or an OS error behind
/// it keeps those in one box, so `Result<usize>` stays small on every operation's path.
pub struct Error {
    repr: Repr,
}

/// [`Error`]'s representation.
enum Repr {
    /// Only a kind.
    Kind(ErrorKind),
    /// A kind with what else is known.
    Full(Box<Full>),
}

/// An error with more than its kind.
struct Full {
    kind: ErrorKind,
    transferred: usize,
    /// What failed: the operation, and its peer where known (`connect 127.0.0.1:9`).
    context: Option<Box<str>>,
    message: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind());
        if let Repr::Full(full) = &self.repr {
            d.field("transferred", &full.transferred);
            d.field("context", &full.context);
            d.field("message", &full.message);
            d.field("source", &full.source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.repr {
            Repr::Full(full) => full.source.as_deref().map(|e| e as _),
            Repr::Kind(_) => None,
        }
    }
}

/// `Result` with [`Error`].
///
/// # Examples
///
/// ```
/// fn bound() -> sock::Result<u16> {
///     let s = sock::udp(sock::Family::INET)?;
///     s.bind("127.0.0.1", 0)?;
///     Ok(s.local_addr()?.port())
/// }
/// assert_ne!(bound()?, 0);
/// # Ok::<(), sock::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message and no source.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = sock::Error::new(sock::ErrorKind::InvalidInput, "unknown option 'so_foo'");
    /// assert_eq!(e.to_string(), "invalid_input: unknown option 'so_foo'");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        let mut e = Error::from(kind);
        e.full().message = Some(message.into());
        e
    }

    /// The boxed part, made if the error was only a kind.
    fn full(&mut self) -> &mut Full {
        if let Repr::Kind(kind) = self.repr {
            self.repr = Repr::Full(Box::new(Full {
                kind,
                transferred: 0,
                context: None,
                message: None,
                source: None,
            }));
        }
        match &mut self.repr {
            Repr::Full(full) => full,
            Repr::Kind(_) => unreachable!("made full above"),
        }
    }

    /// The boxed part, if there is one.
    fn details(&self) -> Option<&Full> {
        match &self.repr {
            Repr::Full(full) => Some(full),
            Repr::Kind(_) => None,
        }
    }

    /// The normalized kind.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = sock::Error::from(sock::ErrorKind::Timeout);
    /// assert_eq!(e.kind(), sock::ErrorKind::Timeout);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match &self.repr {
            Repr::Kind(kind) => *kind,
            Repr::Full(full) => full.kind,
        }
    }

    /// The seed's string for the kind (`"timeout"`, `"address_already_in_use"`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::Error::from(sock::ErrorKind::Closed).name(), "closed");
    /// ```
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Bytes sent or received before the failure (0 for operations that move no bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = sock::Error::from(sock::ErrorKind::Timeout).with_transferred(42);
    /// assert_eq!(e.transferred(), 42);
    /// ```
    pub fn transferred(&self) -> usize {
        self.details().map_or(0, |full| full.transferred)
    }

    /// The same error, saying `n` bytes were moved before it.
    ///
    /// # Examples
    ///
    /// See [`transferred`](Error::transferred).
    pub fn with_transferred(mut self, n: usize) -> Error {
        if n != 0 || self.details().is_some() {
            self.full().transferred = n;
        }
        self
    }

    /// The same error, saying what failed: the operation and, where known, its peer
    /// (`"connect 127.0.0.1:9"`), shown before the kind. The OS's own text stays in
    /// [`source`](std::error::Error::source), not repeated in `Display`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = sock::Error::from(sock::ErrorKind::ConnectionRefused).context("connect 127.0.0.1:9");
    /// assert_eq!(e.to_string(), "connect 127.0.0.1:9: connection_refused");
    /// ```
    pub fn context(mut self, what: impl Into<String>) -> Error {
        self.full().context = Some(what.into().into_boxed_str());
        self
    }

    /// The same error with another kind (the OS's code kept as the source).
    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Error {
        match &mut self.repr {
            Repr::Kind(k) => *k = kind,
            Repr::Full(full) => full.kind = kind,
        }
        self
    }

    /// The OS error code, if the error came from the OS.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::Error::from(sock::ErrorKind::Timeout).raw_os_error(), None);
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.details()?
            .source
            .as_ref()?
            .downcast_ref::<io::Error>()?
            .raw_os_error()
    }

    /// Whether this is a [`Timeout`](ErrorKind::Timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock::Error::from(sock::ErrorKind::Timeout).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// Whether a failed [`accept`](crate::Tcp::accept) left the listener able to accept
    /// the next connection: the error concerned one connection, or a shortage that
    /// passes, so an accept loop goes on. False for the errors that will recur on every
    /// call (the listener was closed, is not listening, is not a socket): the loop stops.
    ///
    /// | per connection or passing: go on | fatal: stop |
    /// |---|---|
    /// | [`ConnectionAborted`](ErrorKind::ConnectionAborted) (`ECONNABORTED`), [`ConnectionReset`](ErrorKind::ConnectionReset), `EPROTO` | [`Closed`](ErrorKind::Closed) |
    /// | [`AccessDenied`](ErrorKind::AccessDenied) (`EPERM`: a firewall rule) | [`InvalidInput`](ErrorKind::InvalidInput) (`EINVAL`: not listening) |
    /// | [`TooManyOpenFiles`](ErrorKind::TooManyOpenFiles), [`OutOfMemory`](ErrorKind::OutOfMemory) (`ENOBUFS`, `ENOMEM`) | `EBADF`, `ENOTSOCK`, `EFAULT` ([`Other`](ErrorKind::Other)) |
    /// | [`Timeout`](ErrorKind::Timeout) (`ETIMEDOUT`, or the operation's deadline) | any other [`Other`](ErrorKind::Other) |
    /// | Linux's network errors of the new connection: `ENETDOWN`, `ENETUNREACH` ([`NetworkUnreachable`](ErrorKind::NetworkUnreachable)), `EHOSTDOWN`, `EHOSTUNREACH` ([`HostUnreachable`](ErrorKind::HostUnreachable)), `ENOPROTOOPT`, `EOPNOTSUPP` ([`Unsupported`](ErrorKind::Unsupported)), `ENONET` | |
    ///
    /// A deadline of the caller's own (`accept().timeout(d)`) also leaves the listener
    /// fine: a loop that means to end on it checks [`is_timeout`](Error::is_timeout)
    /// first.
    ///
    /// On Unix, after [`TooManyOpenFiles`](ErrorKind::TooManyOpenFiles) the waiting
    /// connection was already refused, so accepting again at once does not spin; after
    /// [`OutOfMemory`](ErrorKind::OutOfMemory) (and on Windows after either) the
    /// connection may still wait, so a loop that retries at once spins while the
    /// shortage lasts: back off a little.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock::{ErrorKind, Family};
    ///
    /// sock::run(async {
    ///     let listener = sock::tcp(Family::INET)?;
    ///     listener.listen("127.0.0.1", 0)?;
    ///     let port = listener.local_addr()?.port();
    ///     sock::thread(async move {
    ///         let c = sock::tcp(Family::INET)?;
    ///         c.connect("127.0.0.1", port).await?;
    ///         c.close()
    ///     });
    ///     loop {
    ///         match listener.accept().await {
    ///             Ok(_conn) => listener.close()?, // one is enough here
    ///             Err(e) if e.kind() == ErrorKind::OutOfMemory => {
    ///                 sock::sleep(Duration::from_millis(10)).await
    ///             }
    ///             Err(e) if e.is_transient_accept() => {}
    ///             Err(e) => {
    ///                 assert_eq!(e.kind(), ErrorKind::Closed);
    ///                 return Ok::<(), sock::Error>(());
    ///             }
    ///         }
    ///     }
    /// })?;
    /// assert!(sock::Error::from(ErrorKind::ConnectionAborted).is_transient_accept());
    /// assert!(!sock::Error::from(ErrorKind::Closed).is_transient_accept());
    /// # Ok::<(), sock::Error>(())
    /// ```
    #[doc(alias = "is_per_connection")]
    pub fn is_transient_accept(&self) -> bool {
        use ErrorKind::*;
        match self.kind() {
            ConnectionAborted | ConnectionReset | AccessDenied | TooManyOpenFiles | OutOfMemory
            | Timeout | NetworkUnreachable | HostUnreachable | Unsupported => true,
            Other => self
                .raw_os_error()
                .is_some_and(sys::is_transient_accept_error),
            _ => false,
        }
    }

    /// The error of a `connect`: Linux refuses a connect over a blackhole route with
    /// `EINVAL`, which says the network cannot be reached, not that an argument is bad.
    pub(crate) fn in_connect(mut self) -> Error {
        if self.raw_os_error().is_some_and(sys::is_unroutable_connect) {
            self = self.with_kind(ErrorKind::NetworkUnreachable);
        }
        self
    }

    /// A copy with the same kind and message (the source is not cloneable).
    pub(crate) fn clone_kind(&self) -> Error {
        Error::new(self.kind(), self.describe()).with_transferred(self.transferred())
    }

    /// An error of `kind` caused by `source`.
    fn with_source(kind: ErrorKind, source: Box<dyn std::error::Error + Send + Sync>) -> Error {
        let mut e = Error::from(kind);
        e.full().source = Some(source);
        e
    }

    /// `WouldBlock`, as a kind only: nothing allocated.
    pub(crate) fn would_block() -> Error {
        Error::from(ErrorKind::WouldBlock)
    }

    pub(crate) fn closed() -> Error {
        Error::from(ErrorKind::Closed)
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Error {
        self.full().message = Some(message.into());
        self
    }

    fn describe(&self) -> String {
        let mut s = String::new();
        let full = self.details();
        if let Some(c) = full.and_then(|f| f.context.as_ref()) {
            s.push_str(c);
            s.push_str(": ");
        }
        s.push_str(self.kind().name());
        if let Some(m) = full.and_then(|f| f.message.as_ref()) {
            s.push_str(": ");
            s.push_str(m);
        }
        if self.transferred() > 0 {
            s.push_str(&format!(" (after {} bytes)", self.transferred()));
        }
        s
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error {
            repr: Repr::Kind(kind),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        let kind = ErrorKind::from_io(&e);
        crate::trace::os_error(&e, kind);
        let inner = e.get_ref();
        if let Some(t) = inner.and_then(|i| i.downcast_ref::<crate::dgram::Truncated>()) {
            let kept = t.kept;
            return Error::new(ErrorKind::MessageTooLong, e.to_string()).with_transferred(kept);
        }
        Error::with_source(kind, Box::new(e))
    }
}

impl From<sock_poll::Closed> for Error {
    fn from(_: sock_poll::Closed) -> Error {
        Error::closed()
    }
}

impl From<sock_addr::LookupError> for Error {
    fn from(e: sock_addr::LookupError) -> Error {
        let kind = match &e {
            sock_addr::LookupError::HostNotFound { .. } => ErrorKind::HostNotFound,
            sock_addr::LookupError::ServiceNotFound { .. } => ErrorKind::ServiceNotFound,
            sock_addr::LookupError::NoAddress { .. } => ErrorKind::NoAddress,
            sock_addr::LookupError::TryAgain { .. } => ErrorKind::TryAgain,
            _ => ErrorKind::Other,
        };
        Error::with_source(kind, Box::new(e))
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind().to_io(), e)
    }
}
