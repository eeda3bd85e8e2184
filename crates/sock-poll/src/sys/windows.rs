//! Windows: mio keeps its IOCP handle private, so the reactor exposes no raw handle here;
//! a host loop wakes the reactor through an [`Unparker`](crate::Unparker) instead.
