//! [`IoSlot`]: the OS socket behind a [`SharedTcp`](super::SharedTcp) and its clones,
//! and its address family. A connect to several addresses refills it with the fresh
//! socket of the attempt that won (Happy Eyeballs), and a [`Family::UNSPEC`] socket's
//! first bind with one of the address's family.
//!
//! Operations borrow the current socket lock-free, one atomic load, for as long as they
//! borrow the `SharedTcp`. That is sound because a replaced socket is not freed: it is
//! closed (its waiters fail with `Closed`) and kept until the slot goes, so a borrow of
//! it stays valid. A slot keeps at most three sockets: the first, the one a bind of
//! another family put in, and a connect's winner.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sock_addr::Family;

use super::shared::{SharedLoop, WeakLoop};
use super::sys::SharedIo;

/// One socket of a slot and its family.
struct Held {
    /// The registered socket.
    io: SharedIo,
    /// Its address family.
    family: Family,
}

/// The current socket of a `SharedTcp`, and the ones it replaced.
pub(crate) struct IoSlot {
    /// Points into one of `all`'s `Arc`s: the socket operations use.
    current: AtomicPtr<Held>,
    /// Every socket the slot has had; only grows, so `current` never dangles.
    all: Mutex<Vec<Arc<Held>>>,
    /// The loop whose poller the sockets are registered in: where a refill goes.
    home: WeakLoop,
    /// The simulated socket of a `SharedTcp` on a simulated host (`sim/shared.rs`);
    /// such a slot holds no OS socket (`all` is empty, `current` null) and the socket's
    /// operations take this first.
    #[cfg(feature = "sim")]
    sim: Option<crate::sim::shared::SimIo>,
}

impl IoSlot {
    /// A slot holding `io`, of `family`, registered in `home`'s poller.
    pub(crate) fn new(io: SharedIo, family: Family, home: &SharedLoop) -> IoSlot {
        let held = Arc::new(Held { io, family });
        IoSlot {
            current: AtomicPtr::new(Arc::as_ptr(&held).cast_mut()),
            all: Mutex::new(vec![held]),
            home: home.downgrade(),
            #[cfg(feature = "sim")]
            sim: None,
        }
    }

    /// A slot holding the simulated socket `sim` of `home`, a loop of a simulated host.
    #[cfg(feature = "sim")]
    pub(crate) fn simulated(sim: crate::sim::shared::SimIo, home: &SharedLoop) -> IoSlot {
        IoSlot {
            current: AtomicPtr::new(std::ptr::null_mut()),
            all: Mutex::new(Vec::new()),
            home: home.downgrade(),
            sim: Some(sim),
        }
    }

    /// The simulated socket, on a simulated host.
    #[cfg(feature = "sim")]
    pub(crate) fn sim_open(&self) -> Option<&crate::sim::shared::SimIo> {
        self.sim.as_ref()
    }

    /// The loop a refill registers its socket in.
    ///
    /// # Errors
    ///
    /// `Closed` once the loop is gone.
    pub(crate) fn home(&self) -> crate::error::Result<SharedLoop> {
        self.home.upgrade()
    }

    /// The current socket.
    pub(crate) fn get(&self) -> &SharedIo {
        &self.held().io
    }

    /// The current socket's family.
    pub(crate) fn family(&self) -> Family {
        self.held().family
    }

    fn held(&self) -> &Held {
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            crate::sim::shared::not_simulated("this operation of a SharedTcp");
        }
        // SAFETY: `current` always points into an `Arc` held by `all`, which never
        // drops one before `self` goes; the borrow cannot outlive `self`. Only shared
        // references are ever made from it. (Only a simulated slot has a null one,
        // and it does not get here.)
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    /// Makes `io`, of `family`, the current socket; the old one is closed and kept.
    pub(crate) fn replace(&self, io: SharedIo, family: Family) {
        #[cfg(feature = "sim")]
        if self.sim.is_some() {
            crate::sim::shared::not_simulated("refilling a SharedTcp");
        }
        let held = Arc::new(Held { io, family });
        let ptr = Arc::as_ptr(&held).cast_mut();
        self.all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(held);
        let old = self.current.swap(ptr, Ordering::AcqRel);
        // SAFETY: as in `held`: `old` points into an `Arc` that `all` still holds.
        unsafe { &*old }.io.close();
    }
}
