//! The timer queue: a timing [`Wheel`] of 16-byte `(deadline, key)` entries over two
//! generational slabs of timer slots, one for sleeping futures' wakers and one for
//! callbacks, with lazy cancellation.
//!
//! Times are nanoseconds since the loop's origin. A timer is due once the clock reaches its
//! deadline rounded **up** to the poll resolution (1 ms by default), and the loop parks
//! until that rounded instant: nothing fires early, and timers a few microseconds apart
//! fire in one wake-up. The wheel is advanced one slot at a time, and only while nothing
//! expired is waiting, so the small heap the expired entries move into holds about one
//! tick's worth of timers; it fires them in deadline order, ties in the order they were
//! armed (the wheel hands out a tick's entries in insertion order; a periodic timer counts
//! as armed anew after each run). Cancelling frees the slot in O(1) and leaves the entry
//! behind; stale entries (their slot's generation moved on) are skipped when they surface,
//! and everything is compacted when they outnumber the live ones.
//!
//! The loop asks for due timers every turn, and almost always nothing is due. So the
//! queue keeps the time before which nothing can be (`quiet`: the earliest rounded
//! deadline armed since it last looked, or the wheel's next slot), and answers before
//! that with one comparison of instants: no conversion to nanoseconds, no look at the
//! wheel. The wheel then moves in one go when the time comes, as after a long park.
//!
//! The split slabs keep the common timer small: a sleep's slot is its waker plus two
//! `u32`s (24 bytes, where one shared slot was 40), and its [`TimerKey`] is 8 bytes (a
//! [`Sleep`] is 40, was 48).
//!
//! [`Sleep`]: crate::Sleep

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::time::slots::{SlotKey, Slots};
use crate::time::wheel::{Ticked, Wheel};

/// The bit of a [`TimerKey`]'s slot index that names the callback slab.
const CALLBACK: u32 = 1 << 31;

/// What a callback timer runs.
pub(crate) enum Callback {
    /// Run once.
    Once(Box<dyn FnOnce()>),
    /// Run periodically.
    Every(Box<Every>),
}

/// What a cancelled timer held, handed back to be dropped outside any borrow.
#[allow(dead_code)] // never read: only held until the borrow of the queue ends
pub(crate) enum Disarmed {
    /// A sleeping future's waker.
    Wake(Waker),
    /// A callback.
    Callback(Callback),
}

/// A periodic callback.
pub(crate) struct Every {
    /// The callback; `None` while it runs. Returns whether to go on.
    pub(crate) f: Option<Box<dyn FnMut() -> bool>>,
    /// The period in nanoseconds (a whole number of ticks, at least 1).
    period: u64,
    /// The deadline it was due at last.
    scheduled: u64,
    /// What to do after a missed tick.
    policy: MissedTick,
}

/// What a periodic timer does when the loop was too busy to run it on time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::{sched::Executor, time::MissedTick};
///
/// let ex = Executor::new();
/// let timer = ex.run_every_with(Duration::from_millis(10), MissedTick::Skip, || false);
/// timer.cancel();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTick {
    /// Run once late, then one full period after that late run (the default).
    #[default]
    Delay,
    /// Run once late, then go back to the original schedule, skipping the missed ticks.
    Skip,
}

/// Names a timer: a slot in the wake or the callback slab, and the slot's generation (which
/// tells the timer from a later one in the same slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    /// The slot index; the [`CALLBACK`] bit set for the callback slab.
    slot: u32,
    /// The slot's generation when the timer was armed.
    generation: u32,
}

/// A queued timer: when it is due and which timer it is (16 bytes).
struct Entry {
    /// When it is due, in nanoseconds since the origin (before rounding).
    deadline: u64,
    /// The timer.
    key: TimerKey,
}

/// An expired entry; orders by deadline, then by the order entries expired in (for equal
/// deadlines, the order the timers were armed).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Expired {
    /// When it was due, in nanoseconds since the origin (before rounding).
    deadline: u64,
    /// How many entries expired before it.
    seq: u64,
    /// The timer.
    key: TimerKey,
}

