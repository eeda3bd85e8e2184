//! Echo server on the smol crates: async-io's reactor driving an async-executor
//! `LocalExecutor` on one thread.
//!
//! `echo_smol --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed. Written
//! as a smol user would: a task per connection owning a `--buf`-sized buffer.

use std::io;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use async_executor::LocalExecutor;
use async_io::{Async, Timer};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sock_netbench::{ServerArgs, Transport};

fn main() {
    if let Err(err) = sock_netbench::require_linux("echo_smol").and_then(|()| run()) {
        eprintln!("echo_smol: {err}");
        std::process::exit(1);
    }
}

/// Runs the executor on this thread, with async-io's reactor parked in `block_on`.
fn run() -> Result<(), String> {
    let args = ServerArgs::from_env_or_exit();
    sock_netbench::raise_nofile_limit().map_err(|err| format!("raising RLIMIT_NOFILE: {err}"))?;
    let executor = LocalExecutor::new();
    let served = match args.transport {
        Transport::Tcp => async_io::block_on(executor.run(serve_tcp(&executor, args))),
        Transport::Udp => async_io::block_on(executor.run(serve_udp(args))),
    };
    served.map_err(|err| format!("{}: {err}", args.addr))
}

/// Accepts connections forever, one echo task each.
async fn serve_tcp<'a>(executor: &LocalExecutor<'a>, args: ServerArgs) -> io::Result<()> {
    let listener = Async::<TcpListener>::bind(args.addr)?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                stream.get_ref().set_nodelay(true)?;
                executor.spawn(echo(stream, args.buf_size)).detach();
            }
            // Out of descriptors or a connection reset before accept: wait and go on.
            Err(err) => {
                eprintln!("accept: {err}");
                Timer::after(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes one connection until it closes or fails.
async fn echo(mut stream: Async<TcpStream>, buf_size: usize) {
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
    let socket = Async::<UdpSocket>::bind(args.addr)?;
    let mut buf = vec![0u8; args.buf_size];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        // A datagram that cannot be sent is dropped, as UDP allows.
        let _ = socket.send_to(&buf[..n], peer).await;
    }
}
