//! Integration tests of `sock-addr` through its public API.
//!
//! Results are cross-checked against the system's own answer (`getent`); lookups that
//! could reach a real name server run inside a network namespace the test creates, so
//! no DNS traffic leaves the machine.

mod support;

mod addr_errors;
mod addr_kinds;
mod addr_resolve;
mod addr_sockaddr;

#[cfg(target_os = "linux")]
mod addr_flags;
#[cfg(target_os = "linux")]
mod addr_getent;
