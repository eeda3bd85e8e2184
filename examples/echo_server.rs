//! A TCP echo server: `echo_server --addr 127.0.0.1:7000`. Serves until killed; one
//! thread per connection, `TCP_NODELAY` on each; under `EMFILE` it backs off instead of
//! spinning.

use sock::Family;
use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:7000"));
    sock::run(async move {
        let family = if host.contains(':') {
            Family::INET6
        } else {
            Family::INET
        };
        let listener = sock::tcp(family)?;
        listener.listen(&host, port)?;
        println!("echo_server listening on {}", listener.local_addr()?);
        sock_examples::echo::serve(listener).await
    })
}
