//! Network benchmark harness: the pieces the echo servers, the load generator and the
//! `netbench` driver share.
//!
//! The binaries are the product (see `README.md` beside this package): echo servers for
//! sock's peers (`echo_tokio_ct`, `echo_tokio_mt`, `echo_smol`, `echo_mio`, and the C
//! `c/echo_epoll.c`) and for sock through the futures-io traits (`echo_sock_fio`), the
//! `loadgen` load generator, hyper's hello world on sock and on tokio (`hyper_sock`,
//! `hyper_tokio`, driven by `wrk`), TLS bulk through tokio-rustls on either runtime
//! (`tls_bulk`), and the `netbench` driver that runs them all pinned to cores and writes
//! `RESULTS.md` and `ratios.svg`. This library holds what they have in common: flag
//! parsing, the byte pattern every echoed byte is checked against, the latency
//! histogram, one-line JSON records, batches of datagrams moved by one
//! `sendmmsg`/`recvmmsg` call, and the few OS calls (thread pinning and CPU times among
//! them).
//!
//! # Examples
//!
//! ```
//! use sock_netbench::{Histogram, Pattern};
//!
//! let pattern = Pattern::new();
//! let mut message = [0u8; 64];
//! pattern.fill(7, 1000, &mut message);
//! assert!(pattern.matches(7, 1000, &message));
//!
//! let mut latencies = Histogram::new();
//! latencies.record(25_000);
//! assert_eq!(latencies.count(), 1);
//! ```

mod args;
mod datagrams;
mod histogram;
mod json;
mod pattern;
mod server;
mod stats;
#[cfg_attr(target_os = "linux", path = "sys/linux.rs")]
#[cfg_attr(not(target_os = "linux"), path = "sys/other.rs")]
mod sys;

pub use args::Args;
pub use datagrams::{Datagrams, MAX_BATCH};
pub use histogram::Histogram;
pub use json::{JsonLine, json_field};
pub use pattern::Pattern;
pub use server::{ServerArgs, Transport};
pub use stats::Summary;
pub use sys::{
    children_cpu_seconds, clock_ticks_per_second, interrupt, pin_thread, raise_nofile_limit,
    require_linux, thread_cpu_seconds,
};
