//! Embedding: a host loop (a fake 60 Hz frame loop, as a game or a GUI would have)
//! drives sock with `poll(Some(Duration::ZERO))` once per frame, which never blocks.
//! Meanwhile a sock thread runs a TCP exchange and a timer ticks. `cargo run --example embed`

fn main() -> sock::Result<()> {
    let r = sock_examples::embed::run()?;
    println!(
        "host loop: {} frames in {:?}; sock echoed {:?}; timer ticked {} times",
        r.frames,
        r.elapsed,
        String::from_utf8_lossy(&r.echoed),
        r.ticks
    );
    Ok(())
}
