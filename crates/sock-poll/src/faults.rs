//! Test-only fault injection into [`Reactor::poll`](crate::Reactor::poll) (cargo feature
//! `faults`, off by default).
//!
//! Readiness is a hint, the syscall is the verdict: whatever readiness flags and
//! wake-ups an operation sees, it must either complete with the syscall's true result
//! or park. This module makes the reactor lie the ways the kernel legitimately may (and
//! the ways a bug in the flag bookkeeping would), at seeded random points, so a test
//! suite run under it proves the rule instead of trusting it:
//!
//! - **spurious readiness**: a direction is marked ready and its waiter woken with no
//!   event. The readiness is never marked *confirmed*: a kernel event only confirms
//!   what is true, and `readable()` trusts a confirmation without a syscall;
//! - **spurious hang-up or error**: as above, and the direction is marked *eager* (short
//!   transfers no longer prove a drain), as a hang-up, an error or urgent data would;
//! - **spurious wake-ups**: a waiter is woken and no flag changes;
//! - **deferred wake-ups**: the wake-up of a real event is delayed by one to
//!   [`Faults::max_defer_turns`] poll turns. Its flags are set at once, and it is never
//!   dropped: a lost edge would be a legitimate hang, not a fault.
//!
//! [`install`] sets the faults of the calling OS thread: every [`Reactor`](crate::Reactor)
//! created on it afterwards (until [`uninstall`]) injects them; reactors created earlier
//! or on other threads are untouched, so parallel tests do not disturb each other. Each
//! reactor draws from its own PRNG (SplitMix64), seeded from [`Faults::seed`] and the
//! number of reactors created since the install: the decisions are a function of the
//! seed and of the sequence of poll turns and events. (The kernel's timing is not
//! replayable, so a replayed seed sees the same faults at the same turns, not
//! necessarily the same interleaving.)
//!
//! While an injected or deferred wake-up is pending, `poll` does not block (the woken
//! tasks must run), so a host loop that waits on the reactor's fd itself sees no sign
//! of them: drive a faulty reactor through `poll` only.
//!
//! Cost: with the feature off none of this is compiled; on but not installed, `poll`
//! checks one `Option`.

use std::cell::Cell;
use std::rc::Rc;
use std::task::Waker;
use std::time::Duration;

use slab::Slab;

use crate::registration::Direction;
use crate::slot::Slot;

/// Which faults to inject and how often (rates in per mille). See the [module
/// docs](self).
///
/// # Examples
///
/// ```
/// use sock_poll::faults::{self, Faults};
///
/// faults::install(Faults {
///     spurious_wake: 500,
///     ..Faults::new(7)
/// });
/// let reactor = sock_poll::Reactor::new()?; // injects faults drawn from seed 7
/// # drop(reactor);
/// faults::uninstall();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Seeds each reactor's PRNG: the same seed gives the same decisions.
    pub seed: u64,
    /// Per poll turn: the chance that one random registration's direction is marked
    /// ready (not confirmed) and its waiter woken.
    pub spurious_ready: u16,
    /// Per poll turn: the chance that one random registration's direction gets a
    /// spurious hang-up or error (eager, ready, waiter woken).
    pub spurious_hangup: u16,
    /// Per poll turn: the chance that one random registration's waiter of one direction
    /// is woken, no flag changed.
    pub spurious_wake: u16,
    /// Per real wake-up: the chance that it is delivered one to `max_defer_turns` poll
    /// turns late.
    pub deferred_wake: u16,
    /// The longest delay of a deferred wake-up, in poll turns (at least 1).
    pub max_defer_turns: u8,
}

