//! A server's live heap bytes, read through its `--heap-report` (sock's `echo_server`
//! counts its allocations): a line written to the server's stdin is answered on its
//! stdout by `heap_live_bytes N`.
//!
//! A thread reads the server's stdout and passes each count on, so a server that does
//! not answer costs a bounded wait ([`ANSWER_LIMIT`]), never a hang.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

/// The flag that turns the report on.
pub(crate) const FLAG: &str = "--heap-report";

/// The word before the count in the server's answer.
const REPORT: &str = "heap_live_bytes";

/// How long a server may take to answer.
const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// The two ends of a server's report.
pub(crate) struct HeapProbe {
    /// The server's stdin: one line asks.
    ask: ChildStdin,
    /// The counts the server answered, in order.
    counts: Receiver<u64>,
}

impl HeapProbe {
    /// Talks to a server over its stdin and stdout.
    pub(crate) fn new(ask: ChildStdin, out: ChildStdout) -> Self {
        let (tx, counts) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(count) = parse(&line) {
                    if tx.send(count).is_err() {
                        return;
                    }
                }
            }
        });
        Self { ask, counts }
    }

    /// The server's live heap bytes now.
    pub(crate) fn live_bytes(&mut self) -> Result<u64, String> {
        writeln!(self.ask, "?")
            .and_then(|()| self.ask.flush())
            .map_err(|err| format!("asking for the heap count: {err}"))?;
        self.counts
            .recv_timeout(ANSWER_LIMIT)
            .map_err(|_| format!("no `{REPORT} N` answer within {ANSWER_LIMIT:?}"))
    }
}

/// The count in a `heap_live_bytes N` line.
fn parse(line: &str) -> Option<u64> {
    line.trim().strip_prefix(REPORT)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_parsed_and_other_lines_ignored() {
        assert_eq!(parse("heap_live_bytes 658748\n"), Some(658_748));
        assert_eq!(parse("echo_server listening on 127.0.0.1:7000"), None);
        assert_eq!(parse("heap_live_bytes ?"), None);
    }
}
