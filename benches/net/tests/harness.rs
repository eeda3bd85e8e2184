//! End-to-end tests of the harness binaries: each echo server under loadgen, loadgen's
//! checks catching a corrupting server, idle mode, the hyper servers answering keep-alive
//! requests, `tls_bulk` on both runtimes, and tiny `netbench` runs writing their report.
//! Linux only, like the harness. No timing is asserted: the runs are brief and only have
//! to succeed.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sock_netbench::json_field;

/// The Rust echo servers, by binary path.
const RUST_SERVERS: [&str; 5] = [
    env!("CARGO_BIN_EXE_echo_sock_fio"),
    env!("CARGO_BIN_EXE_echo_tokio_ct"),
    env!("CARGO_BIN_EXE_echo_tokio_mt"),
    env!("CARGO_BIN_EXE_echo_smol"),
    env!("CARGO_BIN_EXE_echo_mio"),
];
/// The load generator.
const LOADGEN: &str = env!("CARGO_BIN_EXE_loadgen");

/// A server process killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    /// Starts `binary` on a free loopback port and waits until it accepts (TCP) or
    /// answers (UDP).
    fn start(binary: &str, udp: bool) -> Server {
        let addr = match udp {
            false => TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap(),
            true => UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap(),
        };
        let mut command = Command::new(binary);
        command.args(["--addr", &addr.to_string()]);
        if udp {
            command.arg("--udp");
        }
        let child = command.stdout(Stdio::null()).spawn().unwrap();
        let server = Server {
            child,
            addr: addr.to_string(),
        };
        server.wait_ready(udp);
        server
    }

    fn wait_ready(&self, udp: bool) {
        let start = Instant::now();
        while !answers(&self.addr, udp) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "server never answered"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answers(addr: &str, udp: bool) -> bool {
    if !udp {
        return TcpStream::connect(addr).is_ok();
    }
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    socket.send_to(b"x", addr).is_ok() && socket.recv(&mut [0u8; 4]).is_ok()
}

/// Runs loadgen with `args` against `addr`, returning its output.
fn loadgen(addr: &str, args: &[&str]) -> Output {
    Command::new(LOADGEN)
        .args(["--addr", addr])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A number field of loadgen's last stdout line, after asserting it succeeded.
fn number(output: &Output, key: &str) -> f64 {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "loadgen failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().expect("a result line");
    json_field(line, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

fn assert_serves_tcp_and_udp(binary: &str) {
    let tcp = Server::start(binary, false);
    let echo = loadgen(
        &tcp.addr,
        &["--conns", "8", "--depth", "2", "--duration", "0.2"],
    );
    let round_trips = number(&echo, "round_trips");
    assert!(round_trips > 0.0, "{binary}");
    assert!(number(&echo, "served") >= round_trips);
    let bulk = loadgen(
        &tcp.addr,
        &["--bulk", "--bytes", "3000000", "--chunk", "65536"],
    );
    assert!(number(&bulk, "mb_per_sec") > 0.0, "{binary}");
    let udp = Server::start(binary, true);
    let packets = loadgen(&udp.addr, &["--udp", "--conns", "4", "--duration", "0.2"]);
    assert!(number(&packets, "packets") > 0.0, "{binary}");
}

#[test]
fn every_rust_server_echoes_tcp_bulk_and_udp() {
    for binary in RUST_SERVERS {
        assert_serves_tcp_and_udp(binary);
    }
}

#[test]
fn c_server_builds_with_cc_and_echoes() {
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("echo_epoll_test");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("c/echo_epoll.c");
    let status = Command::new("cc")
        .args(["-O2", "-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap();
    assert!(status.success());
    assert_serves_tcp_and_udp(binary.to_str().unwrap());
}

#[test]
fn loadgen_fails_on_a_server_that_corrupts_a_byte() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut total = 0usize;
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    // Corrupt the 100th byte of the stream, echo the rest faithfully.
                    if (total..total + n).contains(&100) {
                        buf[100 - total] ^= 0x55;
                    }
                    total += n;
                    if stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let output = loadgen(&addr, &["--conns", "1", "--duration", "0.3"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong bytes"), "{stderr}");
}

#[test]
fn udp_loadgen_checks_every_datagram_of_a_batch_both_ways_of_sending() {
    let server = Server::start(env!("CARGO_BIN_EXE_echo_mio"), true);
    for send in [&[][..], &["--no-gso"][..]] {
        let mut args = vec![
            "--udp",
            "--conns",
            "2",
            "--depth",
            "40",
            "--duration",
            "0.2",
        ];
        args.extend_from_slice(send);
        let output = loadgen(&server.addr, &args);
        assert!(number(&output, "packets") > 0.0, "{send:?}");
        assert_eq!(number(&output, "lost"), 0.0, "{send:?}");
        let calls = number(&output, "calls_per_datagram");
        assert!(
            calls > 0.0 && calls < 2.0,
            "{send:?}: {calls} calls per datagram"
        );
    }
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for count in 0u32.. {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                return;
            };
            // Corrupt the last byte of every 50th datagram, echo the others faithfully.
            if count % 50 == 49 {
                buf[n - 1] ^= 0x55;
            }
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    let output = loadgen(&addr, &["--udp", "--depth", "64", "--duration", "0.3"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("wrong datagram"), "{stderr}");
}

#[test]
fn loadgen_rejects_bad_flags_with_a_message() {
    let output = loadgen("127.0.0.1:1", &["--conns", "0"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--conns"));
    let output = Command::new(LOADGEN).arg("--bogus").output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("--bogus"));
}

#[test]
fn idle_mode_holds_connections_until_stdin_closes() {
    let server = Server::start(env!("CARGO_BIN_EXE_echo_mio"), false);
    let mut child = Command::new(LOADGEN)
        .args(["--addr", &server.addr, "--idle", "250", "--hold", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(json_field(&line, "event"), Some("ready"), "{line}");
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .unwrap()
        .count();
    assert!(fds >= 250, "server holds {fds} descriptors");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn netbench_writes_a_report_and_chart_marking_missing_servers() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("netbench-e2e");
    let bin_dir = scratch.join("bin");
    let out_dir = scratch.join("out");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&bin_dir).unwrap();
    for (name, path) in [
        ("loadgen", LOADGEN),
        ("echo_tokio_ct", env!("CARGO_BIN_EXE_echo_tokio_ct")),
        ("echo_mio", env!("CARGO_BIN_EXE_echo_mio")),
    ] {
        std::os::unix::fs::symlink(path, bin_dir.join(name)).unwrap();
    }
    std::fs::create_dir_all(&out_dir).unwrap();
    let readme =
        "# r\n<!-- netbench results: begin -->\nold\n<!-- netbench results: end -->\ntail\n";
    std::fs::write(out_dir.join("README.md"), readme).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_netbench"))
        .args([
            "--quick",
            "--duration",
            "0.2",
            "--conns",
            "1,8",
            "--servers",
            "sock,tokio_ct,mio",
        ])
        .args([
            "--idle",
            "100",
            "--bulk-bytes",
            "2000000",
            "--udp-sockets",
            "4",
        ])
        .args([
            "--server-cpu",
            "0",
            "--client-cpu",
            "0",
            "--syscalls",
            "none",
        ])
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let results = std::fs::read_to_string(out_dir.join("RESULTS.md")).unwrap();
    assert!(
        results.contains("| sock | missing | – | missing | – |"),
        "{results}"
    );
    assert!(results.contains("| tokio_ct |"), "{results}");
    assert!(!results.contains("## Failures"), "{results}");
    let mio_row = results
        .lines()
        .find(|l| l.starts_with("| mio | ") && l.matches('|').count() == 6)
        .expect("an echo row for mio");
    assert!(!mio_row.contains("failed"), "{mio_row}");
    let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    assert!(
        !readme.contains("\nold\n") && readme.ends_with("end -->\ntail\n"),
        "{readme}"
    );
    assert!(
        readme.contains("## Network benchmark results\n"),
        "{readme}"
    );
    let svg = std::fs::read_to_string(out_dir.join("ratios.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("sock (missing)"));
}

/// Reads one HTTP/1.1 answer with a `content-length` from `reader`: status line and body.
fn read_answer(reader: &mut BufReader<TcpStream>) -> (String, String) {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header == "\r\n" {
            break;
        }
        let (name, value) = header.split_once(':').expect("a header line");
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().unwrap());
        }
    }
    let mut body = vec![0u8; length.expect("a content-length")];
    reader.read_exact(&mut body).unwrap();
    (status.trim().to_owned(), String::from_utf8(body).unwrap())
}

#[test]
fn hyper_servers_answer_requests_on_one_keep_alive_connection() {
    for binary in [
        env!("CARGO_BIN_EXE_hyper_sock"),
        env!("CARGO_BIN_EXE_hyper_tokio"),
    ] {
        let server = Server::start(binary, false);
        let stream = TcpStream::connect(&server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        for _ in 0..5 {
            writer
                .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
                .unwrap();
            let (status, body) = read_answer(&mut reader);
            assert_eq!(status, "HTTP/1.1 200 OK", "{binary}");
            assert_eq!(body, "Hello, World!", "{binary}");
        }
        // Three pipelined requests, answered in order on the same connection.
        writer
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".repeat(3).as_slice())
            .unwrap();
        for _ in 0..3 {
            assert_eq!(read_answer(&mut reader).1, "Hello, World!", "{binary}");
        }
    }
}

#[test]
fn tls_bulk_moves_and_checks_every_byte_on_both_runtimes() {
    for runtime in ["sock", "tokio"] {
        let output = Command::new(env!("CARGO_BIN_EXE_tls_bulk"))
            .args([
                "--runtime",
                runtime,
                "--bytes",
                "3000001",
                "--chunk",
                "16384",
            ])
            .args(["--server-cpu", "0", "--client-cpu", "0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{runtime}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().expect("a result line");
        assert_eq!(json_field(line, "runtime"), Some(runtime), "{line}");
        assert_eq!(json_field(line, "bytes"), Some("3000001"), "{line}");
        assert_eq!(json_field(line, "version"), Some("TLSv1_3"), "{line}");
        let rate: f64 = json_field(line, "mb_per_sec").unwrap().parse().unwrap();
        assert!(rate > 0.0, "{line}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_tls_bulk"))
        .args(["--runtime", "smol"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--runtime"));
}

#[test]
fn netbench_runs_the_hyper_and_tls_comparisons() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("netbench-http-tls");
    let bin_dir = scratch.join("bin");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&bin_dir).unwrap();
    for (name, path) in [
        ("hyper_sock", env!("CARGO_BIN_EXE_hyper_sock")),
        ("hyper_tokio", env!("CARGO_BIN_EXE_hyper_tokio")),
        ("tls_bulk", env!("CARGO_BIN_EXE_tls_bulk")),
    ] {
        std::os::unix::fs::symlink(path, bin_dir.join(name)).unwrap();
    }
    // wrk runs whole seconds: 1 s per server here. `cargo xtask ci` installs wrk.
    let output = Command::new(env!("CARGO_BIN_EXE_netbench"))
        .args(["--quick", "--only", "http,tls", "--http-conns", "8"])
        .args([
            "--tls-bytes",
            "2000000",
            "--server-cpu",
            "0",
            "--client-cpu",
            "0",
        ])
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(&scratch)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let results = std::fs::read_to_string(scratch.join("RESULTS.md")).unwrap();
    assert!(!results.contains("## Failures"), "{results}");
    for row in ["| hyper_sock |", "| hyper_tokio |", "| sock |", "| tokio |"] {
        let line = results
            .lines()
            .rfind(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} row in {results}"));
        assert!(
            !line.contains("failed") && !line.contains("missing"),
            "{line}"
        );
    }
    assert!(results.contains("| hyper_tokio |") && results.contains("| 1.00 |"));
    assert!(results.contains("TLSv1_3"), "{results}");
}
