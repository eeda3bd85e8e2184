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
