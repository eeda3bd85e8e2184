//! What the fault drivers share (the `faults`, `faultproxy` and `soak` programs of
//! this package, run by `cargo xtask faults` and `cargo xtask soak`): a seeded
//! generator, the soak's checksummed frames, readings of a process's CPU time, memory
//! and fds from `/proc`, and a child process whose output is read line by line
//! against a deadline.

pub mod child;
pub mod frame;
pub mod procfs;
pub mod rng;
