//! [`spawn_loops`]: N loops on N OS threads, each reachable through a [`Handle`].

use std::fmt;
use std::io;
use std::sync::mpsc;
use std::thread;

use super::handle::Handle;
use crate::metrics::Metrics;
use crate::runtime::Loop;

/// Starts `n` OS threads (named `sock-loop-0`, …), each running its own loop until
/// stopped, and returns their handles. The loops-per-thread mode: each loop's `!Send`
/// tasks and sockets stay on its thread; spread connections with a
/// [`SharedListener`](crate::loops::SharedListener).
///
/// # Errors
///
/// The OS error if a thread or a loop's poller cannot be made (the loops made so far
/// are stopped).
///
/// # Panics
///
/// If `n` is 0.
///
/// # Examples
///
/// ```
/// let loops = sock::loops::spawn_loops(2)?;
/// let ids: Vec<_> = loops
///     .handles()
///     .iter()
///     .map(|h| h.spawn(async { std::thread::current().id() }))
///     .collect();
/// for (h, id) in loops.handles().iter().zip(ids) {
///     assert_eq!(id.join().unwrap(), h.thread_id());
/// }
/// loops.join().unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[doc(alias = "threads")]
pub fn spawn_loops(n: usize) -> io::Result<LoopThreads> {
    #[cfg(feature = "sim")]
    if let Some(ctx) = crate::sim::socket::current_host() {
        return Ok(crate::sim::loops::spawn_loops(ctx, &Loop::current(), n));
    }
    assert!(
        n > 0,
        "sock: spawn_loops(0) makes no loop; ask for at least one"
    );
    let mut loops = LoopThreads {
        handles: Vec::with_capacity(n),
        threads: Vec::with_capacity(n),
        #[cfg(feature = "sim")]
        simulated: Vec::new(),
    };
    for i in 0..n {
        let (handle, thread) = spawn_loop(i)?;
        loops.handles.push(handle);
        loops.threads.push(thread);
    }
    Ok(loops)
}

/// Starts one loop thread and waits for its handle.
fn spawn_loop(i: usize) -> io::Result<(Handle, thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel();
    let thread = thread::Builder::new()
        .name(format!("sock-loop-{i}"))
        .spawn(move || {
            let lp = match Loop::new() {
                Ok(lp) => lp,
                Err(e) => return drop(tx.send(Err(e))),
            };
            let _ = tx.send(Ok(Handle::new(&lp)));
            lp.start();
        })?;
    let handle = rx
        .recv()
        .map_err(|_| io::Error::other("sock: a loop thread died"))??;
    Ok((handle, thread))
}

/// Loops running on OS threads of their own, from [`spawn_loops`].
///
/// Dropping it stops the loops without waiting for their threads; [`join`](LoopThreads::join)
/// waits.
///
/// # Examples
///
/// See [`spawn_loops`].
pub struct LoopThreads {
    /// One handle per loop.
    handles: Vec<Handle>,
    /// The loops' OS threads, in the same order.
    threads: Vec<thread::JoinHandle<()>>,
    /// The loops themselves on a simulated host (no thread), for `metrics`.
    #[cfg(feature = "sim")]
    simulated: Vec<crate::sim::shared::Bound<Loop>>,
}

impl LoopThreads {
    /// The loops of a simulated host (`sim/loops.rs`): no OS thread to join.
    #[cfg(feature = "sim")]
    pub(crate) fn simulated(handles: Vec<Handle>, loops: Vec<Loop>) -> LoopThreads {
        LoopThreads {
            handles,
            threads: Vec::new(),
            simulated: loops
                .into_iter()
                .map(crate::sim::shared::Bound::new)
                .collect(),
        }
    }

    /// The loops' handles.
    ///
    /// # Examples
    ///
    /// See [`spawn_loops`].
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// How many loops there are.
    ///
    /// # Examples
    ///
    /// ```
    /// let loops = sock::loops::spawn_loops(1)?;
    /// assert_eq!(loops.len(), 1);
    /// # loops.join().unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether there are no loops (never, from [`spawn_loops`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let loops = sock::loops::spawn_loops(1)?;
    /// assert!(!loops.is_empty());
    /// # loops.join().unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The sum of the loops' [`Metrics`] (`loops` says how many answered): each loop
    /// takes its snapshot on its own thread — a small task sent through its
    /// [`Handle`], counted in its `threads_alive` with the handle's service task — and
    /// this thread blocks until every one answered (a loop busy in a long task answers
    /// when that task yields). Called from one of the loops' own threads, that loop's
    /// snapshot is taken in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let loops = sock::loops::spawn_loops(2)?;
    /// let m = loops.metrics();
    /// assert_eq!(m.loops, 2);
    /// assert!(m.threads_alive >= 2); // at least each loop's snapshot task
    /// loops.join().unwrap();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "stats")]
    pub fn metrics(&self) -> Metrics {
        #[cfg(feature = "sim")]
        if !self.simulated.is_empty() {
            let each = self.simulated.iter().map(|lp| lp.get().metrics());
            return each.reduce(|a, b| a + b).unwrap_or_default();
        }
        let here = std::thread::current().id();
        let mut sum: Option<Metrics> = None;
        for h in &self.handles {
            let m = if h.thread_id() == here {
                Some(Loop::current().metrics())
            } else {
                h.spawn(async { crate::metrics() }).join().ok()
            };
            sum = match (sum, m) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        }
        sum.unwrap_or_default()
    }

    /// Stops every loop and waits for its thread to end.
    ///
    /// # Errors
    ///
    /// The panic of the first loop thread that panicked (a task panicked with nobody
    /// joining it).
    ///
    /// # Examples
    ///
    /// See [`spawn_loops`].
    pub fn join(mut self) -> thread::Result<()> {
        self.stop();
        let mut result = Ok(());
        for t in self.threads.drain(..) {
            let r = t.join();
            if result.is_ok() {
                result = r;
            }
        }
        result
    }

    fn stop(&mut self) {
        for h in self.handles.drain(..) {
            h.stop();
        }
    }
}

impl Drop for LoopThreads {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for LoopThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopThreads")
            .field("loops", &self.handles.len())
            .finish()
    }
}
