//! `tls_bulk`: bytes through rustls over one loopback connection, the client and the
//! server each on a thread of its own pinned to its own CPU, both on the runtime under
//! test: sock (tokio-rustls over sock's `tokio-io` adapter) or tokio (tokio-rustls over
//! tokio's `TcpStream`, a current_thread runtime per thread).
//!
//! `tls_bulk --runtime sock|tokio [--bytes N] [--chunk BYTES] [--server-cpu N]
//! [--client-cpu N]` prints one JSON line and exits. One direction: after the
//! handshake the client writes `--bytes` of the harness's byte pattern in `--chunk`
//! writes, then `close_notify` and a TCP half-close; the server reads into a
//! `--chunk` buffer, checks every byte against the pattern and drops it, and answers
//! the client's `close_notify` with its own. The client's clock runs from its first
//! write to the server's `close_notify`, so it covers every byte received and checked.
//! Each thread's CPU time is read over the same span (`CLOCK_THREAD_CPUTIME_ID`).
//!
//! The certificate is self-signed, made by rcgen at start for `localhost`; the client
//! trusts exactly it. TLS 1.3 with rustls' default preference (AES-256-GCM first), the
//! `ring` provider on both ends. One process, so no PEM has to travel between
//! processes; `netbench` runs it under `taskset` on the two CPUs and reads the line.

mod sock_side;
mod stream;
mod tokio_side;

use std::sync::mpsc;
use std::thread;

use sock_netbench::{Args, JsonLine};

use stream::{Received, Sent, Tls};

/// What `--help` prints.
const USAGE: &str = "usage: tls_bulk --runtime sock|tokio [OPTIONS]
Sends bytes through rustls over one loopback connection, client and server threads
pinned to their own CPUs, both on the runtime named; prints one JSON line.
options:
  --bytes N         bytes to send (1073741824)
  --chunk BYTES     the client's write size and the server's read buffer (65536)
  --server-cpu N    CPU of the server thread (0)
  --client-cpu N    CPU of the client thread (1)";

/// The settings of one run.
#[derive(Clone, Copy)]
struct Options {
    /// Whether both ends run on sock (else on tokio).
    sock: bool,
    /// Bytes the client sends.
    bytes: u64,
    /// Write size and read buffer size.
    chunk: usize,
    /// CPU of the server thread.
    server_cpu: usize,
    /// CPU of the client thread.
    client_cpu: usize,
}

fn main() {
    let result = sock_netbench::require_linux("tls_bulk")
        .and_then(|()| parse(Args::from_env()))
        .and_then(run);
    match result {
        Ok(line) => println!("{line}"),
        Err(err) => {
            eprintln!("tls_bulk: {err}");
            std::process::exit(1);
        }
    }
}

/// Reads the flags.
fn parse(mut args: Args) -> Result<Options, String> {
    if args.flag("--help") || args.flag("-h") {
        return Err(USAGE.to_owned());
    }
    let runtime: Option<String> = args.value("--runtime")?;
    let options = Options {
        sock: match runtime.as_deref() {
            Some("sock") => true,
            Some("tokio") => false,
            _ => return Err(format!("--runtime sock or --runtime tokio\n{USAGE}")),
        },
        bytes: args.value("--bytes")?.unwrap_or(1 << 30),
        chunk: args.value("--chunk")?.unwrap_or(64 * 1024),
        server_cpu: args.value("--server-cpu")?.unwrap_or(0),
        client_cpu: args.value("--client-cpu")?.unwrap_or(1),
    };
    args.finish()?;
    match (1..=1 << 36).contains(&options.bytes) && (1..=1 << 20).contains(&options.chunk) {
        true => Ok(options),
        false => Err("--bytes must be 1..=64 GiB and --chunk 1..=1 MiB".to_owned()),
    }
}

/// Runs the server and the client threads and reports what they measured.
fn run(o: Options) -> Result<String, String> {
    let tls = Tls::new()?;
    let (ready, addr) = mpsc::channel();
    let acceptor = tls.acceptor();
    let server = thread::spawn(move || -> Result<Received, String> {
        sock_netbench::pin_thread(o.server_cpu).map_err(|e| format!("server CPU: {e}"))?;
        match o.sock {
            true => sock_side::server(ready, acceptor, o.chunk),
            false => tokio_side::server(ready, acceptor, o.chunk),
        }
    });
    let Ok(addr) = addr.recv() else {
        return Err(server_error(server));
    };
    let connector = tls.connector();
    let client = thread::spawn(move || -> Result<Sent, String> {
        sock_netbench::pin_thread(o.client_cpu).map_err(|e| format!("client CPU: {e}"))?;
        match o.sock {
            true => sock_side::client(addr, connector, o.bytes, o.chunk),
            false => tokio_side::client(addr, connector, o.bytes, o.chunk),
        }
    });
    let sent = client.join().map_err(|_| "client panicked".to_owned())??;
    let received = server.join().map_err(|_| "server panicked".to_owned())??;
    if received.bytes != o.bytes {
        return Err(format!(
            "sent {} bytes, server read {}",
            o.bytes, received.bytes
        ));
    }
    Ok(report(o, &sent, &received))
}

/// Why the server thread ended before it listened.
fn server_error(server: thread::JoinHandle<Result<Received, String>>) -> String {
    match server.join() {
        Ok(Err(err)) => err,
        _ => "server ended before listening".to_owned(),
    }
}

/// The JSON result line.
fn report(o: Options, sent: &Sent, received: &Received) -> String {
    let seconds = sent.seconds.max(1e-9);
    JsonLine::new()
        .str("mode", "tls_bulk")
        .str("runtime", if o.sock { "sock" } else { "tokio" })
        .num("bytes", o.bytes as f64)
        .num("chunk", o.chunk as f64)
        .num("seconds", seconds)
        .num("mb_per_sec", o.bytes as f64 / seconds / 1e6)
        .num("server_cpu_s", received.cpu_seconds)
        .num("client_cpu_s", sent.cpu_seconds)
        .str("version", &sent.version)
        .str("suite", &sent.suite)
        .finish()
}
