//! [`Slot`]: the readiness and waiters of one registration, shared by the
//! [`Registration`](crate::Registration) and the reactor's slab.
//!
//! Each registration owns its slot through an `Rc`; the reactor's slab holds a clone,
//! found by the token of an event. So the operations of a socket reach their flags
//! directly (no borrow of the whole slab, no slab lookup), and only event dispatch goes
//! through the slab, where the token's generation still drops a stale event. Everything
//! is a `Cell`: the loop is single-threaded, and no flag is ever borrowed. The waiter is
//! the one non-`Copy` field; [`WaiterCell`] gives it by value (take, replace) and lends
//! it only to `Waker::will_wake`, which runs no foreign code.

use std::cell::{Cell, UnsafeCell};
use std::mem;
use std::task::{Context, Waker};

use mio::event::Event;

use crate::registration::{Direction, Wait};

/// Readiness and waiter of one direction.
///
/// Readiness is a hint, never a verdict: `ready` only says "an event came since the
/// last would-block, so try the syscall"; the syscall decides, and a would-block result
/// always clears `ready` and parks. No flag is sticky in a way that could make an
/// operation retry a would-block syscall without parking.
///
/// `confirmed` says more: an event reported this direction ready and no operation on it
/// has completed since, so a readiness check may trust it without a syscall. `eager` is
/// set by a hang-up, an error or urgent data: after one of those a short transfer no
/// longer proves the queue drained (a read stops before a FIN or at the urgent mark), so
/// [`Registration::complete`](crate::Registration::complete) keeps the direction ready.
pub(crate) struct Half {
    /// Worth trying the syscall: an event came (or nothing is known yet, after
    /// registration) since the last would-block.
    pub(crate) ready: Cell<bool>,
    /// An event came and no operation completed since.
    pub(crate) confirmed: Cell<bool>,
    /// A hang-up, error or urgent data was seen: short transfers do not prove a drain.
    pub(crate) eager: Cell<bool>,
    /// The task waiting for the next event.
    pub(crate) waiter: WaiterCell,
    /// Counts the waiters stored: a [`Wait`] holding the current count owns `waiter`.
    ticket: Cell<u32>,
}

impl Half {
    /// A direction nothing is known of yet: the first operation tries its syscall.
    fn fresh() -> Half {
        Half {
            ready: Cell::new(true),
            confirmed: Cell::new(false),
            eager: Cell::new(false),
            waiter: WaiterCell::default(),
            ticket: Cell::new(0),
        }
    }

    /// Forgets the readiness and hang-ups (as [`fresh`](Half::fresh)), keeping the
    /// waiter and its ticket.
    pub(crate) fn reset(&self) {
        self.ready.set(true);
        self.confirmed.set(false);
        self.eager.set(false);
    }

    /// Clears the readiness: the operation saw would-block.
    #[inline]
    pub(crate) fn clear(&self) {
        self.ready.set(false);
        self.confirmed.set(false);
    }

    /// Applies an event for this direction; gives back the waiter to wake.
    #[inline]
    fn wake(&self, eager: bool) -> Option<Waker> {
        self.ready.set(true);
        self.confirmed.set(true);
        if eager {
            self.eager.set(true);
        }
        self.waiter.take()
    }

    /// Marks the direction worth a try, as an event would, without confirming it.
    #[cfg(feature = "faults")]
    fn hint(&self, eager: bool, to_wake: &mut Vec<Waker>) {
        self.ready.set(true);
        if eager {
            self.eager.set(true);
        }
        to_wake.extend(self.waiter.take());
    }

    /// Whether no task waits on this direction: the next park arms a waiter.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        self.waiter.is_empty()
    }

    /// Stores the waker of `cx` as the waiter of the operation `wait`, which takes a
    /// new ticket. Only when no waiter is stored ([`is_idle`](Half::is_idle)).
    #[inline]
    pub(crate) fn arm(&self, cx: &Context<'_>, wait: &mut Wait) {
        let ticket = self.ticket.get().wrapping_add(1);
        self.ticket.set(ticket);
        wait.0 = Some(ticket);
        let waker = cx.waker().clone();
        drop(self.waiter.replace(Some(waker)));
    }

    /// Parks the operation `wait` on a direction whose waiter is stored already. The
    /// operation that owns it may replace it (it was moved to another task), or claim
    /// it when it stored it without a `Wait` (the same task polled again); an operation
    /// that finds another's waiter stored panics: two tasks wait at once. Returns
    /// whether it armed a new waiter after all (none was stored). Out of line: the
    /// usual park arms an idle direction.
    #[inline(never)]
    pub(crate) fn repark(&self, dir: Direction, cx: &Context<'_>, wait: &mut Wait) -> bool {
        let ticket = self.ticket.get();
        match self.waiter.will_wake(cx.waker()) {
            Some(same) if wait.0 == Some(ticket) => {
                if !same {
                    drop(self.waiter.replace(Some(cx.waker().clone())));
                }
            }
            Some(true) if wait.0.is_none() => wait.0 = Some(ticket),
            Some(_) => two_waiters(dir),
            None => {
                self.arm(cx, wait);
                return true;
            }
        }
        false
    }

    /// Whether the waiter `wait` stored is still stored (no event took it since).
    #[inline]
    pub(crate) fn holds(&self, wait: Wait) -> bool {
        wait.0 == Some(self.ticket.get()) && !self.waiter.is_empty()
    }

    /// Forgets the waiter if it is still the one `wait` stored, and clears `wait`.
    #[inline]
    pub(crate) fn unpark(&self, wait: &mut Wait) -> Option<Waker> {
        let owned = wait.0.take() == Some(self.ticket.get());
        if owned { self.waiter.take() } else { None }
    }
}

