//! The README's main command, `cargo run --example demo`, as a test: the tour completes
//! and reports every step.

#[test]
fn the_tour_reports_every_step() {
    let report = sock::run(sock_examples::demo::tour()).unwrap();
    let text = report.join("\n");
    for step in [
        "lookup:",
        "tcp echo: 1000",
        "'timeout'",
        "SHOUT",
        "woken by a timer",
        "3 ticks",
        "sum 15",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
}

#[test]
fn the_embedded_loop_finishes_within_its_frames() {
    let r = sock_examples::embed::run().unwrap();
    assert_eq!(r.echoed, b"frame".repeat(sock_examples::embed::ROUNDS));
    assert!(
        r.frames < 600,
        "sock's work did not finish within 600 host frames"
    );
    assert!(r.ticks >= 1, "the timer never fired between frames");
}
