//! The raw task: one allocation holding a header (atomic reference count, "scheduled"
//! flag, the loop's remote queue, a vtable), the owner-thread [`Core`], and the future —
//! later its output — in place.
//!
//! # Why `unsafe`
//!
//! The safe layout (an `Rc` cell, a boxed future and an `Arc` header for the waker) costs
//! three allocations per task; the sched benchmark showed `malloc`/`free` as the largest
//! cost of spawning and of a million sleeping tasks, and about 200 B per pending task.
//! This module puts it all in one allocation, as `async-task` and tokio do. The memory
//! comes from the loop's [`CellPool`](super::pool::CellPool) (reached through `shared`),
//! not from `malloc` per task: a million sleepers finishing in random order made `free`
//! the largest cost left.
//!
//! # Ownership rules (what keeps it sound)
//!
//! * Two kinds of handles. [`TaskRef`] is local (`!Send`): the slab entry, thread
//!   handles, the current-task slot. [`WakeRef`] and wakers are `Send + Sync` and count in
//!   the atomic `refs`.
//! * All `TaskRef`s together hold **one** atomic reference, and count themselves in
//!   `core.local` (a plain `Cell`). When the last one drops, on the owner thread, the
//!   future/output and the extras — everything `!Send` — are dropped right there, and
//!   then the group's atomic reference is released.
//! * A `WakeRef` or waker touches only `refs`, `core.scheduled` and `shared` (atomics and
//!   an `Arc`), never the rest of the core or the stage, except [`WakeRef::to_local`], which only the
//!   loop calls, on its own thread.
//! * Whoever drops `refs` to zero frees the allocation; by then the `!Send` parts are
//!   already gone (the local group released first), so freeing is safe on any thread.
//! * The future is only polled through a `TaskRef`, on the owner thread, with the
//!   [`RUNNING`](super::flag::RUNNING) flag set by the loop, so it is never polled twice at
//!   once; the stage accessors refuse to touch a running task. It never moves: it is
//!   dropped in place when it completes.
//! * The future need not be `'static` ([`TaskRef::allocate`] is `unsafe`): a task only
//!   reaches its future and output through the stage, so once the stage is `Taken` (or
//!   holds a `'static` panic payload) the rest of the task may outlive what they borrowed.
//!   `Executor::run` relies on this: it drops the stage before it returns or unwinds.
//!
//! The miri tests at the bottom exercise these paths (wakes from other threads, every drop
//! order, panics, cancellation, `run`s that borrow and unwind): `cargo +nightly miri test
//! -p sock-sched --lib raw`.

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::{Core, Payload, flag};
use crate::executor::Shared;
use crate::thread::JoinError;
use crate::{context, hint};

/// The type-independent start of every task allocation.
#[repr(C)]
struct Header {
    /// Atomic references: wakers, [`WakeRef`]s, plus one for all [`TaskRef`]s together.
    refs: AtomicUsize,
    /// The operations that depend on the future's type.
    vtable: &'static Vtable,
    /// The loop's remote queue, for wakes from other threads, and the pool the cell came
    /// from; taken out by hand in [`RawCell::dealloc`], after the cell is given back.
    shared: ManuallyDrop<Arc<Shared>>,
    /// Owner-thread state; only reached through a [`TaskRef`].
    core: Core,
}

