//! [`JoinHandle`]: awaiting (or blocking on) the output of a task of a [`Pool`](super::Pool).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// The handle of a task spawned on a [`Pool`](super::Pool): a future of its output.
///
/// Dropping it detaches the task (it runs on), as a seed thread does.
///
/// # Panics
///
/// Awaited or joined, if the task was cancelled before it finished: its pool was
/// [closed](super::Pool::close).
///
/// # Examples
///
/// See [`Pool`](super::Pool).
#[must_use = "dropping a JoinHandle detaches the task"]
pub struct JoinHandle<T> {
    /// The async-task handle (its output `None` if the task was cancelled); `None`
    /// once detached or joined.
    task: Option<async_task::FallibleTask<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<T>) -> Self {
        Self {
            task: Some(task.fallible()),
        }
    }

    /// Whether the task has finished (or panicked).
    ///
    /// # Examples
    ///
    /// See [`Pool`](super::Pool).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Lets the task run on without anyone waiting for its output.
    ///
    /// # Examples
    ///
    /// See [`Pool`](super::Pool).
    pub fn detach(mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }

    /// Blocks this OS thread until the task finishes and returns its output. For threads
    /// outside the pool (calling it on a worker blocks that worker meanwhile).
    ///
    /// # Panics
    ///
    /// With the task's panic, if it panicked; if it was cancelled (its pool closed).
    ///
    /// # Examples
    ///
    /// See [`Pool`](super::Pool).
    pub fn join(mut self) -> T {
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = Pin::new(&mut self).poll(&mut cx) {
                return out;
            }
            thread::park();
        }
    }
}

/// Wakes a blocked [`JoinHandle::join`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let task = self
            .task
            .as_mut()
            .expect("sock-sched: JoinHandle polled after it returned its output");
        let out = std::task::ready!(Pin::new(task).poll(cx));
        self.task = None;
        let out = out.unwrap_or_else(|| {
            panic!("sock-sched: joined a task that was cancelled: its pool was closed")
        });
        Poll::Ready(out)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
