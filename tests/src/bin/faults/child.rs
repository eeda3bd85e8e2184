//! The process under `strace`: `faults child MODE SEED CLIENTS EXCHANGES STALL_MS`.
//! Prints `pid=N`, then a line per server error and per client (see
//! [`crate::exchange`]), then `done`; then serves on, idle, until its stdin closes, so
//! the supervisor can measure the CPU it uses while nothing happens.

use std::io::Read;
use std::time::Duration;

use crate::exchange::Plan;
use crate::{loop_mode, shared_mode};

/// Runs the child; `args` are those after `child`.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    let (mode, plan) = parse(args)?;
    println!("pid={}", std::process::id());
    exit_when_stdin_closes();
    match mode.as_str() {
        "loop" => {
            let port = loop_mode::start_server();
            loop_mode::run_clients(plan, port);
            println!("done");
        }
        "shared" => shared_mode::run(plan),
        other => return Err(format!("unknown mode {other:?}")),
    }
    loop {
        std::thread::park(); // the stdin thread ends the process
    }
}

/// The mode and plan from the arguments.
fn parse(args: &[String]) -> Result<(String, Plan), String> {
    let [mode, seed, clients, exchanges, stall_ms] = args else {
        return Err("usage: faults child MODE SEED CLIENTS EXCHANGES STALL_MS".into());
    };
    let number = |text: &String| text.parse::<u64>().map_err(|e| format!("{text:?}: {e}"));
    let stall_ms = number(stall_ms)?;
    let plan = Plan {
        seed: number(seed)?,
        clients: number(clients)? as u32,
        exchanges: number(exchanges)? as u32,
        stall: (stall_ms > 0).then(|| Duration::from_millis(stall_ms)),
    };
    Ok((mode.clone(), plan))
}

/// Exits the process (status 0) once stdin reaches its end.
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
}
