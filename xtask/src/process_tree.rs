//! Killing a timed-out command together with everything it started.
//!
//! Killing `cargo nextest` alone leaves its test process running (and holding a CPU)
//! after the step has given up, so a timeout kills the child's descendants too. They
//! are found through `/proc/<pid>/stat` (the parent pid is the second field after the
//! command name); where there is no `/proc`, only the child itself is killed. Std has
//! no way to signal an arbitrary pid, so the `kill` program does it.

use std::collections::HashMap;
use std::process::Child;

use crate::cmd::Cmd;

/// Kills `child` and its descendants with SIGKILL, then reaps `child`.
pub(crate) fn kill(child: &mut Child) {
    // Two rounds: a process may fork while the first round is under way.
    for _ in 0..2 {
        let pids: Vec<String> = descendants(child.id()).iter().map(u32::to_string).collect();
        if !pids.is_empty() {
            let _ = Cmd::new("kill").arg("-KILL").args(&pids).quiet().succeeds();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every process below `root` in the process tree, children before grandchildren.
fn descendants(root: u32) -> Vec<u32> {
    let children = children_by_parent();
    let mut found = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        let below = children.get(&pid).map_or(&[][..], Vec::as_slice);
        found.extend_from_slice(below);
        next.extend_from_slice(below);
    }
    found
}

/// `parent pid → child pids` for every process in `/proc` (empty without `/proc`).
fn children_by_parent() -> HashMap<u32, Vec<u32>> {
    let mut map: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if let Some(parent) = parent_pid(&stat) {
            map.entry(parent).or_default().push(pid);
        }
    }
    map
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid …`, where
/// `comm` may itself contain spaces and parentheses.
fn parent_pid(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_pid_skips_odd_command_names() {
        assert_eq!(parent_pid("42 (sh) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_pid("43 (a (b) c) R 42 1 1"), Some(42));
        assert_eq!(parent_pid("garbage"), None);
    }

    #[test]
    fn a_killed_child_takes_its_children_along() {
        if !cfg!(target_os = "linux") {
            return; // no /proc to find the children with
        }
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 60 & sleep 60 & wait"])
            .spawn()
            .expect("sh runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while descendants(child.id()).len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let grandchildren = descendants(child.id());
        assert_eq!(grandchildren.len(), 2);
        kill(&mut child);
        // SIGKILL is delivered at once but a process takes a moment to die: wait for it
        // (bounded), so a loaded machine does not fail the check.
        for pid in grandchildren {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut stat = String::new();
            while std::time::Instant::now() < deadline {
                stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                if is_dead(&stat) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(is_dead(&stat), "{pid} still runs: {stat}");
        }
    }

    /// Whether `/proc/PID/stat` text (empty: gone) shows a process that is gone or a zombie.
    fn is_dead(stat: &str) -> bool {
        let state = stat
            .rfind(')')
            .map(|at| stat[at + 1..].trim_start().chars().next());
        matches!(state, None | Some(Some('Z' | 'X')))
    }
}