/// A timer that is due, taken out of the queue.
pub(crate) enum Due {
    /// Wake this waker.
    Wake(Option<Waker>),
    /// Run this callback.
    Once(Box<dyn FnOnce()>),
    /// Run the periodic callback, then hand it back with [`Timers::rearm`].
    Every(TimerKey, Box<dyn FnMut() -> bool>),
}

/// The timer queue of one loop.
pub(crate) struct Timers {
    /// Tick 0.
    origin: Instant,
    /// Entries not yet expired; some may be stale.
    wheel: Wheel<Entry>,
    /// Expired entries, earliest first; some may be stale. Every tick they were due on
    /// has been passed by the wheel, so they all come before the wheel's entries.
    due: BinaryHeap<Reverse<Expired>>,
    /// Entries that expired so far (the next [`Expired::seq`]).
    expired: u64,
    /// The wakers of armed sleeps.
    wakes: Slots<Waker>,
    /// Armed callback timers (they keep `start()` running).
    callbacks: Slots<Callback>,
    /// Entries (in the wheel or `due`) whose timer is gone.
    stale: usize,
    /// No timer is due before this time (nanoseconds since the origin, a tick's start;
    /// `u64::MAX`: none armed): lowered by every entry queued, set to the wheel's next
    /// slot when [`pop_due`](Timers::pop_due) finds nothing due.
    quiet: u64,
    /// `quiet` as an instant, once asked for since it last moved.
    quiet_at: Option<Instant>,
    /// `pop_due` handed out a timer since `quiet` was last set: it may be behind.
    fired: bool,
}

impl Timers {
    /// An empty queue with ticks of `resolution` counted from `origin`.
    pub(crate) fn new(origin: Instant, resolution: Duration) -> Self {
        Self {
            origin,
            wheel: Wheel::new(resolution_nanos(resolution)),
            due: BinaryHeap::new(),
            expired: 0,
            wakes: Slots::new(CALLBACK),
            callbacks: Slots::new(CALLBACK),
            stale: 0,
            quiet: u64::MAX,
            quiet_at: None,
            fired: false,
        }
    }

    /// Changes the tick length.
    ///
    /// # Panics
    ///
    /// If timers are armed (their ticks would change meaning).
    pub(crate) fn set_resolution(&mut self, resolution: Duration) {
        assert!(
            self.is_empty(),
            "set the timer resolution before arming any timer (at loop creation)"
        );
        self.compact();
        self.wheel.set_resolution(resolution_nanos(resolution));
        self.set_quiet(u64::MAX);
    }

