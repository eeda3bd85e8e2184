//! [`Slots`]: a slab whose keys carry a generation, so a key outliving its value never
//! names the value stored in the same slot later.
//!
//! A slot is the value plus two `u32`s: the generation and the free-list link (8 bytes
//! where the `slab` crate's entry tag and a separate 64-bit id cost 16). Removing a value
//! bumps its slot's generation; a slot whose generation would wrap is retired instead of
//! reused, so a stale key can never match again, however long it is kept.

use crate::hint;

/// Marks the end of the free list.
const NONE: u32 = u32::MAX;

/// A slab of `T`s named by generational [`SlotKey`]s.
pub(crate) struct Slots<T> {
    /// Every slot ever used, live or vacant.
    slots: Vec<Slot<T>>,
    /// The first vacant slot to reuse, or [`NONE`].
    free: u32,
    /// Live values.
    len: usize,
    /// Slot indexes stay below this (keys may use the bits above it).
    max: u32,
}

/// One slot.
struct Slot<T> {
    /// The generation of the value in it, or of the next one while vacant.
    generation: u32,
    /// While vacant: the next vacant slot, or [`NONE`].
    next_free: u32,
    /// The value; `None` while vacant.
    value: Option<T>,
}

/// Names a value in [`Slots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SlotKey {
    /// The slot.
    pub(crate) index: u32,
    /// The slot's generation when the value was stored.
    pub(crate) generation: u32,
}

impl<T> Slots<T> {
    /// Empty; slot indexes will stay below `max` (so [`NONE`] is never one).
    pub(crate) fn new(max: u32) -> Self {
        Self {
            slots: Vec::new(),
            free: NONE,
            len: 0,
            max,
        }
    }

    /// Live values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `value`, reusing the most recently freed slot if any.
    ///
    /// # Panics
    ///
    /// If every index below `max` is taken.
    pub(crate) fn insert(&mut self, value: T) -> SlotKey {
        let index = self.take_vacant();
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        self.len += 1;
        SlotKey {
            index,
            generation: slot.generation,
        }
    }

    /// The value `key` names, if it is still stored.
    pub(crate) fn get(&self, key: SlotKey) -> Option<&T> {
        let slot = self.slots.get(key.index as usize)?;
        (slot.generation == key.generation)
            .then_some(slot.value.as_ref())
            .flatten()
    }

    /// The value `key` names, mutably, if it is still stored.
    pub(crate) fn get_mut(&mut self, key: SlotKey) -> Option<&mut T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        (slot.generation == key.generation)
            .then_some(slot.value.as_mut())
            .flatten()
    }

    /// Whether `key` names a stored value.
    pub(crate) fn contains(&self, key: SlotKey) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value `key` names out, if it is still stored.
    pub(crate) fn remove(&mut self, key: SlotKey) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let value = slot.value.take()?;
        self.len -= 1;
        self.release(key.index);
        Some(value)
    }

    /// Asks the CPU to load `key`'s slot (see [`hint::prefetch`]): its value is wanted soon.
    pub(crate) fn prefetch(&self, key: SlotKey) {
        hint::prefetch(self.slots.as_ptr().wrapping_add(key.index as usize));
    }

    /// A vacant slot's index: the head of the free list, or a new slot.
    fn take_vacant(&mut self) -> u32 {
        if self.free != NONE {
            let index = self.free;
            self.free = self.slots[index as usize].next_free;
            return index;
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i < self.max)
            .expect("too many timers armed at once");
        self.slots.push(Slot {
            generation: 0,
            next_free: NONE,
            value: None,
        });
        index
    }

    /// Bumps the emptied slot's generation and frees it, or retires it for good when the
    /// generation would wrap (a stale key could then match again).
    fn release(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        let Some(next) = slot.generation.checked_add(1) else {
            return;
        };
        slot.generation = next;
        slot.next_free = self.free;
        self.free = index;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_find_their_values_until_removed() {
        let mut slots = Slots::new(u32::MAX);
        let a = slots.insert("a");
        let b = slots.insert("b");
        assert_eq!((slots.get(a), slots.get(b)), (Some(&"a"), Some(&"b")));
        *slots.get_mut(b).unwrap() = "B";
        assert_eq!(slots.remove(b), Some("B"));
        assert_eq!(slots.remove(b), None, "removed twice");
        assert!(!slots.contains(b));
        assert_eq!(slots.len(), 1);
        assert_eq!(slots.remove(a), Some("a"));
        assert!(slots.is_empty());
    }

    #[test]
    fn a_reused_slot_does_not_answer_to_the_old_key() {
        let mut slots = Slots::new(u32::MAX);
        let old = slots.insert(1);
        slots.remove(old);
        let new = slots.insert(2);
        assert_eq!(new.index, old.index, "the freed slot is reused");
        assert_ne!(new.generation, old.generation);
        assert_eq!(slots.get(old), None);
        assert_eq!(slots.remove(old), None);
        assert_eq!(slots.get(new), Some(&2));
    }

    #[test]
    fn free_slots_are_reused_most_recent_first() {
        let mut slots = Slots::new(u32::MAX);
        let keys: Vec<_> = (0..4).map(|i| slots.insert(i)).collect();
        slots.remove(keys[1]);
        slots.remove(keys[3]);
        assert_eq!(slots.insert(10).index, 3);
        assert_eq!(slots.insert(11).index, 1);
        assert_eq!(slots.insert(12).index, 4, "then new slots");
        assert_eq!(slots.len(), 5);
    }

    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let mut slots = Slots::new(u32::MAX);
        let key = slots.insert(1);
        slots.remove(key);
        slots.slots[0].generation = u32::MAX; // as after 2^32 - 1 reuses
        let last = slots.insert(2);
        assert_eq!((last.index, last.generation), (0, u32::MAX));
        slots.remove(last);
        let next = slots.insert(3);
        assert_eq!(next.index, 1, "slot 0 is never handed out again");
        assert_eq!(slots.get(last), None);
        assert_eq!(
            slots.get(SlotKey {
                index: 0,
                generation: 0
            }),
            None
        );
    }

    #[test]
    #[should_panic(expected = "too many timers")]
    fn indexes_stay_below_the_limit() {
        let mut slots = Slots::new(2);
        slots.insert(());
        slots.insert(());
        slots.insert(());
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let mut slots: Slots<u8> = Slots::new(u32::MAX);
        let key = SlotKey {
            index: 7,
            generation: 0,
        };
        assert_eq!(slots.get(key), None);
        assert_eq!(slots.get_mut(key), None);
        assert_eq!(slots.remove(key), None);
    }
}
