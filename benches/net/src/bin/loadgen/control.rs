//! The stdin handshake with the driver, so it can measure exactly the timed window.
//!
//! With `--control`, the load generator prints a `{"event":"ready"}` line once its
//! connections are open and waits for a line on stdin before starting the clock (the driver
//! attaches `perf`/`strace` to the server in between); after printing its result it waits for
//! stdin to close before closing the connections (the driver detaches first, so the
//! teardown is not counted). Without `--control` it runs straight through. Stdin closing
//! early never blocks it.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Whether to hand-shake with a driver on stdin.
pub(crate) struct Control {
    /// Set by `--control`.
    enabled: bool,
}

impl Control {
    /// A handshake that happens only when `enabled`.
    pub(crate) fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// Says the setup is done; with the handshake, waits for the go line.
    pub(crate) fn ready(&self) -> io::Result<()> {
        if !self.enabled {
            return Ok(());
        }
        print_line(r#"{"event":"ready"}"#)?;
        let mut line = String::new();
        io::stdin().lock().read_line(&mut line)?;
        Ok(())
    }

    /// With the handshake, waits until stdin closes.
    pub(crate) fn finish(&self) -> io::Result<()> {
        if self.enabled {
            io::copy(&mut io::stdin().lock(), &mut io::sink())?;
        }
        Ok(())
    }
}

/// Prints one line on stdout and flushes it, so a driver reading the pipe sees it now.
pub(crate) fn print_line(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// Waits until stdin closes or `limit` passes, whichever is first.
pub(crate) fn wait_for_eof(limit: Duration) {
    let (done, wait) = mpsc::channel();
    thread::spawn(move || {
        let _ = io::stdin().lock().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let _ = wait.recv_timeout(limit);
}
