//! `faultproxy`: a TCP proxy on loopback that forwards each client to an upstream
//! server through seeded faults — delays, byte-by-byte writes, connections dropped
//! (FIN) or reset (RST: `SO_LINGER` 0, then close) mid-stream or at once.
//!
//! ```text
//! faultproxy --upstream HOST:PORT [--listen HOST:PORT] [--faults] [--seed S]
//! ```
//!
//! Prints `port=N` once it listens, a `fault …` line for each connection it cuts (see
//! [`conn`]), and when its stdin closes a `stats …` line, then exits. Without
//! `--faults` it only forwards (the churn soak's path), so a failure seen through it is
//! the server's. Each connection gets two threads, one per direction; the faults of
//! connection `i` are drawn from the seed and `i` alone (see [`plan`]). Blocking std
//! sockets on purpose: the proxy must not share the code it is testing.

mod conn;
mod plan;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use conn::{STATS, Stats};

/// The command line.
struct Options {
    /// Where clients connect.
    listen: String,
    /// The server every client is forwarded to.
    upstream: String,
    /// Inject faults (else forward faithfully).
    faults: bool,
    /// Seeds the faults.
    seed: u64,
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("faultproxy: {why}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&options.listen) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("faultproxy: cannot listen on {}: {e}", options.listen);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map_or(0, |a| a.port());
    println!("port={port}");
    exit_when_stdin_closes();
    serve(&listener, &Arc::new(options));
    ExitCode::SUCCESS
}

/// Accepts forever, each connection on a thread of its own.
fn serve(listener: &TcpListener, options: &Arc<Options>) {
    for (index, client) in listener.incoming().enumerate() {
        let Ok(client) = client else {
            continue; // a connection aborted before it was accepted
        };
        STATS.connections.fetch_add(1, Ordering::Relaxed);
        let options = options.clone();
        std::thread::spawn(move || proxy(client, index as u64, &options));
    }
}

/// Forwards one client, with the faults planned for it.
fn proxy(client: TcpStream, index: u64, options: &Options) {
    let plan = plan::Plan::draw(options.seed, index, options.faults);
    conn::run(client, &options.upstream, plan);
}

/// Prints the `stats` line and exits once stdin reaches its end.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        println!("stats {}", Stats::line());
        std::process::exit(0);
    });
}

/// Parses the flags.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:0".into(),
        upstream: String::new(),
        faults: false,
        seed: 0,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => options.listen = value()?,
            "--upstream" => options.upstream = value()?,
            "--faults" => options.faults = true,
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if options.upstream.is_empty() {
        return Err(
            "usage: faultproxy --upstream HOST:PORT [--listen HOST:PORT] [--faults] [--seed S]"
                .into(),
        );
    }
    Ok(options)
}
