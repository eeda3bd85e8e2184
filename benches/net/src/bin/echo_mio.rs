//! Echo server on raw mio (edge-triggered epoll underneath): the best a hand-written Rust
//! event loop does without a runtime.
//!
//! `echo_mio --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed.
//!
//! One thread, one `Poll`, connections in a slab. Reads go to one shared buffer and are
//! written straight back; only bytes the kernel would not take are copied into a
//! per-connection `pending` buffer, and reading that connection stops until they are
//! written (backpressure). A read shorter than the buffer means the socket was drained — with
//! edge-triggered readiness the next byte to arrive raises a new event — so no extra `read`
//! is spent to see `EAGAIN`; that is the same trick tokio plays.

use std::io::{self, ErrorKind, Read, Write};

use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use sock_netbench::{ServerArgs, Transport};

/// The listening (or UDP) socket's token; connections use their slab key.
const LISTENER: Token = Token(usize::MAX);

fn main() {
    if let Err(err) = sock_netbench::require_linux("echo_mio").and_then(|()| run()) {
        eprintln!("echo_mio: {err}");
        std::process::exit(1);
    }
}

/// Parses the flags and serves.
fn run() -> Result<(), String> {
    let args = ServerArgs::from_env_or_exit();
    sock_netbench::raise_nofile_limit().map_err(|err| format!("raising RLIMIT_NOFILE: {err}"))?;
    let served = match args.transport {
        Transport::Tcp => serve_tcp(args),
        Transport::Udp => serve_udp(args),
    };
    served.map_err(|err| format!("{}: {err}", args.addr))
}

/// One accepted connection.
struct Conn {
    /// The socket, registered readable and writable once, edge-triggered.
    stream: TcpStream,
    /// Bytes read but not yet accepted by the kernel; reading pauses while non-empty.
    pending: Vec<u8>,
}

/// The TCP event loop.
fn serve_tcp(args: ServerArgs) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(args.addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns = Slab::new();
    let mut buf = vec![0u8; args.buf_size];
    let mut events = Events::with_capacity(1024);
    loop {
        poll_retrying(&mut poll, &mut events)?;
        for event in &events {
            match event.token() {
                LISTENER => accept_all(&poll, &listener, &mut conns),
                Token(key) => {
                    let closed = service(&mut conns[key], &mut buf).is_err();
                    if closed {
                        conns.remove(key);
                    }
                }
            }
        }
    }
}

/// `Poll::poll` with no timeout, retried when a signal interrupts it.
fn poll_retrying(poll: &mut Poll, events: &mut Events) -> io::Result<()> {
    loop {
        match poll.poll(events, None) {
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Accepts until the backlog is empty, registering each connection.
fn accept_all(poll: &Poll, listener: &TcpListener, conns: &mut Slab<Conn>) {
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(err) if err.kind() == ErrorKind::WouldBlock => return,
            Err(err) => {
                // Out of descriptors, say: the next connection attempt raises a new event.
                eprintln!("accept: {err}");
                return;
            }
        };
        let entry = conns.vacant_entry();
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registered = stream.set_nodelay(true).and_then(|()| {
            poll.registry()
                .register(&mut stream, Token(entry.key()), interest)
        });
        match registered {
            Ok(()) => {
                entry.insert(Conn {
                    stream,
                    pending: Vec::new(),
                });
            }
            Err(err) => eprintln!("register: {err}"),
        }
    }
}

/// Handles any event on a connection: write what is pending, then echo what arrived.
/// `Err` means the connection is finished and must be dropped.
fn service(conn: &mut Conn, buf: &mut [u8]) -> io::Result<()> {
    if !conn.pending.is_empty() {
        let written = write_some(&mut conn.stream, &conn.pending)?;
        conn.pending.drain(..written);
        if !conn.pending.is_empty() {
            return Ok(());
        }
        conn.pending = Vec::new();
    }
    echo_available(conn, buf)
}

/// Reads and echoes until the socket is drained or the peer stops taking bytes.
fn echo_available(conn: &mut Conn, buf: &mut [u8]) -> io::Result<()> {
    loop {
        let n = match conn.stream.read(buf) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let written = write_some(&mut conn.stream, &buf[..n])?;
        if written < n {
            conn.pending.extend_from_slice(&buf[written..n]);
            return Ok(());
        }
        if n < buf.len() {
            return Ok(());
        }
    }
}

/// Writes as much of `data` as the kernel takes now; `WouldBlock` is 0 bytes, not an error.
fn write_some(stream: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match stream.write(&data[written..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
    Ok(written)
}

/// The UDP event loop: every datagram straight back to its sender.
fn serve_udp(args: ServerArgs) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut socket = UdpSocket::bind(args.addr)?;
    poll.registry()
        .register(&mut socket, LISTENER, Interest::READABLE)?;
    let mut buf = vec![0u8; args.buf_size];
    let mut events = Events::with_capacity(16);
    loop {
        poll_retrying(&mut poll, &mut events)?;
        echo_datagrams(&socket, &mut buf)?;
    }
}

/// Echoes datagrams until none are left; one that cannot be sent now is dropped.
fn echo_datagrams(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<()> {
    loop {
        match socket.recv_from(buf) {
            Ok((n, peer)) => {
                let _ = socket.send_to(&buf[..n], peer);
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}
