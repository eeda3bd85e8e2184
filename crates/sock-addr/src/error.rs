//! [`LookupError`]: why a lookup failed, one kind per `getaddrinfo` error, each with the
//! OS's own text.
//!
//! `getaddrinfo` reports `EAI_*` codes (WSA codes on Windows), which are not `errno`
//! values, so they get their own enum instead of an `io::Error`; the backends classify a
//! code into a portable [`Cause`] and this module adds what was asked (host, service,
//! flags) so the message names the culprit.

use std::io;

use crate::{Family, Flags, SocketType};

/// Why an address lookup failed.
///
/// Every variant keeps the OS's text for the failure in `message` (or in the
/// `io::Error`), and names what was looked up where that is what went wrong.
///
/// # Examples
///
/// ```
/// use sock::{Flags, addr::{LookupError, lookup}, addr::Hints};
///
/// // NUMERICHOST refuses names, without asking any name server.
/// let hints = Hints::tcp().flags(Flags::NUMERICHOST);
/// match lookup("localhost", 80, &hints) {
///     Err(LookupError::HostNotFound { host, .. }) => assert_eq!(host, "localhost"),
///     other => panic!("expected HostNotFound, got {other:?}"),
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The host name is unknown (`EAI_NONAME`; also a non-numeric host with
    /// [`Flags::NUMERICHOST`]).
    #[error("host {host:?} not found: {message}")]
    HostNotFound {
        /// The host that was looked up (`"*"` for all interfaces).
        host: String,
        /// The OS's text.
        message: String,
    },
    /// The host exists but has no address of the requested family
    /// (`EAI_NODATA`, `EAI_ADDRFAMILY`).
    #[error("host {host:?} has no address for family {family:?}: {message}")]
    NoAddress {
        /// The host that was looked up.
        host: String,
        /// The family that was asked for.
        family: Family,
        /// The OS's text.
        message: String,
    },
    /// The service name is unknown, or not offered for the socket type (`EAI_SERVICE`;
    /// also a service name with [`Flags::NUMERICSERV`]).
    #[error("service {service:?} not found for socket type {socktype:?}: {message}")]
    ServiceNotFound {
        /// The service (port) that was looked up.
        service: String,
        /// The socket type that was asked for.
        socktype: SocketType,
        /// The OS's text.
        message: String,
    },
    /// The flags are invalid or an invalid combination (`EAI_BADFLAGS`).
    #[error("bad lookup flags {flags:?}: {message}")]
    BadFlags {
        /// The flags that were passed.
        flags: Flags,
        /// The OS's text.
        message: String,
    },
    /// The address family is not supported by the lookup (`EAI_FAMILY`); Unix-domain
    /// addresses are built with [`SockAddr::unix`](crate::SockAddr::unix) instead.
    #[error("address family {family:?} not supported by lookup: {message}")]
    FamilyNotSupported {
        /// The family that was asked for.
        family: Family,
        /// The OS's text.
        message: String,
    },
    /// The socket type is not supported (`EAI_SOCKTYPE`).
    #[error("socket type {socktype:?} not supported by lookup: {message}")]
    SocktypeNotSupported {
        /// The socket type that was asked for.
        socktype: SocketType,
        /// The OS's text.
        message: String,
    },
    /// A temporary failure: the name server did not answer in time or said "try again"
    /// (`EAI_AGAIN`).
    #[error("temporary failure looking up {host:?}: {message}")]
    TryAgain {
        /// The host that was looked up.
        host: String,
        /// The OS's text.
        message: String,
    },
    /// A non-recoverable name server failure (`EAI_FAIL`).
    #[error("name server failure looking up {host:?}: {message}")]
    Failed {
        /// The host that was looked up.
        host: String,
        /// The OS's text.
        message: String,
    },
    /// The lookup ran out of memory (`EAI_MEMORY`).
    #[error("out of memory during lookup: {message}")]
    Memory {
        /// The OS's text.
        message: String,
    },
    /// A system error (`EAI_SYSTEM` with `errno`, or the resolver pool could not start a
    /// thread).
    #[error("lookup failed: {0}")]
    System(#[source] io::Error),
    /// The host or service contains a NUL byte, so it cannot be passed to the OS.
    #[error("invalid lookup input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
    /// Any other `getaddrinfo` error code.
    #[error("lookup failed (code {code}): {message}")]
    Other {
        /// The raw error code.
        code: i32,
        /// The OS's text.
        message: String,
    },
}

impl Clone for LookupError {
    /// Clones the error; a [`LookupError::System`] error is rebuilt from its OS code (or
    /// its kind and text), since `io::Error` is not `Clone`.
    fn clone(&self) -> LookupError {
        use LookupError as E;
        let m = |message: &String| message.clone();
        match self {
            E::HostNotFound { host, message } => E::HostNotFound {
                host: host.clone(),
                message: m(message),
            },
            E::NoAddress {
                host,
                family,
                message,
            } => E::NoAddress {
                host: host.clone(),
                family: *family,
                message: m(message),
            },
            E::ServiceNotFound {
                service,
                socktype,
                message,
            } => E::ServiceNotFound {
                service: service.clone(),
                socktype: *socktype,
                message: m(message),
            },
            E::BadFlags { flags, message } => E::BadFlags {
                flags: *flags,
                message: m(message),
            },
            E::FamilyNotSupported { family, message } => E::FamilyNotSupported {
                family: *family,
                message: m(message),
            },
            E::SocktypeNotSupported { socktype, message } => E::SocktypeNotSupported {
                socktype: *socktype,
                message: m(message),
            },
            E::TryAgain { host, message } => E::TryAgain {
                host: host.clone(),
                message: m(message),
            },
            E::Failed { host, message } => E::Failed {
                host: host.clone(),
                message: m(message),
            },
            E::Memory { message } => E::Memory {
                message: m(message),
            },
            E::System(err) => E::System(clone_io(err)),
            E::InvalidInput { message } => E::InvalidInput {
                message: m(message),
            },
            E::Other { code, message } => E::Other {
                code: *code,
                message: m(message),
            },
        }
    }
}

fn clone_io(err: &io::Error) -> io::Error {
    match err.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(err.kind(), err.to_string()),
    }
}