/// Operations on a task whose future type is erased.
struct Vtable {
    /// Polls the future once (panics caught); `Ready` once it has finished, with `true`
    /// if it panicked.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<bool>,
    /// Drops the future or output in place.
    cancel: unsafe fn(NonNull<Header>),
    /// Takes a caught panic out of the output slot.
    take_panic: unsafe fn(NonNull<Header>) -> Option<Payload>,
    /// Moves the output into `*dst` (an `Option<Result<Output, JoinError>>`) if finished.
    read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// The whole allocation: the header, then the stage.
#[repr(C)]
struct RawCell<F: Future> {
    /// Must stay first: a `NonNull<Header>` is a `NonNull<RawCell<F>>`.
    header: Header,
    /// The future, then its output.
    stage: UnsafeCell<Stage<F>>,
}

/// The future's life.
enum Stage<F: Future> {
    /// Not finished.
    Pending(F),
    /// Finished: the output or the caught panic (boxed twice to keep the stage small).
    Done(Result<F::Output, Box<Payload>>),
    /// Output taken, dropped, or the task was cancelled.
    Taken,
}

/// A local (owner-thread) handle to a task.
pub(crate) struct TaskRef {
    /// The allocation.
    ptr: NonNull<Header>,
    /// `TaskRef` must stay on the owner thread.
    _local: PhantomData<*const ()>,
}

/// A new task's handle, knowing its output type.
pub(crate) struct Typed<T> {
    /// The handle.
    task: TaskRef,
    /// The future's output type.
    _output: PhantomData<fn() -> T>,
}

impl<T> Typed<T> {
    /// The handle, as `TaskRef`s are passed around (the loop keeps a clone).
    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    /// The untyped handle.
    pub(crate) fn into_inner(self) -> TaskRef {
        self.task
    }
}

/// A thread-safe reference to a task, as queued by a wake.
pub(crate) struct WakeRef {
    /// The allocation.
    ptr: NonNull<Header>,
}

// SAFETY: a `WakeRef` only touches the atomic/`Sync` parts of the header (`refs`,
// `scheduled`, `shared`) and may free the allocation, which is safe on any thread once the
// owner thread has dropped the `!Send` parts (see the module docs). `to_local`, the one
// method reaching the core, is `unsafe` and documented as owner-thread only.
unsafe impl Send for WakeRef {}
// SAFETY: as above; `&WakeRef` offers nothing more than a `WakeRef`.
unsafe impl Sync for WakeRef {}

/// The waker vtable shared by all tasks.
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

impl<F: Future> RawCell<F> {
    /// The vtable for this future type.
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        cancel: Self::cancel,
        take_panic: Self::take_panic,
        read_output: Self::read_output,
        dealloc: Self::dealloc,
    };

    /// The stage of the task at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` is a live `RawCell<F>`.
    unsafe fn stage(ptr: NonNull<Header>) -> *mut Stage<F> {
        let cell = ptr.cast::<Self>().as_ptr();
        // SAFETY: the caller guarantees `cell` is live; no reference is created.
        unsafe { UnsafeCell::raw_get(ptr::addr_of!((*cell).stage)) }
    }