impl Faults {
    /// The default rates with `seed`: each poll turn, a spurious readiness one time in
    /// five, a spurious hang-up one in twenty, a spurious wake-up one in five; a real
    /// wake-up deferred one time in four, by up to three turns.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = sock_poll::faults::Faults::new(42);
    /// assert_eq!(f.seed, 42);
    /// assert_eq!(f.spurious_ready, 200);
    /// ```
    pub const fn new(seed: u64) -> Faults {
        Faults {
            seed,
            spurious_ready: 200,
            spurious_hangup: 50,
            spurious_wake: 200,
            deferred_wake: 250,
            max_defer_turns: 3,
        }
    }
}

impl Default for Faults {
    /// [`Faults::new(0)`](Faults::new).
    fn default() -> Faults {
        Faults::new(0)
    }
}

/// How many faults the reactors of this OS thread injected since the last [`install`].
///
/// # Examples
///
/// ```
/// sock_poll::faults::install(sock_poll::faults::Faults::new(1));
/// assert_eq!(sock_poll::faults::injected(), sock_poll::faults::Injected::default());
/// # sock_poll::faults::uninstall();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// Spurious readiness (ready, not confirmed, waiter woken).
    pub ready: u64,
    /// Spurious hang-ups or errors (eager, ready, waiter woken).
    pub hangup: u64,
    /// Spurious wake-ups (no flag changed).
    pub wake: u64,
    /// Real wake-ups delivered late.
    pub deferred: u64,
}

thread_local! {
    /// The faults for reactors created on this thread from now on.
    static INSTALLED: Cell<Option<Faults>> = const { Cell::new(None) };
    /// Reactors created with faults since the install (varies their seeds).
    static REACTORS: Cell<u64> = const { Cell::new(0) };
    /// What this thread's reactors injected since the install.
    static INJECTED: Cell<Injected> = const {
        Cell::new(Injected { ready: 0, hangup: 0, wake: 0, deferred: 0 })
    };
}

/// Makes every [`Reactor`](crate::Reactor) created on this OS thread from now on inject
/// `faults`; resets the [`injected`] counts.
///
/// # Examples
///
/// See [`Faults`].
pub fn install(faults: Faults) {
    INSTALLED.with(|c| c.set(Some(faults)));
    REACTORS.with(|c| c.set(0));
    INJECTED.with(|c| c.set(Injected::default()));
}

/// Stops injecting faults into reactors created on this OS thread from now on (those
/// created before keep theirs); returns what was installed.
///
/// # Examples
///
/// ```
/// use sock_poll::faults::{self, Faults};
///
/// faults::install(Faults::new(3));
/// assert_eq!(faults::uninstall(), Some(Faults::new(3)));
/// assert_eq!(faults::installed(), None);
/// ```
pub fn uninstall() -> Option<Faults> {
    INSTALLED.with(|c| c.take())
}

/// The faults installed on this OS thread, if any.
///
/// # Examples
///
/// ```
/// assert_eq!(sock_poll::faults::installed(), None);
/// ```
pub fn installed() -> Option<Faults> {
    INSTALLED.with(Cell::get)
}

/// What this OS thread's reactors injected since the last [`install`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock_poll::faults::{self, Faults};
///
/// faults::install(Faults { spurious_wake: 1000, ..Faults::new(5) });
/// let reactor = sock_poll::Reactor::new()?;
/// let mut s = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let _reg = reactor.register(&mut s, mio::Interest::READABLE)?;
/// reactor.poll(Some(Duration::ZERO))?;
/// assert_eq!(faults::injected().wake, 1);
/// # faults::uninstall();
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn injected() -> Injected {
    INJECTED.with(Cell::get)
}

/// Adds to this thread's [`injected`] counts.
fn count(f: impl FnOnce(&mut Injected)) {
    INJECTED.with(|c| {
        let mut n = c.get();
        f(&mut n);
        c.set(n);
    });
}

/// The faults of one reactor: its PRNG and the wake-ups it holds back.
pub(crate) struct Injector {
    /// What to inject.
    faults: Faults,
    /// This reactor's decisions.
    rng: Rng,
    /// Held-back wake-ups of real events and the poll turns each still waits.
    deferred: Vec<(u8, Waker)>,
}