impl From<LookupError> for io::Error {
    /// Converts to an `io::Error` with a fitting kind (`NotFound` for unknown hosts and
    /// services, `InvalidInput`/`Unsupported` for bad hints), keeping the message.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{Flags, addr::lookup, addr::Hints};
    ///
    /// let err = lookup("localhost", 0, &Hints::new().flags(Flags::NUMERICHOST)).unwrap_err();
    /// assert_eq!(std::io::Error::from(err).kind(), std::io::ErrorKind::NotFound);
    /// ```
    fn from(err: LookupError) -> io::Error {
        use io::ErrorKind as K;
        let kind = match &err {
            LookupError::System(_) => {
                let LookupError::System(io) = err else {
                    unreachable!("matched above")
                };
                return io;
            }
            LookupError::HostNotFound { .. }
            | LookupError::NoAddress { .. }
            | LookupError::ServiceNotFound { .. } => K::NotFound,
            LookupError::BadFlags { .. } | LookupError::InvalidInput { .. } => K::InvalidInput,
            LookupError::FamilyNotSupported { .. } | LookupError::SocktypeNotSupported { .. } => {
                K::Unsupported
            }
            LookupError::Memory { .. } => K::OutOfMemory,
            _ => K::Other,
        };
        io::Error::new(kind, err)
    }
}

/// A backend's classification of a failed `getaddrinfo`.
#[derive(Debug)]
pub(crate) enum Cause {
    NoName,
    NoData,
    Service,
    BadFlags,
    Family,
    Socktype,
    Again,
    Fail,
    Memory,
    System(io::Error),
    Other(i32),
}

/// A failed `getaddrinfo`: the portable cause and the OS's text.
#[derive(Debug)]
pub(crate) struct Failure {
    /// What kind of failure.
    pub(crate) cause: Cause,
    /// The OS's description (`gai_strerror`, or the system message on Windows).
    pub(crate) message: String,
}

/// What was asked, to name it in the error.
pub(crate) struct Asked<'a> {
    pub(crate) host: &'a str,
    pub(crate) service: &'a str,
    /// The service is a name, not a number.
    pub(crate) service_is_name: bool,
    pub(crate) hints: &'a crate::Hints,
}

impl Failure {
    /// Turns the failure into the public error, naming what was asked.
    pub(crate) fn into_error(self, asked: &Asked<'_>) -> LookupError {
        let Failure { cause, message } = self;
        let host = || asked.host.to_owned();
        let service = || asked.service.to_owned();
        let numericserv = asked.hints.flags.contains(Flags::NUMERICSERV);
        match cause {
            // glibc says "no name" for a service name refused by NUMERICSERV.
            Cause::NoName if numericserv && asked.service_is_name => LookupError::ServiceNotFound {
                service: service(),
                socktype: asked.hints.socktype,
                message,
            },
            Cause::NoName => LookupError::HostNotFound {
                host: host(),
                message,
            },
            Cause::NoData => LookupError::NoAddress {
                host: host(),
                family: asked.hints.family,
                message,
            },
            Cause::Service => LookupError::ServiceNotFound {
                service: service(),
                socktype: asked.hints.socktype,
                message,
            },
            Cause::BadFlags => LookupError::BadFlags {
                flags: asked.hints.flags,
                message,
            },
            Cause::Family => LookupError::FamilyNotSupported {
                family: asked.hints.family,
                message,
            },
            Cause::Socktype => LookupError::SocktypeNotSupported {
                socktype: asked.hints.socktype,
                message,
            },
            Cause::Again => LookupError::TryAgain {
                host: host(),
                message,
            },
            Cause::Fail => LookupError::Failed {
                host: host(),
                message,
            },
            Cause::Memory => LookupError::Memory { message },
            Cause::System(err) => LookupError::System(err),
            Cause::Other(code) => LookupError::Other { code, message },
        }
    }
}