    /// `t` in nanoseconds since the origin (0 before it, saturating far ahead).
    pub(crate) fn nanos(&self, t: Instant) -> u64 {
        let nanos = t.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    /// `nanos` rounded up to a whole number of ticks.
    fn round_up(&self, nanos: u64) -> u64 {
        self.wheel.nanos_of(self.wheel.tick_of(nanos))
    }

    /// The instant `nanos` after the origin (saturating far in the future).
    pub(crate) fn instant_of(&self, nanos: u64) -> Instant {
        let d = Duration::from_nanos(nanos);
        self.origin
            .checked_add(d)
            .unwrap_or_else(|| crate::time::sleep::far_future(self.origin))
    }

    /// The tick length.
    pub(crate) fn resolution(&self) -> Duration {
        Duration::from_nanos(self.wheel.resolution())
    }

    /// Arms a timer that wakes `waker` at `deadline`. Inline: a sleep's first poll is a
    /// hot path, and without the hint the wheel's insert may be left out of line.
    #[inline]
    pub(crate) fn insert_wake(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = TimerKey::wake(self.wakes.insert(waker));
        self.queue(self.nanos(deadline), key);
        key
    }

    /// Arms a timer that runs `f` once at `deadline`.
    pub(crate) fn insert_once(&mut self, deadline: Instant, f: Box<dyn FnOnce()>) -> TimerKey {
        let key = TimerKey::callback(self.callbacks.insert(Callback::Once(f)));
        self.queue(self.nanos(deadline), key);
        key
    }

    /// Arms a periodic timer first due at `first`.
    pub(crate) fn insert_every(
        &mut self,
        first: Instant,
        period: Duration,
        policy: MissedTick,
        f: Box<dyn FnMut() -> bool>,
    ) -> TimerKey {
        let first = self.round_up(self.nanos(first));
        let every = Every {
            f: Some(f),
            period: self.round_up(resolution_nanos(period)),
            scheduled: first,
            policy,
        };
        let key = TimerKey::callback(self.callbacks.insert(Callback::Every(Box::new(every))));
        self.queue(first, key);
        key
    }

    /// Puts an entry in the wheel, or among the expired ones if its tick has passed.
    #[inline]
    fn queue(&mut self, deadline: u64, key: TimerKey) {
        let due = match self.wheel.insert(Entry { deadline, key }) {
            Ok(tick) => self.wheel.nanos_of(tick),
            Err(entry) => {
                push_expired(&mut self.due, &mut self.expired, entry);
                self.round_up(deadline)
            }
        };
        if due < self.quiet {
            self.quiet = due;
            self.quiet_at = None;
        }
    }

    /// Moves [`quiet`](Timers::quiet).
    fn set_quiet(&mut self, quiet: u64) {
        self.quiet = quiet;
        self.quiet_at = None;
        self.fired = false;
    }

    /// Whether no timer can be due at `now` (nothing to fire, no need to look).
    pub(crate) fn is_quiet_at(&mut self, now: Instant) -> bool {
        now < self.quiet_instant()
    }

    /// [`quiet`](Timers::quiet) as an instant (far in the future for none).
    fn quiet_instant(&mut self) -> Instant {
        match self.quiet_at {
            Some(at) => at,
            None => *self.quiet_at.insert(self.instant_of(self.quiet)),
        }
    }

    /// Whether the timer is still armed (not fired, not cancelled).
    pub(crate) fn is_armed(&self, timer: TimerKey) -> bool {
        is_live(&self.wakes, &self.callbacks, timer)
    }

    /// Whether the wake timer `timer`, armed for `deadline`, is still pending. Once the
    /// queue has moved past `deadline` (the usual case when a woken sleep is polled) this
    /// is answered without touching the timer's slot, a likely cache miss.
    pub(crate) fn is_wake_pending(&self, timer: TimerKey, deadline: Instant) -> bool {
        let tick = self.wheel.tick_of(self.nanos(deadline));
        if self.due.is_empty() && self.wheel.has_passed(tick) {
            debug_assert!(!self.is_armed(timer), "a passed timer is not armed");
            return false;
        }
        self.is_armed(timer)
    }

    /// Stores the waker a sleeping future should be woken with.
    pub(crate) fn set_waker(&mut self, timer: TimerKey, waker: &Waker) {
        if timer.is_callback() {
            return;
        }
        if let Some(slot) = self.wakes.get_mut(timer.slot_key()) {
            if !slot.will_wake(waker) {
                slot.clone_from(waker);
            }
        }
    }

    /// Disarms a timer; gives back what it held (to be dropped outside any borrow) if it
    /// was armed.
    pub(crate) fn cancel(&mut self, timer: TimerKey) -> Option<Disarmed> {
        let disarmed = if timer.is_callback() {
            Disarmed::Callback(self.callbacks.remove(timer.slot_key())?)
        } else {
            Disarmed::Wake(self.wakes.remove(timer.slot_key())?)
        };
        self.stale += 1;
        self.compact_if_mostly_stale();
        Some(disarmed)
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        self.wakes.is_empty() && self.callbacks.is_empty()
    }

    /// Armed timers: sleeps and callbacks.
    pub(crate) fn armed(&self) -> usize {
        self.wakes.len() + self.callbacks.len()
    }

    /// Armed callback timers.
    pub(crate) fn callbacks(&self) -> usize {
        self.callbacks.len()
    }

    /// When the loop must next look at the timers, in nanoseconds: the earliest
    /// rounded deadline armed since it last looked, else the wheel's next expiration
    /// (an entry's tick, or earlier, when entries move down a level). Never later than
    /// the earliest timer.
    pub(crate) fn next_due(&mut self) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        if self.fired {
            self.refresh_quiet();
        }
        (self.quiet != u64::MAX).then_some(self.quiet)
    }

