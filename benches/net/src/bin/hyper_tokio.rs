//! HTTP/1.1 hello world on hyper over tokio's current_thread runtime: the baseline of
//! `netbench`'s hyper table.
//!
//! `hyper_tokio --addr 127.0.0.1:PORT`; serves until killed. The usual glue: a task per
//! connection with `TCP_NODELAY` on, hyper's `http1` connection over hyper-util's
//! `TokioIo`, with hyper-util's `TokioTimer` as hyper's timer (so the default 30 s
//! header-read timeout is armed for every request, as in `hyper_sock`).

#[path = "../peers/hello.rs"]
mod hello;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};

fn main() {
    let addr = hello::addr_from_env_or_exit();
    let served = sock_netbench::require_linux("hyper_tokio").and_then(|()| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| format!("runtime: {err}"))?;
        let serving = async { tokio::spawn(serve(addr)).await? };
        runtime
            .block_on(serving)
            .map_err(|err| format!("{addr}: {err}"))
    });
    if let Err(err) = served {
        eprintln!("hyper_tokio: {err}");
        std::process::exit(1);
    }
}

/// Accepts connections forever, one task each.
async fn serve(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                stream.set_nodelay(true)?;
                tokio::spawn(connection(stream));
            }
            // A connection reset before accept, or out of descriptors: wait and go on.
            Err(err) => {
                eprintln!("accept: {err}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Serves one connection's requests until the client closes it.
async fn connection(stream: TcpStream) {
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new());
    let served = h1
        .serve_connection(TokioIo::new(stream), service_fn(hello::hello))
        .await;
    if let Err(err) = served {
        eprintln!("connection: {err:?}");
    }
}
