//! A TLS echo server and its client: rustls through tokio-rustls, over sock's
//! `tokio-io` adapter (tokio's `AsyncRead`/`AsyncWrite` on [`Tcp`]), with the `ring`
//! crypto provider.
//!
//! The server's certificate is self-signed and made at run time by rcgen, for
//! `localhost` and `127.0.0.1` ([`Identity::self_signed`]); a client trusts exactly that
//! certificate ([`client_config`] from its PEM). The server offers TLS 1.2 and 1.3, so a
//! client that sees 1.3 knows it was chosen, not forced.
//!
//! Each connection is a sock thread: the handshake under [`Server::handshake_timeout`],
//! then every record read is written back (and flushed: tokio-rustls may keep records
//! it could not send yet) until the client's `close_notify`, which the server answers
//! with its own before closing. A TCP close without `close_notify` is a truncation
//! attack as far as TLS knows, and ends the session with [`ErrorKind::Eof`]; a failed
//! handshake ends that connection only. Errors of one session are printed to stderr and
//! never stop the server.
//!
//! The client writes from a thread of its own while it reads the echo, so neither side
//! can stall on full buffers, and shuts its writing side down (`close_notify`, then a
//! TCP half-close) when it has sent everything; it reads until the server's
//! `close_notify`.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ProtocolVersion, RootCertStore, ServerConfig};
use sock::{ErrorKind, Expires, Family, Tcp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

/// The size of the server's read buffer (a TLS record holds at most 16 KiB).
const CHUNK: usize = 16 * 1024;

/// A certificate and its private key.
#[derive(Debug)]
pub struct Identity {
    /// The certificate, DER.
    pub cert: CertificateDer<'static>,
    /// The same certificate as PEM, for clients to trust (`openssl s_client -CAfile`).
    pub cert_pem: String,
    /// The certificate's private key (PKCS#8).
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// A new key pair and a certificate for `localhost` and `127.0.0.1` signed by it.
    ///
    /// # Errors
    ///
    /// rcgen's, as [`ErrorKind::Other`] (not expected with its default parameters).
    ///
    /// # Examples
    ///
    /// ```
    /// let id = sock_examples::tls_echo::Identity::self_signed().unwrap();
    /// assert!(id.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    /// ```
    pub fn self_signed() -> sock::Result<Identity> {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let made = rcgen::generate_simple_self_signed(names).map_err(other)?;
        Ok(Identity {
            cert: made.cert.der().clone(),
            cert_pem: made.cert.pem(),
            key: made.signing_key.into(),
        })
    }

    /// A server configuration presenting this certificate, TLS 1.2 and 1.3.
    ///
    /// # Errors
    ///
    /// rustls', as [`ErrorKind::Other`] (a key that does not suit the certificate).
    pub fn server_config(&self) -> sock::Result<Arc<ServerConfig>> {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(other)?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], self.key.clone_key())
            .map_err(other)?;
        Ok(Arc::new(config))
    }
}

