//! What one driver run measured, per server, and the summaries the report prints.

use std::collections::BTreeMap;

use sock_netbench::{Summary, json_field};

use crate::servers::ServerSpec;
use crate::syscalls::Counts;

/// One echo run's numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EchoRun {
    /// Round trips per second.
    pub(crate) rt_per_sec: f64,
    /// Median latency, microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub(crate) p99_us: f64,
    /// How busy server and loadgen were, if it could be read.
    pub(crate) cpu: Option<CpuUse>,
}

/// CPU used over a timed window, in CPUs (1.0 = one CPU busy all the time).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuUse {
    /// The server's share.
    pub(crate) server: f64,
    /// loadgen's share.
    pub(crate) client: f64,
    /// Everything else on the server's and loadgen's CPUs (other processes, the driver,
    /// hypervisor steal): how disturbed the measurement was.
    pub(crate) other: f64,
}

impl CpuUse {
    /// The shares over `secs` of wall time, given the CPU seconds the server, the client
    /// and the CPUs in all (the two CPUs they ran on) used in it.
    pub(crate) fn over(server: f64, client: f64, all: f64, secs: f64) -> Self {
        let secs = secs.max(1e-9);
        Self {
            server: server / secs,
            client: client / secs,
            other: ((all - server - client) / secs).max(0.0),
        }
    }
}

/// One UDP run's numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UdpRun {
    /// Datagrams echoed per second.
    pub(crate) packets_per_sec: f64,
    /// Datagrams lost.
    pub(crate) lost: f64,
    /// loadgen's own send, receive and poll calls per datagram.
    pub(crate) client_calls: f64,
    /// Whether loadgen sent by segmentation offload (else by `sendmmsg`).
    pub(crate) segmented: bool,
    /// How busy server and loadgen were, if it could be read.
    pub(crate) cpu: Option<CpuUse>,
}

/// One bulk run's numbers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BulkRun {
    /// Megabytes (10^6 bytes) echoed per second.
    pub(crate) mb_per_sec: f64,
    /// How busy server and loadgen were, if it could be read.
    pub(crate) cpu: Option<CpuUse>,
}

/// One wrk run against a hyper server.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HttpRun {
    /// Requests answered per second.
    pub(crate) requests_per_sec: f64,
    /// Median latency, microseconds.
    pub(crate) p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub(crate) p99_us: f64,
    /// How busy the server and wrk were, if it could be read.
    pub(crate) cpu: Option<CpuUse>,
}

/// One TLS bulk run (`tls_bulk`: client and server threads in one process).
#[derive(Clone, Debug)]
pub(crate) struct TlsRun {
    /// Megabytes (10^6 bytes) received and checked per second.
    pub(crate) mb_per_sec: f64,
    /// The server thread's and the client thread's CPU over the transfer, and the rest
    /// of the two CPUs' over the process's life.
    pub(crate) cpu: Option<CpuUse>,
    /// What was negotiated: `TLSv1_3, TLS13_AES_256_GCM_SHA384`.
    pub(crate) cipher: String,
}

/// The TLS runs of one runtime.
pub(crate) struct TlsResult {
    /// `sock` or `tokio`.
    pub(crate) runtime: &'static str,
    /// Why it did not run at all (`tls_bulk` not built), if it did not.
    pub(crate) missing: Option<String>,
    /// The runs.
    pub(crate) runs: Vec<TlsRun>,
    /// What went wrong, one line each.
    pub(crate) failures: Vec<String>,
}

impl TlsResult {
    /// A runtime with nothing measured yet, `missing` if `tls_bulk` is.
    pub(crate) fn new(runtime: &'static str, missing: Option<String>) -> Self {
        Self {
            runtime,
            missing,
            runs: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// MB/s.
    pub(crate) fn rate(&self) -> Option<Summary> {
        Summary::of(&self.runs.iter().map(|r| r.mb_per_sec).collect::<Vec<_>>())
    }

    /// Notes a failure (also shown as it happens).
    pub(crate) fn fail(&mut self, what: String) {
        eprintln!("  tls {}: FAILED {what}", self.runtime);
        self.failures.push(what);
    }
}

/// Syscalls a server made while serving a counted window.
#[derive(Clone, Debug)]
pub(crate) struct SyscallRun {
    /// The counts.
    pub(crate) counts: Counts,
    /// Round trips (or datagrams) served in the window.
    pub(crate) served: f64,
}

impl SyscallRun {
    /// Syscalls per round trip.
    pub(crate) fn per_op(&self) -> f64 {
        self.counts.total as f64 / self.served.max(1.0)
    }
}

/// Server memory before and after the idle connections were opened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IdleMemory {
    /// VmRSS before, KiB.
    pub(crate) before_kb: u64,
    /// VmRSS with the connections open, KiB.
    pub(crate) after_kb: u64,
    /// Live heap bytes before and with the connections open, for a server that counts
    /// its allocations (sock's).
    pub(crate) heap: Option<(u64, u64)>,
    /// How many connections.
    pub(crate) conns: usize,
}

impl IdleMemory {
    /// RSS growth per idle connection, bytes (negative growth counts as 0).
    pub(crate) fn bytes_per_conn(&self) -> f64 {
        self.per_conn(self.before_kb * 1024, self.after_kb * 1024)
    }

    /// Live heap growth per idle connection, bytes (negative growth counts as 0), for a
    /// server that counts its allocations.
    pub(crate) fn heap_per_conn(&self) -> Option<f64> {
        self.heap
            .map(|(before, after)| self.per_conn(before, after))
    }

