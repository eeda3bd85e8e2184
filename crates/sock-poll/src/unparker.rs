//! [`Unparker`]: wakes a reactor blocked in `poll` from any OS thread.

use std::io;
use std::sync::Arc;

/// A handle that wakes the [`Reactor`](crate::Reactor) it came from, from any OS thread.
///
/// Cheap to clone; `Send + Sync`. Waking a reactor that is not blocked makes its next
/// `poll` return at once.
///
/// # Examples
///
/// ```
/// use sock_poll::Reactor;
///
/// let reactor = Reactor::new()?;
/// let unparker = reactor.unparker();
/// std::thread::spawn(move || unparker.unpark()).join().unwrap();
/// reactor.poll(None)?; // returns: the wake arrived
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Unparker {
    waker: Arc<mio::Waker>,
}

impl Unparker {
    pub(crate) fn new(waker: Arc<mio::Waker>) -> Unparker {
        Unparker { waker }
    }

    /// Wakes the reactor. Errors of the underlying wake (an eventfd write that cannot
    /// fail in practice) are ignored: a lost wake could only delay, and the reactor keeps
    /// the eventfd readable until it is drained.
    ///
    /// # Examples
    ///
    /// See [`Unparker`].
    pub fn unpark(&self) {
        let _ = self.try_unpark();
    }

    /// Wakes the reactor, reporting an OS error.
    ///
    /// # Errors
    ///
    /// The OS error of the eventfd write (Linux) or completion post (Windows).
    ///
    /// # Examples
    ///
    /// ```
    /// let reactor = sock_poll::Reactor::new()?;
    /// reactor.unparker().try_unpark()?;
    /// reactor.poll(None)?; // does not block: the wake is pending
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_unpark(&self) -> io::Result<()> {
        self.waker.wake()
    }
}
