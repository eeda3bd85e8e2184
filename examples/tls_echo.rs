//! A TLS echo server on rustls over sock, and its client.
//!
//! Server: `tls_echo [--listen 127.0.0.1:8443] [--cert-out PATH]` makes a self-signed
//! certificate for `localhost` and `127.0.0.1`, writes it as PEM to `PATH` (default
//! `tls_echo.pem` in the temporary directory) and echoes every connection until killed.
//!
//! Client: `tls_echo client [--connect 127.0.0.1:8443] [--ca PATH] [--bytes 1048576]`
//! trusts only the certificate in `PATH` (same default), sends `--bytes` bytes, checks
//! that the echo is the same and says which TLS version was used. `openssl s_client
//! -connect 127.0.0.1:8443 -CAfile PATH` talks to the server too.

use std::path::PathBuf;
use std::time::Duration;

use sock::ErrorKind;
use sock_examples::args::{flag, host_port};
use sock_examples::tls_echo::{self, Identity, Server};

fn main() -> sock::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("client") => client(),
        _ => server(),
    }
}

/// The server: a new certificate, its PEM written out, then the echo service.
fn server() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--listen", "127.0.0.1:8443"));
    let cert_out = cert_path("--cert-out");
    let identity = Identity::self_signed()?;
    std::fs::write(&cert_out, &identity.cert_pem)?;
    let server = Server::new(identity.server_config()?);
    sock::run(async move {
        let listener = sock_examples::serve::listener(&host, port)?;
        let addr = listener.local_addr()?;
        println!("tls_echo on {addr}, certificate in {}", cert_out.display());
        server.serve(listener).await
    })
}

/// The client: one round trip of `--bytes` bytes, checked.
fn client() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--connect", "127.0.0.1:8443"));
    let bytes: usize = flag("--bytes", "1048576").parse().expect("--bytes N");
    let config = tls_echo::client_config(&std::fs::read_to_string(cert_path("--ca"))?)?;
    let data: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    sock::run(async move {
        let tls = tls_echo::connect(&host, port, config, Duration::from_secs(10)).await?;
        let version = tls_echo::protocol_version(&tls);
        let echoed = tls_echo::round_trip(tls, data.clone()).await?;
        if echoed != data {
            let why = format!("sent {} bytes, {} came back different", bytes, echoed.len());
            return Err(sock::Error::new(ErrorKind::Other, why));
        }
        println!("{bytes} bytes echoed over {version:?}");
        Ok(())
    })
}

/// The certificate path after `name`, or `tls_echo.pem` in the temporary directory.
fn cert_path(name: &str) -> PathBuf {
    let default = std::env::temp_dir().join("tls_echo.pem");
    PathBuf::from(flag(name, &default.to_string_lossy()))
}
