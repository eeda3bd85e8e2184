//! A minimal HTTP/1.1 hello server: `http --addr 127.0.0.1:8080`, then
//! `curl http://127.0.0.1:8080/` or `wrk http://127.0.0.1:8080/`.

use sock::Family;
use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:8080"));
    sock::run(async move {
        let family = if host.contains(':') {
            Family::INET6
        } else {
            Family::INET
        };
        let listener = sock::tcp(family)?;
        listener.listen(&host, port)?;
        println!("http on http://{}/", listener.local_addr()?);
        sock_examples::http::serve(listener).await
    })
}
