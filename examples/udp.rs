//! UDP request/response with deadlines: a server thread that reverses datagrams and a
//! client that retries, in one process: `udp`.

use std::time::Duration;

use sock::Family;

fn main() -> sock::Result<()> {
    sock::run(async {
        let server = sock::udp(Family::INET)?;
        server.bind("127.0.0.1", 0)?;
        let port = server.local_addr()?.port();
        sock::thread(sock_examples::udp::serve(server.clone()));
        for word in ["stressed", "drawer", "level"] {
            let reply = sock_examples::udp::request(
                "127.0.0.1",
                port,
                word.as_bytes(),
                Duration::from_millis(200),
                3,
            )
            .await?;
            println!("{word} -> {}", String::from_utf8_lossy(&reply));
        }
        server.close()
    })
}
