//! Datagram batches: what `recv_batch` makes of `recvmmsg`'s headers (each datagram's
//! length, its truncation flag and its source address) and what `send_batch` hands to
//! `sendmmsg`, over real loopback sockets created once per process: UDP over IPv4, UDP
//! over IPv6, and unix datagrams from an unbound sender (whose source address is the
//! unnamed one).
//!
//! The input picks the pair of sockets and up to 32 datagrams, each with a length (0 to
//! 2 KiB) and the capacity of the buffer it is received into (0 to 2 KiB); the bytes
//! repeat the rest of the input. A task sends them with `send_batch` while the other
//! receives them with `recv_batch` until all are there; each must arrive in order, cut
//! to its buffer exactly when longer (`is_truncated`), from the sender's address.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sock::{Expires, Family, SockAddr, Udp, io::Datagram};
use sock_fuzz::{Input, PATIENCE};

/// Most datagrams one batch call moves.
const MAX_BATCH: usize = 32;

/// Longest datagram and largest buffer.
const MAX_LEN: u16 = 2048;

/// A receiving and a sending socket.
struct Pair {
    /// Receives the datagrams.
    rx: Udp,
    /// Sends them.
    tx: Udp,
    /// Where `rx` is bound.
    to: SockAddr,
    /// The source address `rx` must see.
    from: SockAddr,
}

thread_local! {
    static PAIRS: [Pair; 3] = [udp_pair(Family::INET), udp_pair(Family::INET6), unix_pair()];
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let which = usize::from(input.byte() % 3);
    let count = usize::from(input.byte()) % (MAX_BATCH + 1);
    let shapes: Vec<(usize, usize)> = (0..count)
        .map(|_| (length(&mut input), length(&mut input)))
        .collect();
    let fill = input.rest();
    let payloads: Vec<Vec<u8>> = shapes
        .iter()
        .enumerate()
        .map(|(i, &(len, _))| payload(fill, i, len))
        .collect();
    let capacities: Vec<usize> = shapes.iter().map(|&(_, cap)| cap).collect();
    PAIRS.with(|pairs| sock::run(exchange(&pairs[which], &payloads, &capacities)));
});

/// A length or capacity of 0 to [`MAX_LEN`] bytes.
fn length(input: &mut Input<'_>) -> usize {
    usize::from(input.u16() % (MAX_LEN + 1))
}

/// Datagram `i`'s `len` bytes: `fill` repeated (or a counter when it is empty).
fn payload(fill: &[u8], i: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| match fill {
            [] => (i + j) as u8,
            _ => fill[(i + j) % fill.len()],
        })
        .collect()
}

/// Two UDP sockets bound to the loopback address of `family`.
fn udp_pair(family: Family) -> Pair {
    let host = if family == Family::INET {
        "127.0.0.1"
    } else {
        "::1"
    };
    let rx = sock::udp(family).expect("a UDP socket");
    rx.bind(host, 0).expect("bind the receiver");
    let tx = sock::udp(family).expect("a UDP socket");
    tx.bind(host, 0).expect("bind the sender");
    let (to, from) = (rx.local_addr().unwrap(), tx.local_addr().unwrap());
    Pair { rx, tx, to, from }
}

/// A unix datagram socket bound to a fresh path in the temp dir (left there: the socket
/// is reached by its path until the process ends), and an unbound sender.
fn unix_pair() -> Pair {
    let name = format!("sock-fuzz-batch-{}.sock", std::process::id());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    let rx = sock::udp(Family::UNIX).expect("a unix datagram socket");
    rx.bind(path.to_str().expect("a UTF-8 temp dir"), 0)
        .expect("bind the receiver");
    let tx = sock::udp(Family::UNIX).expect("a unix datagram socket");
    let from = unnamed_address(&tx, &rx);
    let to = rx.local_addr().unwrap();
    Pair { rx, tx, to, from }
}

/// The source address a datagram from an unbound unix socket arrives with, asked of
/// the kernel with one `recvnext`.
fn unnamed_address(unbound: &Udp, rx: &Udp) -> SockAddr {
    sock::run(async {
        let to = rx.local_addr().unwrap();
        unbound.send_to(b"?", &to).await.expect("send a probe");
        let mut buf = [0u8; 1];
        let (_, from) = rx
            .recv_from(&mut buf)
            .timeout(PATIENCE)
            .await
            .expect("the probe");
        assert_eq!(from.to_string(), "(unnamed)");
        from
    })
}

/// Sends `payloads` from `pair.tx` while `pair.rx` receives them into buffers of
/// `capacities`, and checks what arrived.
async fn exchange(pair: &Pair, payloads: &[Vec<u8>], capacities: &[usize]) {
    let outgoing: Vec<Datagram> = payloads
        .iter()
        .map(|bytes| {
            let mut d = Datagram::with_capacity(bytes.len());
            d.set(bytes, pair.to.clone());
            d
        })
        .collect();
    let mut incoming: Vec<Datagram> = capacities
        .iter()
        .map(|&c| Datagram::with_capacity(c))
        .collect();
    let sender = async {
        let mut sent = 0;
        while sent < outgoing.len() {
            let batch = pair.tx.send_batch(&outgoing[sent..]);
            sent += batch.timeout(PATIENCE).await.expect("send_batch");
        }
    };
    let receiver = async {
        let mut got = 0;
        while got < incoming.len() {
            let batch = pair.rx.recv_batch(&mut incoming[got..]);
            got += batch.timeout(PATIENCE).await.expect("recv_batch");
        }
    };
    join(sender, receiver).await;
    for (i, (d, sent)) in incoming.iter().zip(payloads).enumerate() {
        let kept = sent.len().min(capacities[i]);
        assert_eq!(d.data(), &sent[..kept], "datagram {i}");
        assert_eq!(d.is_truncated(), sent.len() > capacities[i], "datagram {i}");
        assert_eq!(d.addr(), Some(&pair.from), "datagram {i}");
    }
}

/// Polls both futures in this task until both are done.
async fn join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut a_done, mut b_done) = (false, false);
    std::future::poll_fn(|cx| {
        if !a_done {
            a_done = a.as_mut().poll(cx).is_ready();
        }
        if !b_done {
            b_done = b.as_mut().poll(cx).is_ready();
        }
        match a_done && b_done {
            true => std::task::Poll::Ready(()),
            false => std::task::Poll::Pending,
        }
    })
    .await
}
