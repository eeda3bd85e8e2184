//! A TCP port forwarder: `proxy --listen 127.0.0.1:8081 --to 127.0.0.1:8000
//! [--connect-ms 5000] [--idle-ms 60000]`. Every connection to `--listen` is joined to
//! a new connection to `--to` (connected within `--connect-ms`) and copied both ways,
//! half-closes included, until both sides are done or nothing moves for `--idle-ms`.
//! Serves until killed. In front of a web server on port 8000, `curl
//! http://127.0.0.1:8081/` fetches through it.

use std::time::Duration;

use sock_examples::args::{flag, host_port};
use sock_examples::proxy::Forwarder;

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--listen", "127.0.0.1:8081"));
    let (to_host, to_port) = host_port(&flag("--to", "127.0.0.1:8000"));
    let mut forwarder = Forwarder::new(&to_host, to_port);
    forwarder.connect_timeout = millis("--connect-ms", forwarder.connect_timeout);
    forwarder.idle_timeout = millis("--idle-ms", forwarder.idle_timeout);
    sock::run(async move {
        let listener = sock_examples::serve::listener(&host, port)?;
        println!(
            "proxy on {} to {to_host}:{to_port} (connect {:?}, idle {:?})",
            listener.local_addr()?,
            forwarder.connect_timeout,
            forwarder.idle_timeout
        );
        forwarder.serve(listener).await
    })
}

/// The milliseconds after `name` on the command line, or `default`.
///
/// # Panics
///
/// If the value is not a number of milliseconds.
fn millis(name: &str, default: Duration) -> Duration {
    let ms = flag(name, &default.as_millis().to_string());
    let ms = ms
        .parse()
        .unwrap_or_else(|_| panic!("{name} takes a number of milliseconds, not {ms:?}"));
    Duration::from_millis(ms)
}
