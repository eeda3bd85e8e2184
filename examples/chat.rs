//! A chat server: `chat --addr 127.0.0.1:7001`; connect with `nc 127.0.0.1 7001` from
//! several terminals: every line goes to everyone else. A client that stops reading is
//! dropped once 64 KiB wait for it, so it never stalls the others.

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:7001"));
    sock::run(async move {
        let listener = sock_examples::serve::listener(&host, port)?;
        println!("chat on {}", listener.local_addr()?);
        sock_examples::chat::serve(listener).await
    })
}
