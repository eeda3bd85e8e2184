//! Multi-threading, in the two modes of `DESIGN.md` §3.
//!
//! **Loops per thread** (the default; `!Send` tasks stay on their loop): each OS thread
//! runs its own [`Loop`](crate::Loop) with a private poller. [`spawn_loops`] starts N of
//! them; a [`Handle`] lets any thread spawn `Send` work on a loop; a [`SharedListener`]
//! spreads one listening socket's connections over the loops (`EPOLLEXCLUSIVE`: each
//! connection wakes one loop, which accepts and keeps it).
//!
//! **Shared poller** (the seed's `sock.epoll_fd([fd])` / `sock.iocp([h])`; `Send`
//! tasks): several OS threads wait on one kernel poller, a [`SharedLoop`], and a task
//! runs on whichever thread dequeued its event. Its sockets are [`SharedTcp`]s and
//! [`SharedUdp`]s, whose operations are [`Op`](crate::Op)s taking deadlines, as the loop mode's. The raw
//! poller is handed between threads with `sock::os::unix::{epoll_fd, set_epoll_fd}` /
//! `sock::os::windows::{iocp, set_iocp}`. A host loop drives it with
//! [`SharedLoop::poll`] and may put its own fds on it ([`SharedLoop::on_host_event`]).
//!
//! Why two modes: with every loop's sockets in one shared epoll, an event for thread A's
//! socket wakes thread B, which cannot run A's `!Send` task; and Linux refuses
//! `EPOLLEXCLUSIVE` on a nested epoll fd, so a shared poller cannot be nested in each
//! loop's private one without waking every loop. So either events are private to a loop
//! (and only listeners are shared, exclusively), or the tasks are `Send` and any thread
//! may run them.

/// On a simulated host (`sim/shared.rs`): returns `$call` with the simulated socket of
/// `$sock` bound to `$sim`, when it has one. Nothing without the `sim` feature.
macro_rules! sim_first {
    ($sock:expr, |$sim:ident| $call:expr) => {
        #[cfg(feature = "sim")]
        if let Some($sim) = $sock.sim_open() {
            return $call;
        }
    };
}

mod claim;
mod handle;
mod io;
mod listener;
mod loops;
mod park;
mod scompat;
mod shalf;
mod shared;
mod slot;
mod spoll;
mod stcp;
mod sudp;
mod sudp_poll;
mod sys;

pub use handle::{Handle, RemoteJoin};
pub use listener::{LoopListener, SharedListener};
pub use loops::{LoopThreads, spawn_loops};
pub use shalf::{SharedOwnedReadHalf, SharedOwnedWriteHalf, SharedReadHalf, SharedWriteHalf};
pub use shared::{HostEvent, SharedLoop};
pub(crate) use shared::{count_parked, count_shared};
pub use stcp::SharedTcp;
pub use sudp::SharedUdp;
