//! Echo server on tokio's multi_thread runtime (one worker per core it may run on;
//! pinned to one core by the driver, that is one worker plus the thread that blocks on it).
//!
//! `echo_tokio_mt --addr 127.0.0.1:PORT [--udp] [--buf BYTES]`; serves until killed.

#[path = "../peers/tokio_echo.rs"]
mod tokio_echo;

fn main() {
    if let Err(err) = sock_netbench::require_linux("echo_tokio_mt").and_then(|()| run()) {
        eprintln!("echo_tokio_mt: {err}");
        std::process::exit(1);
    }
}

/// Builds a multi_thread runtime and serves on it.
fn run() -> Result<(), String> {
    let args = sock_netbench::ServerArgs::from_env_or_exit();
    sock_netbench::raise_nofile_limit().map_err(|err| format!("raising RLIMIT_NOFILE: {err}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("runtime: {err}"))?;
    runtime
        .block_on(tokio_echo::serve(args))
        .map_err(|err| format!("{}: {err}", args.addr))
}
