//! A hierarchical timing wheel: O(1) insertion, and expiry without sorting the whole set.
//!
//! Eleven levels of 64 slots cover every `u64` tick: level `L` holds the entries whose tick
//! differs from the wheel's `elapsed` tick first in bits `6L..6L+6`, in the slot named by
//! those bits. An entry of a lower level is always due before any entry of a higher one,
//! so the earliest occupied slot of the lowest occupied level is the next thing to do:
//! on level 0 that is the entries' own tick; higher up it is the moment to move the slot's
//! entries down ("cascade"), which happens at most once per level per entry.
//!
//! The wheel does not order entries within a tick: the caller moves expired entries into a
//! small heap sorted by `(deadline, id)`.
//!
//! The start of that next slot is remembered: an insert can only move it earlier, so it
//! keeps it up to date with one comparison, and a [`step`](Wheel::step) with nothing due
//! yet (the loop looks at its timers every turn) returns without scanning the levels.
//! Only processing a slot (or `retain`) forgets it.

/// Slots per level (6 bits of the tick).
const SLOTS: usize = 64;
/// Levels: enough for 64-bit ticks.
const LEVELS: usize = 11;
/// The largest buffer (in entries) a level-0 slot keeps once emptied, for its next tick:
/// at most 64 × 4096 entries stay allocated, and a busy wheel stops reallocating.
const KEEP: usize = 4096;

/// Something stored in the wheel.
pub(crate) trait Ticked {
    /// When the entry is due, in nanoseconds (it lands on the tick at or after this).
    fn deadline(&self) -> u64;
}

/// The wheel.
pub(crate) struct Wheel<E> {
    /// The tick length in nanoseconds.
    resolution: u64,
    /// Every tick up to this one has been processed.
    elapsed: u64,
    /// Per level, a bit per non-empty slot.
    occupied: [u64; LEVELS],
    /// `LEVELS * SLOTS` slots.
    slots: Vec<Vec<E>>,
    /// Entries stored.
    len: usize,
    /// What [`next_slot`](Wheel::next_slot) would say the next slot starts at (`Some(None)`:
    /// no slot is occupied), when known; `None` until it is computed again.
    next_start: Option<Option<u64>>,
}

impl<E: Ticked> Wheel<E> {
    /// An empty wheel at tick 0, with ticks of `resolution` nanoseconds (at least 1).
    pub(crate) fn new(resolution: u64) -> Self {
        Self {
            resolution: resolution.max(1),
            elapsed: 0,
            occupied: [0; LEVELS],
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            len: 0,
            next_start: Some(None),
        }
    }

    /// Entries stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The tick length in nanoseconds.
    pub(crate) fn resolution(&self) -> u64 {
        self.resolution
    }

    /// Changes the tick length (only while empty, at tick 0).
    pub(crate) fn set_resolution(&mut self, resolution: u64) {
        debug_assert!(self.len == 0, "the wheel is empty");
        self.resolution = resolution.max(1);
    }

    /// The tick at or after `nanos`.
    pub(crate) fn tick_of(&self, nanos: u64) -> u64 {
        nanos.div_ceil(self.resolution)
    }

    /// The tick at or before `nanos`.
    pub(crate) fn tick_before(&self, nanos: u64) -> u64 {
        nanos / self.resolution
    }

    /// The start of `tick` in nanoseconds (saturating).
    pub(crate) fn nanos_of(&self, tick: u64) -> u64 {
        tick.saturating_mul(self.resolution)
    }

    /// Stores `entry` and returns its tick, or gives it back if its tick has already
    /// been reached.
    #[inline]
    pub(crate) fn insert(&mut self, entry: E) -> Result<u64, E> {
        let tick = self.tick_of(entry.deadline());
        if tick <= self.elapsed {
            return Err(entry);
        }
        let level = level_of(self.elapsed, tick);
        let slot = slot_of(tick, level);
        self.slots[level * SLOTS + slot].push(entry);
        self.occupied[level] |= 1 << slot;
        self.len += 1;
        if let Some(next) = self.next_start {
            // A slot of a lower level starts before every slot of a higher one, so the
            // earliest start over all slots is the next slot's. The entry's slot is
            // ahead of the current position in its level, so it starts at the entry's
            // tick with the bits below the level's cleared.
            let start = tick & !((1 << (6 * level)) - 1);
            debug_assert_eq!(start, self.slot_start(level, slot));
            self.next_start = Some(Some(next.map_or(start, |next| next.min(start))));
        }
        Ok(tick)
    }

