//! The tokio echo server body, shared by `echo_tokio_ct` and `echo_tokio_mt` (included into
//! each with `#[path]`; the two differ only in the runtime they build).
//!
//! Idiomatic tokio, as a user would write it: a task per connection owning a `--buf`-sized
//! buffer, `read` then `write_all`; the accept loop and the UDP loop are spawned tasks so
//! that on the multi-thread runtime they run on a worker like everything else.

use std::io;
use std::time::Duration;

use sock_netbench::{ServerArgs, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Serves `args` on the current runtime until the process is killed.
pub(crate) async fn serve(args: ServerArgs) -> io::Result<()> {
    let task = match args.transport {
        Transport::Tcp => tokio::spawn(serve_tcp(args)),
        Transport::Udp => tokio::spawn(serve_udp(args)),
    };
    task.await?
}

/// Accepts connections forever, one echo task each.
async fn serve_tcp(args: ServerArgs) -> io::Result<()> {
    let listener = TcpListener::bind(args.addr).await?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                stream.set_nodelay(true)?;
                tokio::spawn(echo(stream, args.buf_size));
            }
            // Out of descriptors or a connection reset before accept: wait and go on.
            Err(err) => {
                eprintln!("accept: {err}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes one connection until it closes or fails.
async fn echo(mut stream: TcpStream, buf_size: usize) {
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Echoes every datagram to its sender, forever.
async fn serve_udp(args: ServerArgs) -> io::Result<()> {
    let socket = UdpSocket::bind(args.addr).await?;
    let mut buf = vec![0u8; args.buf_size];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        // A datagram that cannot be sent is dropped, as UDP allows.
        let _ = socket.send_to(&buf[..n], peer).await;
    }
}

/// The `main` of both tokio servers: checks the OS, reads the arguments, builds the
/// runtime with `builder` and serves on it; exits with status 1 and a message on error.
pub(crate) fn main_with(name: &str, mut builder: tokio::runtime::Builder) {
    let mut run = || -> Result<(), String> {
        let args = sock_netbench::ServerArgs::from_env_or_exit();
        sock_netbench::raise_nofile_limit()
            .map_err(|err| format!("raising RLIMIT_NOFILE: {err}"))?;
        let runtime = builder
            .enable_all()
            .build()
            .map_err(|err| format!("runtime: {err}"))?;
        runtime
            .block_on(serve(args))
            .map_err(|err| format!("{}: {err}", args.addr))
    };
    if let Err(err) = sock_netbench::require_linux(name).and_then(|()| run()) {
        eprintln!("{name}: {err}");
        std::process::exit(1);
    }
}
