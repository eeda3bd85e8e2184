//! Async generators: [`cowrap`] / [`Generator::new`], the body's [`Co`] handle, and
//! statically typed values both ways.
//!
//! The body is polled inline by whoever awaits [`Generator::next`] /
//! [`Generator::resume`], with that caller's waker. `co.yield_(y)` stores `y` in a shared
//! slot and returns `Pending`; the consumer's future sees the value and completes with it.
//! If the body waits on something else (a socket, a timer), the consumer's future stays
//! pending and is woken through the consumer's waker, so the body may do I/O between
//! yields. No task, no allocation per value.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// An async generator yielding `Y`s, resumed with `R`s, finishing with a `T`.
///
/// # Examples
///
/// ```
/// use sock::{run, task::cowrap};
///
/// let squares = run(async {
///     let mut g = cowrap(|co| async move {
///         for i in 1..=4u32 {
///             co.yield_(i * i).await;
///         }
///     });
///     let mut out = vec![];
///     while let Some(v) = g.next().await {
///         out.push(v);
///     }
///     out
/// });
/// assert_eq!(squares, [1, 4, 9, 16]);
/// ```
pub struct Generator<Y, R = (), T = ()> {
    /// The body, until it finishes.
    body: Option<Pin<Box<dyn Future<Output = T>>>>,
    /// Values in flight.
    slot: Rc<Slot<Y, R>>,
    /// The body's output, once finished and until taken.
    output: Option<T>,
}

/// The body's handle: yields values out, receives resume values.
///
/// # Examples
///
/// ```
/// use sock::{run, task::{Co, Generator}};
///
/// let got = run(async {
///     let mut g = Generator::new(|co: Co<u32, u32>| async move {
///         let mut total = co.take_resumed().unwrap_or(0);
///         loop {
///             total += co.yield_(total).await;
///         }
///     });
///     (g.resume(1).await, g.resume(10).await, g.resume(100).await)
/// });
/// assert_eq!(got, (Some(1), Some(11), Some(111)));
/// ```
pub struct Co<Y, R = ()> {
    /// Values in flight, shared with the generator.
    slot: Rc<Slot<Y, R>>,
}

/// The values between a generator and its body.
struct Slot<Y, R> {
    /// Yielded by the body, not yet handed to the consumer.
    out: Cell<Option<Y>>,
    /// Given by the consumer, not yet taken by the body.
    input: Cell<Option<R>>,
}

/// The future of [`Co::yield_`]: completes with the next resume value.
///
/// # Examples
///
/// ```
/// use sock::{run, task::cowrap};
///
/// let mut g = cowrap(|co| async move { co.yield_('a').await });
/// assert_eq!(run(async move { g.next().await }), Some('a'));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CoYield<'a, Y, R> {
    /// The body's handle.
    co: &'a Co<Y, R>,
    /// The value to yield, until the first poll.
    value: Option<Y>,
}

/// The future of [`Generator::next`] and [`Generator::resume`]: the next yielded value,
/// or `None` once the body has finished.
///
/// # Examples
///
/// ```
/// use sock::{run, task::cowrap};
///
/// let mut g = cowrap(|co| async move { co.yield_(1).await });
/// assert_eq!(run(async move { (g.next().await, g.next().await) }), (Some(1), None));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Resume<'a, Y, R, T> {
    /// The generator.
    generator: &'a mut Generator<Y, R, T>,
    /// The resume value, until the first poll.
    input: Option<R>,
}

/// Wraps an async body into a generator resumed with `()`; see [`Generator`].
///
/// # Examples
///
/// ```
/// use sock::{run, task::cowrap};
///
/// let mut g = cowrap(|co| async move {
///     co.yield_("x").await;
///     "done"
/// });
/// let (first, end) = run(async move { (g.next().await, (g.next().await, g.take_output())) });
/// assert_eq!((first, end), (Some("x"), (None, Some("done"))));
/// ```
pub fn cowrap<Y, T, F, Fut>(body: F) -> Generator<Y, (), T>
where
    F: FnOnce(Co<Y, ()>) -> Fut,
    Fut: Future<Output = T> + 'static,
{
    Generator::new(body)
}

