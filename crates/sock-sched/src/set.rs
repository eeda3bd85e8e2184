//! [`ThreadSet`]: a group of threads joined in the order they finish, cancelled together.
//!
//! The set holds a [`Thread`] handle per member, under a key of its own. Each member
//! gets an `on_finish` callback that queues its key on a list shared with the set and
//! wakes the task waiting in [`ThreadSet::join_next`]: completion order is the order
//! the callbacks ran. Holding the handles means members' panics go to the set's joins,
//! never to the loop's [`PanicPolicy`](crate::PanicPolicy), while the set lives.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::executor::Executor;
use crate::thread::{JoinError, Thread, ThreadRef};

/// A set of threads with the same output type: spawn into it, join them as they finish
/// ([`join_next`](ThreadSet::join_next)), and cancel whatever is left by dropping it.
///
/// Like tokio's `JoinSet`, for the threads a server starts per connection or per
/// request: bounded bookkeeping, one place to wait for "the next one done", and no
/// thread outliving the set by accident.
///
/// Dropping the set cancels every member still running (see [`ThreadRef::cancel`]);
/// a member that finished with a panic nobody joined then goes to the loop's
/// [`PanicPolicy`](crate::PanicPolicy), like any panicked thread whose last handle is
/// dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock::sched::{Executor, ThreadSet, sleep};
///
/// let ex = Executor::new();
/// let order = ex.run(async {
///     let mut set = ThreadSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(result) = set.join_next().await {
///         order.push(result.unwrap());
///     }
///     order
/// });
/// assert_eq!(order, [10, 20, 30]);
/// ```
pub struct ThreadSet<T> {
    /// The members not joined yet, by their key in this set.
    threads: HashMap<u64, Thread<T>>,
    /// The key of the next member.
    next_key: u64,
    /// Keys of finished members, in the order they finished; shared with their callbacks.
    done: Rc<Done>,
}

/// What members' `on_finish` callbacks share with their set.
#[derive(Default)]
struct Done {
    /// Keys of finished members not joined yet, oldest first.
    keys: RefCell<VecDeque<u64>>,
    /// The task waiting in `join_next`, if any.
    waker: Cell<Option<Waker>>,
}

impl<T: 'static> ThreadSet<T> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = sock::sched::ThreadSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            threads: HashMap::new(),
            next_key: 0,
            done: Rc::default(),
        }
    }

    /// Spawns `future` as a thread of the current loop (see [`spawn`](crate::spawn)) and
    /// adds it to the set; gives a handle to it (to cancel it alone, say).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut set = sock::sched::ThreadSet::new();
    /// set.spawn(async { 1 });
    /// assert_eq!(set.len(), 1);
    /// ```
    pub fn spawn<F: Future<Output = T> + 'static>(&mut self, future: F) -> ThreadRef {
        let thread = Executor::current().spawn(future);
        let handle = thread.to_ref();
        self.insert(thread);
        handle
    }

    /// Adds a thread made elsewhere (named with a [`Builder`](crate::Builder), on
    /// another loop of this OS thread, not started yet, or already finished).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::sched::{Builder, Executor, ThreadSet};
    ///
    /// let ex = Executor::new();
    /// let mut set = ThreadSet::new();
    /// set.insert(Builder::new().name("worker").spawn_on(&ex, async { 5 }));
    /// assert_eq!(ex.run(set.join_next()).unwrap().unwrap(), 5);
    /// ```
    pub fn insert(&mut self, thread: Thread<T>) {
        let key = self.next_key;
        self.next_key += 1;
        let done = self.done.clone();
        thread.on_finish(move |_| done.push(key));
        self.threads.insert(key, thread);
    }

    /// Waits for the next member to finish and gives its output, in the order members
    /// finish; `None` once the set is empty.
    ///
    /// Cancel-safe: dropping the future before it is ready loses nothing.
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` for a member that panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// See [`ThreadSet`].
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`join_next`](ThreadSet::join_next) without waiting: the output of a member that
    /// has finished, if any.
    ///
    /// # Errors
    ///
    /// `Some(Err(_))` for a member that panicked or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let mut set = sock::sched::ThreadSet::new();
    /// ex.run(async {
    ///     set.spawn(async { "quick" });
    ///     assert!(set.try_join_next().is_none()); // not run yet
    ///     sock::sched::sleep(std::time::Duration::from_millis(1)).await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), "quick");
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        loop {
            let key = self.done.keys.borrow_mut().pop_front()?;
            if let Some(thread) = self.threads.remove(&key) {
                let result = thread.try_join();
                return Some(result.expect("a member's key is queued once it has finished"));
            }
        }
    }

    /// Cancels every member (see [`ThreadRef::cancel`]); they stay in the set, and
    /// [`join_next`](ThreadSet::join_next) gives a cancelled [`JoinError`] for each
    /// (or the output of one that had already finished).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let mut set = sock::sched::ThreadSet::new();
    /// set.insert(ex.spawn(std::future::pending::<()>()));
    /// set.cancel_all();
    /// assert!(ex.run(set.join_next()).unwrap().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel_all(&mut self) {
        for thread in self.threads.values() {
            thread.cancel();
        }
    }

    /// Members not joined yet (running, or finished and waiting for a join).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let mut set = sock::sched::ThreadSet::new();
    /// set.insert(ex.spawn(async {}));
    /// assert_eq!(set.len(), 1);
    /// ex.run(set.join_next());
    /// assert_eq!(set.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Whether no member is left to join.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock::sched::ThreadSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// The next finished member's output, or `None` when the set is empty; `Pending`
    /// (with the waker kept) otherwise.
    fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if let Some(result) = self.try_join_next() {
            return Poll::Ready(Some(result));
        }
        if self.threads.is_empty() {
            return Poll::Ready(None);
        }
        self.done.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Done {
    /// A member finished: queues its key and wakes the joiner.
    fn push(&self, key: u64) {
        self.keys.borrow_mut().push_back(key);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl<T> Drop for ThreadSet<T> {
    fn drop(&mut self) {
        for thread in self.threads.values() {
            thread.cancel();
        }
    }
}

impl<T: 'static> Default for ThreadSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for ThreadSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadSet")
            .field("len", &self.threads.len())
            .field("finished", &self.done.keys.borrow().len())
            .finish()
    }
}