    /// Sets [`quiet`](Timers::quiet) to when the loop must next look: the earliest
    /// expired timer's rounded deadline, else the wheel's next expiration.
    fn refresh_quiet(&mut self) {
        let quiet = match self.peek_live_due().map(|e| e.deadline) {
            Some(deadline) => self.round_up(deadline),
            None => (self.wheel.next_expiration()).map_or(u64::MAX, |t| self.wheel.nanos_of(t)),
        };
        self.set_quiet(quiet);
    }

    /// [`next_due`](Timers::next_due) as an instant.
    pub(crate) fn next_due_at(&mut self) -> Option<Instant> {
        self.next_due()?;
        Some(self.quiet_instant())
    }

    /// The earliest live expired entry, dropping stale ones on the way.
    fn peek_live_due(&mut self) -> Option<&Expired> {
        while let Some(Reverse(entry)) = self.due.peek() {
            if self.is_armed(entry.key) {
                break;
            }
            self.due.pop();
            self.stale -= 1;
        }
        self.due.peek().map(|Reverse(e)| e)
    }

    /// Takes the next live timer due at `now` (nanoseconds since the origin). The wheel
    /// moves one slot at a time, only when no expired entry is left.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Due> {
        if now < self.quiet {
            return None;
        }
        let tick = self.wheel.tick_before(now);
        while self.peek_live_due().is_none() {
            if !self.expire_next(tick) {
                self.refresh_quiet();
                return None;
            }
        }
        let Reverse(entry) = self.due.pop()?;
        self.fired = true;
        Some(self.take_due(entry.key, now))
    }

    /// Moves the wheel's next slot at or before `tick` down a level or into `due`; false
    /// if there is none.
    /// The slots of expired sleeps are prefetched: the loop takes their wakers soon, in
    /// deadline order, which is random memory order.
    fn expire_next(&mut self, tick: u64) -> bool {
        let (due, expired, wakes) = (&mut self.due, &mut self.expired, &self.wakes);
        self.wheel.step(tick, |entry| {
            if !entry.key.is_callback() {
                wakes.prefetch(entry.key.slot_key());
            }
            push_expired(due, expired, entry);
        })
    }

    /// Turns a live, due timer into what the loop must do with it.
    fn take_due(&mut self, timer: TimerKey, now: u64) -> Due {
        if !timer.is_callback() {
            return Due::Wake(self.wakes.remove(timer.slot_key()));
        }
        if let Some(Callback::Every(every)) = self.callbacks.get_mut(timer.slot_key()) {
            let f = every
                .f
                .take()
                .expect("a periodic timer in the queue is not running");
            every.scheduled = every.next_deadline(now);
            return Due::Every(timer, f);
        }
        match self.callbacks.remove(timer.slot_key()) {
            Some(Callback::Once(f)) => Due::Once(f),
            _ => unreachable!("a live expired callback timer is a one-shot here"),
        }
    }

    /// Hands a periodic callback back after it ran: re-armed if it asked to go on and was
    /// not cancelled meanwhile; otherwise given back to be dropped outside any borrow.
    pub(crate) fn rearm(
        &mut self,
        timer: TimerKey,
        f: Box<dyn FnMut() -> bool>,
        go_on: bool,
    ) -> Option<Box<dyn FnMut() -> bool>> {
        if !go_on {
            drop(self.callbacks.remove(timer.slot_key()));
            return Some(f);
        }
        let Some(Callback::Every(every)) = self.callbacks.get_mut(timer.slot_key()) else {
            return Some(f); // cancelled while it ran
        };
        every.f = Some(f);
        let deadline = every.scheduled;
        self.queue(deadline, timer);
        None
    }

    /// Drops stale entries once they are the majority.
    fn compact_if_mostly_stale(&mut self) {
        if self.stale > 1024 && self.stale > (self.wheel.len() + self.due.len()) / 2 {
            self.compact();
        }
    }

    /// Drops every stale entry.
    fn compact(&mut self) {
        let (wakes, callbacks) = (&self.wakes, &self.callbacks);
        self.wheel.retain(|e| is_live(wakes, callbacks, e.key));
        self.due
            .retain(|Reverse(e)| is_live(wakes, callbacks, e.key));
        self.stale = 0;
    }
}

