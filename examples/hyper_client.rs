//! A GET with hyper on sock under one deadline for the whole request:
//! `hyper_client --addr 127.0.0.1:8080 [--path /] [--timeout-ms 5000]`.

use std::time::Duration;

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:8080"));
    let path = flag("--path", "/");
    let ms = flag("--timeout-ms", "5000");
    let limit = Duration::from_millis(ms.parse().expect("--timeout-ms N"));
    sock::run(async move {
        let (status, body) = sock_examples::hyper_client::get(&host, port, &path, limit).await?;
        println!("{status}");
        print!("{}", String::from_utf8_lossy(&body));
        Ok(())
    })
}
