//! [`CellPool`]: the memory of a loop's task cells, carved from chunks by size class and
//! reused by later tasks instead of being handed back to `malloc` one cell at a time.
//!
//! # Why
//!
//! A million sleeping tasks finish in deadline order, which is random memory order. Each
//! `free` of a task cell then made glibc coalesce it with its neighbours, cold chunks in
//! random places (in the 1M-sleeps benchmark `free` took about a fifth of the CPU, most of
//! it cache misses in `unlink_chunk`). Here a freed cell is pushed on its class's free list,
//! a write to memory the task just used; the next task of that size pops it.
//!
//! # What it keeps, and for how long
//!
//! A cell of at most [`MAX_POOLED`] bytes (and alignment at most [`GRAIN`]) is rounded up to
//! a multiple of [`GRAIN`]; bigger or over-aligned cells go to the global allocator. Each
//! class takes chunks from the global allocator, the first small ([`FIRST_CELLS`] cells),
//! each next one twice as big up to [`MAX_CHUNK`] bytes. Chunks are never given back
//! one by one: the pool keeps the cells of the most tasks of each size alive at once
//! (as the task list and the timer slabs keep their peak length) and frees every chunk
//! when it is dropped, with the loop's [`Shared`](crate::executor::Shared) part — after
//! the loop and every task, waker and queue entry are gone (each task holds that part).
//!
//! # Threads
//!
//! The free lists and chunks are the owner thread's: only [`CellPool::alloc`] (called by
//! the loop creating a task) and [`CellPool::free`] with `owner` set (called while the loop
//! is entered on this thread) touch them. A task freed on another thread (its last waker
//! dropped there) is queued under a mutex, and the owner takes such cells back when a class
//! runs out.

use std::alloc::{self, Layout};
use std::cell::UnsafeCell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

/// Cell sizes are rounded up to a multiple of this; also the largest pooled alignment.
const GRAIN: usize = 16;
/// Cells larger than this come from the global allocator.
const MAX_POOLED: usize = 512;
/// Size classes: one per multiple of [`GRAIN`] up to [`MAX_POOLED`].
const CLASSES: usize = MAX_POOLED / GRAIN;
/// Cells in a class's first chunk (a loop with few tasks stays small).
const FIRST_CELLS: usize = 8;
/// The largest chunk, in bytes.
const MAX_CHUNK: usize = 64 * 1024;

/// The memory of one loop's task cells.
pub(crate) struct CellPool {
    /// The owner thread's part: free lists and chunks.
    local: UnsafeCell<Local>,
    /// Cells freed on other threads, waiting for the owner to take them back.
    remote: Mutex<Vec<Freed>>,
    /// Whether `remote` may hold something (checked without the lock).
    remote_pending: AtomicBool,
}

// SAFETY: `local` is only reached on the owner thread (see the module docs: `alloc` and
// `free(.., owner = true)` are `unsafe` with that precondition) or through `&mut self`
// (`drop`); the rest is a mutex and an atomic. The chunks are plain memory, freed with
// the layout they were allocated with, which is allowed on any thread.
unsafe impl Send for CellPool {}
// SAFETY: as above.
unsafe impl Sync for CellPool {}

/// The owner thread's part of the pool.
struct Local {
    /// Per size class: the free list and the chunk being carved.
    classes: [Class; CLASSES],
    /// Every chunk taken from the global allocator, with its layout.
    chunks: Vec<(NonNull<u8>, Layout)>,
}

/// One size class.
#[derive(Clone, Copy)]
struct Class {
    /// The most recently freed cell (a [`FreeCell`] heads each free cell), if any.
    free: Option<NonNull<FreeCell>>,
    /// The next uncarved cell of the current chunk (null before the first chunk).
    next: *mut u8,
    /// The end of the current chunk's carvable cells.
    end: *mut u8,
    /// Cells in the next chunk.
    chunk_cells: usize,
}

/// What a free cell holds: the next free cell of its class.
struct FreeCell {
    /// The next free cell, if any.
    next: Option<NonNull<FreeCell>>,
}

/// A cell freed on another thread, and its class.
struct Freed(NonNull<u8>, usize);

// SAFETY: a `Freed` is only an address of memory nothing uses any more; the owner thread
// takes it back under the mutex (which orders the other thread's last use before it).
unsafe impl Send for Freed {}

impl CellPool {
    /// An empty pool (it allocates nothing until the first task).
    pub(crate) fn new() -> Self {
        Self {
            local: UnsafeCell::new(Local {
                classes: [Class::EMPTY; CLASSES],
                chunks: Vec::new(),
            }),
            remote: Mutex::new(Vec::new()),
            remote_pending: AtomicBool::new(false),
        }
    }

