//! The servers under test: where their binaries are, and starting one pinned to a CPU on
//! a free loopback port, ready when it answers (an echoed byte, or for the hyper servers
//! an HTTP answer; with its heap report, for the servers that have one).

use std::fs::{self, File};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sock_netbench::Transport;

use crate::heap::{self, HeapProbe};

/// How long a server may take to answer its first probe.
const READY_LIMIT: Duration = Duration::from_secs(5);

/// One server of the comparison.
pub(crate) struct ServerSpec {
    /// Short name, used in flags and tables (`tokio_ct`).
    pub(crate) name: &'static str,
    /// What it is, for the report.
    pub(crate) label: &'static str,
    /// Its release binary.
    pub(crate) binary: PathBuf,
    /// The binary relative to the bin dir, for the report's commands.
    pub(crate) shown: &'static str,
    /// Extra arguments (`sock_batch` is sock's server with `--batch`).
    pub(crate) args: &'static [&'static str],
    /// Whether it counts its heap and reports it (`--heap-report`; sock's server).
    pub(crate) heap_report: bool,
    /// Whether it speaks HTTP (the hyper servers) rather than echoing.
    pub(crate) http: bool,
}

impl ServerSpec {
    /// The server called `name`, its binary under `bin_dir`.
    pub(crate) fn new(name: &str, bin_dir: &Path) -> Self {
        let mut args: &'static [&'static str] = &[];
        let (name, label, shown) = match name {
            "sock" => (
                "sock",
                "sock (examples/echo_server)",
                "examples/echo_server",
            ),
            "sock_batch" => {
                args = &["--batch"];
                (
                    "sock_batch",
                    "sock with `--batch`: UDP by recvmmsg/sendmmsg (TCP: same as sock)",
                    "examples/echo_server",
                )
            }
            "sock_fio" => (
                "sock_fio",
                "sock through futures-io `AsyncRead`/`AsyncWrite` (UDP: sock's own calls)",
                "echo_sock_fio",
            ),
            "tokio_ct" => ("tokio_ct", "tokio current_thread", "echo_tokio_ct"),
            "tokio_mt" => ("tokio_mt", "tokio multi_thread", "echo_tokio_mt"),
            "smol" => ("smol", "smol (async-io + LocalExecutor)", "echo_smol"),
            "mio" => ("mio", "raw mio, edge-triggered", "echo_mio"),
            "hyper_sock" => (
                "hyper_sock",
                "hyper 1 `http1` on `sock::Tcp` (sock's `hyper` feature), `sock::hyper::Timer`",
                "hyper_sock",
            ),
            "hyper_tokio" => (
                "hyper_tokio",
                "hyper 1 `http1` on tokio current_thread, hyper-util `TokioIo` + `TokioTimer`",
                "hyper_tokio",
            ),
            _ => ("c_epoll", "C, edge-triggered epoll", "echo_epoll"),
        };
        Self {
            name,
            label,
            binary: bin_dir.join(shown),
            shown,
            args,
            heap_report: shown == "examples/echo_server",
            http: shown.starts_with("hyper_"),
        }
    }

    /// Why the server cannot run, if its binary is missing.
    pub(crate) fn missing(&self) -> Option<String> {
        match self.binary.is_file() {
            true => None,
            false => Some(format!("missing: {} not built", self.binary.display())),
        }
    }
}

