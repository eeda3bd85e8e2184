//! `copy_splice`: does `splice(2)` through a pipe beat a user-space copy? 1 GiB over
//! loopback through a copier (source → copier → sink, each a thread of its own); per
//! copier the median of 5 runs of the wall time and of the copier thread's CPU time:
//!
//! - `Sock`: `sock::io::copy` on a sock loop, the copy sock ships;
//! - `ReadWrite`: a blocking user-space `read`/`write` loop;
//! - `Splice`: a blocking `splice` socket → pipe → socket.
//!
//! All three move `--buffer` bytes at a time (64 KiB by default; the pipe is grown to
//! that size). `cargo run --release -p sock-benches --example copy_splice [-- --gib N
//! --runs N --buffer BYTES]`. The blocking pair compares the kernel paths alone; `Sock`
//! shows what the loop adds. A splice path inside `sock::io` (measured, then left out:
//! see the README's Benchmarks section) is in the history at the commit that added
//! this file. Linux only (elsewhere it says so and exits).

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("copy_splice measures Linux's splice(2): nothing to compare here");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::fd::AsRawFd;
    use std::thread;
    use std::time::{Duration, Instant};

    /// The copiers' buffer (and pipe) size unless `--buffer` says otherwise.
    const CHUNK: usize = 64 * 1024;

    /// What the source writes per call.
    const SOURCE_CHUNK: usize = 256 * 1024;

    /// What one run measured.
    #[derive(Clone, Copy, Debug)]
    struct Run {
        /// From the first byte sent to the last received.
        took: Duration,
        /// The copier thread's CPU time.
        cpu: Duration,
    }

    /// One way to copy a connection to another.
    #[derive(Clone, Copy, Debug)]
    enum Copier {
        Sock,
        ReadWrite,
        Splice,
    }

    pub(super) fn main() {
        let gib: u64 = flag("--gib", 1);
        let runs: usize = flag("--runs", 5);
        let total = gib << 30;
        println!("{gib} GiB through a copier over loopback, median of {runs}");
        for copier in [Copier::Sock, Copier::ReadWrite, Copier::Splice] {
            let runs: Vec<Run> = (0..runs).map(|_| run(copier, total)).collect();
            let took = median(runs.iter().map(|r| r.took));
            let cpu = median(runs.iter().map(|r| r.cpu));
            let gbps = total as f64 * 8.0 / took.as_secs_f64() / 1e9;
            let all: Vec<String> = runs
                .iter()
                .map(|r| format!("{:.3}", r.took.as_secs_f64()))
                .collect();
            println!(
                "{:<14} median {:>6.3} s {gbps:>6.2} Gbit/s, copier CPU {:>6.3} s  (runs: {})",
                format!("{copier:?}"),
                took.as_secs_f64(),
                cpu.as_secs_f64(),
                all.join(" ")
            );
        }
    }

    /// The median of `times`.
    fn median(times: impl Iterator<Item = Duration>) -> Duration {
        let mut times: Vec<Duration> = times.collect();
        times.sort();
        times[times.len() / 2]
    }

    /// The buffer (or pipe) size of sock's copier: `--buffer BYTES`, 64 KiB by default.
    fn buffer() -> usize {
        flag("--buffer", CHUNK)
    }

    /// The number after `name` on the command line, or `default`.
    fn flag<T: std::str::FromStr>(name: &str, default: T) -> T {
        let args: Vec<String> = std::env::args().collect();
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(default)
    }

    /// One run: `total` bytes from a source through `copier` to a sink; the time from
    /// the first byte sent to the last received.
    fn run(copier: Copier, total: u64) -> Run {
        let back = TcpListener::bind("127.0.0.1:0").unwrap();
        let back_addr = back.local_addr().unwrap();
        let sink = thread::spawn(move || drain(back.accept().unwrap().0));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let copier = thread::spawn(move || {
            match copier {
                Copier::Sock => copy_sock(port_tx, back_addr),
                Copier::ReadWrite | Copier::Splice => {
                    let front = TcpListener::bind("127.0.0.1:0").unwrap();
                    port_tx.send(front.local_addr().unwrap().port()).unwrap();
                    let from = front.accept().unwrap().0;
                    let to = TcpStream::connect(back_addr).unwrap();
                    match copier {
                        Copier::Splice => copy_splice(&from, &to),
                        _ => copy_read_write(&from, &to),
                    }
                    to.shutdown(Shutdown::Write).unwrap();
                }
            }
            thread_cpu()
        });
        let port = port_rx.recv().unwrap();
        let start = Instant::now();
        let mut source = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let chunk = vec![0x5a; SOURCE_CHUNK];
        let mut sent = 0;
        while sent < total {
            let n = (total - sent).min(SOURCE_CHUNK as u64) as usize;
            source.write_all(&chunk[..n]).unwrap();
            sent += n as u64;
        }
        source.shutdown(Shutdown::Write).unwrap();
        let got = sink.join().unwrap();
        let took = start.elapsed();
        let cpu = copier.join().unwrap();
        assert_eq!(got, total, "the sink got another count");
        Run { took, cpu }
    }

    /// The CPU time (user + system) this thread has used.
    fn thread_cpu() -> Duration {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
        // SAFETY: `getrusage` fills `usage` for the calling thread.
        let usage = unsafe {
            assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()), 0);
            usage.assume_init()
        };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }

    /// Reads until EOF; the bytes read.
    fn drain(mut conn: TcpStream) -> u64 {
        let mut buf = vec![0; 256 * 1024];
        let mut got = 0;
        loop {
            match conn.read(&mut buf).unwrap() {
                0 => return got,
                n => got += n as u64,
            }
        }
    }

    /// `sock::io::copy` on a sock loop of this thread, from a sock listener whose port
    /// goes to `port`.
    fn copy_sock(port: std::sync::mpsc::Sender<u16>, back: std::net::SocketAddr) {
        sock::run(async move {
            let front = sock::tcp(sock::Family::INET)?;
            front.listen("127.0.0.1", 0)?;
            port.send(front.local_addr()?.port()).unwrap();
            let from = front.accept().await?;
            let to = sock::tcp(sock::Family::INET)?;
            to.connect_to(&back).await?;
            sock::io::copy(&from, &to).buffer_size(buffer()).await
        })
        .unwrap();
    }

    /// A blocking user-space copy with one buffer.
    fn copy_read_write(mut from: &TcpStream, mut to: &TcpStream) {
        let mut buf = vec![0; buffer()];
        loop {
            match from.read(&mut buf).unwrap() {
                0 => return,
                n => to.write_all(&buf[..n]).unwrap(),
            }
        }
    }

    /// A blocking `splice` copy through a pipe of `--buffer` bytes.
    fn copy_splice(from: &TcpStream, to: &TcpStream) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (r, w) = (fds[0], fds[1]);
        // SAFETY: `w` is the pipe just made; F_SETPIPE_SZ takes an int.
        unsafe { libc::fcntl(w, libc::F_SETPIPE_SZ, buffer() as libc::c_int) };
        loop {
            let n = splice(from.as_raw_fd(), w, buffer());
            if n == 0 {
                break;
            }
            let mut left = n;
            while left > 0 {
                left -= splice(r, to.as_raw_fd(), left);
            }
        }
        // SAFETY: both fds are the pipe's, owned here and not used after.
        unsafe {
            libc::close(r);
            libc::close(w);
        }
    }

    /// One blocking `splice` of up to `len` bytes; the bytes moved.
    fn splice(from: i32, to: i32, len: usize) -> usize {
        let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_MORE;
        // SAFETY: null offsets (both ends are a socket or a pipe); the fds are open.
        let n = unsafe {
            libc::splice(
                from,
                std::ptr::null_mut(),
                to,
                std::ptr::null_mut(),
                len,
                flags,
            )
        };
        assert!(n >= 0, "splice: {}", std::io::Error::last_os_error());
        n as usize
    }
}