    /// See [`Vtable::poll`].
    ///
    /// # Safety
    ///
    /// Owner thread, live task, not already being polled.
    unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<bool> {
        // SAFETY: the caller's guarantees; nothing else borrows the stage meanwhile.
        let stage = unsafe { Self::stage(ptr) };
        // SAFETY: as above: this is the only reference to the stage during the poll.
        let Stage::Pending(future) = (unsafe { &mut *stage }) else {
            return Poll::Ready(false);
        };
        // SAFETY: the future lives in the heap allocation and never moves until it is
        // dropped in place (`replace_stage`).
        let future = unsafe { Pin::new_unchecked(future) };
        let result = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(Box::new(payload)),
        };
        let panicked = result.is_err();
        // SAFETY: the `&mut` above is no longer used.
        unsafe { Self::replace_stage(stage, Stage::Done(result)) };
        Poll::Ready(panicked)
    }

    /// Drops the stage in place and writes `new`; a panicking destructor is swallowed
    /// (the stage is valid either way).
    ///
    /// # Safety
    ///
    /// `stage` is valid and not borrowed.
    unsafe fn replace_stage(stage: *mut Stage<F>, new: Stage<F>) {
        // SAFETY: the caller guarantees `stage` is valid; after `drop_in_place` it is
        // written before anything reads it again, even if the destructor panicked.
        let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { ptr::drop_in_place(stage) }));
        // SAFETY: as above.
        unsafe { ptr::write(stage, new) };
        drop(dropped);
    }

    /// See [`Vtable::cancel`].
    ///
    /// # Safety
    ///
    /// Owner thread, live task, not being polled.
    unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: the caller's guarantees.
        unsafe { Self::replace_stage(Self::stage(ptr), Stage::Taken) };
    }

    /// See [`Vtable::take_panic`].
    ///
    /// # Safety
    ///
    /// Owner thread, live task, not being polled.
    unsafe fn take_panic(ptr: NonNull<Header>) -> Option<Payload> {
        // SAFETY: the caller's guarantees.
        let stage = unsafe { Self::stage(ptr) };
        // SAFETY: not borrowed elsewhere; the shared borrow ends before the write.
        if !matches!(unsafe { &*stage }, Stage::Done(Err(_))) {
            return None;
        }
        // SAFETY: a finished stage holds no pinned future, so it may be moved out.
        match unsafe { ptr::replace(stage, Stage::Taken) } {
            Stage::Done(Err(payload)) => Some(*payload),
            _ => unreachable!("checked above"),
        }
    }

    /// See [`Vtable::read_output`].
    ///
    /// # Safety
    ///
    /// Owner thread, live task, not being polled; `dst` points to an
    /// `Option<Result<F::Output, JoinError>>`.
    unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
        // SAFETY: the caller's guarantees.
        let stage = unsafe { Self::stage(ptr) };
        // SAFETY: not borrowed elsewhere; the shared borrow ends before the write.
        if matches!(unsafe { &*stage }, Stage::Pending(_)) {
            return;
        }
        // SAFETY: a stage that is not `Pending` holds no pinned future.
        let result = match unsafe { ptr::replace(stage, Stage::Taken) } {
            Stage::Done(Ok(output)) => Ok(output),
            Stage::Done(Err(payload)) => Err(JoinError::panicked(*payload)),
            _ => Err(JoinError::cancelled()),
        };
        // SAFETY: the caller guarantees the type of `dst`.
        unsafe { *dst.cast::<Option<Result<F::Output, JoinError>>>() = Some(result) };
    }

    /// See [`Vtable::dealloc`]: drops the cell in place and gives its memory back to the
    /// loop's pool, then lets go of the loop's shared part (perhaps the last reference,
    /// which frees the pool with it).
    ///
    /// # Safety
    ///
    /// No reference of any kind is left; the local group was released (the stage is
    /// `Taken` and the extras are gone), so this may run on any thread.
    unsafe fn dealloc(ptr: NonNull<Header>) {
        let cell = ptr.cast::<Self>().as_ptr();
        // SAFETY: the last reference: nothing else reads the cell; `shared` is taken out
        // once, and the `ManuallyDrop` left behind is never used again.
        let shared = unsafe { ManuallyDrop::take(&mut (*cell).header.shared) };
        // SAFETY: as above; the cell was written by `allocate` and is dropped once.
        unsafe { ptr::drop_in_place(cell) };
        let owner = context::with_entered(|inner| inner.is_shared(&shared)).unwrap_or(false);
        // SAFETY: the memory came from this pool in `allocate` with this layout and is no
        // longer used; `owner` only when this loop is entered here, on its own thread.
        unsafe { shared.pool.free(ptr.cast(), Layout::new::<Self>(), owner) };
        drop(shared);
    }
}

/// The header's atomic reference count.
///
/// # Safety
///
/// `ptr` is a live task.
unsafe fn refs<'a>(ptr: NonNull<Header>) -> &'a AtomicUsize {
    // SAFETY: the caller guarantees liveness; `refs` is an atomic, safe to share.
    unsafe { &*ptr::addr_of!((*ptr.as_ptr()).refs) }
}

/// The task's "scheduled" flag (the one core field other threads touch).
///
/// # Safety
///
/// `ptr` is a live task.
unsafe fn scheduled<'a>(ptr: NonNull<Header>) -> &'a AtomicBool {
    // SAFETY: as in `refs`; only the atomic field is referenced, not the rest of the core.
    unsafe { &*ptr::addr_of!((*ptr.as_ptr()).core.scheduled) }
}

/// Adds an atomic reference (aborting on overflow, like `Arc`).
///
/// # Safety
///
/// `ptr` is a live task and the caller holds a reference to it.
unsafe fn acquire(ptr: NonNull<Header>) {
    // SAFETY: the caller holds a reference, so the task is live.
    if unsafe { refs(ptr) }.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
        std::process::abort();
    }
}

/// Drops an atomic reference, freeing the task with the last one.
///
/// # Safety
///
/// The caller owns the reference it releases.
unsafe fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference, so the task is live until this decrement.
    let count = unsafe { refs(ptr) };
    if count.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Synchronise with every earlier release (their writes, such as the owner thread's
    // dropping of the extras, happen before the free). An acquire load of the counter
    // does what `Arc`'s acquire fence does, and ThreadSanitizer, which does not model
    // fences, sees it (with a fence it reported a race between those writes and the free).
    count.load(Ordering::Acquire);
    // SAFETY: the count reached zero: this was the last reference. The vtable is a
    // `'static` immutable table, read before the memory is freed.
    unsafe {
        let vtable = *ptr::addr_of!((*ptr.as_ptr()).vtable);
        (vtable.dealloc)(ptr);
    }
}

