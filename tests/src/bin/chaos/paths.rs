//! Unix-domain socket paths of a scenario, removed when it ends.

use std::sync::Mutex;

use crate::report::lock;

/// Hands out socket paths unique to this process and scenario; removes them on drop.
#[derive(Debug)]
pub(crate) struct Paths {
    /// Every path's prefix.
    prefix: String,
    /// The paths handed out.
    made: Mutex<Vec<String>>,
}

impl Paths {
    /// Paths for scenario `seed`.
    pub(crate) fn new(seed: u64) -> Paths {
        let dir = std::env::temp_dir();
        let prefix = format!("{}/sock-chaos-{}-{seed}", dir.display(), std::process::id());
        Paths {
            prefix,
            made: Mutex::new(Vec::new()),
        }
    }

    /// A fresh path named after `what` (removed first if a file is there).
    pub(crate) fn path(&self, what: &str) -> String {
        let mut made = lock(&self.made);
        let path = format!("{}-{}-{what}", self.prefix, made.len());
        let _ = std::fs::remove_file(&path);
        made.push(path.clone());
        path
    }
}

impl Drop for Paths {
    fn drop(&mut self) {
        for path in lock(&self.made).drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}
