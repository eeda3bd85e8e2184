//! The tour: `cargo run --release --example demo`. Everything on loopback, in one OS
//! thread, in well under a second: address lookup, a TCP echo server with a client, a
//! deliberate timeout, a UDP exchange, an interruptible sleep job, timers, a generator
//! doing socket I/O, and a short report at the end.

fn main() -> sock::Result<()> {
    let report = sock::run(sock_examples::demo::tour())?;
    println!("\n--- report ---");
    for line in report {
        println!("  {line}");
    }
    Ok(())
}
