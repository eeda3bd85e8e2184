//! The timer queue: a timing [`Wheel`] of `(deadline, id)` entries over a slab of timer
//! slots, with lazy cancellation.
//!
//! Times are nanoseconds since the loop's origin. A timer is due once the clock reaches its
//! deadline rounded **up** to the poll resolution (1 ms by default), and the loop parks
//! until that rounded instant: nothing fires early, and timers a few microseconds apart
//! fire in one wake-up. Expired entries move from the wheel into a small heap, so timers
//! fire in deadline order, ties in creation order (the id). Cancelling removes the slot in
//! O(1) and leaves the entry behind; stale entries are skipped when they surface, and
//! everything is compacted when they outnumber the live ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

use crate::time::wheel::{Ticked, Wheel};

/// What a fired timer does.
pub(crate) enum Action {
    /// Wake a sleeping future (its waker is set on the first poll).
    Wake(Option<Waker>),
    /// Run a callback once.
    Once(Box<dyn FnOnce()>),
    /// Run a callback periodically.
    Every(Box<Every>),
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
/// use sock_sched::{Executor, MissedTick};
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

/// Names a timer slot; the id tells a live slot from a reused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    /// The slot.
    pub(crate) key: usize,
    /// The timer's unique id.
    pub(crate) id: u64,
}

/// A queued timer: `(deadline, id)` orders; `key` finds the slot.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// When it is due, in nanoseconds since the origin (before rounding).
    deadline: u64,
    /// Creation order among timers due on the same tick.
    id: u64,
    /// The slot.
    key: usize,
}

/// An armed timer.
struct Slot {
    /// The timer's unique id.
    id: u64,
    /// What it does.
    action: Action,
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
    /// Expired entries, earliest first; some may be stale.
    due: BinaryHeap<Reverse<Entry>>,
    /// The live timers.
    slots: Slab<Slot>,
    /// The next timer id.
    next_id: u64,
    /// Entries (in the wheel or `due`) whose slot is gone.
    stale: usize,
    /// Armed callback timers (they keep `start()` running).
    callbacks: usize,
}

impl Timers {
    /// An empty queue with ticks of `resolution` counted from `origin`.
    pub(crate) fn new(origin: Instant, resolution: Duration) -> Self {
        Self {
            origin,
            wheel: Wheel::new(resolution_nanos(resolution)),
            due: BinaryHeap::new(),
            slots: Slab::new(),
            next_id: 0,
            stale: 0,
            callbacks: 0,
        }
    }

    /// Changes the tick length.
    ///
    /// # Panics
    ///
    /// If timers are armed (their ticks would change meaning).
    pub(crate) fn set_resolution(&mut self, resolution: Duration) {
        assert!(
            self.slots.is_empty(),
            "set the timer resolution before arming any timer (at loop creation)"
        );
        self.compact();
        self.wheel.set_resolution(resolution_nanos(resolution));
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

    /// Arms a timer due at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let deadline = self.nanos(deadline);
        self.insert_at(deadline, action)
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
        let period = self.round_up(resolution_nanos(period));
        let every = Every {
            f: Some(f),
            period,
            scheduled: first,
            policy,
        };
        self.insert_at(first, Action::Every(Box::new(every)))
    }

    /// Arms a timer due at `deadline` (nanoseconds since the origin).
    fn insert_at(&mut self, deadline: u64, action: Action) -> TimerKey {
        let id = self.next_id;
        self.next_id += 1;
        if !matches!(action, Action::Wake(_)) {
            self.callbacks += 1;
        }
        let key = self.slots.insert(Slot { id, action });
        self.queue(Entry { deadline, id, key });
        TimerKey { key, id }
    }

    /// Puts an entry in the wheel, or among the expired ones if its tick has passed.
    fn queue(&mut self, entry: Entry) {
        if let Err(entry) = self.wheel.insert(entry) {
            self.due.push(Reverse(entry));
        }
    }

    /// Whether the timer is still armed (not fired, not cancelled).
    pub(crate) fn is_armed(&self, timer: TimerKey) -> bool {
        self.slots.get(timer.key).is_some_and(|s| s.id == timer.id)
    }

