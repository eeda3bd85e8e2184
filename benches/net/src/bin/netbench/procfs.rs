//! What the driver reads from `/proc`: a process's resident memory and CPU time, and the
//! machine.

use std::fs;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `VmRSS` of process `pid`, KiB.
pub(crate) fn vm_rss_kb(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|err| format!("{path}: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in {path}"))
}

/// The CPU time (user + system, all threads) process `pid` has used, seconds.
pub(crate) fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).map_err(|err| format!("{path}: {err}"))?;
    // Fields after the command name (which may hold spaces) start at field 3, `state`;
    // utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    let (Some(utime), Some(stime)) = (tick(11), tick(12)) else {
        return Err(format!("cannot read CPU times in {path}"));
    };
    let hz = sock_netbench::clock_ticks_per_second().map_err(|err| format!("CLK_TCK: {err}"))?;
    Ok((utime + stime) as f64 / hz as f64)
}

/// CPU time the given CPUs have spent running any task, plus time stolen by the
/// hypervisor, seconds (`/proc/stat`: user + nice + system + steal; interrupt time is left
/// out, as it is out of the per-process times too).
pub(crate) fn cpus_busy_seconds(cpus: &[usize]) -> Result<f64, String> {
    let stat = fs::read_to_string("/proc/stat").map_err(|err| format!("/proc/stat: {err}"))?;
    let hz = sock_netbench::clock_ticks_per_second().map_err(|err| format!("CLK_TCK: {err}"))?;
    let mut ticks = 0u64;
    for cpu in cpus {
        let label = format!("cpu{cpu} ");
        let line = stat
            .lines()
            .find(|l| l.starts_with(&label))
            .ok_or_else(|| format!("no {label}in /proc/stat"))?;
        let fields: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        ticks += [0, 1, 2, 7]
            .iter()
            .filter_map(|&i| fields.get(i))
            .sum::<u64>();
    }
    Ok(ticks as f64 / hz as f64)
}

/// One line describing the machine: CPU model, CPU count, memory, kernel.
pub(crate) fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split(':').nth(1))
        })
        .map_or("unknown CPU", str::trim);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cpus} CPUs, {:.1} GiB RAM, Linux {}",
        mem_kb / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(all(test, target_os = "linux"))] // /proc exists on Linux only
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn cpu_zero_has_been_busy() {
        assert!(cpus_busy_seconds(&[0]).unwrap() > 0.0);
        assert!(cpus_busy_seconds(&[usize::MAX]).is_err());
    }

    #[test]
    fn own_rss_is_read() {
        assert!(vm_rss_kb(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn own_cpu_time_grows_with_work() {
        let before = cpu_seconds(std::process::id()).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(cpu_seconds(std::process::id()).unwrap() > before);
    }
}
