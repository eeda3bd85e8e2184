//! Echo server on tokio's multi_thread runtime (one worker per core it may run on;
//! pinned to one core by the driver, that is one worker plus the thread that blocks on it).
//!
//! `echo_tokio_mt --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed.

#[path = "../peers/tokio_echo.rs"]
mod tokio_echo;

fn main() {
    tokio_echo::main_with("echo_tokio_mt", tokio::runtime::Builder::new_multi_thread());
}