impl TimerKey {
    /// The key of a timer in the wake slab.
    fn wake(key: SlotKey) -> Self {
        Self {
            slot: key.index,
            generation: key.generation,
        }
    }

    /// The key of a timer in the callback slab.
    fn callback(key: SlotKey) -> Self {
        Self {
            slot: key.index | CALLBACK,
            generation: key.generation,
        }
    }

    /// Whether the timer is in the callback slab.
    fn is_callback(self) -> bool {
        self.slot & CALLBACK != 0
    }

    /// The key within its slab.
    fn slot_key(self) -> SlotKey {
        SlotKey {
            index: self.slot & !CALLBACK,
            generation: self.generation,
        }
    }
}

impl Every {
    /// The deadline after the one that just fired at `now` (always later than `now`).
    fn next_deadline(&self, now: u64) -> u64 {
        let on_schedule = self.scheduled.saturating_add(self.period);
        if on_schedule > now {
            return on_schedule;
        }
        match self.policy {
            MissedTick::Delay => now.saturating_add(self.period),
            MissedTick::Skip => {
                let missed = (now - self.scheduled) / self.period + 1;
                self.scheduled
                    .saturating_add(missed.saturating_mul(self.period))
            }
        }
    }
}

/// Whether `timer` is armed in one of the two slabs.
fn is_live(wakes: &Slots<Waker>, callbacks: &Slots<Callback>, timer: TimerKey) -> bool {
    if timer.is_callback() {
        callbacks.contains(timer.slot_key())
    } else {
        wakes.contains(timer.slot_key())
    }
}

/// Queues an expired entry behind the ones that expired before it.
fn push_expired(due: &mut BinaryHeap<Reverse<Expired>>, expired: &mut u64, entry: Entry) {
    due.push(Reverse(Expired {
        deadline: entry.deadline,
        seq: *expired,
        key: entry.key,
    }));
    *expired += 1;
}

/// A duration in whole nanoseconds, at least 1.
fn resolution_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

