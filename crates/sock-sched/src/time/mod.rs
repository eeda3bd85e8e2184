//! Time: the timer queue, [`Sleep`](sleep::Sleep), sleep jobs and callback timers.

pub(crate) mod callback;
pub(crate) mod job;
pub(crate) mod sleep;
pub(crate) mod slots;
pub(crate) mod timers;
pub(crate) mod wheel;
