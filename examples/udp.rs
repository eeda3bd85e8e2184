//! UDP request/response with deadlines: a server thread that reverses datagrams and a
//! client that retries, in one process: `udp`. The last request is 10,000 bytes, more
//! than a typical MTU, answered whole.

use std::time::Duration;

use sock::Family;

fn main() -> sock::Result<()> {
    sock::run(async {
        let server = sock::udp(Family::INET)?;
        server.bind("127.0.0.1", 0)?;
        let port = server.local_addr()?.port();
        sock::thread(sock_examples::udp::serve(server.clone()));
        let big = "ab".repeat(5_000);
        for word in ["stressed", "drawer", "level", &big] {
            let reply = sock_examples::udp::request(
                "127.0.0.1",
                port,
                word.as_bytes(),
                Duration::from_millis(200),
                3,
            )
            .await?;
            match word.len() {
                ..=64 => println!("{word} -> {}", String::from_utf8_lossy(&reply)),
                n => println!("{n} bytes -> {} bytes back", reply.len()),
            }
        }
        server.close()
    })
}
