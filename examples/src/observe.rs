//! What a server example shows of itself: `--metrics` prints one line a second from
//! [`sock::metrics`], and with the `tracing` feature `RUST_LOG` picks which of sock's
//! events are logged (to stderr, through `tracing-subscriber`).

use std::time::Duration;

use sock::task::Metrics;

/// Spawns a thread on the current loop that prints one line a second: the loop's
/// levels (threads, sockets) and, over the last second, polls, events per poll, busy
/// share, operations parked, deadlines expired and connections shed.
///
/// # Examples
///
/// ```
/// sock::run(async {
///     let reporter = sock_examples::observe::report_metrics_every(std::time::Duration::from_millis(1));
///     sock::sleep(std::time::Duration::from_millis(3)).await;
///     reporter.cancel();
/// });
/// ```
pub fn report_metrics_every(period: Duration) -> sock::Thread<()> {
    sock::spawn(async move {
        let mut last = sock::metrics();
        loop {
            sock::sleep(period).await;
            let now = sock::metrics();
            println!("{}", line(&last, &now));
            last = now;
        }
    })
}

/// The line for the interval from `a` to `b`.
///
/// # Examples
///
/// ```
/// let m = sock::Loop::new()?.metrics();
/// let line = sock_examples::observe::line(&m, &m);
/// assert!(line.starts_with("metrics alive=0"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn line(a: &Metrics, b: &Metrics) -> String {
    let (polls, events) = (b.polls - a.polls, b.events - a.events);
    let per_poll = if polls == 0 {
        0.0
    } else {
        events as f64 / polls as f64
    };
    let (busy, parked) = (b.busy - a.busy, b.parked - a.parked);
    let total = (busy + parked).as_secs_f64();
    let busy_pct = if total == 0.0 {
        0.0
    } else {
        100.0 * busy.as_secs_f64() / total
    };
    format!(
        "metrics alive={} suspended={} sockets={} timers={} polls={polls} \
         events/poll={per_poll:.2} busy={busy_pct:.1}% parked_ops={} expired={} shed={} \
         lookups={}",
        b.threads_alive,
        b.threads_suspended,
        b.sockets,
        b.timers_armed,
        b.ops_parked - a.ops_parked,
        b.deadlines_expired - a.deadlines_expired,
        b.accepts_shed - a.accepts_shed,
        b.lookups_queued,
    )
}

/// Logs sock's `tracing` events to stderr, filtered by `RUST_LOG` (default `sock=info`).
/// Built without the `tracing` feature, it does nothing.
///
/// # Examples
///
/// ```
/// sock_examples::observe::init_logging();
/// ```
#[cfg(feature = "tracing")]
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("sock=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Logs sock's `tracing` events: nothing without the `tracing` feature.
///
/// # Examples
///
/// ```
/// sock_examples::observe::init_logging();
/// ```
#[cfg(not(feature = "tracing"))]
pub fn init_logging() {}
