//! Happy Eyeballs (RFC 8305): a connect to several addresses races staggered attempts,
//! in both threading modes.
//!
//! Trying the addresses of a name one after another lets the first one that drops its
//! SYNs (a blackholed IPv6 route is the classic) use up the caller's whole deadline.
//! Instead, [`Plan`] orders the addresses (IPv6 and IPv4 interleaved, IPv6 first, each
//! family in the resolver's RFC 6724 order) and says when the next attempt starts: the
//! first at once, each next one [`delay()`] after the previous started, or at once when
//! an attempt fails. [`Race`] drives a plan over the attempts of one mode
//! ([`Attempts`]: the loop mode's in `tcp.rs`, the shared mode's in `multi/stcp.rs`):
//! the first attempt to connect wins, the others are dropped — which closes their
//! sockets — and the whole race is one operation under the caller's deadline.
//!
//! A socket made with a family connects only to addresses of that family (the others
//! are skipped, as the seed's socket has one family too); [`Family::UNSPEC`] races both.
//! The caller's own socket makes the first attempt it can; every other attempt runs on
//! a fresh socket that inherits the caller's options and bound IP ([`inherit`]), and a
//! fresh socket that wins replaces the caller's.
//!
//! A single address never comes here: it is connected directly, with no plan, timer or
//! allocation. Not done: RFC 8305's resolution delay (`getaddrinfo` answers both
//! families at once), a delay learnt from round-trip times, remembering which family
//! worked last time.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use sock_addr::{Family, SockAddr};
use socket2::SockRef;

use crate::error::{Error, ErrorKind, Result};
use crate::opt;
use crate::scope::{self, Mode};
use crate::timer::ModeTimer;

/// RFC 8305's recommended Connection Attempt Delay.
pub(crate) const DEFAULT_DELAY: Duration = Duration::from_millis(250);

/// The shortest delay [`set_delay`] accepts (RFC 8305: it MUST NOT be below 10 ms).
const MIN_DELAY: Duration = Duration::from_millis(10);

/// The longest delay [`set_delay`] accepts (RFC 8305's recommended maximum).
const MAX_DELAY: Duration = Duration::from_secs(2);

/// The delay between two attempts' starts, in microseconds; process-wide.
static DELAY_MICROS: AtomicU64 = AtomicU64::new(DEFAULT_DELAY.as_micros() as u64);

/// The current delay between two attempts' starts.
pub(crate) fn delay() -> Duration {
    Duration::from_micros(DELAY_MICROS.load(Ordering::Relaxed))
}

/// Sets the delay between two attempts' starts, clamped to 10 ms ..= 2 s.
pub(crate) fn set_delay(d: Duration) {
    let d = d.clamp(MIN_DELAY, MAX_DELAY);
    DELAY_MICROS.store(d.as_micros() as u64, Ordering::Relaxed);
}

/// Fails unless a socket of `family` (`UNSPEC`: any) can connect to `addr`.
pub(crate) fn check_family(addr: &SockAddr, family: Family) -> Result<()> {
    if family == Family::UNSPEC || addr.family() == family {
        return Ok(());
    }
    Err(wrong_family(family).context(format!("connect {addr}")))
}

/// The error of a connect given no address of the socket's family.
fn wrong_family(family: Family) -> Error {
    Error::new(
        ErrorKind::NoAddress,
        format!(
            "no address of the socket's family ({family:?}): make the socket with \
             that address's family, or with Family::UNSPEC to connect to either"
        ),
    )
}

/// When each address is tried: the order, and when the next attempt starts. OS-free
/// and clock-free: the caller passes the time.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The addresses not tried yet, in the order to try them.
    waiting: std::vec::IntoIter<SockAddr>,
    /// The delay between two attempts' starts.
    delay: Duration,
    /// When the next attempt starts although none failed; `None`: at once.
    next_at: Option<Instant>,
    /// Attempts started and not failed.
    running: usize,
    /// The error of the attempt that failed last.
    last_error: Option<Error>,
}

