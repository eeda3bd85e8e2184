//! [`TaskList`]: the loop's unfinished tasks, by key: a vector of optional handles plus a
//! free list (8 bytes per task, where a slab entry costs 16).

use super::TaskRef;
use crate::hint;

/// The loop's unfinished tasks.
#[derive(Default)]
pub(crate) struct TaskList {
    /// Slot `key` holds the task with that key.
    slots: Vec<Option<TaskRef>>,
    /// Empty slots, reused last-freed first.
    free: Vec<u32>,
}

impl TaskList {
    /// The key the next [`insert`](Self::insert) will use.
    pub(crate) fn next_key(&self) -> u32 {
        match self.free.last() {
            Some(key) => *key,
            None => u32::try_from(self.slots.len()).expect("fewer than 2^32 live threads per loop"),
        }
    }

    /// Stores `task` under [`next_key`](Self::next_key).
    pub(crate) fn insert(&mut self, task: TaskRef) {
        match self.free.pop() {
            Some(key) => self.slots[key as usize] = Some(task),
            None => self.slots.push(Some(task)),
        }
    }

    /// Takes out `task` (if it is still stored under its key).
    pub(crate) fn remove(&mut self, task: &TaskRef) -> Option<TaskRef> {
        let key = task.core().key;
        let slot = self.slots.get_mut(key as usize)?;
        if !slot.as_ref().is_some_and(|t| t.ptr_eq(task)) {
            return None;
        }
        self.free.push(key);
        slot.take()
    }

    /// Asks the CPU to load slot `key` (see [`hint::prefetch`]): a task finishing soon
    /// is removed from it.
    pub(crate) fn prefetch(&self, key: u32) {
        hint::prefetch(self.slots.as_ptr().wrapping_add(key as usize));
    }

    /// The stored tasks, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.slots.iter().flatten()
    }

    /// Takes out every task.
    pub(crate) fn take_all(&mut self) -> Vec<TaskRef> {
        self.free.clear();
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect()
    }
}
