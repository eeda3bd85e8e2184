//! A TCP echo client: `echo_client --addr 127.0.0.1:7000 --count 1000 --size 64`.
//! Sends messages one at a time, checks each echo, prints the mean round trip.

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--addr", "127.0.0.1:7000"));
    let count: u32 = flag("--count", "1000")
        .parse()
        .expect("--count takes a number");
    let size: usize = flag("--size", "64").parse().expect("--size takes a number");
    let mean =
        sock::run(async move { sock_examples::echo::client(&host, port, count, size).await })?;
    println!("{count} round trips of {size} bytes, {mean:?} each");
    Ok(())
}