impl Plan {
    /// A plan for the addresses of `addrs` a socket of `family` can connect to
    /// (`UNSPEC`: all), interleaved IPv6 first.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for no address at all; `NoAddress` when none has the family.
    pub(crate) fn new(addrs: &[SockAddr], family: Family, delay: Duration) -> Result<Plan> {
        if addrs.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "no address to connect to",
            ));
        }
        let usable: Vec<SockAddr> = addrs
            .iter()
            .filter(|a| family == Family::UNSPEC || a.family() == family)
            .cloned()
            .collect();
        if usable.is_empty() {
            return Err(wrong_family(family).context("connect"));
        }
        Ok(Plan {
            waiting: interleave(usable).into_iter(),
            delay,
            next_at: None,
            running: 0,
            last_error: None,
        })
    }

    /// The address to try now, if an attempt is due at `now`; it counts as running.
    pub(crate) fn start(&mut self, now: Instant) -> Option<SockAddr> {
        if self.next_at.is_some_and(|t| now < t) {
            return None;
        }
        let addr = self.waiting.next()?;
        self.running += 1;
        self.next_at = Some(now + self.delay);
        Some(addr)
    }

    /// Records a failed attempt: the next one is due at once.
    pub(crate) fn failed(&mut self, e: Error) {
        self.running -= 1;
        self.next_at = None;
        self.last_error = Some(e);
    }

    /// Makes the next attempt due at once (its timer fired).
    pub(crate) fn make_due(&mut self) {
        self.next_at = None;
    }

    /// When the next attempt starts: `None` when none is left or it is due at once.
    pub(crate) fn next_at(&self) -> Option<Instant> {
        self.next_at.filter(|_| self.waiting.len() > 0)
    }

    /// Whether an attempt is due now (a failure made the next one due at once).
    pub(crate) fn is_due(&self) -> bool {
        self.next_at.is_none() && self.waiting.len() > 0
    }

    /// Whether every address was tried and failed.
    pub(crate) fn is_lost(&self) -> bool {
        self.running == 0 && self.waiting.len() == 0
    }

    /// The error of the attempt that failed last.
    fn take_error(&mut self) -> Error {
        self.last_error
            .take()
            .unwrap_or_else(|| Error::new(ErrorKind::InvalidInput, "no address to connect to"))
    }
}

/// Alternates IPv6 and other addresses, IPv6 first, keeping each family's order.
fn interleave(addrs: Vec<SockAddr>) -> Vec<SockAddr> {
    let (v6, other): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.family() == Family::INET6);
    let mut out = Vec::with_capacity(v6.len() + other.len());
    let (mut v6, mut other) = (v6.into_iter(), other.into_iter());
    loop {
        match (v6.next(), other.next()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// How one threading mode makes connect attempts.
pub(crate) trait Attempts {
    /// What a won attempt leaves: the fresh socket that connected, if not the caller's.
    type Won;
    /// One attempt: opens its socket if it needs one, connects, resolves to the winner.
    type Attempt: Future<Output = Result<Self::Won>> + Unpin;
    /// The mode's timer (and clock).
    type Timer: ModeTimer;

    /// Starts an attempt to connect to `addr` (errors come through the future).
    fn start(&mut self, addr: SockAddr) -> Self::Attempt;
}

/// The race of a [`Plan`]'s attempts: see the module docs.
pub(crate) struct Race<A: Attempts> {
    /// Which address is tried when.
    plan: Plan,
    /// How attempts are made.
    attempts: A,
    /// The attempts started and not failed.
    running: Vec<A::Attempt>,
    /// The timer of the next attempt's start, and when it fires.
    timer: Option<(Instant, A::Timer)>,
}

impl<A: Attempts> Race<A> {
    pub(crate) fn new(plan: Plan, attempts: A) -> Race<A> {
        Race {
            plan,
            attempts,
            running: Vec::new(),
            timer: None,
        }
    }

    /// Starts every attempt the plan says is due.
    fn start_due(&mut self) {
        let now = A::Timer::now();
        while let Some(addr) = self.plan.start(now) {
            self.running.push(self.attempts.start(addr));
        }
    }

    /// Polls the running attempts: `Some` when one won or the socket was closed (the
    /// others are dropped first: that closes their sockets); failures go to the plan.
    fn poll_running(&mut self, cx: &mut Context<'_>) -> Option<Result<A::Won>> {
        let mut i = 0;
        while i < self.running.len() {
            let r = match Pin::new(&mut self.running[i]).poll(cx) {
                Poll::Pending => {
                    i += 1;
                    continue;
                }
                Poll::Ready(r) => r,
            };
            drop(self.running.remove(i));
            match r {
                Err(e) if e.kind() != ErrorKind::Closed => self.plan.failed(e),
                r => {
                    self.running.clear();
                    return Some(r);
                }
            }
        }
        None
    }

    /// Polls the timer of the next start, making the next attempt due when it fired;
    /// false while it waits (or nothing is left to start).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.plan.next_at() else {
            return false;
        };
        if self.timer.as_ref().is_none_or(|(t, _)| *t != at) {
            self.timer = Some((at, A::Timer::until(at)));
        }
        let (_, timer) = self.timer.as_mut().expect("the timer was just armed");
        if Pin::new(timer).poll(cx).is_pending() {
            return false;
        }
        self.plan.make_due();
        true
    }
}