    /// Memory for a cell of `layout`: a freed cell of its class, else a new one.
    ///
    /// # Safety
    ///
    /// On the pool's owner thread (the thread of the loop it belongs to).
    ///
    /// # Panics
    ///
    /// Aborts through [`alloc::handle_alloc_error`] if the global allocator fails.
    pub(crate) unsafe fn alloc(&self, layout: Layout) -> NonNull<u8> {
        let Some(class) = class_of(layout) else {
            return global_alloc(layout);
        };
        // SAFETY: the owner thread (caller), and nothing else borrows `local` now: no
        // pool method calls out while holding it.
        let local = unsafe { &mut *self.local.get() };
        if local.classes[class].free.is_none() && self.remote_pending.load(Ordering::Acquire) {
            self.take_back(local);
        }
        local.alloc(class)
    }

    /// Gives a cell's memory back: onto its class's free list on the owner thread, else
    /// into the queue the owner takes back from.
    ///
    /// # Safety
    ///
    /// `cell` came from [`alloc`](Self::alloc) of this pool with this `layout`, and nothing
    /// uses it any more; `owner` only if this is the pool's owner thread.
    pub(crate) unsafe fn free(&self, cell: NonNull<u8>, layout: Layout, owner: bool) {
        let Some(class) = class_of(layout) else {
            // SAFETY: a cell of this layout came from the global allocator (`alloc`).
            unsafe { alloc::dealloc(cell.as_ptr(), layout) };
            return;
        };
        if owner {
            // SAFETY: the owner thread (caller); no other borrow of `local` is live.
            let local = unsafe { &mut *self.local.get() };
            // SAFETY: the cell is unused, of this class (caller).
            unsafe { local.classes[class].push(cell) };
            return;
        }
        let mut remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
        remote.push(Freed(cell, class));
        self.remote_pending.store(true, Ordering::Release);
    }

    /// Puts the cells freed on other threads on their free lists.
    #[cold]
    fn take_back(&self, local: &mut Local) {
        self.remote_pending.store(false, Ordering::Release);
        let freed =
            std::mem::take(&mut *self.remote.lock().unwrap_or_else(PoisonError::into_inner));
        for Freed(cell, class) in freed {
            // SAFETY: an unused cell of this class, freed by another thread before it was
            // queued; the lock orders that before this write.
            unsafe { local.classes[class].push(cell) };
        }
    }
}

impl Drop for CellPool {
    fn drop(&mut self) {
        for (chunk, layout) in self.local.get_mut().chunks.drain(..) {
            // SAFETY: allocated by `global_alloc` with this layout; the pool is dropped
            // with the loop's shared part, which every live cell keeps alive, so no cell
            // of the chunk is in use.
            unsafe { alloc::dealloc(chunk.as_ptr(), layout) };
        }
    }
}

impl Local {
    /// A cell of `class`: the most recently freed one, else the next one carved.
    fn alloc(&mut self, class: usize) -> NonNull<u8> {
        let entry = &mut self.classes[class];
        if let Some(cell) = entry.free {
            // SAFETY: a free cell starts with the `FreeCell` written by `push`.
            entry.free = unsafe { cell.as_ref().next };
            return cell.cast();
        }
        if entry.next == entry.end {
            self.new_chunk(class);
        }
        let entry = &mut self.classes[class];
        let cell = entry.next;
        // SAFETY: `next < end`, both within the current chunk, `end - next` a multiple of
        // the cell size.
        entry.next = unsafe { cell.add(size_of_class(class)) };
        NonNull::new(cell).expect("a carved cell lies inside a chunk")
    }

    /// Takes a new chunk for `class` from the global allocator.
    #[cold]
    fn new_chunk(&mut self, class: usize) {
        let size = size_of_class(class);
        let entry = &mut self.classes[class];
        let cells = entry.chunk_cells.min(MAX_CHUNK / size).max(1);
        entry.chunk_cells = cells.saturating_mul(2);
        let layout = Layout::from_size_align(cells * size, GRAIN).expect("a chunk layout fits");
        let chunk = global_alloc(layout);
        entry.next = chunk.as_ptr();
        // SAFETY: `cells * size` bytes were allocated.
        entry.end = unsafe { chunk.as_ptr().add(cells * size) };
        self.chunks.push((chunk, layout));
    }
}

impl Class {
    /// A class with no free cell and no chunk.
    const EMPTY: Self = Self {
        free: None,
        next: ptr::null_mut(),
        end: ptr::null_mut(),
        chunk_cells: FIRST_CELLS,
    };