/// The waiter of one direction: an `Option<Waker>` handed out by value, so no reference
/// into it outlives a method of this type and no foreign code (a waker's clone, wake or
/// drop) runs while one lives.
#[derive(Default)]
pub(crate) struct WaiterCell(UnsafeCell<Option<Waker>>);

impl WaiterCell {
    /// Takes the waiter out, leaving none.
    #[inline]
    pub(crate) fn take(&self) -> Option<Waker> {
        self.replace(None)
    }

    /// Stores `waiter`; gives back the one it replaces (for the caller to drop).
    #[inline]
    pub(crate) fn replace(&self, waiter: Option<Waker>) -> Option<Waker> {
        // SAFETY: the cell is reached only through `&Slot` on the loop's own thread
        // (`Rc<Slot>` is neither `Send` nor `Sync`), and no reference into it lives
        // beyond a method of this type: this `&mut` is the only one, for a move that
        // runs no foreign code (the old waiter is dropped by the caller, after).
        unsafe { mem::replace(&mut *self.0.get(), waiter) }
    }

    /// Whether no waiter is stored.
    #[inline]
    fn is_empty(&self) -> bool {
        // SAFETY: as in `replace`, no other reference into the cell lives now, and this
        // shared one ends with the expression, which runs no foreign code.
        unsafe { (*self.0.get()).is_none() }
    }

    /// `None` without a waiter; otherwise whether it wakes the same task as `waker`.
    #[inline]
    fn will_wake(&self, waker: &Waker) -> Option<bool> {
        // SAFETY: as in `replace`, no other reference into the cell lives now, and this
        // shared one ends with the expression: `Waker::will_wake` compares the data
        // pointers and vtables without calling into them.
        let waiter = unsafe { &*self.0.get() };
        waiter.as_ref().map(|w| w.will_wake(waker))
    }

    /// A clone of the waiter, left in place. The clone (foreign code) runs on a waker
    /// taken out of the cell, which is put back after.
    #[cfg(feature = "faults")]
    fn cloned(&self) -> Option<Waker> {
        let waiter = self.take();
        let copy = waiter.clone();
        drop(self.replace(waiter));
        copy
    }
}

/// The state of one registration: its generation (for stale events) and its two
/// directions.
pub(crate) struct Slot {
    /// The generation of the token this slot is registered with (it changes when a
    /// freed slot is reused for a new registration).
    pub(crate) generation: Cell<u32>,
    /// Reading, receiving, accepting.
    pub(crate) read: Half,
    /// Writing, sending, connecting.
    pub(crate) write: Half,
    /// [`Registration::close`](crate::Registration::close) was called (or it dropped).
    pub(crate) closed: Cell<bool>,
}

impl Slot {
    pub(crate) fn new(generation: u32) -> Slot {
        Slot {
            generation: Cell::new(generation),
            read: Half::fresh(),
            write: Half::fresh(),
            closed: Cell::new(false),
        }
    }

    /// Readies a slot freed by a dropped registration for a new one in `generation`:
    /// fresh directions, not closed. Its waiters were taken when it closed; the tickets
    /// keep counting, so no `Wait` of the old registration can match the new one's.
    pub(crate) fn renew(&self, generation: u32) {
        self.generation.set(generation);
        self.read.reset();
        self.write.reset();
        self.closed.set(false);
    }

