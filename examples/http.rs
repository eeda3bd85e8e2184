//! A minimal HTTP/1.1 hello server: `http --addr 127.0.0.1:8080`, then
//! `curl http://127.0.0.1:8080/` or `wrk http://127.0.0.1:8080/`.

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:8080"));
    sock::run(async move {
        let listener = sock_examples::serve::listener(&host, port)?;
        println!("http on http://{}/", listener.local_addr()?);
        sock_examples::http::serve(listener).await
    })
}
