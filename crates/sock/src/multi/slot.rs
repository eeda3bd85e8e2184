//! [`IoSlot`]: the OS socket behind a [`SharedTcp`](super::SharedTcp) and its clones,
//! refilled with a fresh socket when a connect attempt failed — a socket whose connect
//! failed cannot connect again (Linux and Winsock both answer `ECONNABORTED`).
//!
//! Operations borrow the current socket lock-free, one atomic load, for as long as they
//! borrow the `SharedTcp`. That is sound because a replaced socket is not freed: it is
//! closed (its waiters fail with `Closed`) and kept until the slot goes, so a borrow of
//! it stays valid. Connect is the only refiller, so a slot keeps at most one socket per
//! address a connect tried.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::sys::SharedIo;

/// The current socket of a `SharedTcp`, and the ones it replaced.
pub(crate) struct IoSlot {
    /// Points into one of `all`'s `Arc`s: the socket operations use.
    current: AtomicPtr<SharedIo>,
    /// Every socket the slot has had; only grows, so `current` never dangles.
    all: Mutex<Vec<Arc<SharedIo>>>,
}

impl IoSlot {
    pub(crate) fn new(io: SharedIo) -> IoSlot {
        let io = Arc::new(io);
        IoSlot {
            current: AtomicPtr::new(Arc::as_ptr(&io).cast_mut()),
            all: Mutex::new(vec![io]),
        }
    }

    /// The current socket.
    pub(crate) fn get(&self) -> &SharedIo {
        // SAFETY: `current` always points into an `Arc` held by `all`, which never
        // drops one before `self` goes; the borrow cannot outlive `self`. Only shared
        // references are ever made from it.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Makes `io` the current socket; the old one is closed and kept.
    pub(crate) fn replace(&self, io: SharedIo) {
        let io = Arc::new(io);
        let ptr = Arc::as_ptr(&io).cast_mut();
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(io);
        let old = self.current.swap(ptr, Ordering::AcqRel);
        // SAFETY: as in `get`: `old` points into an `Arc` that `all` still holds.
        unsafe { &*old }.close();
    }
}
