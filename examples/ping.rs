//! ICMP echo over a raw socket: `ping --host 127.0.0.1 --count 3` (needs root or
//! `CAP_NET_RAW`).

use std::time::Duration;

use sock_examples::args::flag;

fn main() -> sock::Result<()> {
    let host = flag("--host", "127.0.0.1");
    let count: u16 = flag("--count", "3")
        .parse()
        .expect("--count takes a number");
    sock::run(async move {
        let id = std::process::id() as u16;
        for seq in 1..=count {
            let rtt = sock_examples::ping::ping(&host, id, seq, Duration::from_secs(2)).await?;
            println!("reply from {host}: seq={seq} time={rtt:?}");
            sock::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    })
}
