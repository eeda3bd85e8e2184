//! [`Handle`]: reaching a loop from any OS thread — spawn `Send` work there, stop it —
//! and [`RemoteJoin`], the output of such work.
//!
//! A handle owns an inbox: a queue of jobs and the waker of a small service task on the
//! loop. Sending a job queues it and wakes the service task (a cross-thread wake of
//! `sock-sched`, which unparks the loop's reactor); the service task runs the jobs on the
//! loop's thread, where each spawns an ordinary local task. The service task ends when
//! the last handle is dropped, so while a handle lives the loop counts as busy and
//! `start()` keeps running (until [`Handle::stop`]).

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};

use crate::oneshot::{self, Receiver};
use crate::runtime::Loop;

/// Work sent to a loop: runs on the loop's thread, inside one of its tasks.
type Job = Box<dyn FnOnce() + Send>;

/// A handle to a loop, usable from any OS thread: spawns `Send` work on the loop and
/// wakes it. Cheap to clone; `Send + Sync`.
///
/// While any handle to a loop lives, the loop has a (sleeping) service task, so its
/// [`start`](Loop::start) runs until [`stop`](Handle::stop) is called or every handle
/// is dropped.
///
/// # Examples
///
/// ```
/// use sock::{Loop, loops::Handle};
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// let thread = std::thread::spawn(move || {
///     let lp = Loop::current();
///     tx.send(Handle::new(&lp)).unwrap();
///     lp.start(); // until the handle stops it
/// });
/// let handle = rx.recv().unwrap();
/// let on_loop = handle.spawn(async { std::thread::current().id() });
/// assert_eq!(on_loop.join().unwrap(), handle.thread_id());
/// handle.stop();
/// thread.join().unwrap();
/// ```
pub struct Handle {
    /// The loop's inbox, shared by the clones.
    inbox: Arc<Inbox>,
}

/// Jobs for a loop and the waker of its service task.
struct Inbox {
    /// Queued jobs and the service task's waker.
    state: Mutex<InboxState>,
    /// Live handles; the service task ends at zero.
    handles: AtomicUsize,
    /// The loop's OS thread.
    thread: ThreadId,
}

/// The locked part of an [`Inbox`].
#[derive(Default)]
struct InboxState {
    /// Jobs not yet run.
    jobs: VecDeque<Job>,
    /// The service task, waiting for jobs.
    waker: Option<Waker>,
    /// The service task is gone (the loop dropped it).
    closed: bool,
}

impl Handle {
    /// A handle to `lp`, which must be this thread's loop (a `Loop` cannot leave its
    /// thread anyway); starts the loop's service task.
    ///
    /// # Examples
    ///
    /// See [`Handle`].
    pub fn new(lp: &Loop) -> Handle {
        let inbox = Arc::new(Inbox {
            state: Mutex::new(InboxState::default()),
            handles: AtomicUsize::new(1),
            thread: thread::current().id(),
        });
        let service = Service(inbox.clone());
        drop(lp.spawn(async move { service.run().await }));
        Handle { inbox }
    }

    /// A handle to this thread's loop ([`Loop::current`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let h = sock::loops::Handle::current();
    /// assert_eq!(h.thread_id(), std::thread::current().id());
    /// ```
    pub fn current() -> Handle {
        Handle::new(&Loop::current())
    }

    /// The OS thread the loop runs on.
    ///
    /// # Examples
    ///
    /// See [`Handle`].
    pub fn thread_id(&self) -> ThreadId {
        self.inbox.thread
    }

