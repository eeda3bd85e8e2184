//! What both runtimes share: the TLS configurations, and the two ends of the transfer
//! written once over any stream with tokio's I/O traits (sock's `Tcp` through its
//! `tokio-io` adapter, or tokio's `TcpStream`).

use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::{PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sock_netbench::Pattern;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector, client, server};

/// The name the certificate is for and the client asks for.
const NAME: &str = "localhost";

/// The server's and the client's configurations, around one self-signed certificate.
pub(crate) struct Tls {
    /// The server's: the certificate and its key.
    server: Arc<ServerConfig>,
    /// The client's: trusts the certificate and nothing else.
    client: Arc<ClientConfig>,
}

impl Tls {
    /// A fresh key and certificate for `localhost` (rcgen), both configurations on
    /// rustls' `ring` provider with its safe default versions and suites.
    pub(crate) fn new() -> Result<Self, String> {
        let made = rcgen::generate_simple_self_signed(vec![NAME.to_owned()])
            .map_err(|e| format!("rcgen: {e}"))?;
        let cert = made.cert.der().clone();
        let key = PrivateKeyDer::from(made.signing_key);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(vec![cert.clone()], key)
            })
            .map_err(|e| format!("server config: {e}"))?;
        let mut roots = RootCertStore::empty();
        roots
            .add(cert)
            .map_err(|e| format!("trusting the certificate: {e}"))?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("client config: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            server: Arc::new(server),
            client: Arc::new(client),
        })
    }

    /// Makes server sessions.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server.clone())
    }

    /// Makes client sessions.
    pub(crate) fn connector(&self) -> TlsConnector {
        TlsConnector::from(self.client.clone())
    }
}

/// What the server measured.
pub(crate) struct Received {
    /// Bytes read and checked.
    pub(crate) bytes: u64,
    /// The server thread's CPU time from after the handshake to its `close_notify`.
    pub(crate) cpu_seconds: f64,
}

/// What the client measured.
pub(crate) struct Sent {
    /// From the first write to the server's `close_notify`.
    pub(crate) seconds: f64,
    /// The client thread's CPU time over the same span.
    pub(crate) cpu_seconds: f64,
    /// The protocol version negotiated, e.g. `TLSv1_3`.
    pub(crate) version: String,
    /// The cipher suite negotiated.
    pub(crate) suite: String,
}

/// The server's end on an accepted connection: the handshake, then reads until the
/// client's `close_notify` checking every byte, then its own `close_notify`.
pub(crate) async fn receive<S>(
    acceptor: TlsAcceptor,
    conn: S,
    chunk: usize,
) -> Result<Received, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut tls = acceptor
        .accept(conn)
        .await
        .map_err(|e| format!("server handshake: {e}"))?;
    let cpu = cpu_now()?;
    let bytes = read_all(&mut tls, chunk).await?;
    tls.shutdown()
        .await
        .map_err(|e| format!("server close: {e}"))?;
    Ok(Received {
        bytes,
        cpu_seconds: cpu_now()? - cpu,
    })
}

/// Reads until a clean end, checking each byte against the pattern; returns the count.
async fn read_all<S>(tls: &mut server::TlsStream<S>, chunk: usize) -> Result<u64, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let pattern = Pattern::new();
    let mut buf = vec![0u8; chunk];
    let mut total = 0u64;
    loop {
        let n = tls
            .read(&mut buf)
            .await
            .map_err(|e| format!("server read at {total}: {e}"))?;
        if n == 0 {
            return Ok(total);
        }
        if !pattern.matches(0, total, &buf[..n]) {
            return Err(format!("wrong bytes within {n} at offset {total}"));
        }
        total += n as u64;
    }
}

/// The client's end on a connected socket: the handshake, then `bytes` of the pattern
/// in `chunk` writes, its `close_notify`, and a wait for the server's.
pub(crate) async fn send<S>(
    connector: TlsConnector,
    conn: S,
    bytes: u64,
    chunk: usize,
) -> Result<Sent, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(NAME).expect("NAME is a valid DNS name");
    let mut tls = connector
        .connect(name, conn)
        .await
        .map_err(|e| format!("client handshake: {e}"))?;
    let (cpu, start) = (cpu_now()?, Instant::now());
    write_all(&mut tls, bytes, chunk).await?;
    tls.shutdown()
        .await
        .map_err(|e| format!("client close: {e}"))?;
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest)
        .await
        .map_err(|e| format!("client waiting for the close: {e}"))?;
    let (seconds, cpu_seconds) = (start.elapsed().as_secs_f64(), cpu_now()? - cpu);
    let session = tls.get_ref().1;
    let name = |v: Option<String>| v.unwrap_or_else(|| "?".to_owned());
    Ok(Sent {
        seconds,
        cpu_seconds,
        version: name(session.protocol_version().map(|v| format!("{v:?}"))),
        suite: name(
            session
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
        ),
    })
}

/// Writes `bytes` of the pattern in `chunk`-sized writes.
async fn write_all<S>(
    tls: &mut client::TlsStream<S>,
    bytes: u64,
    chunk: usize,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let pattern = Pattern::new();
    let mut buf = vec![0u8; chunk];
    let mut sent = 0u64;
    while sent < bytes {
        let n = chunk.min((bytes - sent) as usize);
        pattern.fill(0, sent, &mut buf[..n]);
        tls.write_all(&buf[..n])
            .await
            .map_err(|e| format!("client write at {sent}: {e}"))?;
        sent += n as u64;
    }
    tls.flush().await.map_err(|e| format!("client flush: {e}"))
}

/// This thread's CPU time, seconds.
fn cpu_now() -> Result<f64, String> {
    sock_netbench::thread_cpu_seconds().map_err(|e| format!("thread CPU time: {e}"))
}