/// Compiles `c/echo_epoll.c` with `cc -O2` into `bin_dir` unless the binary is newer.
pub(crate) fn build_c_server(bin_dir: &Path) -> Result<(), String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("c/echo_epoll.c");
    let binary = bin_dir.join("echo_epoll");
    let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified()).ok();
    if matches!((modified(&source), modified(&binary)), (Some(s), Some(b)) if b >= s) {
        return Ok(());
    }
    let status = Command::new("cc")
        .args(["-O2", "-Wall", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .map_err(|err| format!("running cc: {err}"))?;
    match status.success() {
        true => Ok(()),
        false => Err(format!("cc -O2 {} failed: {status}", source.display())),
    }
}

/// A server process, killed when dropped.
pub(crate) struct Running {
    /// The process (taskset execs the server, so this is the server itself).
    child: Child,
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Its heap report, when started with one.
    heap: Option<HeapProbe>,
}

impl Running {
    /// Starts `spec` pinned to `cpu` on a free port and waits until it answers.
    pub(crate) fn start(
        spec: &ServerSpec,
        transport: Transport,
        cpu: usize,
        log_dir: &Path,
    ) -> Result<Self, String> {
        Self::launch(spec, transport, cpu, log_dir, false)
    }

    /// [`Running::start`] with the heap report on, if `spec` has one.
    pub(crate) fn start_reporting_heap(
        spec: &ServerSpec,
        cpu: usize,
        log_dir: &Path,
    ) -> Result<Self, String> {
        Self::launch(spec, Transport::Tcp, cpu, log_dir, spec.heap_report)
    }

    /// Starts the server, with stdin and stdout piped to a [`HeapProbe`] if `heap`.
    fn launch(
        spec: &ServerSpec,
        transport: Transport,
        cpu: usize,
        log_dir: &Path,
        heap: bool,
    ) -> Result<Self, String> {
        let addr = free_addr(transport).map_err(|err| format!("finding a free port: {err}"))?;
        let log_path = log_dir.join(format!("{}-{transport:?}.log", spec.name));
        let log =
            File::create(&log_path).map_err(|err| format!("{}: {err}", log_path.display()))?;
        let mut command = Command::new("taskset");
        command.arg("-c").arg(cpu.to_string()).arg(&spec.binary);
        command.arg("--addr").arg(addr.to_string());
        if transport == Transport::Udp {
            command.arg("--udp");
        }
        command.args(spec.args);
        let pipe = || match heap {
            true => Stdio::piped(),
            false => Stdio::null(),
        };
        if heap {
            command.arg(heap::FLAG);
        }
        let mut child = command
            .stdin(pipe())
            .stdout(pipe())
            .stderr(log)
            .spawn()
            .map_err(|err| format!("starting taskset {}: {err}", spec.binary.display()))?;
        let heap = match (child.stdin.take(), child.stdout.take()) {
            (Some(ask), Some(out)) => Some(HeapProbe::new(ask, out)),
            _ => None,
        };
        let mut server = Self { child, addr, heap };
        let probe = match spec.http {
            true => Probe::Http,
            false => Probe::Echo(transport),
        };
        server.wait_ready(probe, &log_path)?;
        Ok(server)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's live heap bytes, `None` if it was started without a heap report.
    pub(crate) fn heap_live_bytes(&mut self) -> Option<Result<u64, String>> {
        self.heap.as_mut().map(HeapProbe::live_bytes)
    }

    /// Whether the process is still running.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Probes until the server answers, failing if it exits or `READY_LIMIT` passes.
    fn wait_ready(&mut self, how: Probe, log: &Path) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let said = fs::read_to_string(log).unwrap_or_default();
                return Err(format!("exited at start ({status}): {}", said.trim()));
            }
            if probe(self.addr, how) {
                return Ok(());
            }
            if start.elapsed() > READY_LIMIT {
                return Err(format!(
                    "not answering on {} after {READY_LIMIT:?}",
                    self.addr
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port that was free a moment ago.
fn free_addr(transport: Transport) -> io::Result<SocketAddr> {
    match transport {
        Transport::Tcp => TcpListener::bind("127.0.0.1:0")?.local_addr(),
        Transport::Udp => UdpSocket::bind("127.0.0.1:0")?.local_addr(),
    }
}

/// How to tell that a server is up.
#[derive(Clone, Copy)]
enum Probe {
    /// An echo server: one byte (TCP) or datagram (UDP) comes back.
    Echo(Transport),
    /// A hyper server: a GET is answered with the hello world.
    Http,
}

/// Whether the server answers: a TCP connect and one echoed byte, one echoed datagram, or
/// an HTTP answer.
fn probe(addr: SocketAddr, how: Probe) -> bool {
    let timeout = Duration::from_millis(200);
    let answered = match how {
        Probe::Echo(Transport::Tcp) => probe_tcp(addr, timeout),
        Probe::Echo(Transport::Udp) => probe_udp(addr, timeout),
        Probe::Http => probe_http(addr, timeout),
    };
    answered.unwrap_or(false)
}

/// Sends one `GET /` (closing after it) and checks for a 200 with the hello world.
fn probe_http(addr: SocketAddr, timeout: Duration) -> io::Result<bool> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: netbench\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(b"Hello, World!"))
}

/// Connects, sends one byte and reads it back.
fn probe_tcp(addr: SocketAddr, timeout: Duration) -> io::Result<bool> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"?")?;
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte)?;
    Ok(&byte == b"?")
}

/// Sends one datagram and waits for it to come back.
fn probe_udp(addr: SocketAddr, timeout: Duration) -> io::Result<bool> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(addr)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.send(b"probe")?;
    let mut buf = [0u8; 16];
    let n = socket.recv(&mut buf)?;
    Ok(&buf[..n] == b"probe")
}