/// A spurious fault on one direction of one registration.
#[derive(Clone, Copy)]
pub(crate) enum Fault {
    /// Ready (not confirmed), waiter woken.
    Ready,
    /// Eager, ready (not confirmed), waiter woken.
    HangUp,
    /// Waiter woken, flags untouched.
    Wake,
}

impl Injector {
    /// The injector of a reactor created now: `None` unless faults are installed.
    pub(crate) fn from_installed() -> Option<Injector> {
        let faults = installed()?;
        let n = REACTORS.with(|c| c.replace(c.get() + 1));
        Some(Injector {
            faults,
            rng: Rng(faults.seed ^ n.wrapping_mul(0xA076_1D64_78BD_642F)),
            deferred: Vec::new(),
        })
    }

    /// The start of a poll turn: due deferred wake-ups and fresh spurious faults go to
    /// `to_wake`. Returns the kernel wait to use: zero while anything is to be woken or
    /// held back (the woken tasks must run), else `timeout`.
    pub(crate) fn before_wait(
        &mut self,
        slots: &Slab<Rc<Slot>>,
        to_wake: &mut Vec<Waker>,
        timeout: Option<Duration>,
    ) -> Option<Duration> {
        self.release_due(to_wake);
        let rates = [
            (self.faults.spurious_hangup, Fault::HangUp),
            (self.faults.spurious_ready, Fault::Ready),
            (self.faults.spurious_wake, Fault::Wake),
        ];
        for (rate, fault) in rates {
            if self.chance(rate) {
                self.inject(slots, fault, to_wake);
            }
        }
        match to_wake.is_empty() && self.deferred.is_empty() {
            true => timeout,
            false => Some(Duration::ZERO),
        }
    }

    /// After dispatch: holds back some of the real wake-ups collected in
    /// `to_wake[from..]`.
    pub(crate) fn defer(&mut self, to_wake: &mut Vec<Waker>, from: usize) {
        let mut i = from;
        while i < to_wake.len() {
            if self.chance(self.faults.deferred_wake) {
                let turns = 1 + self.below(u64::from(self.faults.max_defer_turns.max(1)));
                let turns = u8::try_from(turns).expect("at most max_defer_turns, a u8");
                self.deferred.push((turns, to_wake.swap_remove(i)));
                count(|n| n.deferred += 1);
            } else {
                i += 1;
            }
        }
    }

    /// Counts down the held-back wake-ups; those due go to `to_wake`.
    fn release_due(&mut self, to_wake: &mut Vec<Waker>) {
        let mut i = 0;
        while i < self.deferred.len() {
            self.deferred[i].0 -= 1;
            if self.deferred[i].0 == 0 {
                to_wake.push(self.deferred.swap_remove(i).1);
            } else {
                i += 1;
            }
        }
    }

    /// Applies `fault` to a random direction of a random live registration.
    fn inject(&mut self, slots: &Slab<Rc<Slot>>, fault: Fault, to_wake: &mut Vec<Waker>) {
        let live = u64::try_from(slots.len()).expect("a slab length fits in u64");
        if live == 0 {
            return;
        }
        let nth = usize::try_from(self.below(live)).expect("below a usize length");
        let dir = match self.below(2) {
            0 => Direction::Read,
            _ => Direction::Write,
        };
        let (_, slot) = slots.iter().nth(nth).expect("nth < len");
        slot.inject(dir, fault, to_wake);
        count(|n| match fault {
            Fault::Ready => n.ready += 1,
            Fault::HangUp => n.hangup += 1,
            Fault::Wake => n.wake += 1,
        });
    }

    /// True with probability `per_mille`/1000.
    fn chance(&mut self, per_mille: u16) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next() % n
    }
}

/// SplitMix64: a small, fast, well-mixed PRNG; all this layer needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
