//! Echo server on tokio's current_thread runtime: the baseline every ratio is taken to.
//!
//! `echo_tokio_ct --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed.

#[path = "../peers/tokio_echo.rs"]
mod tokio_echo;

fn main() {
    tokio_echo::main_with(
        "echo_tokio_ct",
        tokio::runtime::Builder::new_current_thread(),
    );
}
