//! A chat server: `chat --addr 127.0.0.1:7001`; connect with `nc 127.0.0.1 7001` from
//! several terminals: every line goes to everyone else.

use sock::Family;
use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:7001"));
    sock::run(async move {
        let family = if host.contains(':') {
            Family::INET6
        } else {
            Family::INET
        };
        let listener = sock::tcp(family)?;
        listener.listen(&host, port)?;
        println!("chat on {}", listener.local_addr()?);
        sock_examples::chat::serve(listener).await
    })
}
