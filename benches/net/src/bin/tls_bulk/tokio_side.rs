//! Both ends on tokio: a current_thread runtime on the calling thread, tokio-rustls
//! over tokio's `TcpStream`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::stream::{self, Received, Sent};

/// Listens on a free loopback port, tells `ready` which, and receives on the first
/// connection.
pub(crate) fn server(
    ready: Sender<SocketAddr>,
    acceptor: TlsAcceptor,
    chunk: usize,
) -> Result<Received, String> {
    block_on(async move {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let listener = TcpListener::bind(any)
            .await
            .map_err(|e| format!("listen: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("listener address: {e}"))?;
        let _ = ready.send(addr);
        let (conn, _) = listener
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
    block_on(async move {
        let conn = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        conn.set_nodelay(true)
            .map_err(|e| format!("nodelay: {e}"))?;
        stream::send(connector, conn, bytes, chunk).await
    })
}

/// Runs `work` as a task of a fresh current_thread runtime on this thread (a spawned
/// task, as a server's connections are, not the `block_on` future itself).
fn block_on<T: Send + 'static>(
    work: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async { tokio::spawn(work).await.map_err(|e| format!("task: {e}"))? })
}