/// A client configuration that trusts only the certificates in `ca_pem`.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] if `ca_pem` holds no certificate rustls accepts.
///
/// # Examples
///
/// ```
/// use sock_examples::tls_echo::{Identity, client_config};
///
/// let id = Identity::self_signed().unwrap();
/// assert!(client_config(&id.cert_pem).is_ok());
/// assert!(client_config("no pem here").is_err());
/// ```
pub fn client_config(ca_pem: &str) -> sock::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| invalid(format!("--ca: {e}")))?;
        roots.add(cert).map_err(|e| invalid(format!("--ca: {e}")))?;
    }
    if roots.is_empty() {
        return Err(invalid("no certificate in the PEM".to_owned()));
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The TLS echo server.
#[derive(Clone)]
pub struct Server {
    /// Makes the server side of each connection.
    acceptor: TlsAcceptor,
    /// How long a client may take to complete its handshake.
    pub handshake_timeout: Duration,
    /// How long a session may wait for the client's next record, or for room to
    /// write the echo of the last one.
    pub idle_timeout: Duration,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server with `config`, a 10 s handshake timeout and a 60 s idle timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock_examples::tls_echo::{Identity, Server};
    ///
    /// let id = Identity::self_signed().unwrap();
    /// let server = Server::new(id.server_config().unwrap());
    /// assert_eq!(server.handshake_timeout.as_secs(), 10);
    /// ```
    pub fn new(config: Arc<ServerConfig>) -> Server {
        Server {
            acceptor: TlsAcceptor::from(config),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// Accepts connections forever, echoing each in a thread of its own (see
    /// [`crate::serve::accept_loop`]).
    ///
    /// # Errors
    ///
    /// The first fatal accept error (e.g. the listener was closed).
    pub async fn serve(self, listener: Tcp) -> sock::Result<()> {
        let this = Rc::new(self);
        crate::serve::accept_loop(listener, move |conn| {
            let this = Rc::clone(&this);
            async move { this.session(conn).await }
        })
        .await
    }

    /// One session, its error (if any) printed.
    async fn session(&self, conn: Tcp) {
        let peer = conn.remote_addr().map(|a| a.to_string());
        if let Err(e) = self.echo(conn).await {
            eprintln!("tls_echo: {}: {e}", peer.as_deref().unwrap_or("?"));
        }
    }

    /// Completes the handshake on `conn`, then echoes until the client's
    /// `close_notify`, answers it with the server's own and closes; returns the bytes
    /// echoed.
    ///
    /// # Errors
    ///
    /// The handshake's ([`ErrorKind::Timeout`] at the handshake timeout, `Other` for
    /// bytes that are not TLS), [`ErrorKind::Eof`] for a TCP close without
    /// `close_notify`, `Timeout` after the idle timeout (reading, or writing to a
    /// client that does not read), or the connection's (a reset).
    pub async fn echo(&self, conn: Tcp) -> sock::Result<u64> {
        let _ = conn.set_nodelay(true); // each echoed record goes out at once
        let accept = async { self.acceptor.accept(conn).await.map_err(tls_error) };
        let mut tls = sock::timeout(self.handshake_timeout, accept).await?;
        let echoed = self.echo_records(&mut tls).await?;
        tls.shutdown().await.map_err(tls_error)?; // close_notify, then the TCP FIN
        Ok(echoed)
    }

    /// Writes back what `tls` reads until its clean end; returns the bytes echoed.
    async fn echo_records(&self, tls: &mut server::TlsStream<Tcp>) -> sock::Result<u64> {
        let mut buf = vec![0u8; CHUNK];
        let mut echoed = 0;
        loop {
            let read = async { tls.read(&mut buf).await.map_err(tls_error) };
            let n = sock::timeout(self.idle_timeout, read).await?;
            if n == 0 {
                return Ok(echoed); // close_notify (an EOF without it is an error)
            }
            let write = async {
                tls.write_all(&buf[..n]).await.map_err(tls_error)?;
                tls.flush().await.map_err(tls_error)
            };
            sock::timeout(self.idle_timeout, write).await?; // a client that stops reading
            echoed += n as u64;
        }
    }
}

/// Connects to `host:port` and completes a TLS handshake with `config`, verifying the
/// server's certificate for `host` (a name or an address), all within `timeout`.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`] for a `host` that cannot be a server name; the
/// connect's; the handshake's (`Other`, e.g. a certificate that does not verify);
/// [`ErrorKind::Timeout`].
pub async fn connect(
    host: &str,
    port: u16,
    config: Arc<ClientConfig>,
    timeout: Duration,
) -> sock::Result<client::TlsStream<Tcp>> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| invalid(e.to_string()))?;
    let deadline = sock::clock() + timeout;
    let tcp = sock::tcp(Family::UNSPEC)?;
    tcp.connect(host, port).expires(deadline).await?;
    let _ = tcp.set_nodelay(true);
    let handshake = async {
        let connector = TlsConnector::from(config);
        connector.connect(name, tcp).await.map_err(tls_error)
    };
    sock::deadline(deadline, handshake).await
}

/// The TLS version the handshake on `tls` settled on.
pub fn protocol_version(tls: &client::TlsStream<Tcp>) -> Option<ProtocolVersion> {
    tls.get_ref().1.protocol_version()
}

/// Sends `data` on `tls` from a thread of its own, then shuts the writing side down
/// (`close_notify` and a TCP half-close), while reading the echo until the server's
/// `close_notify`; returns what was read.
///
/// # Errors
///
/// Either direction's; [`ErrorKind::Eof`] if the server closes without
/// `close_notify`. The writing thread is cancelled when reading fails.
///
/// # Panics
///
/// If the writing thread panicked (the panic goes on here).
pub async fn round_trip(tls: client::TlsStream<Tcp>, data: Vec<u8>) -> sock::Result<Vec<u8>> {
    let (mut reader, mut writer) = tokio::io::split(tls);
    let sender = sock::spawn(async move {
        writer.write_all(&data).await.map_err(tls_error)?;
        writer.shutdown().await.map_err(tls_error) // close_notify, then the TCP half-close
    });
    let mut echoed = Vec::new();
    if let Err(e) = reader.read_to_end(&mut echoed).await {
        sender.cancel();
        return Err(tls_error(e));
    }
    match sender.join().await {
        Ok(sent) => sent?,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
    Ok(echoed)
}

/// The crypto provider of both sides: rustls' `ring` backend.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// An error of the TLS stream as a sock error: the socket's own error as it was; a
/// TLS error (whose text sock's `Display` would not show, as it is the `source`) with
/// its kind and its text as the message.
fn tls_error(e: io::Error) -> sock::Error {
    let from_socket = e.get_ref().is_some_and(|inner| inner.is::<sock::Error>());
    if from_socket || e.raw_os_error().is_some() {
        return e.into();
    }
    let message = e.to_string();
    sock::Error::new(sock::Error::from(e).kind(), message)
}

/// A TLS library's error as a sock error.
fn other(e: impl std::fmt::Display) -> sock::Error {
    sock::Error::new(ErrorKind::Other, e.to_string())
}

/// An [`ErrorKind::InvalidInput`] error saying `why`.
fn invalid(why: String) -> sock::Error {
    sock::Error::new(ErrorKind::InvalidInput, why)
}
