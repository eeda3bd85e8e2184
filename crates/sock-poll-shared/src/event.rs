//! [`Event`] and [`Events`]: what one [`Poller::wait`](crate::Poller::wait) dequeued.
//!
//! One portable event type covers both backends: a readiness event (Linux: the epoll
//! flags of a registered fd), a completion (Windows: an overlapped operation finished,
//! with its `OVERLAPPED` pointer, byte count and status) or a posted packet (both).

use std::fmt;

use crate::sys;

/// What kind of event it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // each backend makes only some kinds
enum Kind {
    /// A registered fd became ready; the epoll flags.
    Ready(u32),
    /// An overlapped operation completed.
    Completion {
        /// The `OVERLAPPED` pointer the operation was started with.
        overlapped: usize,
        /// Bytes transferred.
        bytes: u32,
        /// The `NTSTATUS` of the operation (0 = success).
        status: i32,
    },
    /// A packet from [`Poller::post`](crate::Poller::post).
    Posted,
}

/// One dequeued event.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sock_poll_shared::{Events, Poller};
///
/// let poller = Poller::new()?;
/// poller.post(42)?;
/// let mut events = Events::with_capacity(4);
/// poller.wait(&mut events, Some(Duration::from_secs(5)))?;
/// let e = events.iter().next().unwrap();
/// assert!(e.is_posted());
/// assert_eq!(e.key(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The key: the token given at registration, or the posted key.
    key: u64,
    /// Readiness, completion or posted packet.
    kind: Kind,
}

impl Event {
    #[allow(dead_code)] // made by the Linux backend only
    pub(crate) fn ready(key: u64, flags: u32) -> Event {
        Event {
            key,
            kind: Kind::Ready(flags),
        }
    }

    #[allow(dead_code)] // made by the Windows backend only
    pub(crate) fn completed(key: u64, overlapped: usize, bytes: u32, status: i32) -> Event {
        let kind = Kind::Completion {
            overlapped,
            bytes,
            status,
        };
        Event { key, kind }
    }

    /// A packet posted with [`Poller::post`](crate::Poller::post). Built by the Linux
    /// and Windows backends; the unsupported one never yields events.
    #[allow(dead_code)]
    pub(crate) fn posted(key: u64) -> Event {
        Event {
            key,
            kind: Kind::Posted,
        }
    }

    /// The key: the token the fd was added with (Linux), the completion key the socket
    /// was associated with (Windows), or the key given to [`post`](crate::Poller::post).
    ///
    /// # Examples
    ///
    /// See [`Event`].
    pub fn key(&self) -> u64 {
        self.key
    }

    /// Whether this is a packet from [`post`](crate::Poller::post).
    ///
    /// # Examples
    ///
    /// See [`Event`].
    pub fn is_posted(&self) -> bool {
        self.kind == Kind::Posted
    }

    /// The raw epoll flags of a readiness event (0 for other events).
    ///
    /// # Examples
    ///
    /// ```
    /// # let poller = sock_poll_shared::Poller::new()?;
    /// # poller.post(1)?;
    /// # let mut events = sock_poll_shared::Events::with_capacity(1);
    /// # poller.wait(&mut events, None)?;
    /// let e = events.iter().next().unwrap();
    /// assert_eq!(e.flags(), 0); // a posted packet has no readiness
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flags(&self) -> u32 {
        match self.kind {
            Kind::Ready(flags) => flags,
            _ => 0,
        }
    }

    /// Readable, or the peer closed its side, or an error is pending: a reader should
    /// try its call.
    ///
    /// # Examples
    ///
    /// See [`Poller::add`](crate::Poller) (Linux).
    pub fn is_readable(&self) -> bool {
        sys::is_readable(self.flags())
    }

    /// Writable, or an error is pending: a writer should try its call.
    ///
    /// # Examples
    ///
    /// See [`Poller::add`](crate::Poller) (Linux).
    pub fn is_writable(&self) -> bool {
        sys::is_writable(self.flags())
    }

    /// For a completion: the `OVERLAPPED` pointer (as an address), the bytes transferred
    /// and the `NTSTATUS` (0 = success). `None` for other events.
    ///
    /// # Examples
    ///
    /// ```
    /// # let poller = sock_poll_shared::Poller::new()?;
    /// # poller.post(1)?;
    /// # let mut events = sock_poll_shared::Events::with_capacity(1);
    /// # poller.wait(&mut events, None)?;
    /// assert_eq!(events.iter().next().unwrap().completion(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn completion(&self) -> Option<(usize, u32, i32)> {
        match self.kind {
            Kind::Completion {
                overlapped,
                bytes,
                status,
            } => Some((overlapped, bytes, status)),
            _ => None,
        }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("key", &self.key)
            .field("kind", &self.kind)
            .finish()
    }
}

/// A buffer for the events of one [`wait`](crate::Poller::wait); each thread keeps its own.
///
/// # Examples
///
/// ```
/// let events = sock_poll_shared::Events::with_capacity(256);
/// assert_eq!(events.capacity(), 256);
/// assert!(events.is_empty());
/// ```
pub struct Events {
    /// The backend's raw buffer (`epoll_event`s / `OVERLAPPED_ENTRY`s).
    pub(crate) raw: Vec<sys::RawEvent>,
    /// The events of the last wait.
    pub(crate) out: Vec<Event>,
    /// Entries the last wait dequeued, wake packets included (they are not reported).
    pub(crate) dequeued: usize,
}

impl Events {
    /// A buffer for up to `capacity` events per wait (at least 1).
    ///
    /// # Examples
    ///
    /// See [`Events`].
    pub fn with_capacity(capacity: usize) -> Events {
        let capacity = capacity.max(1);
        Events {
            raw: Vec::with_capacity(capacity),
            out: Vec::with_capacity(capacity),
            dequeued: 0,
        }
    }

    /// How many events one wait may return.
    ///
    /// # Examples
    ///
    /// See [`Events`].
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// The events of the last wait.
    ///
    /// # Examples
    ///
    /// See [`Event`].
    pub fn iter(&self) -> std::slice::Iter<'_, Event> {
        self.out.iter()
    }

    /// How many events the last wait returned.
    ///
    /// # Examples
    ///
    /// See [`Events`].
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether the last wait filled the buffer, so the kernel may hold more: a caller
    /// that must leave nothing queued (for a host waiting edge-triggered on the
    /// poller) waits again with a zero timeout until a wait comes back short.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sock_poll_shared::{Events, Poller};
    ///
    /// let poller = Poller::new()?;
    /// for key in 0..3 {
    ///     poller.post(key)?;
    /// }
    /// let mut events = Events::with_capacity(2);
    /// poller.wait(&mut events, Some(Duration::ZERO))?;
    /// assert!(events.is_full()); // two of three: wait again
    /// poller.wait(&mut events, Some(Duration::ZERO))?;
    /// assert!(!events.is_full());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_full(&self) -> bool {
        self.dequeued >= self.capacity()
    }

    /// Whether the last wait returned nothing.
    ///
    /// # Examples
    ///
    /// See [`Events`].
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = std::slice::Iter<'a, Event>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.out.iter()).finish()
    }
}
