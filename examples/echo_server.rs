//! A TCP echo server: `echo_server --addr 127.0.0.1:7000`. Serves until killed; one task
//! per connection, `TCP_NODELAY` on each. Under `EMFILE` the accept loop backs off
//! instead of spinning.

use std::time::Duration;

use sock::{ErrorKind, Family};

fn main() -> sock::Result<()> {
    let (host, port) = sock_examples::host_port(&sock_examples::flag("--addr", "127.0.0.1:7000"));
    sock::run(async move {
        let family = if host.contains(':') {
            Family::INET6
        } else {
            Family::INET
        };
        let server = sock::tcp(family)?;
        server.listen(&host, port)?;
        println!("echo_server listening on {}", server.local_addr()?);
        loop {
            match server.accept().await {
                Ok(conn) => {
                    sock::thread(serve(conn));
                }
                Err(e) if e.kind() == ErrorKind::TooManyOpenFiles => {
                    sock::sleep(Duration::from_millis(10)).await;
                }
                Err(e) => eprintln!("accept: {e}"),
            }
        }
    })
}

async fn serve(conn: sock::Tcp) {
    let _ = conn.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match conn.recv(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if conn.send(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
}