impl TaskRef {
    /// Allocates a task for `future` with its `core`, from the loop's cell pool.
    ///
    /// # Safety
    ///
    /// On the thread of the loop `shared` belongs to (the pool's owner thread).
    ///
    /// The stage must stop holding the future and its output before anything `F` or
    /// `F::Output` borrows goes away: by then the task has finished and its output was
    /// taken or discarded, or it was cancelled. Nothing else in the allocation refers to
    /// `F`, so the task may outlive those borrows after that (wakers, handles, the
    /// allocation itself). Always true for `'static` types.
    pub(crate) unsafe fn allocate<F: Future>(
        future: F,
        core: Core,
        shared: Arc<Shared>,
    ) -> Typed<F::Output> {
        core.local.set(1);
        // SAFETY: the loop's own thread (caller).
        let mem = unsafe { shared.pool.alloc(Layout::new::<RawCell<F>>()) };
        let cell = RawCell {
            header: Header {
                refs: AtomicUsize::new(1),
                vtable: &RawCell::<F>::VTABLE,
                shared: ManuallyDrop::new(shared),
                core,
            },
            stage: UnsafeCell::new(Stage::Pending(future)),
        };
        // SAFETY: fresh memory with `RawCell<F>`'s layout; `dealloc` drops what is
        // written here and gives the memory back.
        unsafe { mem.cast::<RawCell<F>>().as_ptr().write(cell) };
        let ptr = mem.cast::<Header>();
        Typed {
            task: Self {
                ptr,
                _local: PhantomData,
            },
            _output: PhantomData,
        }
    }

