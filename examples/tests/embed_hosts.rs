//! The embedding examples with event-driven hosts, `embed_mio` and `embed_tokio`, as
//! tests: sock's echo server, client and timer all run inside the host's loop, and the
//! host never busy-loops (its wake-ups stay far below what spinning would give).

#![cfg(unix)]

#[path = "../embed_mio.rs"]
#[allow(dead_code)] // its `main`
mod embed_mio;

#[path = "../embed_tokio.rs"]
#[allow(dead_code)] // its `main`
mod embed_tokio;

use sock_examples::embed::{MAX_ITERATIONS, ROUNDS, Report};

/// The checks every host passes.
fn check(host: &str, r: &Report) {
    assert_eq!(r.echoed, b"frame".repeat(ROUNDS), "{host}: the echoes");
    assert!(
        r.ticks >= 1,
        "{host}: sock's timer never fired inside the host"
    );
    assert!(
        r.frames < MAX_ITERATIONS,
        "{host}: sock's work did not finish within {MAX_ITERATIONS} wake-ups"
    );
}

#[test]
fn the_mio_host_runs_socks_echo_server_and_timers() {
    let r = embed_mio::run().unwrap();
    check("mio", &r);
}

#[test]
fn the_tokio_host_runs_socks_echo_server_and_timers_beside_its_own() {
    let (r, host_ticks) = embed_tokio::run().unwrap();
    check("tokio", &r);
    assert!(host_ticks >= 1, "the host's own interval never ticked");
}
