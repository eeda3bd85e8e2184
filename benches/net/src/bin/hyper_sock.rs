//! HTTP/1.1 hello world on hyper over sock: the sock side of `netbench`'s hyper table.
//!
//! `hyper_sock --addr 127.0.0.1:PORT`; serves until killed. One sock loop on this OS
//! thread, a sock thread per connection with `TCP_NODELAY` on, served by hyper's
//! `http1` connection straight on `sock::Tcp` (sock's `hyper` feature implements
//! `hyper::rt::Read`/`Write` for it) with [`sock::hyper::Timer`] as hyper's timer, so
//! the default 30 s header-read timeout is armed for every request, as in a real server.
//! `hyper_tokio` is the same server on tokio's current_thread runtime.
//!
//! When wrk stops it closes its connections with requests still in flight, so they are
//! reset; hyper then shuts the writing side of each down, and sock's I/O traits count
//! the `ENOTCONN` of that `shutdown(2)` as done, as tokio's `TcpStream` does.

#[path = "../peers/hello.rs"]
mod hello;

use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use sock::{Family, Tcp};

fn main() {
    let addr = hello::addr_from_env_or_exit();
    let served = sock_netbench::require_linux("hyper_sock")
        .and_then(|()| sock::run(serve(addr)).map_err(|err| format!("{addr}: {err}")));
    if let Err(err) = served {
        eprintln!("hyper_sock: {err}");
        std::process::exit(1);
    }
}

/// Accepts connections forever, one sock thread each.
async fn serve(addr: SocketAddr) -> sock::Result<()> {
    let family = match addr.is_ipv6() {
        true => Family::INET6,
        false => Family::INET,
    };
    let listener = sock::tcp(family)?;
    listener.listen_to(&addr)?;
    loop {
        match listener.accept().await {
            Ok(conn) => {
                conn.set_nodelay(true)?;
                drop(sock::spawn(connection(conn)));
            }
            // A connection reset before accept, or out of descriptors: wait and go on.
            Err(err) => {
                eprintln!("accept: {err}");
                sock::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Serves one connection's requests until the client closes it.
async fn connection(conn: Tcp) {
    let mut h1 = http1::Builder::new();
    h1.timer(sock::hyper::Timer);
    let served = h1.serve_connection(conn, service_fn(hello::hello)).await;
    if let Err(err) = served {
        eprintln!("connection: {err:?}");
    }
}