    /// The header.
    fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` keeps the allocation alive, and lives on the owner thread,
        // the only one that touches the core.
        unsafe { self.ptr.as_ref() }
    }

    /// The owner-thread state.
    pub(crate) fn core(&self) -> &Core {
        &self.header().core
    }

    /// Whether nothing but the loop's local handles refers to the task: no waker and no
    /// queue entry exists, so nothing — no timer, no reactor, no other OS thread — can
    /// wake it; only local code holding a handle could make it run again.
    pub(crate) fn is_unwakeable(&self) -> bool {
        // SAFETY: `self` keeps the task live.
        let (refs, scheduled) = unsafe { (refs(self.ptr), scheduled(self.ptr)) };
        refs.load(Ordering::Acquire) == 1 && !scheduled.load(Ordering::Acquire)
    }

    /// Whether both name the same task.
    pub(crate) fn ptr_eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }

    /// Whether the stage may be touched: not running, not released.
    fn stage_accessible(&self) -> bool {
        !self.core().is(flag::RUNNING | flag::RELEASED)
    }

    /// Polls the future once with `cx`; `Ready` once it finished, with `true` if it
    /// panicked.
    ///
    /// # Panics
    ///
    /// If the task is already being polled (the caller sets `RUNNING` around this).
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<bool> {
        // A live `TaskRef` holds a local count, and `RELEASED` is set only when the last
        // one goes; were it set, the stage is `Taken` and the poll returns `Ready`.
        debug_assert!(
            !self.core().is(flag::RELEASED),
            "a released task was polled"
        );
        // SAFETY: owner thread (`TaskRef` is `!Send`), live; the loop sets `RUNNING`
        // around this call and never polls a `RUNNING` task, so it is not re-entered.
        unsafe { (self.header().vtable.poll)(self.ptr, cx) }
    }

    /// Runs `f` with a waker for this task, without touching the reference count.
    pub(crate) fn with_waker<R>(&self, f: impl FnOnce(&Waker) -> R) -> R {
        let raw = RawWaker::new(self.ptr.as_ptr().cast_const().cast(), &WAKER_VTABLE);
        // SAFETY: the vtable's contract holds for a live task; `ManuallyDrop` means this
        // borrowed waker never releases the reference it does not own, and it cannot
        // outlive `self` (clones take their own reference).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
        f(&waker)
    }

    /// Wakes the task (queues it unless it is queued already).
    pub(crate) fn wake(&self) {
        self.with_waker(Waker::wake_by_ref);
    }

    /// A queue entry for the task, unless it is queued already.
    pub(crate) fn schedule(&self) -> Option<WakeRef> {
        // SAFETY: `self` keeps the task live.
        if unsafe { scheduled(self.ptr) }.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: `self` holds a reference, so adding one is allowed.
        unsafe { acquire(self.ptr) };
        Some(WakeRef { ptr: self.ptr })
    }

    /// Drops the future or output (loop teardown, a `newthread` dropped unstarted).
    pub(crate) fn cancel(&self) {
        if self.stage_accessible() {
            // SAFETY: owner thread, live, not running (checked).
            unsafe { (self.header().vtable.cancel)(self.ptr) };
        }
    }

    /// Takes the caught panic, if the task panicked and nobody took it yet.
    pub(crate) fn take_panic(&self) -> Option<Payload> {
        if !self.stage_accessible() {
            return None;
        }
        // SAFETY: owner thread, live, not running (checked).
        unsafe { (self.header().vtable.take_panic)(self.ptr) }
    }

    /// Drops the output (nobody can join any more).
    pub(crate) fn discard_output(&self) {
        self.cancel();
    }

    /// Takes the output if the task has finished.
    ///
    /// # Safety
    ///
    /// `T` is the output type of the task's future.
    pub(crate) unsafe fn read_output<T>(&self) -> Option<Result<T, JoinError>> {
        let mut out: Option<Result<T, JoinError>> = None;
        if self.stage_accessible() {
            // SAFETY: owner thread, live, not running (checked); the caller guarantees
            // that `out` has the type the vtable writes.
            unsafe { (self.header().vtable.read_output)(self.ptr, ptr::from_mut(&mut out).cast()) };
        }
        out
    }

    /// The last local handle is gone: drop everything `!Send` here, on the owner thread,
    /// then release the local group's atomic reference. Out of line: the drop of every
    /// other handle is a decrement.
    #[cold]
    #[inline(never)]
    fn release_local(&self) {
        let core = self.core();
        core.set(flag::RELEASED | flag::DONE);
        // SAFETY: owner thread, live, and not running (a running task is held by the
        // loop's current-task slot, so its local count is not zero).
        unsafe { (self.header().vtable.cancel)(self.ptr) };
        drop(core.take_extras());
        // SAFETY: the local group owns one reference; this is its release.
        unsafe { release(self.ptr) };
    }
}

/// A task named by its address, without a handle (no reference count moves): what the
/// loop records as its current task for the length of a poll, while the poller's
/// [`TaskRef`] keeps the task alive.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskPtr(NonNull<Header>);

impl TaskPtr {
    /// A new local handle to the task.
    ///
    /// # Safety
    ///
    /// Owner thread, and a local handle to the task is alive during the call.
    pub(crate) unsafe fn to_ref(self) -> TaskRef {
        let borrowed = ManuallyDrop::new(TaskRef {
            ptr: self.0,
            _local: PhantomData,
        });
        TaskRef::clone(&borrowed)
    }
}

impl TaskRef {
    /// The task's address, to name it without a handle.
    pub(crate) fn as_task_ptr(&self) -> TaskPtr {
        TaskPtr(self.ptr)
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> Self {
        let local = &self.core().local;
        local.set(local.get() + 1);
        Self {
            ptr: self.ptr,
            _local: PhantomData,
        }
    }
}

impl Drop for TaskRef {
    #[inline]
    fn drop(&mut self) {
        let local = &self.core().local;
        local.set(local.get() - 1);
        if local.get() == 0 {
            self.release_local();
        }
    }
}

impl WakeRef {
    /// Whether the task belongs to the loop with this remote queue.
    pub(crate) fn shares(&self, shared: &Arc<Shared>) -> bool {
        // SAFETY: `self` keeps the task live; `shared` is set at creation and never
        // changes, and an `Arc` may be read from any thread.
        let mine = unsafe { &*ptr::addr_of!((*self.ptr.as_ptr()).shared) };
        Arc::ptr_eq(mine, shared)
    }

    /// Marks the task no longer queued (right before the loop looks at it).
    pub(crate) fn clear_scheduled(&self) {
        // SAFETY: `self` keeps the task live.
        unsafe { scheduled(self.ptr) }.store(false, Ordering::Release);
    }

    /// A local handle, unless every local handle is gone (the task finished and was
    /// forgotten).
    ///
    /// # Safety
    ///
    /// Call only on the task's owner thread (the loop's).
    pub(crate) unsafe fn to_local(&self) -> Option<TaskRef> {
        // SAFETY: owner thread (caller), and `self` keeps the allocation live.
        let core = unsafe { &(*self.ptr.as_ptr()).core };
        if core.local.get() == 0 {
            return None;
        }
        core.local.set(core.local.get() + 1);
        Some(TaskRef {
            ptr: self.ptr,
            _local: PhantomData,
        })
    }

    /// The task's address, naming it in tests.
    #[cfg(test)]
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Asks the CPU to load the task's header: it is polled soon.
    pub(crate) fn prefetch(&self) {
        prefetch_task(self.ptr.as_ptr().cast_const().cast());
    }

    /// The task's key in its loop's task list.
    ///
    /// # Safety
    ///
    /// Call only on the task's owner thread (the loop's).
    pub(crate) unsafe fn key(&self) -> u32 {
        // SAFETY: owner thread (caller), and `self` keeps the allocation live.
        unsafe { (*self.ptr.as_ptr()).core.key }
    }

    /// Queues the task: on its loop's local run queue when that loop runs on this thread,
    /// else on its remote queue.
    #[inline]
    fn schedule(self) {
        if let Err(entry) = context::push_local(self) {
            entry.schedule_remote();
        }
    }

    /// Queues the task on its loop's remote queue (a wake from another OS thread, or
    /// from outside the loop): out of line, so the local wake saves few registers.
    #[cold]
    #[inline(never)]
    fn schedule_remote(self) {
        // SAFETY: `self` keeps the task live; `shared` never changes (see `shares`).
        let shared = Arc::clone(unsafe { &*ptr::addr_of!((*self.ptr.as_ptr()).shared) });
        shared.push_remote(self);
    }
}

impl Drop for WakeRef {
    fn drop(&mut self) {
        // SAFETY: a `WakeRef` owns one reference.
        unsafe { release(self.ptr) };
    }
}

/// The task behind a raw waker's data pointer.
///
/// # Safety
///
/// `data` is the data pointer of a waker made with [`WAKER_VTABLE`]: the address of a
/// task (`with_waker` and `waker_clone` make them from a `NonNull`), so never null. Not
/// testing it again saves a test and a branch in every wake, clone and drop.
#[inline(always)]
unsafe fn waker_ptr(data: *const ()) -> NonNull<Header> {
    debug_assert!(!data.is_null(), "a task waker's data is never null");
    // SAFETY: the caller guarantees `data` names a task, so it is not null.
    unsafe { NonNull::new_unchecked(data.cast_mut().cast()) }
}

/// Asks the CPU to start loading the task a task waker names, ahead of its wake: the
/// timers wake sleeping tasks in deadline order, so in random memory order, and each wake
/// would otherwise wait for its own cache miss. Does nothing for other wakers.
pub(crate) fn prefetch_waker(waker: &Waker) {
    if ptr::eq(waker.vtable(), &WAKER_VTABLE) {
        prefetch_task(waker.data().cast());
    }
}

/// Asks the CPU to load the header of the task at `at` (it may straddle two lines).
fn prefetch_task(at: *const u8) {
    hint::prefetch(at);
    hint::prefetch(at.wrapping_add(64));
}

/// `RawWakerVTable::clone`.
unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: a waker of this vtable names a task; the waker being cloned holds (or
    // borrows from a `TaskRef`) a reference.
    unsafe { acquire(waker_ptr(data)) };
    RawWaker::new(data, &WAKER_VTABLE)
}

/// `RawWakerVTable::wake`: consumes the waker's reference.
unsafe fn waker_wake(data: *const ()) {
    let entry = WakeRef {
        // SAFETY: a waker of this vtable names a task.
        ptr: unsafe { waker_ptr(data) },
    };
    // SAFETY: `entry` (the waker's reference) keeps the task live.
    if !unsafe { scheduled(entry.ptr) }.swap(true, Ordering::AcqRel) {
        entry.schedule();
    }
}

/// `RawWakerVTable::wake_by_ref`.
unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: a waker of this vtable names a task.
    let ptr = unsafe { waker_ptr(data) };
    // SAFETY: the waker holds (or borrows) a reference, so the task is live and one more
    // reference may be added for the queue entry.
    unsafe {
        if !scheduled(ptr).swap(true, Ordering::AcqRel) {
            acquire(ptr);
            WakeRef { ptr }.schedule();
        }
    }
}

/// `RawWakerVTable::drop`.
unsafe fn waker_drop(data: *const ()) {
    // SAFETY: a waker of this vtable names a task; an owned waker holds one reference.
    unsafe { release(waker_ptr(data)) };
}

#[cfg(test)]
mod tests {
    //! Every path through the raw task, small enough for miri.

    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::{Executor, ManualClock, ManualPark};

    /// Counts drops.
    struct DropCount(Rc<Cell<u32>>);

    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// Counts its drops in a borrowed cell (its destructor touches the borrow).
    struct Noted<'a>(&'a Cell<u32>);

    impl Drop for Noted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    /// A slot another thread can fill with a waker.
    type Slot = Arc<Mutex<Option<Waker>>>;

    /// Pending until woken once; leaves its waker in `slot`.
    fn park_once(slot: Slot) -> impl Future<Output = ()> {
        let mut parked = false;
        std::future::poll_fn(move |cx| {
            if parked {
                return Poll::Ready(());
            }
            parked = true;
            *slot.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Pending until woken once; leaves its waker in `slot` and `current()` in `kept`.
    fn park_and_keep(
        slot: Slot,
        kept: &Cell<Option<crate::ThreadRef>>,
    ) -> impl Future<Output = ()> {
        kept.set(Some(crate::current()));
        park_once(slot)
    }

    #[test]
    fn spawn_complete_join_and_drop_output() {
        let drops = Rc::new(Cell::new(0));
        let ex = Executor::new();
        let d = drops.clone();
        let joined = ex.spawn(async move { DropCount(d) });
        let d = drops.clone();
        let detached = ex.spawn(async move { DropCount(d) });
        drop(detached);
        ex.start();
        assert_eq!(drops.get(), 1, "a detached output is dropped at once");
        let out = joined.try_join().unwrap().unwrap();
        assert_eq!(drops.get(), 1);
        drop(out);
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn an_unread_output_is_dropped_with_the_last_handle() {
        let drops = Rc::new(Cell::new(0));
        let ex = Executor::new();
        let d = drops.clone();
        let t = ex.spawn(async move { DropCount(d) });
        ex.start();
        assert_eq!(drops.get(), 0);
        drop(t);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn wakers_from_other_threads_outlive_the_task_and_the_loop() {
        let slot: Slot = Arc::default();
        let ex = Executor::new();
        let t = ex.spawn(park_once(slot.clone()));
        ex.poll(Some(Duration::ZERO));
        let waker = slot.lock().unwrap().take().unwrap();
        let clone = waker.clone();
        std::thread::spawn(move || waker.wake()).join().unwrap();
        ex.poll(None);
        assert!(t.is_finished());
        drop(t);
        drop(ex);
        std::thread::spawn(move || {
            clone.wake_by_ref();
            drop(clone);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_woken_task_whose_handles_are_gone_is_skipped() {
        let slot: Slot = Arc::default();
        let drops = Rc::new(Cell::new(0));
        let ex = Executor::new();
        let d = DropCount(drops.clone());
        let t = ex.newthread(async move {
            let _d = d;
            std::future::pending::<()>().await;
        });
        drop(ex.spawn(park_once(slot.clone())));
        ex.poll(Some(Duration::ZERO));
        drop(t); // never started: dropped now
        assert_eq!(drops.get(), 1);
        let waker = slot.lock().unwrap().take().unwrap();
        waker.wake_by_ref();
        waker.wake_by_ref(); // queued once
        ex.start();
        drop(waker);
    }

    #[test]
    fn pending_tasks_are_dropped_with_the_loop() {
        let drops = Rc::new(Cell::new(0));
        let ex = Executor::new();
        for _ in 0..3 {
            let d = DropCount(drops.clone());
            drop(ex.spawn(async move {
                let _d = d;
                std::future::pending::<()>().await;
            }));
        }
        ex.poll(Some(Duration::ZERO));
        drop(ex);
        assert_eq!(drops.get(), 3);
    }

    #[test]
    fn panics_are_caught_and_their_payload_dropped() {
        let ex = Executor::new();
        let t = ex.spawn(async { panic!("caught") });
        ex.start();
        assert!(t.try_join().unwrap().unwrap_err().is_panic());
        let t = ex.spawn(async { std::panic::panic_any(String::from("dropped unread")) });
        ex.start();
        drop(t); // the payload is taken and kept for the next poll
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| ex.poll(Some(Duration::ZERO))));
        assert!(caught.is_err());
    }

    #[test]
    fn a_future_may_wake_itself_while_running_and_from_its_destructor() {
        struct WakeOnDrop(Waker);
        impl Drop for WakeOnDrop {
            fn drop(&mut self) {
                self.0.wake_by_ref();
            }
        }
        let ex = Executor::new();
        let mut polls = 0;
        let t = ex.spawn(std::future::poll_fn(move |cx| {
            polls += 1;
            cx.waker().wake_by_ref();
            let guard = WakeOnDrop(cx.waker().clone());
            if polls < 3 {
                drop(guard);
                Poll::Pending
            } else {
                let kept = guard.0.clone();
                drop(guard);
                drop(kept);
                Poll::Ready(polls)
            }
        }));
        ex.start();
        assert_eq!(t.try_join().unwrap().unwrap(), 3);
    }

    #[test]
    fn a_borrowing_run_drops_its_future_before_returning() {
        let slot: Slot = Arc::default();
        let kept = Cell::new(None);
        let ex = Executor::new();
        let data = Box::new(40u32);
        let s = slot.clone();
        let waker = std::thread::spawn(move || {
            loop {
                if let Some(w) = s.lock().unwrap().take() {
                    break w.wake();
                }
                std::thread::yield_now();
            }
        });
        let out = ex.run(async {
            park_and_keep(slot.clone(), &kept).await;
            &*data
        });
        waker.join().unwrap();
        assert_eq!(*out + 2, 42);
        drop(data); // the task still exists (kept), its future and output do not
        let kept = kept.take().unwrap();
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| kept.resume(())));
        assert!(caught.is_err(), "a finished thread cannot be resumed");
        drop(ex);
        drop(kept);
    }

    #[test]
    fn a_borrowing_run_cancelled_by_a_panic_drops_its_future_in_place() {
        let slot: Slot = Arc::default();
        let kept = Cell::new(None);
        let ex = Executor::new();
        let count = Box::new(Cell::new(0));
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            ex.run(async {
                drop(crate::spawn(async { panic!("elsewhere") }));
                let _noted = Noted(&count);
                park_and_keep(slot.clone(), &kept).await;
            })
        }))
        .is_err();
        assert!(panicked);
        assert_eq!(count.get(), 1, "dropped before run unwound");
        drop(count);
        let waker = slot.lock().unwrap().take().unwrap();
        std::thread::spawn(move || waker.wake()).join().unwrap();
        assert!(
            !ex.poll(Some(Duration::ZERO)),
            "the cancelled thread is not polled"
        );
        let kept = kept.take().unwrap();
        assert!(kept.is_finished());
        drop(ex);
        drop(kept);
    }

    #[test]
    fn a_borrowed_output_left_by_an_unwinding_run_is_dropped_inside_it() {
        let kept = Cell::new(None);
        let ex = Executor::new();
        let count = Box::new(Cell::new(0));
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
            ex.run(async {
                drop(crate::spawn(async { panic!("after it finished") }));
                kept.set(Some(crate::current()));
                Noted(&count)
            })
        }))
        .is_err();
        assert!(panicked);
        assert_eq!(count.get(), 1);
        drop(count);
        drop(kept.take());
    }

    #[test]
    fn resume_suspend_and_timers_under_a_manual_clock() {
        let clock = ManualClock::new();
        let ex = Executor::with_park(ManualPark::new(clock.clone()), clock);
        let t = ex.newthread(async {
            let n = crate::suspend().await.take::<u32>();
            crate::sleep(Duration::from_millis(3)).await;
            crate::yield_(n + 1).await;
            String::from("end")
        });
        t.resume(());
        assert!(t.resume(1u32).is_none(), "sleeping");
        ex.poll(None); // the park jumps the clock 3 ms; the thread yields
        assert!(t.is_suspended());
        t.resume(());
        assert_eq!(t.try_join().unwrap().unwrap(), "end");
    }
}
