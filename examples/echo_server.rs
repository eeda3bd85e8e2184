//! An echo server: `echo_server --addr 127.0.0.1:7000 [--udp] [--heap-report]
//! [--metrics]`. Serves
//! until killed. TCP: one thread per connection, `TCP_NODELAY` on each, no buffer held
//! while a connection is idle; under `EMFILE` it sheds and backs off instead of
//! spinning. `--udp`: echoes datagrams to their senders, whole up to the largest UDP
//! datagram; `--udp --batch`: many per syscall (`recvmmsg`/`sendmmsg`), as whole.
//!
//! Its heap is counted ([`sock_examples::heap::Counting`]); with `--heap-report` every
//! line written to its stdin is answered on stdout by `heap_live_bytes N`, the bytes
//! allocated and not yet freed (how `netbench` and `tests/idle_heap.rs` measure an idle
//! connection).
//!
//! `--metrics` prints a line a second with the loop's [`sock::metrics`] (threads,
//! sockets, polls, events per poll, busy share, parked operations, expired deadlines,
//! shed connections). Built with `--features tracing`, it logs sock's events to stderr
//! as `RUST_LOG` says (`RUST_LOG=sock=debug` shows expired deadlines and resets too).

use std::time::Duration;

use sock::Family;
use sock_examples::args::{flag, host_port};
use sock_examples::heap::{self, Counting};

/// Counts live heap bytes for `--heap-report`.
#[global_allocator]
static ALLOC: Counting = Counting;

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:7000"));
    let udp = std::env::args().any(|a| a == "--udp");
    let batch = std::env::args().any(|a| a == "--batch");
    if std::env::args().any(|a| a == "--heap-report") {
        heap::report_on_stdin();
    }
    let metrics = std::env::args().any(|a| a == "--metrics");
    sock_examples::observe::init_logging();
    sock::run(async move {
        if metrics {
            drop(sock_examples::observe::report_metrics_every(
                Duration::from_secs(1),
            ));
        }
        let family = if host.contains(':') {
            Family::INET6
        } else {
            Family::INET
        };
        if udp {
            let socket = sock::udp(family)?;
            socket.bind(&host, port)?;
            println!("echo_server (udp) on {}", socket.local_addr()?);
            if batch {
                return sock_examples::echo::serve_udp_batched(socket).await;
            }
            return sock_examples::echo::serve_udp(socket).await;
        }
        let listener = sock_examples::serve::listener(&host, port)?;
        println!("echo_server listening on {}", listener.local_addr()?);
        sock_examples::echo::serve(listener).await
    })
}