impl<Y, R, T> Generator<Y, R, T> {
    /// A generator running `body`, which gets the [`Co`] handle. It starts at the first
    /// resume.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::{Co, Generator}};
    ///
    /// let mut echo = Generator::new(|co: Co<String, String>| async move {
    ///     let mut s = co.take_resumed().unwrap_or_default();
    ///     loop {
    ///         s = co.yield_(s.to_uppercase()).await;
    ///     }
    /// });
    /// let out = run(async move { echo.resume("hi".to_string()).await });
    /// assert_eq!(out.as_deref(), Some("HI"));
    /// ```
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, R>) -> Fut,
        Fut: Future<Output = T> + 'static,
    {
        let slot = Rc::new(Slot {
            out: Cell::new(None),
            input: Cell::new(None),
        });
        let body: Pin<Box<dyn Future<Output = T>>> = Box::pin(body(Co { slot: slot.clone() }));
        Self {
            body: Some(body),
            slot,
            output: None,
        }
    }

    /// Resumes the body with `value` (its pending `yield_` returns it) and waits for the
    /// next yielded value; `None` once the body has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::{Co, Generator}};
    ///
    /// let mut doubler = Generator::new(|co: Co<i32, i32>| async move {
    ///     let mut x = co.take_resumed().unwrap_or(0);
    ///     loop {
    ///         x = co.yield_(x * 2).await;
    ///     }
    /// });
    /// assert_eq!(run(async move { doubler.resume(4).await }), Some(8));
    /// ```
    pub fn resume(&mut self, value: R) -> Resume<'_, Y, R, T> {
        Resume {
            generator: self,
            input: Some(value),
        }
    }

    /// Whether the body has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::cowrap};
    ///
    /// let mut g = cowrap(|_co: sock::task::Co<()>| async {});
    /// assert!(!g.is_finished());
    /// let g = run(async move { g.next().await; g });
    /// assert!(g.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.body.is_none()
    }

    /// The body's output, once it has finished (taken once).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::cowrap};
    ///
    /// let mut g = cowrap(|_co: sock::task::Co<()>| async { 9 });
    /// let out = run(async move { g.next().await; g.take_output() });
    /// assert_eq!(out, Some(9));
    /// ```
    pub fn take_output(&mut self) -> Option<T> {
        self.output.take()
    }
}

impl<Y, T> Generator<Y, (), T> {
    /// The next yielded value; `None` once the body has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::cowrap};
    ///
    /// let mut g = cowrap(|co| async move { co.yield_(5u8).await });
    /// assert_eq!(run(async move { g.next().await }), Some(5));
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Resume<'_, Y, (), T> {
        self.resume(())
    }
}

impl<Y, R, T> fmt::Debug for Generator<Y, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<Y, R> Co<Y, R> {
    /// Passes `value` to the consumer and waits for the next resume; gives its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::cowrap};
    ///
    /// let mut g = cowrap(|co| async move {
    ///     co.yield_(1).await;
    ///     co.yield_(2).await;
    /// });
    /// assert_eq!(run(async move { (g.next().await, g.next().await) }), (Some(1), Some(2)));
    /// ```
    #[doc(alias = "yield")]
    pub fn yield_(&self, value: Y) -> CoYield<'_, Y, R> {
        CoYield {
            co: self,
            value: Some(value),
        }
    }

    /// The value of the resume that last ran the body, if the body has not received it
    /// through a `yield_` (the way to read the first resume's value).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::{run, task::{Co, Generator}};
    ///
    /// let mut g = Generator::new(|co: Co<u8, u8>| async move { co.take_resumed() });
    /// let out = run(async move { g.resume(3).await; g.take_output() });
    /// assert_eq!(out, Some(Some(3)));
    /// ```
    pub fn take_resumed(&self) -> Option<R> {
        self.slot.input.take()
    }
}

impl<Y, R> Clone for Co<Y, R> {
    fn clone(&self) -> Self {
        Self {
            slot: self.slot.clone(),
        }
    }
}

impl<Y, R> fmt::Debug for Co<Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

impl<Y, R> Future for CoYield<'_, Y, R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        if let Some(value) = self.value.take() {
            self.co.slot.out.set(Some(value));
            return Poll::Pending;
        }
        match self.co.slot.input.take() {
            Some(r) => Poll::Ready(r),
            None => Poll::Pending,
        }
    }
}

impl<Y, R> Unpin for CoYield<'_, Y, R> {}

impl<Y, R> fmt::Debug for CoYield<'_, Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoYield")
            .field("yielded", &self.value.is_none())
            .finish()
    }
}

impl<Y, R, T> Future for Resume<'_, Y, R, T> {
    type Output = Option<Y>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Y>> {
        let this = &mut *self;
        if let Some(value) = this.input.take() {
            this.generator.slot.input.set(Some(value));
        }
        let generator = &mut *this.generator;
        let Some(body) = generator.body.as_mut() else {
            return Poll::Ready(None);
        };
        match body.as_mut().poll(cx) {
            Poll::Ready(output) => {
                generator.body = None;
                generator.output = Some(output);
                drop(generator.slot.input.take());
                Poll::Ready(None)
            }
            Poll::Pending => match generator.slot.out.take() {
                Some(value) => {
                    drop(generator.slot.input.take());
                    Poll::Ready(Some(value))
                }
                None => Poll::Pending,
            },
        }
    }
}

impl<Y, R, T> Unpin for Resume<'_, Y, R, T> {}

impl<Y, R, T> fmt::Debug for Resume<'_, Y, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resume")
            .field("generator", &self.generator)
            .finish()
    }
}
