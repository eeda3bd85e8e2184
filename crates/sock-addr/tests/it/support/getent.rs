//! Runs `getent` and parses its answer, to compare lookups with the system's own.

use std::net::IpAddr;
use std::process::Command;

use sock_addr::SocketType;

/// One line of `getent ahosts*`: the address and socket type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) ip: IpAddr,
    pub(crate) socktype: SocketType,
}

/// The answer of `getent ahosts*`: the entries and the canonical name (first line's
/// third column), or `None` if getent found nothing (exit status 2).
#[derive(Debug)]
pub(crate) struct Hosts {
    pub(crate) lines: Vec<Line>,
    pub(crate) canonical_name: Option<String>,
}

/// Runs `getent <database> <key>`; `None` when the key is not found (exit status 2).
///
/// # Panics
///
/// If getent is missing or fails otherwise: the cross-check cannot run without it.
pub(crate) fn run(database: &str, key: &str) -> Option<String> {
    let out = Command::new("getent")
        .args([database, key])
        .output()
        .unwrap_or_else(|e| panic!("getent is required for the cross-checks: {e}"));
    match out.status.code() {
        Some(0) => Some(String::from_utf8(out.stdout).expect("getent prints UTF-8")),
        Some(2) => None,
        other => panic!(
            "getent {database} {key} failed ({other:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `getent ahosts|ahostsv4|ahostsv6 <host>`, parsed.
pub(crate) fn ahosts(database: &str, host: &str) -> Option<Hosts> {
    let text = run(database, host)?;
    let mut canonical_name = None;
    let lines = text.lines().enumerate().map(|(i, line)| {
        let mut cols = line.split_whitespace();
        let ip = cols
            .next()
            .expect("address column")
            .parse()
            .expect("getent prints an IP");
        let socktype = match cols.next().expect("socket type column") {
            "STREAM" => SocketType::STREAM,
            "DGRAM" => SocketType::DGRAM,
            "RAW" => SocketType::RAW,
            other => panic!("unknown socket type {other} in getent output"),
        };
        if i == 0 {
            canonical_name = cols.next().map(str::to_owned);
        }
        Line { ip, socktype }
    });
    let lines = lines.collect();
    Some(Hosts {
        lines,
        canonical_name,
    })
}

/// `getent services <name>/<proto>`: the port, or `None` if unknown.
pub(crate) fn service_port(name: &str, proto: &str) -> Option<u16> {
    let text = run("services", &format!("{name}/{proto}"))?;
    let port_proto = text.split_whitespace().nth(1).expect("port/proto column");
    let (port, got_proto) = port_proto.split_once('/').expect("port/proto");
    assert_eq!(got_proto, proto);
    Some(port.parse().expect("numeric port"))
}
