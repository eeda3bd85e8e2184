//! The loop's run queue: the wakes of tasks ready to be polled, first in first out.
//!
//! A ring of slots whose length is a power of two, with two free-running counters: an
//! entry's slot is its counter masked by the length, so a push and a pop are one masked
//! index and one increment each. `VecDeque` does the same job with a wrap-around compare
//! on every push and pop, and its index arithmetic is what the loop's busiest path (a wake,
//! then the poll it causes) spent most of its queue instructions on. The ring grows by
//! doubling when full and never shrinks, like the `VecDeque` it replaces. No `unsafe`:
//! each slot is an `Option`, `None` outside the queued range (a `WakeRef` is a non-null
//! pointer, so the `Option` costs no space).

use super::WakeRef;

/// The first capacity the ring allocates.
const MIN_CAPACITY: usize = 16;

/// A FIFO of task wakes.
#[derive(Default)]
pub(crate) struct RunQueue {
    /// The ring: a power of two long (or empty); the entries queued are the slots of
    /// `head..tail` (masked), every other slot is `None`.
    slots: Box<[Option<WakeRef>]>,
    /// The count of entries ever popped: the next pop's slot, masked.
    head: usize,
    /// The count of entries ever pushed: the next push's slot, masked.
    tail: usize,
}

impl RunQueue {
    /// How many entries are queued.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.tail.wrapping_sub(self.head)
    }

    /// Whether nothing is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Queues `entry` last.
    #[inline]
    pub(crate) fn push(&mut self, entry: WakeRef) {
        if let Err(entry) = self.try_push(entry) {
            self.grow_and_push(entry);
        }
    }

    /// Pushes unless the ring is full; gives the entry back if it is. Nothing in here
    /// panics or calls out, so the caller's usual path holds nothing to drop on the way
    /// out and saves no registers for it: the wake's push, then a tail call to
    /// [`push`](RunQueue::push) when full.
    #[inline]
    pub(crate) fn try_push(&mut self, entry: WakeRef) -> Result<(), WakeRef> {
        if self.len() == self.slots.len() {
            return Err(entry);
        }
        let mask = self.slots.len().wrapping_sub(1);
        let Some(slot) = self.slots.get_mut(self.tail & mask) else {
            return Err(entry); // no slot at all: an empty ring, which is full
        };
        debug_assert!(
            slot.is_none(),
            "a slot outside the queued range holds an entry"
        );
        // The slot is outside `head..tail`, so `None`: nothing to drop (no drop check).
        std::mem::forget(slot.replace(entry));
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }

    /// Takes the first entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<WakeRef> {
        // No emptiness test of its own: an empty queue's slot at `head` is `None` (every
        // slot outside the queued range is), and an empty ring has no slot at all; the
        // caller tests the `Option` anyway.
        let mask = self.slots.len().wrapping_sub(1);
        let entry = self.slots.get_mut(self.head & mask)?.take();
        self.head = self.head.wrapping_add(usize::from(entry.is_some()));
        entry
    }

    /// The entry `n` places behind the first, if that many are queued.
    #[inline]
    pub(crate) fn get(&self, n: usize) -> Option<&WakeRef> {
        if n >= self.len() {
            return None;
        }
        let mask = self.slots.len() - 1;
        self.slots[self.head.wrapping_add(n) & mask].as_ref()
    }

    /// Takes every entry out, in order (the queue keeps its memory).
    pub(crate) fn take_all(&mut self) -> Vec<WakeRef> {
        let mut all = Vec::with_capacity(self.len());
        all.extend(std::iter::from_fn(|| self.pop()));
        all
    }

    /// Makes room, then pushes: a full ring's push.
    #[cold]
    #[inline(never)]
    fn grow_and_push(&mut self, entry: WakeRef) {
        self.grow();
        if self.try_push(entry).is_err() {
            unreachable!("a grown ring has a free slot");
        }
    }

    /// Doubles the ring (from [`MIN_CAPACITY`] when empty), keeping the order.
    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(MIN_CAPACITY);
        let queued = self.take_all();
        let mut slots: Vec<Option<WakeRef>> = Vec::with_capacity(capacity);
        let len = queued.len();
        slots.extend(queued.into_iter().map(Some));
        slots.resize_with(capacity, || None);
        self.slots = slots.into_boxed_slice();
        self.head = 0;
        self.tail = len;
    }
}