    /// Stores the waker a sleeping future should be woken with.
    pub(crate) fn set_waker(&mut self, timer: TimerKey, waker: &Waker) {
        if let Some(Slot {
            id,
            action: Action::Wake(slot),
        }) = self.slots.get_mut(timer.key)
        {
            if *id == timer.id && !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *slot = Some(waker.clone());
            }
        }
    }

    /// Disarms a timer; gives back its action (to be dropped outside any borrow) if it was
    /// armed.
    pub(crate) fn cancel(&mut self, timer: TimerKey) -> Option<Action> {
        if !self.is_armed(timer) {
            return None;
        }
        let slot = self.slots.remove(timer.key);
        if !matches!(slot.action, Action::Wake(_)) {
            self.callbacks -= 1;
        }
        self.stale += 1;
        self.compact_if_mostly_stale();
        Some(slot.action)
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Armed callback timers.
    pub(crate) fn callbacks(&self) -> usize {
        self.callbacks
    }

    /// When the loop must next look at the timers, in nanoseconds: the earliest expired
    /// timer's rounded deadline, else the wheel's next expiration (an entry's tick, or
    /// earlier, when entries move down a level). Never later than the earliest timer.
    pub(crate) fn next_due(&mut self) -> Option<u64> {
        if self.slots.is_empty() {
            return None;
        }
        if let Some(deadline) = self.peek_live_due().map(|e| e.deadline) {
            return Some(self.round_up(deadline));
        }
        let tick = self.wheel.next_expiration()?;
        Some(self.wheel.nanos_of(tick))
    }

    /// The earliest live expired entry, dropping stale ones on the way.
    fn peek_live_due(&mut self) -> Option<&Entry> {
        while let Some(Reverse(entry)) = self.due.peek() {
            if self.slots.get(entry.key).is_some_and(|s| s.id == entry.id) {
                break;
            }
            self.due.pop();
            self.stale -= 1;
        }
        self.due.peek().map(|Reverse(e)| e)
    }

    /// Takes the next live timer due at `now` (nanoseconds since the origin).
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Due> {
        let due = &mut self.due;
        self.wheel
            .advance(self.wheel.tick_before(now), |e| due.push(Reverse(e)));
        self.peek_live_due()?;
        let Reverse(entry) = self.due.pop()?;
        let timer = TimerKey {
            key: entry.key,
            id: entry.id,
        };
        Some(self.take_due(timer, now))
    }

    /// Turns a live, due slot into what the loop must do with it.
    fn take_due(&mut self, timer: TimerKey, now: u64) -> Due {
        if let Action::Every(every) = &mut self.slots[timer.key].action {
            let f = every
                .f
                .take()
                .expect("a periodic timer in the heap is not running");
            every.scheduled = every.next_deadline(now);
            return Due::Every(timer, f);
        }
        match self.slots.remove(timer.key).action {
            Action::Wake(waker) => Due::Wake(waker),
            Action::Once(f) => {
                self.callbacks -= 1;
                Due::Once(f)
            }
            Action::Every(_) => unreachable!("periodic timers are handled above"),
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
        if !self.is_armed(timer) {
            return Some(f);
        }
        if !go_on {
            self.slots.remove(timer.key);
            self.callbacks -= 1;
            return Some(f);
        }
        let Action::Every(every) = &mut self.slots[timer.key].action else {
            unreachable!("a re-armed timer is periodic")
        };
        every.f = Some(f);
        let deadline = every.scheduled;
        self.queue(Entry {
            deadline,
            id: timer.id,
            key: timer.key,
        });
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
        let slots = &self.slots;
        let live = |e: &Entry| slots.get(e.key).is_some_and(|s| s.id == e.id);
        self.wheel.retain(live);
        self.due.retain(|Reverse(e)| live(e));
        self.stale = 0;
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
    use super::*;

    fn timers() -> (Timers, Instant) {
        let origin = Instant::now();
        (Timers::new(origin, Duration::from_millis(1)), origin)
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn deadlines_are_due_at_the_next_tick() {
        let (mut t, origin) = timers();
        t.insert(origin + Duration::from_micros(300), Action::Wake(None));
        assert_eq!(t.next_due(), Some(MS));
        assert!(t.pop_due(MS - 1).is_none());
        assert!(t.pop_due(MS).is_some());
    }

    #[test]
    fn cancelled_entries_are_skipped_and_compacted() {
        let (mut t, origin) = timers();
        let keys: Vec<_> = (0..1000)
            .map(|i| t.insert(origin + Duration::from_millis(i), Action::Wake(None)))
            .collect();
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