    /// Growth from `before` to `after` bytes, per connection.
    fn per_conn(&self, before: u64, after: u64) -> f64 {
        after.saturating_sub(before) as f64 / self.conns as f64
    }
}

/// A counted workload: echo at N connections, or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    /// TCP echo at this many connections.
    Echo(usize),
    /// UDP echo.
    Udp,
}

/// Everything measured for one server.
pub(crate) struct ServerResult {
    /// Which server.
    pub(crate) spec: ServerSpec,
    /// Why it did not run at all, if it did not.
    pub(crate) missing: Option<String>,
    /// Echo runs by connection count.
    pub(crate) echo: BTreeMap<usize, Vec<EchoRun>>,
    /// Bulk runs.
    pub(crate) bulk: Vec<BulkRun>,
    /// UDP runs.
    pub(crate) udp: Vec<UdpRun>,
    /// Syscall counts by workload.
    pub(crate) syscalls: BTreeMap<Workload, SyscallRun>,
    /// Idle-connection memory.
    pub(crate) idle: Option<IdleMemory>,
    /// wrk runs (the hyper servers).
    pub(crate) http: Vec<HttpRun>,
    /// What went wrong, one line each.
    pub(crate) failures: Vec<String>,
}

impl ServerResult {
    /// A server with nothing measured yet.
    pub(crate) fn new(spec: ServerSpec) -> Self {
        Self {
            missing: spec.missing(),
            spec,
            echo: BTreeMap::new(),
            bulk: Vec::new(),
            udp: Vec::new(),
            syscalls: BTreeMap::new(),
            idle: None,
            http: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Notes a failure (also shown as it happens).
    pub(crate) fn fail(&mut self, what: String) {
        eprintln!("  {}: FAILED {what}", self.spec.name);
        self.failures.push(what);
    }

    /// Round trips/s at `conns` connections.
    pub(crate) fn echo_rate(&self, conns: usize) -> Option<Summary> {
        self.echo_metric(conns, |run| run.rt_per_sec)
    }

    /// A metric over the echo runs at `conns` connections.
    pub(crate) fn echo_metric(&self, conns: usize, f: impl Fn(&EchoRun) -> f64) -> Option<Summary> {
        let runs = self.echo.get(&conns)?;
        Summary::of(&runs.iter().map(f).collect::<Vec<_>>())
    }

    /// Bulk MB/s.
    pub(crate) fn bulk_rate(&self) -> Option<Summary> {
        Summary::of(&self.bulk.iter().map(|r| r.mb_per_sec).collect::<Vec<_>>())
    }

    /// A metric over the wrk runs.
    pub(crate) fn http_metric(&self, f: impl Fn(&HttpRun) -> f64) -> Option<Summary> {
        Summary::of(&self.http.iter().map(f).collect::<Vec<_>>())
    }

    /// UDP packets/s.
    pub(crate) fn udp_rate(&self) -> Option<Summary> {
        self.udp_metric(|r| r.packets_per_sec)
    }

    /// A metric over the UDP runs.
    pub(crate) fn udp_metric(&self, f: impl Fn(&UdpRun) -> f64) -> Option<Summary> {
        Summary::of(&self.udp.iter().map(f).collect::<Vec<_>>())
    }
}

/// A number field of a loadgen result line.
pub(crate) fn field(line: &str, key: &str) -> Result<f64, String> {
    json_field(line, key)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no number {key:?} in loadgen output {line}"))
}

/// Reads an echo result line, with the CPU use measured around it.
pub(crate) fn echo_run(line: &str, cpu: Option<CpuUse>) -> Result<EchoRun, String> {
    Ok(EchoRun {
        rt_per_sec: field(line, "rt_per_sec")?,
        p50_us: field(line, "p50_us")?,
        p99_us: field(line, "p99_us")?,
        cpu,
    })
}

/// Reads a UDP result line.
pub(crate) fn udp_run(line: &str, cpu: Option<CpuUse>) -> Result<UdpRun, String> {
    Ok(UdpRun {
        packets_per_sec: field(line, "packets_per_sec")?,
        lost: field(line, "lost")?,
        client_calls: field(line, "calls_per_datagram")?,
        segmented: json_field(line, "send") == Some("gso"),
        cpu,
    })
}

/// Reads a bulk result line.
pub(crate) fn bulk_run(line: &str, cpu: Option<CpuUse>) -> Result<BulkRun, String> {
    Ok(BulkRun {
        mb_per_sec: field(line, "mb_per_sec")?,
        cpu,
    })
}

/// `, CPU s % / c % / other o %` for a progress line, or nothing without a reading.
pub(crate) fn cpu_note(cpu: Option<CpuUse>) -> String {
    cpu.map_or(String::new(), |c| {
        format!(
            ", CPU {:.0} % / {:.0} % / other {:.0} %",
            c.server * 100.0,
            c.client * 100.0,
            c.other * 100.0
        )
    })
}

/// `server % / loadgen % / other %`, medians over the runs that have a CPU reading; `–`
/// if none.
pub(crate) fn cpu_cell(runs: impl Iterator<Item = Option<CpuUse>>) -> String {
    let readings: Vec<CpuUse> = runs.flatten().collect();
    let median = |f: fn(&CpuUse) -> f64| {
        Summary::of(&readings.iter().map(|c| f(c) * 100.0).collect::<Vec<_>>()).map(|s| s.median)
    };
    match (
        median(|c| c.server),
        median(|c| c.client),
        median(|c| c.other),
    ) {
        (Some(s), Some(c), Some(o)) => format!("{s:.0} / {c:.0} / {o:.0}"),
        _ => "–".to_owned(),
    }
}
