//! [`Builder`]: thread options (a name) before creating a thread.

use std::future::Future;
use std::sync::Arc;

use crate::executor::Executor;
use crate::task::Extras;
use crate::thread::Thread;

/// Options for a new thread.
///
/// # Examples
///
/// ```
/// use sock::{sched::Executor, task::Builder};
///
/// let ex = Executor::new();
/// let t = Builder::new().name("worker").spawn_on(&ex, async { 1 });
/// assert_eq!(t.name().as_deref(), Some("worker"));
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a builder does nothing until a thread is created with it"]
pub struct Builder {
    /// The thread's name.
    name: Option<Arc<str>>,
}

impl Builder {
    /// Default options: no name.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::task::Builder::new().spawn(async {});
    /// assert_eq!(t.name(), None);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::task::Builder::new().name("reader").spawn(async {});
    /// assert_eq!(t.name().as_deref(), Some("reader"));
    /// ```
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Spawns the thread on the current loop, queued to run; see [`crate::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::task::Builder::new().name("n").spawn(async { 3 });
    /// sock::start();
    /// assert_eq!(t.try_join().unwrap().unwrap(), 3);
    /// ```
    pub fn spawn<F: Future + 'static>(self, future: F) -> Thread<F::Output> {
        self.spawn_on(&Executor::current(), future)
    }

    /// Spawns the thread on `executor`, queued to run.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = sock::task::Builder::new().spawn_on(&ex, async { 4 });
    /// assert_eq!(ex.run(t.join()).unwrap(), 4);
    /// ```
    pub fn spawn_on<F: Future + 'static>(
        self,
        executor: &Executor,
        future: F,
    ) -> Thread<F::Output> {
        executor.spawn_with(future, self.into_extras())
    }

    /// Creates the thread on the current loop without starting it; see
    /// [`crate::newthread`].
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::task::Builder::new().name("later").newthread(async { 1 });
    /// assert!(!t.is_started());
    /// ```
    pub fn newthread<F: Future + 'static>(self, future: F) -> Thread<F::Output> {
        self.newthread_on(&Executor::current(), future)
    }

    /// Creates the thread on `executor` without starting it.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = sock::task::Builder::new().newthread_on(&ex, async { 1 });
    /// t.resume(());
    /// assert!(t.is_finished());
    /// ```
    pub fn newthread_on<F: Future + 'static>(
        self,
        executor: &Executor,
        future: F,
    ) -> Thread<F::Output> {
        executor.create(future, self.into_extras())
    }

    /// Creates the thread on the current loop and runs it until its first suspension; see
    /// [`crate::thread()`].
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sock::task::Builder::new().name("now").thread(async { 2 });
    /// assert!(t.is_finished());
    /// ```
    pub fn thread<F: Future + 'static>(self, future: F) -> Thread<F::Output> {
        self.thread_on(&Executor::current(), future)
    }

    /// Creates the thread on `executor` and runs it until its first suspension.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = sock::sched::Executor::new();
    /// let t = sock::task::Builder::new().thread_on(&ex, async { 2 });
    /// assert_eq!(t.try_join().unwrap().unwrap(), 2);
    /// ```
    pub fn thread_on<F: Future + 'static>(
        self,
        executor: &Executor,
        future: F,
    ) -> Thread<F::Output> {
        let t = self.newthread_on(executor, future);
        t.resume(());
        t
    }

    /// The per-task extras these options need (none for default options).
    pub(crate) fn into_extras(self) -> Option<Box<Extras>> {
        let name = self.name?;
        Some(Box::new(Extras {
            name: Some(name),
            ..Extras::default()
        }))
    }
}
