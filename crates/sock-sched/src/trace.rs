//! The `tracing` feature's one span: a span per thread, entered while the loop polls
//! it, named `thread` with the thread's id and [`Builder::name`](crate::Builder::name)
//! as fields. Threads are independent, so their spans are roots (a thread started from
//! inside another does not nest in its span). Without the feature, [`enter`] is an
//! empty inline function.

use crate::task::TaskRef;

/// What [`enter`] returns: the entered span (nothing without the feature).
#[cfg(feature = "tracing")]
pub(crate) type Entered = tracing::span::EnteredSpan;
/// What [`enter`] returns: the entered span (nothing without the feature).
#[cfg(not(feature = "tracing"))]
pub(crate) struct Entered;

/// Enters `task`'s span (made on its first poll and kept in its extras) until the
/// returned guard drops.
#[cfg(feature = "tracing")]
pub(crate) fn enter(task: &TaskRef) -> Entered {
    let core = task.core();
    let span = core.extras(|e| {
        let name = e.name.clone();
        e.span
            .get_or_insert_with(|| new_span(core.id, name.as_deref()))
            .clone()
    });
    span.entered()
}

/// The span of thread `id`, named `name` if it has one.
#[cfg(feature = "tracing")]
fn new_span(id: u64, name: Option<&str>) -> tracing::Span {
    match name {
        Some(name) => tracing::info_span!(target: "sock", parent: None, "thread", id, name),
        None => tracing::info_span!(target: "sock", parent: None, "thread", id),
    }
}

/// Enters `task`'s span: nothing without the `tracing` feature.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn enter(_task: &TaskRef) -> Entered {
    Entered
}