    /// Spawns `future` on the loop (it starts at the loop's next iteration, even if the
    /// loop is blocked in its poller now) and returns a handle to its output.
    ///
    /// # Examples
    ///
    /// See [`Handle`].
    pub fn spawn<F>(&self, future: F) -> RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(move || future)
    }

    /// Runs `make` on the loop's thread and spawns the future it returns there: the
    /// future need not be `Send` (it may hold the loop's `!Send` sockets); only `make`
    /// and the output cross threads.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::{Loop, loops::Handle};
    /// # let (tx, rx) = std::sync::mpsc::channel();
    /// # let thread = std::thread::spawn(move || {
    /// #     let lp = Loop::current();
    /// #     tx.send(Handle::new(&lp)).unwrap();
    /// #     lp.start();
    /// # });
    /// # let handle = rx.recv().unwrap();
    /// let port = handle.spawn_with(|| async {
    ///     let s = sock::tcp(sock::Family::INET)?; // !Send, made on the loop's thread
    ///     s.bind("127.0.0.1", 0)?;
    ///     Ok::<_, sock::Error>(s.local_addr()?.port())
    /// });
    /// assert_ne!(port.join().unwrap()?, 0);
    /// # handle.stop();
    /// # thread.join().unwrap();
    /// # Ok::<(), sock::Error>(())
    /// ```
    pub fn spawn_with<M, F>(&self, make: M) -> RemoteJoin<F::Output>
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        let (sender, output) = oneshot::channel();
        let join = RemoteJoin { output };
        self.send(Box::new(move || {
            let future = make();
            drop(crate::spawn(async move {
                let out = CatchUnwind(Box::pin(future)).await;
                sender.send(out);
            }));
        }));
        join
    }

    /// Makes the loop's [`start`](Loop::start) return after its current iteration.
    ///
    /// # Examples
    ///
    /// See [`Handle`].
    pub fn stop(&self) {
        self.send(Box::new(|| Loop::current().stop()));
    }

    /// Queues a job and wakes the service task; a job for a gone loop is dropped (its
    /// [`RemoteJoin`] reports that).
    fn send(&self, job: Job) {
        let waker = {
            let mut state = self.inbox.lock();
            if state.closed {
                return;
            }
            state.jobs.push_back(job);
            state.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The loop-side end of an inbox: the service task's state.
struct Service(Arc<Inbox>);

impl Service {
    /// Runs jobs as they come until the last handle is dropped.
    async fn run(&self) {
        poll_fn(|cx| self.poll_jobs(cx)).await;
    }

    fn poll_jobs(&self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let jobs = {
                let mut state = self.0.lock();
                if state.jobs.is_empty() {
                    if self.0.handles.load(Ordering::Acquire) == 0 {
                        return Poll::Ready(());
                    }
                    state.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                std::mem::take(&mut state.jobs)
            };
            jobs.into_iter().for_each(|job| job());
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let jobs = {
            let mut state = self.0.lock();
            state.closed = true;
            std::mem::take(&mut state.jobs)
        };
        drop(jobs); // their RemoteJoins report the loop gone
    }
}

impl Clone for Handle {
    fn clone(&self) -> Handle {
        self.inbox.handles.fetch_add(1, Ordering::AcqRel);
        Handle {
            inbox: self.inbox.clone(),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.inbox.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waker = self.inbox.lock().waker.take();
            if let Some(w) = waker {
                w.wake(); // the service task sees no handle left and ends
            }
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("thread", &self.inbox.thread)
            .finish_non_exhaustive()
    }
}

/// Polls a future, turning a panic into `Err(payload)`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The output of work sent to another thread ([`Handle::spawn`]): await it, or block on
/// it with [`join`](RemoteJoin::join). Like `std::thread::JoinHandle`, it gives
/// `Err(payload)` if the work panicked (or was dropped unrun because its loop is gone).
///
/// # Examples
///
/// See [`Handle`].
#[must_use = "the output is lost unless joined or awaited"]
pub struct RemoteJoin<T> {
    /// Where the work's output lands; the loop drops the sender unsent if it drops the
    /// work.
    output: Receiver<thread::Result<T>>,
}

impl<T> RemoteJoin<T> {
    /// Blocks this OS thread until the output is there.
    ///
    /// # Errors
    ///
    /// The panic payload if the work panicked or its loop dropped it.
    ///
    /// # Examples
    ///
    /// See [`Handle`].
    pub fn join(self) -> thread::Result<T> {
        self.output.recv_blocking().unwrap_or_else(loop_gone)
    }

    /// Whether the output is there.
    ///
    /// # Examples
    ///
    /// ```
    /// # use sock::{Loop, loops::Handle};
    /// let lp = Loop::new()?;
    /// let h = Handle::new(&lp);
    /// let r = h.spawn(async { 1 });
    /// assert!(!r.is_finished()); // the loop has not run yet
    /// while !r.is_finished() {
    ///     lp.poll(Some(std::time::Duration::ZERO));
    /// }
    /// assert_eq!(r.join().unwrap(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.output.is_ready()
    }
}

impl<T> Future for RemoteJoin<T> {
    type Output = thread::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.output
            .poll_recv(cx)
            .map(|out| out.unwrap_or_else(loop_gone))
    }
}

/// What a [`RemoteJoin`] gives when the loop dropped the work unrun (or unfinished).
fn loop_gone<T>() -> thread::Result<T> {
    let gone: Box<dyn Any + Send> = Box::new("sock: the loop was dropped before the work finished");
    Err(gone)
}

impl<T> fmt::Debug for RemoteJoin<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoin")
            .field("finished", &self.is_finished())
            .finish()
    }
}