impl<A: Attempts> Unpin for Race<A> {}

impl<A: Attempts> Future for Race<A> {
    type Output = Result<A::Won>;

    /// Starts what is due, polls the attempts, then waits on them and the next start.
    /// Past a deadline (see `scope::Mode`) no attempt starts: the running ones get
    /// their last try, and the race ends unless one connected.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<A::Won>> {
        let this = &mut *self;
        let mode = scope::mode();
        loop {
            if mode == Mode::Normal {
                this.start_due();
            }
            if let Some(r) = this.poll_running(cx) {
                return Poll::Ready(r);
            }
            if this.plan.is_lost() {
                return Poll::Ready(Err(this.plan.take_error()));
            }
            match mode {
                Mode::Normal if this.plan.is_due() || this.poll_timer(cx) => {}
                Mode::Normal | Mode::LastTry => return Poll::Pending,
                Mode::Expired => return Poll::Ready(Err(scope::expired())),
            }
        }
    }
}

/// Prepares the fresh socket `to` of an extra attempt like the caller's `from`: every
/// option whose value differs from a fresh socket's is copied (best effort: one that
/// cannot be set is left), and a local IP `from` is bound to is bound too, with a port
/// of its own (the caller's port is in use by its own attempt).
///
/// # Errors
///
/// The OS error of that `bind`.
pub(crate) fn inherit(from: &SockRef<'_>, to: &SockRef<'_>, family: Family) -> Result<()> {
    opt::copy(from, to);
    let Some(local) = from.local_addr().ok().and_then(|a| a.as_socket()) else {
        return Ok(());
    };
    let same_family = SockAddr::from(local).family() == family;
    if same_family && !local.ip().is_unspecified() {
        to.bind(&SocketAddr::new(local.ip(), 0).into())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SockAddr {
        SockAddr::from(s.parse::<SocketAddr>().expect("a test address"))
    }

    fn addrs(list: &[&str]) -> Vec<SockAddr> {
        list.iter().map(|s| addr(s)).collect()
    }

    fn order(plan: Plan) -> Vec<String> {
        plan.waiting.map(|a| a.to_string()).collect()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn families_interleave_ipv6_first_each_in_its_order() {
        let list = addrs(&[
            "1.0.0.1:80",
            "1.0.0.2:80",
            "[::1]:80",
            "1.0.0.3:80",
            "[::2]:80",
        ]);
        let plan = Plan::new(&list, Family::UNSPEC, DEFAULT_DELAY).unwrap();
        let want = [
            "[::1]:80",
            "1.0.0.1:80",
            "[::2]:80",
            "1.0.0.2:80",
            "1.0.0.3:80",
        ];
        assert_eq!(order(plan), want);
    }

    #[test]
    fn a_socket_of_one_family_skips_the_other() {
        let list = addrs(&["[::1]:80", "1.0.0.1:80", "[::2]:80"]);
        let plan = Plan::new(&list, Family::INET6, DEFAULT_DELAY).unwrap();
        assert_eq!(order(plan), ["[::1]:80", "[::2]:80"]);
        let e = Plan::new(&addrs(&["[::1]:80"]), Family::INET, DEFAULT_DELAY).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoAddress, "{e}");
        let e = Plan::new(&[], Family::INET, DEFAULT_DELAY).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    }

    #[test]
    fn attempts_start_one_delay_apart() {
        let list = addrs(&["[::1]:80", "1.0.0.1:80", "[::2]:80"]);
        let mut plan = Plan::new(&list, Family::UNSPEC, 250 * MS).unwrap();
        let t0 = Instant::now();
        assert_eq!(plan.start(t0).unwrap().to_string(), "[::1]:80");
        assert!(plan.start(t0).is_none(), "the second waits for the delay");
        assert!(plan.start(t0 + 249 * MS).is_none());
        assert_eq!(plan.next_at(), Some(t0 + 250 * MS));
        assert_eq!(plan.start(t0 + 250 * MS).unwrap().to_string(), "1.0.0.1:80");
        assert_eq!(
            plan.next_at(),
            Some(t0 + 500 * MS),
            "counted from the last start"
        );
        assert!(plan.start(t0 + 499 * MS).is_none());
        assert_eq!(plan.start(t0 + 500 * MS).unwrap().to_string(), "[::2]:80");
        assert_eq!(
            (plan.next_at(), plan.is_due()),
            (None, false),
            "nothing left"
        );
        assert!(!plan.is_lost(), "three attempts still run");
    }

    #[test]
    fn a_failure_starts_the_next_attempt_at_once() {
        let list = addrs(&["[::1]:80", "1.0.0.1:80", "1.0.0.2:80"]);
        let mut plan = Plan::new(&list, Family::UNSPEC, 250 * MS).unwrap();
        let t0 = Instant::now();
        plan.start(t0).unwrap();
        plan.failed(Error::from(ErrorKind::NetworkUnreachable));
        assert!(plan.is_due());
        assert_eq!(plan.start(t0 + MS).unwrap().to_string(), "1.0.0.1:80");
        assert!(
            plan.start(t0 + 2 * MS).is_none(),
            "the next one waits again"
        );
        assert_eq!(plan.next_at(), Some(t0 + 251 * MS));
        plan.make_due(); // its timer fired
        assert_eq!(plan.start(t0 + 251 * MS).unwrap().to_string(), "1.0.0.2:80");
    }

    #[test]
    fn the_race_is_lost_with_the_last_error_once_all_failed() {
        let list = addrs(&["1.0.0.1:80", "1.0.0.2:80"]);
        let mut plan = Plan::new(&list, Family::INET, 250 * MS).unwrap();
        let t0 = Instant::now();
        plan.start(t0).unwrap();
        plan.failed(Error::from(ErrorKind::HostUnreachable).context("connect 1.0.0.1:80"));
        assert!(!plan.is_lost(), "an address is left");
        plan.start(t0).unwrap();
        plan.failed(Error::from(ErrorKind::ConnectionRefused).context("connect 1.0.0.2:80"));
        assert!(plan.is_lost());
        let e = plan.take_error();
        assert_eq!(e.to_string(), "connect 1.0.0.2:80: connection_refused");
    }

    #[test]
    fn the_delay_is_clamped_to_the_rfc_bounds() {
        set_delay(Duration::ZERO);
        assert_eq!(delay(), MIN_DELAY);
        set_delay(Duration::from_secs(60));
        assert_eq!(delay(), MAX_DELAY);
        set_delay(DEFAULT_DELAY);
        assert_eq!(delay(), DEFAULT_DELAY);
    }
}