    /// The next tick at which [`step`](Self::step) has something to do: an entry's
    /// tick (level 0) or a cascade (higher levels, earlier than their entries' ticks).
    pub(crate) fn next_expiration(&mut self) -> Option<u64> {
        if let Some(next) = self.next_start {
            debug_assert_eq!(next, self.next_slot().map(|(.., start)| start));
            return next;
        }
        let next = self.next_slot().map(|(.., start)| start);
        self.next_start = Some(next);
        next
    }

    /// Processes the next slot if it starts at or before `now`: its entries move down a
    /// level (a cascade) or, once their tick is reached, go to `expired`, in the order
    /// they were stored. Without such a slot, moves time to `now` and returns false.
    ///
    /// Entries due on the same tick come out in the order they were inserted: an entry
    /// inserted later sits on the same level or a lower one, and a lower one only after
    /// the older entry's slot has cascaded.
    pub(crate) fn step(&mut self, now: u64, mut expired: impl FnMut(E)) -> bool {
        if self.next_expiration().is_none_or(|start| start > now) {
            // No slot starts by `now`: moving there moves no slot's start either.
            self.elapsed = self.elapsed.max(now);
            return false;
        }
        let (level, slot, start) = self.next_slot().expect("a slot starts by `now`");
        self.next_start = None;
        self.elapsed = self.elapsed.max(start);
        let index = level * SLOTS + slot;
        let mut entries = std::mem::take(&mut self.slots[index]);
        self.occupied[level] &= !(1 << slot);
        self.len -= entries.len();
        for entry in entries.drain(..) {
            if let Err(entry) = self.insert(entry) {
                expired(entry);
            }
        }
        if level == 0 && entries.capacity() <= KEEP {
            self.slots[index] = entries; // nothing went back in: its tick has passed
        }
        true
    }

    /// Whether every entry due at or before `tick` has left the wheel.
    pub(crate) fn has_passed(&self, tick: u64) -> bool {
        tick <= self.elapsed
    }

    /// Keeps only the entries `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.next_start = None;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let before = slot.len();
            slot.retain(&mut keep);
            self.len -= before - slot.len();
            if slot.is_empty() {
                self.occupied[i / SLOTS] &= !(1 << (i % SLOTS));
            }
        }
    }

    /// The earliest occupied slot of the lowest occupied level.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        (0..LEVELS).find_map(|level| {
            self.next_in_level(level)
                .map(|(slot, start)| (level, slot, start))
        })
    }

    /// The next occupied slot of `level` after the current position, and its start tick.
    fn next_in_level(&self, level: usize) -> Option<(usize, u64)> {
        let occupied = self.occupied[level];
        if occupied == 0 {
            return None;
        }
        let now_slot = slot_of(self.elapsed, level);
        let slot =
            (occupied.rotate_right(now_slot as u32).trailing_zeros() as usize + now_slot) % SLOTS;
        Some((slot, self.slot_start(level, slot)))
    }

    /// The tick `slot` of `level` starts at: its next turn at or after the current
    /// position.
    fn slot_start(&self, level: usize, slot: usize) -> u64 {
        let now_slot = slot_of(self.elapsed, level);
        let shift = 6 * level as u32;
        let level_span = 1u128 << (shift + 6);
        let level_start = u128::from(self.elapsed) & !(level_span - 1);
        let mut start = level_start + ((slot as u128) << shift);
        if slot < now_slot {
            start += level_span;
        }
        u64::try_from(start).unwrap_or(u64::MAX)
    }
}

/// The level for an entry due at `tick` when the wheel is at `elapsed` (`tick > elapsed`).
fn level_of(elapsed: u64, tick: u64) -> usize {
    let significant = 63 - ((elapsed ^ tick) | (SLOTS as u64 - 1)).leading_zeros() as usize;
    significant / 6
}