impl Extend<WakeRef> for RunQueue {
    fn extend<I: IntoIterator<Item = WakeRef>>(&mut self, entries: I) {
        entries.into_iter().for_each(|entry| self.push(entry));
    }
}

#[cfg(test)]
mod tests {
    //! The ring's order across wrap-arounds and growth, with real task wakes.

    use std::task::Poll;

    use super::*;
    use crate::Executor;

    /// A queue entry for each of `n` distinct parked tasks, in spawn order, with the
    /// loop that owns them.
    fn entries(n: usize) -> (Executor, Vec<WakeRef>) {
        let ex = Executor::new();
        let threads: Vec<_> = (0..n)
            .map(|_| ex.spawn(std::future::poll_fn(|_| Poll::<()>::Pending)))
            .collect();
        ex.poll(Some(std::time::Duration::ZERO)); // each polled once: parked, not queued
        let entries = threads
            .iter()
            .map(|t| t.task.schedule().expect("not queued"))
            .collect();
        (ex, entries)
    }

    /// The tasks the entries name, by address.
    fn addrs<'a>(entries: impl IntoIterator<Item = &'a WakeRef>) -> Vec<usize> {
        entries.into_iter().map(WakeRef::addr).collect()
    }

    #[test]
    fn pops_in_push_order_across_wraps_and_growth() {
        let (_ex, all) = entries(60);
        let expected = addrs(&all);
        let mut queue = RunQueue::default();
        let mut popped = Vec::new();
        let mut source = all.into_iter();
        // Pushes 3, pops 2 per step: the head wraps the ring several times while it
        // grows from 16 to 32 with entries on both sides of the wrap.
        for step in 1..=20 {
            queue.extend(source.by_ref().take(3));
            popped.extend(queue.pop());
            popped.extend(queue.pop());
            assert_eq!(queue.len(), step);
        }
        popped.extend(queue.take_all());
        assert!(queue.is_empty() && queue.pop().is_none());
        assert_eq!(addrs(&popped), expected);
    }

    #[test]
    fn an_empty_ring_pops_nothing_and_a_full_one_refuses_a_try_push() {
        let (_ex, all) = entries(MIN_CAPACITY + 1);
        let expected = addrs(&all);
        let mut queue = RunQueue::default();
        assert!(queue.pop().is_none(), "no slot yet");
        let mut source = all.into_iter();
        let first = source.next().unwrap();
        let first = queue.try_push(first).expect_err("no slot yet: full");
        queue.push(first); // grows to MIN_CAPACITY
        for entry in source.by_ref().take(MIN_CAPACITY - 1) {
            assert!(queue.try_push(entry).is_ok());
        }
        let last = source.next().unwrap();
        let last = queue.try_push(last).expect_err("every slot taken");
        queue.push(last); // grows
        assert_eq!(queue.len(), MIN_CAPACITY + 1);
        let popped: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert!(queue.pop().is_none() && queue.is_empty());
        assert_eq!(addrs(&popped), expected);
    }

    #[test]
    fn get_looks_ahead_without_taking() {
        let (_ex, all) = entries(5);
        let expected = addrs(&all);
        let mut queue = RunQueue::default();
        queue.extend(all);
        assert_eq!(queue.get(4).map(WakeRef::addr), Some(expected[4]));
        assert!(queue.get(5).is_none());
        assert_eq!(queue.pop().as_ref().map(WakeRef::addr), Some(expected[0]));
        assert_eq!(queue.get(0).map(WakeRef::addr), Some(expected[1]));
        assert_eq!(queue.len(), 4);
    }
}
