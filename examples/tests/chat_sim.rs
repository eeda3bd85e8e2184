//! The chat example on a simulated network: one client never reads (a slow client on
//! a host with 4 KiB TCP buffers) while another floods the room; the others must keep
//! receiving every line. A chat that awaited each client's send in turn (the example
//! before its per-client outbox) stalls the whole room here: the readers' reads time
//! out in virtual time after 696 lines (seed 8; checked by hand against the old
//! `serve`).
//!
//! Every world's seed comes from `SOCK_SEED` when set (the failure report prints it).

use std::net::IpAddr;
use std::time::Duration;

use sock::sim::{Host, Sim, World};
use sock::{Expires, Tcp};

/// Lines the sender floods the room with: 6,000 of 100 bytes, far more than the server's
/// outbox, its send buffer and the slow client's receive buffer hold together.
const FLOOD_LINES: usize = 6_000;

/// The chat server's address.
const SERVER: (&str, u16) = ("10.0.0.1", 7000);

/// A host named `name` owning `addr`.
fn host(sim: &Sim, name: &str, addr: &str) -> Host {
    let ip: IpAddr = addr.parse().expect("a literal address");
    sim.add_host(name, &[ip])
}

/// A client connected to the chat server.
async fn client() -> Tcp {
    let c = sock::tcp(sock::Family::INET).expect("a simulated socket");
    let connect = c.connect(SERVER.0, SERVER.1);
    connect
        .timeout(Duration::from_secs(5))
        .await
        .expect("connect");
    c
}

/// Reads from `c` until it has seen `want` lines starting with `prefix` (others are
/// skipped) and returns those; each read waits at most 10 virtual seconds.
async fn read_lines(c: &Tcp, prefix: &str, want: usize) -> Vec<String> {
    let (mut lines, mut pending) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    while lines.len() < want {
        let n = c.recv(&mut buf).timeout(Duration::from_secs(10)).await;
        let n = n.unwrap_or_else(|e| panic!("the room stalled after {} lines: {e}", lines.len()));
        assert!(n > 0, "EOF after {} lines", lines.len());
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line = String::from_utf8(pending.drain(..=i).collect()).expect("text");
            if line.starts_with(prefix) {
                lines.push(line);
            }
        }
    }
    lines
}

/// The `i`th line of the flood.
fn flood_line(i: usize) -> String {
    format!("line {i:06} {}\n", "x".repeat(87))
}

#[test]
fn a_slow_client_does_not_stall_the_room_in_simulation() {
    let sim = Sim::new(World::from_env_or(8));
    let server = host(&sim, "server", SERVER.0);
    let slow = host(&sim, "slow", "10.0.0.2");
    let sender = host(&sim, "sender", "10.0.0.3");
    let readers = [host(&sim, "r1", "10.0.0.4"), host(&sim, "r2", "10.0.0.5")];
    sim.world().set_tcp_buffers(slow.id(), 4096, 4096);
    let listener = server.run(async { sock_examples::serve::listener(SERVER.0, SERVER.1) });
    server.spawn(sock_examples::chat::serve(listener.expect("listen")));
    // The sender joins first; each other client then announces itself.
    let flooder = sender.run(client());
    let slow_conn = slow.run(async {
        let c = client().await;
        c.send(b"ready\n").await.expect("send");
        c
    });
    let reading = readers.each_ref().map(|r| {
        r.spawn(async {
            let c = client().await;
            c.send(b"ready\n").await.expect("send");
            read_lines(&c, "line ", FLOOD_LINES).await
        })
    });
    sender.run(async {
        read_lines(&flooder, "ready", 3).await;
        for i in 0..FLOOD_LINES {
            flooder.send(flood_line(i).as_bytes()).await.expect("flood");
        }
    });
    for r in reading {
        let lines = sender.run(r.join()).expect("a reader");
        assert_eq!(lines.len(), FLOOD_LINES);
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(*line, flood_line(i), "every line, in order");
        }
    }
    // The slow client was dropped: after what was already on its way, EOF (or a reset).
    let rest = slow.run(async { slow_conn.recvall().timeout(Duration::from_secs(10)).await });
    match rest {
        Ok(bytes) => assert!(bytes.len() < FLOOD_LINES * 100, "{}", bytes.len()),
        Err(e) => assert_eq!(e.kind(), sock::ErrorKind::ConnectionReset, "{e}"),
    }
    println!("virtual {:?}, {:?}", sim.world().now(), sim.stats());
}
