//! Echo server on sock, written against the `futures-io` traits: what a user porting a
//! futures-io (smol, futures) echo to sock would write, measured beside sock's native
//! `examples/echo_server` to show what going through `AsyncRead`/`AsyncWrite` costs.
//!
//! `echo_sock_fio --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed. TCP:
//! a sock thread per connection owning a `--buf`-sized buffer, `TCP_NODELAY` on, then
//! `read` and `write_all` from `futures_lite::io::{AsyncReadExt, AsyncWriteExt}` on
//! `sock::Tcp` (sock's `futures-io` feature). `--udp`: datagrams have no futures-io
//! trait, so it echoes them with sock's own `recvnext`/`sendto_addr`.

use std::io;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use sock::{Family, Tcp};
use sock_netbench::{ServerArgs, Transport};

fn main() {
    if let Err(err) = sock_netbench::require_linux("echo_sock_fio").and_then(|()| run()) {
        eprintln!("echo_sock_fio: {err}");
        std::process::exit(1);
    }
}

/// Serves on this OS thread's sock loop.
fn run() -> Result<(), String> {
    let args = ServerArgs::from_env_or_exit();
    sock_netbench::raise_nofile_limit().map_err(|err| format!("raising RLIMIT_NOFILE: {err}"))?;
    let served = match args.transport {
        Transport::Tcp => sock::run(serve_tcp(args)),
        Transport::Udp => sock::run(serve_udp(args)),
    };
    served.map_err(|err| format!("{}: {err}", args.addr))
}

/// The socket family of `args.addr`.
fn family(args: &ServerArgs) -> Family {
    match args.addr.is_ipv6() {
        true => Family::INET6,
        false => Family::INET,
    }
}

/// Accepts connections forever, one echo thread each.
async fn serve_tcp(args: ServerArgs) -> sock::Result<()> {
    let listener = sock::tcp(family(&args))?;
    listener.listen_to(&args.addr)?;
    loop {
        match listener.accept().await {
            Ok(conn) => {
                conn.set_nodelay(true)?;
                drop(sock::spawn(echo(conn, args.buf_size)));
            }
            // A connection reset before accept, or out of descriptors (sock has shed
            // the pending connection): wait and go on.
            Err(err) => {
                eprintln!("accept: {err}");
                sock::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes one connection through the futures-io traits until it closes or fails.
async fn echo(mut conn: Tcp, buf_size: usize) -> io::Result<()> {
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n]).await?;
    }
}

/// Echoes every datagram to its sender, forever.
async fn serve_udp(args: ServerArgs) -> sock::Result<()> {
    let socket = sock::udp(family(&args))?;
    socket.bind_to(&args.addr)?;
    let mut buf = vec![0u8; args.buf_size];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        // A datagram that cannot be sent is dropped, as UDP allows.
        let _ = socket.send_to(&buf[..n], &peer).await;
    }
}