    /// The half of `dir`.
    #[inline]
    pub(crate) fn half(&self, dir: Direction) -> &Half {
        match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// Applies an event: readable/read-closed/urgent/error wake the reader, writable/
    /// write-closed/error wake the writer; gives back the waiters to wake (reader,
    /// writer). Nothing here decides an operation's result.
    #[inline]
    pub(crate) fn on_event(&self, event: &Event) -> [Option<Waker>; 2] {
        let error = event.is_error();
        let read_eager = error || event.is_read_closed() || event.is_priority();
        let mut woken = [None, None];
        if read_eager || event.is_readable() {
            woken[0] = self.read.wake(read_eager);
        }
        let write_closed = error || event.is_write_closed();
        if write_closed || event.is_writable() {
            woken[1] = self.write.wake(write_closed);
        }
        woken
    }

    /// Applies a spurious fault to `dir` (see `crate::faults`): never `confirmed`, since
    /// only a kernel event may confirm readiness.
    #[cfg(feature = "faults")]
    pub(crate) fn inject(
        &self,
        dir: Direction,
        fault: crate::faults::Fault,
        to_wake: &mut Vec<Waker>,
    ) {
        use crate::faults::Fault;
        let half = self.half(dir);
        match fault {
            Fault::Ready => half.hint(false, to_wake),
            Fault::HangUp => half.hint(true, to_wake),
            Fault::Wake => to_wake.extend(half.waiter.cloned()),
        }
    }

    /// Marks the slot closed; gives back the waiters to wake (reader, writer).
    pub(crate) fn close(&self) -> [Option<Waker>; 2] {
        self.closed.set(true);
        [self.read.waiter.take(), self.write.waiter.take()]
    }
}

/// Wakes the waiters a slot gave back (an event's, a close's), reader first (one test
/// each: a flattening iterator costs more than the usual zero or one wake).
#[inline]
pub(crate) fn wake_all([read, write]: [Option<Waker>; 2]) {
    if let Some(waker) = read {
        waker.wake();
    }
    if let Some(waker) = write {
        waker.wake();
    }
}

/// The panic of a second task waiting on one direction: out of line, so the park of
/// every operation carries no formatting code.
#[cold]
#[inline(never)]
fn two_waiters(dir: Direction) -> ! {
    panic!(
        "sock: two tasks wait to {} the same socket at once; \
         let one task do the {}s of a socket (reads and writes may be in two tasks)",
        dir.verb(),
        dir.verb()
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Parks as `Registration::poll_wait` does; whether a waiter was armed.
    fn park(half: &Half, dir: Direction, cx: &Context<'_>, wait: &mut Wait) -> bool {
        if half.is_idle() {
            half.arm(cx, wait);
            return true;
        }
        half.repark(dir, cx, wait)
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn park_arms_once_and_the_owner_moves_its_waiter() {
        let slot = Slot::new(0);
        let (first, a) = counting();
        let (second, b) = counting();
        let mut wait = Wait::default();
        assert!(park(
            &slot.read,
            Direction::Read,
            &Context::from_waker(&a),
            &mut wait
        ));
        assert!(!park(
            &slot.read,
            Direction::Read,
            &Context::from_waker(&a),
            &mut wait
        ));
        assert!(!park(
            &slot.read,
            Direction::Read,
            &Context::from_waker(&b),
            &mut wait
        ));
        wake_all(slot.close());
        assert_eq!(first.0.load(Ordering::Relaxed), 0);
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn unpark_forgets_only_the_waiter_its_wait_stored() {
        let half = Half::fresh();
        let (_count, a) = counting();
        let mut old = Wait::default();
        assert!(park(
            &half,
            Direction::Read,
            &Context::from_waker(&a),
            &mut old
        ));
        drop(half.wake(false)); // an event took the waiter; the operation re-parks
        let mut new = Wait::default();
        assert!(park(
            &half,
            Direction::Read,
            &Context::from_waker(&a),
            &mut new
        ));
        assert!(half.unpark(&mut old).is_none());
        assert!(!old.is_parked());
        assert!(half.unpark(&mut new).is_some());
        assert!(half.waiter.take().is_none());
    }

    #[test]
    fn reset_keeps_the_waiter_and_its_owner() {
        let half = Half::fresh();
        let (_count, a) = counting();
        let mut wait = Wait::default();
        half.clear();
        assert!(park(
            &half,
            Direction::Write,
            &Context::from_waker(&a),
            &mut wait
        ));
        half.reset();
        assert!(half.ready.get() && !half.confirmed.get());
        assert!(half.unpark(&mut wait).is_some());
    }

    #[test]
    #[should_panic(expected = "two tasks wait to read")]
    fn a_second_waiter_panics() {
        let half = Half::fresh();
        let (_a, a) = counting();
        let (_b, b) = counting();
        park(
            &half,
            Direction::Read,
            &Context::from_waker(&a),
            &mut Wait::default(),
        );
        park(
            &half,
            Direction::Read,
            &Context::from_waker(&b),
            &mut Wait::default(),
        );
    }
}
