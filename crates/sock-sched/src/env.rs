//! Per-thread environment: typed values a thread can set and read, inherited (as a
//! snapshot) by the threads it creates.
//!
//! Each thread owns a map from type to value. A new thread starts with a copy of its
//! creator's map (values are shared behind `Rc` until one side sets a new value), so a
//! child sees what its parent had at creation, and later changes on either side stay
//! isolated. Outside any thread, the functions act on the loop's root environment, which
//! threads created from outside inherit.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::rc::Rc;

use crate::executor::Executor;
use crate::thread::ThreadRef;

/// A thread's environment.
#[derive(Clone, Default)]
pub(crate) struct Env {
    /// One value per type.
    values: HashMap<TypeId, Rc<dyn Any>>,
}

impl Env {
    /// Sets the value of type `T`, returning the previous one's handle.
    pub(crate) fn insert<T: 'static>(&mut self, value: T) -> Option<Rc<dyn Any>> {
        self.values.insert(TypeId::of::<T>(), Rc::new(value))
    }

    /// The value of type `T`.
    pub(crate) fn get<T: 'static>(&self) -> Option<Rc<dyn Any>> {
        self.values.get(&TypeId::of::<T>()).cloned()
    }

    /// Removes the value of type `T`.
    pub(crate) fn remove<T: 'static>(&mut self) -> Option<Rc<dyn Any>> {
        self.values.remove(&TypeId::of::<T>())
    }

    /// Whether nothing is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A copy for a new thread, `None` if empty.
    pub(crate) fn inherit(&self) -> Option<Self> {
        if self.is_empty() {
            None
        } else {
            Some(self.clone())
        }
    }
}

/// Runs `f` on the environment of the current thread, or of the current loop's root
/// outside a thread. `f` must not run user code (the environment is borrowed).
fn with_current<R>(f: impl FnOnce(&mut Env) -> R) -> R {
    if let Some(task) = crate::context::entered().and_then(|inner| inner.current_task()) {
        return task.core().extras(|e| f(&mut e.env));
    }
    let ex = Executor::current();
    let mut root = ex.inner.root_env.borrow_mut();
    f(&mut root)
}

/// Downcasts an environment value to `T`.
fn downcast<T: 'static>(value: Rc<dyn Any>) -> Rc<T> {
    value
        .downcast::<T>()
        .unwrap_or_else(|_| unreachable!("env values are keyed by their TypeId"))
}

/// The current thread's value of type `T` (the loop's root value outside a thread).
///
/// # Examples
///
/// ```
/// use sock::{run, spawn, task::{env, set_env}};
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct User(&'static str);
///
/// let seen = run(async {
///     set_env(User("ana"));
///     spawn(async { env::<User>() }).join().await.unwrap() // inherited
/// });
/// assert_eq!(seen, Some(User("ana")));
/// ```
#[doc(alias = "threadenv")]
pub fn env<T: Clone + 'static>() -> Option<T> {
    with_env(|v: Option<&T>| v.cloned())
}

/// Calls `f` with a reference to the current thread's value of type `T`, if any.
///
/// # Examples
///
/// ```
/// use sock::{run, task::{set_env, with_env}};
///
/// let len = run(async {
///     set_env(vec![1, 2, 3]);
///     with_env(|v: Option<&Vec<i32>>| v.map_or(0, Vec::len))
/// });
/// assert_eq!(len, 3);
/// ```
pub fn with_env<T: 'static, R>(f: impl FnOnce(Option<&T>) -> R) -> R {
    let value = with_current(|env| env.get::<T>());
    match value {
        Some(value) => f(Some(&*downcast::<T>(value))),
        None => f(None),
    }
}

/// Sets the current thread's value of type `T` (the loop's root value outside a thread:
/// threads created from outside inherit it). Threads created later inherit it; threads
/// created earlier and the parent are not affected.
///
/// # Examples
///
/// ```
/// use sock::{run, task::{env, set_env}};
///
/// assert_eq!(run(async { set_env(5u16); env::<u16>() }), Some(5));
/// ```
#[doc(alias = "threadenv")]
pub fn set_env<T: 'static>(value: T) {
    let previous = with_current(|env| env.insert(value));
    drop(previous);
}

/// Removes the current thread's value of type `T`.
///
/// # Examples
///
/// ```
/// use sock::{run, task::{env, remove_env, set_env}};
///
/// assert_eq!(run(async { set_env(1u8); remove_env::<u8>(); env::<u8>() }), None);
/// ```
pub fn remove_env<T: 'static>() {
    let previous = with_current(|env| env.remove::<T>());
    drop(previous);
}

impl ThreadRef {
    /// The thread's value of type `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{sched::Executor, task::{set_env, suspend}};
    ///
    /// let ex = Executor::new();
    /// let t = ex.thread(async {
    ///     set_env("mine");
    ///     suspend().await;
    /// });
    /// assert_eq!(t.env::<&str>(), Some("mine"));
    /// ```
    #[doc(alias = "threadenv")]
    pub fn env<T: Clone + 'static>(&self) -> Option<T> {
        let value = self
            .task
            .core()
            .with_extras(|e| e.env.get::<T>())
            .flatten()?;
        Some(downcast::<T>(value).as_ref().clone())
    }

    /// Sets the thread's value of type `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{sched::Executor, task::env};
    ///
    /// let ex = Executor::new();
    /// let t = ex.newthread(async { env::<u32>() });
    /// t.set_env(9u32);
    /// t.resume(());
    /// assert_eq!(t.try_join().unwrap().unwrap(), Some(9));
    /// ```
    #[doc(alias = "threadenv")]
    pub fn set_env<T: 'static>(&self, value: T) {
        let previous = self.task.core().extras(|e| e.env.insert(value));
        drop(previous);
    }
}