    /// Pushes an unused cell on the free list.
    ///
    /// # Safety
    ///
    /// `cell` is an unused cell of this class (at least [`GRAIN`] bytes, so aligned).
    unsafe fn push(&mut self, cell: NonNull<u8>) {
        let cell = cell.cast::<FreeCell>();
        // SAFETY: the cell is unused, big and aligned enough for a `FreeCell` (caller).
        unsafe { cell.as_ptr().write(FreeCell { next: self.free }) };
        self.free = Some(cell);
    }
}

/// The size class of `layout`, or `None` for the global allocator.
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    let pooled = layout.size() <= MAX_POOLED && layout.align() <= GRAIN;
    pooled.then(|| layout.size().max(1).div_ceil(GRAIN) - 1)
}

/// The cell size of `class`.
fn size_of_class(class: usize) -> usize {
    (class + 1) * GRAIN
}

/// Memory from the global allocator (`layout` is never zero-sized here).
fn global_alloc(layout: Layout) -> NonNull<u8> {
    debug_assert!(layout.size() > 0, "task cells are never zero-sized");
    // SAFETY: the layout has a non-zero size (a task cell holds at least its header; a
    // chunk at least one cell).
    let mem = unsafe { alloc::alloc(layout) };
    NonNull::new(mem).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[test]
    fn sizes_round_up_to_classes_and_big_cells_are_not_pooled() {
        assert_eq!(class_of(layout(1)), Some(0));
        assert_eq!(class_of(layout(16)), Some(0));
        assert_eq!(class_of(layout(120)), Some(7));
        assert_eq!(class_of(layout(128)), Some(7));
        assert_eq!(class_of(layout(MAX_POOLED)), Some(CLASSES - 1));
        assert_eq!(class_of(layout(MAX_POOLED + 1)), None);
        assert_eq!(class_of(Layout::from_size_align(64, 64).unwrap()), None);
    }

    #[test]
    fn freed_cells_are_reused_last_freed_first_and_chunks_grow() {
        let pool = CellPool::new();
        // The `unsafe` calls below: one thread, so it is the owner; every cell is freed at
        // most once, with the layout it was allocated with.
        let cells: Vec<_> = (0..20)
            .map(|_| {
                // SAFETY: see above.
                unsafe { pool.alloc(layout(100)) }
            })
            .collect();
        let distinct: std::collections::HashSet<_> = cells.iter().collect();
        assert_eq!(distinct.len(), 20);
        for c in &cells {
            // SAFETY: see above; the memory is writable and 16-aligned.
            unsafe { c.as_ptr().write_bytes(0xAB, 100) };
            assert_eq!(c.as_ptr() as usize % GRAIN, 0);
        }
        // SAFETY: see above.
        let chunks = unsafe { (*pool.local.get()).chunks.len() };
        assert_eq!(chunks, 2, "8 cells, then 16");
        // SAFETY: see above.
        unsafe { pool.free(cells[3], layout(100), true) };
        // SAFETY: see above.
        unsafe { pool.free(cells[7], layout(100), true) };
        // SAFETY: see above.
        assert_eq!(unsafe { pool.alloc(layout(100)) }, cells[7]);
        // SAFETY: see above.
        assert_eq!(unsafe { pool.alloc(layout(100)) }, cells[3]);
    }

    #[test]
    fn cells_freed_on_other_threads_come_back_and_big_cells_use_the_allocator() {
        let pool = std::sync::Arc::new(CellPool::new());
        // The `unsafe` calls below: this thread is the owner; each cell is freed once.
        // SAFETY: see above.
        let cell = unsafe { pool.alloc(layout(48)) };
        let addr = cell.as_ptr() as usize;
        let sent = Freed(cell, class_of(layout(48)).unwrap());
        let p = pool.clone();
        std::thread::spawn(move || {
            let sent = sent;
            let Freed(cell, _) = sent;
            // SAFETY: see above; not the owner, so `owner` is false.
            unsafe { p.free(cell, layout(48), false) };
        })
        .join()
        .unwrap();
        // SAFETY: see above.
        let again = unsafe { pool.alloc(layout(48)) };
        assert_eq!(
            again.as_ptr() as usize,
            addr,
            "taken back from the remote queue"
        );
        // SAFETY: see above.
        let big = unsafe { pool.alloc(layout(4096)) };
        // SAFETY: see above.
        unsafe { pool.free(big, layout(4096), true) };
        // SAFETY: see above.
        unsafe { pool.free(again, layout(48), true) };
    }
}
