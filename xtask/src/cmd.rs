//! A small process helper: build a command, echo it, run it, map failures to steps.
//!
//! Every child gets stdin from `/dev/null` (CI has no stdin, and Wine must not hold a
//! terminal), and may get a timeout after which it is killed. Output is either
//! inherited, read line by line while the child runs, or discarded.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::process_tree;
use crate::step::StepError;

/// A command to run, with how it is shown in the log.
pub(crate) struct Cmd {
    /// The process to start.
    command: Command,
    /// `NAME=value program args`, echoed before the run and used in error messages.
    display: String,
    /// Kill the child after this long.
    timeout: Option<Duration>,
    /// Echo the command line before running it.
    echo: bool,
}

impl Cmd {
    /// A command running `program`.
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        Cmd {
            command: Command::new(program),
            display: shell_word(&program.to_string_lossy()),
            timeout: None,
            echo: true,
        }
    }

    /// Appends one argument.
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.display.push(' ');
        self.display
            .push_str(&shell_word(&arg.as_ref().to_string_lossy()));
        self.command.arg(arg);
        self
    }

    /// Appends arguments.
    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(self, args: I) -> Cmd {
        args.into_iter().fold(self, Cmd::arg)
    }

    /// Sets an environment variable for the child, shown before the program name.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        let shown = shell_word(&value.as_ref().to_string_lossy());
        self.display = format!("{key}={shown} {}", self.display);
        self.command.env(key, value);
        self
    }

    /// Runs the child in `dir`.
    pub(crate) fn current_dir(mut self, dir: &Path) -> Cmd {
        self.command.current_dir(dir);
        self
    }

    /// Kills the child if it runs longer than `limit`.
    pub(crate) fn timeout(mut self, limit: Duration) -> Cmd {
        self.timeout = Some(limit);
        self
    }

    /// Does not echo the command line (for probes whose result is all that matters).
    pub(crate) fn quiet(mut self) -> Cmd {
        self.echo = false;
        self
    }

    /// Runs with inherited stdout and stderr; fails unless the exit status is 0.
    pub(crate) fn run(mut self) -> Result<(), StepError> {
        let child = self.spawn(Stdio::inherit(), Stdio::inherit())?;
        let status = self.wait(child, self.deadline())?;
        self.check(status)
    }

    /// Runs with stdout and stderr discarded; true if it started and exited with 0.
    pub(crate) fn succeeds(mut self) -> bool {
        let Ok(child) = self.spawn(Stdio::null(), Stdio::null()) else {
            return false;
        };
        matches!(self.wait(child, self.deadline()), Ok(status) if status.success())
    }

    /// Runs and returns stdout; stderr is inherited. Fails unless the status is 0.
    pub(crate) fn read(self) -> Result<String, StepError> {
        let mut out = String::new();
        self.run_lines(|line| {
            out.push_str(line);
            out.push('\n');
        })?;
        Ok(out)
    }

    /// Runs, handing each line of stdout to `on_line` as it arrives; stderr is
    /// inherited. Fails unless the exit status is 0.
    pub(crate) fn run_lines(mut self, mut on_line: impl FnMut(&str)) -> Result<(), StepError> {
        let mut child = self.spawn(Stdio::piped(), Stdio::inherit())?;
        let stdout = child.stdout.take().expect("stdout was requested as a pipe");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = self.deadline();
        loop {
            let wait = deadline.map_or(Duration::from_secs(3600), |deadline| {
                deadline.saturating_duration_since(Instant::now())
            });
            match lines.recv_timeout(wait) {
                Ok(line) => on_line(&line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) if deadline.is_some() => {
                    return Err(self.kill(child));
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        let status = self.wait(child, deadline)?;
        self.check(status)
    }

    /// Starts the child with stdin from `/dev/null`.
    fn spawn(&mut self, stdout: Stdio, stderr: Stdio) -> Result<Child, StepError> {
        if self.echo {
            println!("$ {}", self.display);
            let _ = std::io::stdout().flush();
        }
        let spawned = self
            .command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn();
        spawned.map_err(|error| {
            let program = self.command.get_program().to_string_lossy();
            match error.kind() {
                ErrorKind::NotFound => StepError::cannot_run(format!("`{program}` not found")),
                _ => StepError::failed(format!("cannot start `{program}`: {error}")),
            }
        })
    }

    /// When a child started now must have finished, if it has a timeout.
    fn deadline(&self) -> Option<Instant> {
        self.timeout.map(|limit| Instant::now() + limit)
    }

    /// Waits for the child, killing it once `deadline` (if any) has passed.
    fn wait(&self, mut child: Child, deadline: Option<Instant>) -> Result<ExitStatus, StepError> {
        let Some(deadline) = deadline else {
            return child
                .wait()
                .map_err(|e| StepError::failed(format!("wait failed: {e}")));
        };
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => sleep_a_little(),
                Ok(None) => return Err(self.kill(child)),
                Err(e) => return Err(StepError::failed(format!("wait failed: {e}"))),
            }
        }
    }

    /// Kills a child that overran its timeout, with everything it started, and says
    /// so.
    fn kill(&self, mut child: Child) -> StepError {
        process_tree::kill(&mut child);
        let limit = self.timeout.unwrap_or_default().as_secs();
        StepError::failed(format!("`{}` timed out after {limit}s", self.display))
    }

    /// Maps a non-zero exit status to a failure naming the command.
    fn check(&self, status: ExitStatus) -> Result<(), StepError> {
        if status.success() {
            return Ok(());
        }
        Err(StepError::failed(format!(
            "`{}` exited with {status}",
            self.display
        )))
    }
}

/// `word` as a shell would need it: as is when plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The pause between polls of a child that has a timeout.
fn sleep_a_little() {
    std::thread::sleep(Duration::from_millis(25));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let cmd = Cmd::new("cargo")
            .args(["doc", "a b", ""])
            .env("RUSTDOCFLAGS", "-D warnings");
        assert_eq!(cmd.display, "RUSTDOCFLAGS='-D warnings' cargo doc 'a b' ''");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_and_fails() {
        if !cfg!(unix) {
            return; // needs `sh`
        }
        let start = Instant::now();
        let sleeper = Cmd::new("sh").args(["-c", "sleep 30; echo late"]).quiet();
        let result = sleeper.timeout(Duration::from_millis(300)).read();
        assert!(matches!(result, Err(StepError::Failed(why)) if why.contains("timed out")));
        assert!(start.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn exit_status_and_missing_programs_are_told_apart() {
        assert!(matches!(
            Cmd::new("no-such-program-xtask").quiet().run(),
            Err(StepError::CannotRun(_))
        ));
        if cfg!(unix) {
            assert!(matches!(
                Cmd::new("false").quiet().run(),
                Err(StepError::Failed(_))
            ));
            assert_eq!(
                Cmd::new("echo").arg("hi").quiet().read().ok().as_deref(),
                Some("hi\n")
            );
        }
    }
}