/// The slot of `tick` in `level`.
fn slot_of(tick: u64, level: usize) -> usize {
    (tick.checked_shr(6 * level as u32).unwrap_or(0) & (SLOTS as u64 - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Ticked for u64 {
        fn deadline(&self) -> u64 {
            *self
        }
    }

    /// A numbered entry: `(deadline, n)`.
    impl Ticked for (u64, u32) {
        fn deadline(&self) -> u64 {
            self.0
        }
    }

    /// Moves `wheel` to `now`, handing every entry due by then to `expired`.
    fn advance<E: Ticked>(wheel: &mut Wheel<E>, now: u64, mut expired: impl FnMut(E)) {
        while wheel.step(now, &mut expired) {}
    }

    fn drain(wheel: &mut Wheel<u64>, now: u64) -> Vec<u64> {
        let mut out = vec![];
        advance(wheel, now, |t| out.push(t));
        out.sort_unstable();
        out
    }

    #[test]
    fn entries_expire_at_their_tick_across_levels() {
        let mut wheel = Wheel::new(1);
        for t in [1, 63, 64, 100, 4095, 4096, 1 << 20, u64::MAX / 3] {
            wheel.insert(t).unwrap();
        }
        assert_eq!(wheel.next_expiration(), Some(1));
        assert_eq!(drain(&mut wheel, 0), Vec::<u64>::new());
        assert_eq!(drain(&mut wheel, 63), [1, 63]);
        assert_eq!(drain(&mut wheel, 99), [64]);
        assert_eq!(drain(&mut wheel, 4096), [100, 4095, 4096]);
        assert_eq!(drain(&mut wheel, (1 << 20) - 1), Vec::<u64>::new());
        assert_eq!(drain(&mut wheel, 1 << 20), [1 << 20]);
        assert_eq!(drain(&mut wheel, u64::MAX), [u64::MAX / 3]);
        assert_eq!(wheel.len(), 0);
        assert_eq!(wheel.insert(5), Err(5), "already reached");
    }

    #[test]
    fn next_expiration_never_passes_an_entry() {
        let mut wheel = Wheel::new(1);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut ticks = vec![];
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ticks.push(1 + x % 100_000);
            wheel.insert(*ticks.last().unwrap()).unwrap();
        }
        ticks.sort_unstable();
        let mut got = vec![];
        while let Some(next) = wheel.next_expiration() {
            assert!(next <= ticks[got.len()], "would skip an entry");
            advance(&mut wheel, next, |t| got.push(t));
        }
        got.sort_unstable();
        assert_eq!(got, ticks);
    }

    #[test]
    fn a_tick_s_entries_come_out_in_insertion_order() {
        let mut wheel = Wheel::new(1);
        let (mut n, mut out) = (0, vec![]);
        for now in [0, 100, 4095, 4096, 4900, 4990, 4999] {
            advance(&mut wheel, now, |e: (u64, u32)| out.push(e.1));
            for tick in [5000, 5001] {
                for _ in 0..3 {
                    wheel.insert((tick, n)).unwrap();
                    n += 1;
                }
            }
        }
        let due = |tick: u32| (0..n).filter(move |i| i / 3 % 2 == tick - 5000);
        advance(&mut wheel, 5000, |e| out.push(e.1));
        assert!(out.iter().copied().eq(due(5000)), "{out:?}");
        out.clear();
        advance(&mut wheel, 5001, |e| out.push(e.1));
        assert!(out.iter().copied().eq(due(5001)), "{out:?}");
    }

    #[test]
    fn step_moves_one_slot_at_a_time() {
        let mut wheel = Wheel::new(1);
        for t in [3, 3, 9, 200] {
            wheel.insert(t).unwrap();
        }
        let mut out = vec![];
        assert!(wheel.step(300, |t| out.push(t)));
        assert_eq!(out, [3, 3]);
        assert!(wheel.step(300, |t| out.push(t)));
        assert_eq!(out, [3, 3, 9]);
        assert!(!wheel.has_passed(200));
        while wheel.step(300, |t| out.push(t)) {}
        assert_eq!(out, [3, 3, 9, 200]);
        assert!(wheel.has_passed(300), "time moved to `now`");
        assert!(!wheel.step(300, |_| unreachable!()));
    }
}
