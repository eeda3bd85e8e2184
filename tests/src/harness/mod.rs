//! What the fault drivers share (the `faults`, `faultproxy` and `soak` programs of
//! this package, run by `cargo xtask faults` and `cargo xtask soak`): a seeded
//! generator, the soak's checksummed frames, readings of a process's CPU time, memory
//! and fds from `/proc`, and a child process whose output is read line by line
//! against a deadline; and ([`netns`], Linux) the network namespaces the integration
//! tests build for themselves.

pub mod child;
pub mod frame;
#[cfg(target_os = "linux")]
pub mod netns;
pub mod procfs;
pub mod rng;