impl Ticked for Entry {
    fn deadline(&self) -> u64 {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    fn timers() -> (Timers, Instant) {
        let origin = Instant::now();
        (Timers::new(origin, Duration::from_millis(1)), origin)
    }

    /// Arms a wake timer `ms` milliseconds after `origin`.
    fn wake_at(t: &mut Timers, origin: Instant, ms: u64) -> TimerKey {
        t.insert_wake(origin + Duration::from_millis(ms), Waker::noop().clone())
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn deadlines_are_due_at_the_next_tick() {
        let (mut t, origin) = timers();
        t.insert_wake(origin + Duration::from_micros(300), Waker::noop().clone());
        assert_eq!(t.next_due(), Some(MS));
        assert!(t.pop_due(MS - 1).is_none());
        assert!(t.pop_due(MS).is_some());
    }

    #[test]
    fn entries_and_sleep_keys_are_small() {
        assert_eq!(size_of::<Entry>(), 16);
        assert_eq!(size_of::<TimerKey>(), 8);
    }

    #[test]
    fn cancelled_entries_are_skipped_and_compacted() {
        let (mut t, origin) = timers();
        let keys: Vec<_> = (0..1000).map(|i| wake_at(&mut t, origin, i)).collect();
        for k in &keys[..999] {
            assert!(t.cancel(*k).is_some());
        }
        assert!(t.wheel.len() + t.due.len() <= 1000);
        t.compact();
        assert_eq!(t.wheel.len() + t.due.len(), 1);
        assert!(
            t.next_due().is_some_and(|due| due <= 999 * MS),
            "never later than the timer"
        );
        assert!(t.pop_due(998 * MS).is_none());
        assert_eq!(t.next_due(), Some(999 * MS), "exact once on level 0");
        assert!(t.pop_due(999 * MS).is_some());
        assert_eq!(t.next_due(), None);
    }

    #[test]
    fn a_reused_slot_is_not_fired_by_the_old_entry() {
        let (mut t, origin) = timers();
        let old = wake_at(&mut t, origin, 1);
        t.cancel(old);
        let new = wake_at(&mut t, origin, 5);
        assert_eq!(new.slot, old.slot, "same slot, new generation");
        assert!(t.pop_due(MS).is_none(), "the stale entry fires nothing");
        assert!(t.is_armed(new) && !t.is_armed(old));
        assert!(t.cancel(old).is_none());
        assert!(t.pop_due(5 * MS).is_some());
    }

    /// Arms a one-shot callback that records `label` in `log`.
    fn log_at(t: &mut Timers, at: Instant, log: &Rc<RefCell<Vec<char>>>, label: char) {
        let log = log.clone();
        t.insert_once(at, Box::new(move || log.borrow_mut().push(label)));
    }

    #[test]
    fn expired_timers_fire_in_deadline_then_arming_order() {
        let (mut t, origin) = timers();
        let log = Rc::default();
        let ms = |n| origin + Duration::from_millis(n);
        log_at(&mut t, origin + Duration::from_micros(1900), &log, 'd');
        log_at(&mut t, ms(1), &log, 'b');
        log_at(&mut t, ms(70), &log, 'e'); // on level 1 until 64 ms
        assert!(t.pop_due(0).is_none());
        log_at(&mut t, ms(1), &log, 'c'); // armed later, same deadline as `b`
        log_at(&mut t, ms(0), &log, 'a'); // already due
        while let Some(Due::Once(f)) = t.pop_due(2 * MS) {
            f();
        }
        assert!(t.pop_due(65 * MS).is_none());
        log_at(&mut t, ms(70), &log, 'f'); // on level 0, behind `e`
        while let Some(Due::Once(f)) = t.pop_due(70 * MS) {
            f();
        }
        assert_eq!(*log.borrow(), ['a', 'b', 'c', 'd', 'e', 'f']);
    }

    #[test]
    fn the_heap_holds_one_tick_at_a_time() {
        let (mut t, origin) = timers();
        for ms in 0..100 {
            for _ in 0..10 {
                wake_at(&mut t, origin, ms + 1);
            }
        }
        assert!(t.pop_due(100 * MS).is_some());
        assert!(t.due.len() < 10, "later ticks stay in the wheel");
        let rest = std::iter::from_fn(|| t.pop_due(100 * MS)).count();
        assert_eq!(rest, 999);
        assert!(t.is_empty());
    }

    #[test]
    fn a_woken_sleep_is_known_fired_without_its_slot() {
        let (mut t, origin) = timers();
        let deadline = origin + Duration::from_micros(1500);
        let key = t.insert_wake(deadline, Waker::noop().clone());
        assert!(t.is_wake_pending(key, deadline));
        assert!(t.pop_due(MS).is_none());
        assert!(t.is_wake_pending(key, deadline), "rounded up to 2 ms");
        assert!(t.pop_due(2 * MS).is_some());
        assert!(!t.is_wake_pending(key, deadline));
    }

    #[test]
    fn callbacks_are_counted_and_periodic_ones_rearmed() {
        let (mut t, origin) = timers();
        t.insert_once(origin, Box::new(|| {}));
        let every = t.insert_every(
            origin + Duration::from_millis(2),
            Duration::from_millis(2),
            MissedTick::Delay,
            Box::new(|| true),
        );
        wake_at(&mut t, origin, 1);
        assert_eq!(t.callbacks(), 2);
        assert!(matches!(t.pop_due(MS), Some(Due::Once(_))));
        assert!(matches!(t.pop_due(MS), Some(Due::Wake(Some(_)))));
        let Some(Due::Every(key, f)) = t.pop_due(2 * MS) else {
            panic!("the periodic timer is due at 2 ms");
        };
        assert!(t.rearm(key, f, true).is_none());
        assert_eq!(t.next_due(), Some(4 * MS));
        assert!(matches!(t.cancel(every), Some(Disarmed::Callback(_))));
        assert_eq!(t.callbacks(), 0);
        assert!(t.is_empty());
    }

    #[test]
    fn skip_policy_returns_to_the_schedule() {
        let every = Every {
            f: None,
            period: 10,
            scheduled: 100,
            policy: MissedTick::Skip,
        };
        assert_eq!(every.next_deadline(100), 110);
        assert_eq!(every.next_deadline(135), 140);
        let delay = Every {
            policy: MissedTick::Delay,
            ..every
        };
        assert_eq!(delay.next_deadline(135), 145);
    }
}
