//! A child process of a driver, talked to through pipes: its stdout read line by line
//! on a thread of its own, so the driver waits for a line with a deadline; its stdin
//! held open, so closing it tells a well-behaved child to exit.
//!
//! The children say what they have to say as `key=value` words ([`word`]); one run
//! under `strace` is two processes, so [`Child::end`] also kills the traced one, by the
//! pid it printed, if closing stdin does not end it (killing `strace` alone would leave
//! it running, detached).

use std::io::{self, BufRead, BufReader};
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What [`Child::line`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line of output, without its newline.
    Text(String),
    /// The child closed its stdout (it exited, most likely).
    Closed,
    /// The deadline passed first.
    TimedOut,
}

/// A running child with piped stdin and stdout (stderr is inherited).
#[derive(Debug)]
pub struct Child {
    /// The process.
    child: std::process::Child,
    /// Its stdin, until [`close_stdin`](Child::close_stdin).
    stdin: Option<ChildStdin>,
    /// Its stdout's lines, sent by the reading thread.
    lines: Receiver<String>,
}

impl Child {
    /// Starts `command` with stdin and stdout piped.
    ///
    /// # Errors
    ///
    /// The program could not be started.
    pub fn spawn(command: &mut Command) -> io::Result<Child> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout was requested as a pipe");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Child {
            child,
            stdin,
            lines,
        })
    }

    /// The pid of the process started (under `strace`: strace's).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The next line of output, waiting until `deadline` at most.
    pub fn line(&mut self, deadline: Instant) -> Line {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(wait) {
            Ok(text) => Line::Text(text),
            Err(RecvTimeoutError::Disconnected) => Line::Closed,
            Err(RecvTimeoutError::Timeout) => Line::TimedOut,
        }
    }

    /// The value of the first `key=value` word in the lines to come, skipping the
    /// lines before it.
    ///
    /// # Errors
    ///
    /// Why it did not come: the child's output ended, or `deadline` passed.
    pub fn value(&mut self, key: &str, deadline: Instant) -> Result<String, String> {
        loop {
            match self.line(deadline) {
                Line::Text(text) => {
                    if let Some(value) = word(&text, key) {
                        return Ok(value.to_string());
                    }
                }
                Line::Closed => return Err(format!("the child ended without saying {key}=")),
                Line::TimedOut => return Err(format!("no {key}= from the child in time")),
            }
        }
    }

    /// Closes the child's stdin: the drivers' children take it as "exit now".
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Ends the child: closes its stdin and waits up to `grace` for it to exit; then
    /// kills `also` (the traced process of a child that is `strace`) and the child.
    /// The exit status if it exited by itself.
    pub fn end(mut self, grace: Duration, also: Option<u32>) -> Option<ExitStatus> {
        self.close_stdin();
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(pid) = also {
            kill(pid);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

/// The value of the word `key=value` in `line`, if there is one.
///
/// # Examples
///
/// ```
/// use sock_tests::harness::child::word;
///
/// assert_eq!(word("test x ... port=8080 ok", "port"), Some("8080"));
/// assert_eq!(word("support=1", "port"), None);
/// ```
pub fn word<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace().find_map(|w| {
        let (k, v) = w.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// Sends `SIGKILL` to process `pid`.
#[cfg(unix)]
fn kill(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; `pid` is a child we started (or
    // its traced process), so at worst it has exited already.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Nothing to kill by pid here: the drivers only trace processes on Linux.
#[cfg(not(unix))]
fn kill(_pid: u32) {}
