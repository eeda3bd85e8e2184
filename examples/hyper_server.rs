//! hyper's HTTP/1.1 and h2c server on sock: `hyper_server --addr 127.0.0.1:8080
//! [--header-timeout-ms 5000] [--metrics]`, then `curl http://127.0.0.1:8080/`,
//! `curl --data-binary @file http://127.0.0.1:8080/echo`, `curl -I …` or
//! `curl --http2-prior-knowledge …`.
//!
//! `--metrics` prints a line a second with the loop's [`sock::metrics`]; built with
//! `--features tracing`, sock's events are logged to stderr as `RUST_LOG` says.

use std::time::Duration;

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:8080"));
    let ms = flag("--header-timeout-ms", "5000");
    let header_timeout = Duration::from_millis(ms.parse().expect("--header-timeout-ms N"));
    let metrics = std::env::args().any(|a| a == "--metrics");
    sock_examples::observe::init_logging();
    sock::run(async move {
        if metrics {
            drop(sock_examples::observe::report_metrics_every(
                Duration::from_secs(1),
            ));
        }
        let listener = sock_examples::serve::listener(&host, port)?;
        println!("hyper_server on http://{}/", listener.local_addr()?);
        sock_examples::hyper_server::serve(listener, header_timeout).await
    })
}
