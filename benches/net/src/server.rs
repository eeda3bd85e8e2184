//! The command line every echo server shares: `--addr HOST:PORT [--udp] [--buf BYTES]`.
//!
//! The servers serve until killed; the driver starts them with `taskset` and reads their
//! CPU, syscalls and memory by PID, so each server is one process doing nothing else.

use std::net::SocketAddr;

use crate::Args;

/// The usage text of every echo server.
const USAGE: &str = "usage: SERVER --addr HOST:PORT [--udp] [--buf BYTES]
  echoes what arrives until killed; TCP by default, --udp for datagrams;
  --buf is the read buffer size (per connection where the server keeps one), 65536 by default";

/// Which protocol an echo server speaks.
///
/// # Examples
///
/// ```
/// use sock_netbench::{Args, ServerArgs, Transport};
///
/// let server = ServerArgs::parse(Args::new(["--addr", "127.0.0.1:0", "--udp"])).unwrap();
/// assert_eq!(server.transport, Transport::Udp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP: accept connections, echo each byte stream.
    Tcp,
    /// UDP: echo each datagram to its sender.
    Udp,
}

/// Parsed echo-server flags.
///
/// # Examples
///
/// ```
/// use sock_netbench::{Args, ServerArgs, Transport};
///
/// let server = ServerArgs::parse(Args::new(["--addr", "127.0.0.1:7000"])).unwrap();
/// assert_eq!(server.addr.port(), 7000);
/// assert_eq!(server.transport, Transport::Tcp);
/// assert_eq!(server.buf_size, 65536);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerArgs {
    /// Where to listen (TCP) or bind (UDP).
    pub addr: SocketAddr,
    /// TCP or UDP.
    pub transport: Transport,
    /// Bytes in each read buffer.
    pub buf_size: usize,
}

impl ServerArgs {
    /// Parses the flags of an echo server.
    ///
    /// # Errors
    ///
    /// The usage text when `--help` is given, `--addr` is missing or malformed, `--buf` is 0
    /// or not a number, or an unknown flag is present.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_netbench::{Args, ServerArgs};
    ///
    /// assert!(ServerArgs::parse(Args::new(["--udp"])).is_err());
    /// assert!(ServerArgs::parse(Args::new(["--addr", "127.0.0.1:1", "--buf", "0"])).is_err());
    /// ```
    pub fn parse(mut args: Args) -> Result<Self, String> {
        if args.flag("--help") || args.flag("-h") {
            return Err(USAGE.to_owned());
        }
        let transport = match args.flag("--udp") {
            true => Transport::Udp,
            false => Transport::Tcp,
        };
        let buf_size = args.value("--buf")?.unwrap_or(65536);
        let addr = args.value("--addr")?;
        args.finish()?;
        let addr = addr.ok_or_else(|| format!("--addr is required\n{USAGE}"))?;
        if buf_size == 0 {
            return Err("--buf must be at least 1".to_owned());
        }
        Ok(Self {
            addr,
            transport,
            buf_size,
        })
    }

    /// Parses this process's flags; on error prints it and exits with status 2.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let server = sock_netbench::ServerArgs::from_env_or_exit();
    /// println!("listening on {}", server.addr);
    /// ```
    pub fn from_env_or_exit() -> Self {
        Self::parse(Args::from_env()).unwrap_or_else(|err| {
            eprintln!("{err}");
            std::process::exit(2)
        })
    }
}
