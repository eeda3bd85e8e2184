//! Running `loadgen` pinned to a CPU, hand-shaking over its stdin and stdout.
//!
//! loadgen runs with `--control`: it prints a ready line once connected, starts its clock
//! when a line arrives on its stdin, prints its result line, and exits when stdin closes.
//! The driver can therefore attach a syscall counter to the server between "ready" and
//! "go", and detach it before the connections close. Every wait has a limit; on any error
//! the process is killed.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// How long loadgen may take to connect, or to exit once told to.
const SETUP_LIMIT: Duration = Duration::from_secs(120);

/// A running loadgen, killed when dropped.
pub(crate) struct Load {
    /// The process (taskset execs loadgen).
    child: Child,
    /// Its stdin; dropping it tells loadgen to finish.
    stdin: Option<ChildStdin>,
    /// Lines loadgen printed, from a reader thread.
    lines: Receiver<String>,
    /// Where its stderr goes.
    log: PathBuf,
}

impl Load {
    /// Starts `loadgen ARGS --addr ADDR --control` pinned to `cpu`.
    pub(crate) fn start(
        loadgen: &Path,
        cpu: usize,
        addr: SocketAddr,
        args: &[String],
        log: &Path,
    ) -> Result<Self, String> {
        let stderr = File::create(log).map_err(|err| format!("{}: {err}", log.display()))?;
        let mut child = Command::new("taskset")
            .arg("-c")
            .arg(cpu.to_string())
            .arg(loadgen)
            .args(["--addr", &addr.to_string(), "--control"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|err| format!("starting {}: {err}", loadgen.display()))?;
        let stdout = child.stdout.take().expect("stdout was piped above");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Self {
            stdin: child.stdin.take(),
            child,
            lines,
            log: log.to_owned(),
        })
    }

    /// loadgen's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the ready line (connections open).
    pub(crate) fn ready(&mut self) -> Result<String, String> {
        self.next_line(SETUP_LIMIT)
    }

    /// Starts loadgen's clock.
    pub(crate) fn go(&mut self) -> Result<(), String> {
        let stdin = self
            .stdin
            .as_mut()
            .expect("go() is called once, before finish()");
        stdin
            .write_all(b"go\n")
            .and_then(|()| stdin.flush())
            .map_err(|err| format!("telling loadgen to start: {err}"))
    }

    /// Waits for the result line, at most `window` plus the setup limit.
    pub(crate) fn result(&mut self, window: Duration) -> Result<String, String> {
        self.next_line(window + SETUP_LIMIT)
    }

    /// Closes loadgen's stdin and waits for it to exit.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        while let Ok(line) = self.lines.recv_timeout(SETUP_LIMIT) {
            eprintln!("    loadgen: unexpected output {line}");
        }
        let status = self
            .child
            .wait()
            .map_err(|err| format!("waiting for loadgen: {err}"))?;
        match status.success() {
            true => Ok(()),
            false => Err(format!("loadgen failed ({status}): {}", self.stderr())),
        }
    }

    /// The next line loadgen prints, within `limit`.
    fn next_line(&mut self, limit: Duration) -> Result<String, String> {
        match self.lines.recv_timeout(limit) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(format!("loadgen silent for {limit:?}")),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("loadgen exited ({status}): {}", self.stderr()))
            }
        }
    }

    /// What loadgen wrote to stderr, trimmed.
    fn stderr(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        text.trim().lines().take(5).collect::<Vec<_>>().join(" / ")
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
