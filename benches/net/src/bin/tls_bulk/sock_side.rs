//! Both ends on sock: a sock loop on the calling thread, tokio-rustls over `sock::Tcp`
//! through sock's `tokio-io` adapter.

use std::net::SocketAddr;
use std::sync::mpsc::Sender;

use sock::Family;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::stream::{self, Received, Sent};

/// Listens on a free loopback port, tells `ready` which, and receives on the first
/// connection.
pub(crate) fn server(
    ready: Sender<SocketAddr>,
    acceptor: TlsAcceptor,
    chunk: usize,
) -> Result<Received, String> {
    sock::run(async move {
        let listener = sock::tcp(Family::INET).map_err(|e| format!("socket: {e}"))?;
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        listener
            .listen_to(&any)
            .map_err(|e| format!("listen: {e}"))?;
        let addr = listener.local_addr().ok().and_then(|a| a.as_socket());
        let _ = ready.send(addr.ok_or("the listener has no address")?);
        let conn = listener
            .accept()
            .await
            .map_err(|e| format!("accept: {e}"))?;
        conn.set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        stream::receive(acceptor, conn, chunk).await
    })
}

/// Connects to `addr` and sends.
pub(crate) fn client(
    addr: SocketAddr,
    connector: TlsConnector,
    bytes: u64,
    chunk: usize,
) -> Result<Sent, String> {
    sock::run(async move {
        let conn = sock::tcp(Family::INET).map_err(|e| format!("socket: {e}"))?;
        conn.connect_to(&addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        conn.set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        stream::send(connector, conn, bytes, chunk).await
    })
}
