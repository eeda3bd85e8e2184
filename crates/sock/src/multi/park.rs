//! How a [`SharedLoop`](super::SharedLoop)'s threads wait: on the shared kernel poller,
//! turning each dequeued event into a socket's wake, a pool sentinel, or a host's event.
//!
//! Three kinds of key reach a wait, and each goes exactly one way:
//!
//! - **Sockets' keys** (tagged by the backend, see `sys::dispatch`) wake the task
//!   waiting on that socket. The socket table is one per kernel poller, not per loop: a
//!   socket that outlives its loop keeps the table, and a loop made later on the same
//!   poller (re-adopting its handle) shares it ([`table_for`]), so two tables never
//!   hand out the same key for one poller and no event reaches another table's socket.
//! - **Posted sentinels** carry the number of the loop that posted them: a sentinel an
//!   old loop left queued on a re-adopted poller (a stop whose worker had already left)
//!   is dropped, never taken for the new loop's.
//! - **Anything else** is a host's: a fd the host added to the shared epoll fd (or a
//!   handle it associated with the completion port). It is handed back through the
//!   handler of [`SharedLoop::on_host_event`](super::SharedLoop::on_host_event) on the
//!   thread that dequeued it — never dropped. Without a handler that is a misuse, and
//!   the wait panics saying so: silently dropping the event would lose the host's
//!   wake-up, and a level-triggered fd would come back to every wait, spinning.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use sock_poll_shared::{Event, Events, Poller};
use sock_sched::mt::{Sentinel, SharedPark};

use super::sys;

/// Events one wait dequeues at most.
const EVENTS_PER_PARK: usize = 256;

/// Full batches a host's `poll` drains at most before leaving the rest for the next
/// one (and saying so through `next_deadline`).
const DRAIN_ROUNDS: usize = 64;

/// Posted-packet keys of sentinels: bit 63 set, bit 62 clear (never a `HOST_KEY`), the
/// loop's number in bits 38–61, bit 37 for a stop, the stop's epoch in bits 0–36.
const SENTINEL: u64 = 1 << 63;
const LOOP_SHIFT: u32 = 38;
const LOOP_MASK: u64 = (1 << 24) - 1;
const STOP: u64 = 1 << 37;
const EPOCH_MASK: u64 = STOP - 1;

/// The number of the next loop, for its sentinels.
static NEXT_LOOP: AtomicU64 = AtomicU64::new(0);

/// The socket table of every poller that has one, by [`Poller::id`] (never reused,
/// unlike a raw fd number).
static TABLES: Mutex<Vec<(u64, Weak<sys::Table>)>> = Mutex::new(Vec::new());

thread_local! {
    /// This thread's event buffer (each worker parks with its own).
    static EVENTS: RefCell<Option<Events>> = const { RefCell::new(None) };
    /// When this thread's last blocking wait ended, and for which loop (`loop_id`):
    /// the time from there to its next wait was busy.
    static WOKE: Cell<Option<(u64, Instant)>> = const { Cell::new(None) };
}

/// The counters of one shared loop (see `SharedLoop::metrics`). Several OS threads
/// bump them, so they are atomics, each added to with `Relaxed` ordering (a counter
/// orders nothing): one uncontended add per wait, per parked operation, per expired
/// deadline or shed connection — nothing per completed operation.
#[derive(Debug, Default)]
pub(crate) struct SharedCounters {
    /// Waits on the shared poller.
    pub(crate) polls: AtomicU64,
    /// Events delivered to sockets.
    pub(crate) events: AtomicU64,
    /// Nanoseconds workers ran between their blocking waits.
    pub(crate) busy_ns: AtomicU64,
    /// Nanoseconds workers spent blocked in waits.
    pub(crate) parked_ns: AtomicU64,
    /// Operations that parked.
    pub(crate) ops_parked: AtomicU64,
    /// Operations and scopes a deadline ended.
    pub(crate) deadlines_expired: AtomicU64,
    /// Connections shed under `EMFILE`.
    pub(crate) accepts_shed: AtomicU64,
}

impl SharedCounters {
    /// Adds `n` to `counter`.
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The value of `counter`.
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What a host's handler is given: see [`SharedLoop::on_host_event`](super::SharedLoop::on_host_event).
pub(crate) type HostHandler = Arc<dyn Fn(&Event) + Send + Sync>;

/// The waiting half of one shared loop, shared by the loop and its pool.
pub(crate) struct Park {
    /// The kernel poller every worker waits on.
    pub(crate) poller: Poller,
    /// The sockets registered in the poller (shared with every loop on this poller).
    pub(crate) table: Arc<sys::Table>,
    /// This loop's number, carried by its sentinels.
    loop_id: u64,
    /// Where host events go.
    host: RwLock<Option<HostHandler>>,
    /// A host's `poll` stopped draining with events still queued.
    backlog: AtomicBool,
    /// What the loop's threads and sockets counted.
    pub(crate) counters: SharedCounters,
}

/// The pool's handle on a [`Park`].
pub(crate) struct PoolPark(pub(crate) Arc<Park>);

impl Park {
    /// The park of a new loop on `poller`.
    pub(crate) fn new(poller: Poller) -> Park {
        Park {
            table: table_for(&poller),
            poller,
            loop_id: NEXT_LOOP.fetch_add(1, Ordering::Relaxed) & LOOP_MASK,
            host: RwLock::new(None),
            backlog: AtomicBool::new(false),
            counters: SharedCounters::default(),
        }
    }

    /// Sends host events to `handler` from now on.
    pub(crate) fn set_host(&self, handler: HostHandler) {
        *self.host.write().unwrap_or_else(PoisonError::into_inner) = Some(handler);
    }

    /// Whether a host's `poll` left events queued.
    pub(crate) fn has_backlog(&self) -> bool {
        self.backlog.load(Ordering::Acquire)
    }

    /// One wait: delivers what it dequeued; whether it filled its buffer. A wait that
    /// may block is timed (two clock reads); a zero-timeout one only counted.
    fn wait(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) -> bool {
        SharedCounters::add(&self.counters.polls, 1);
        let start = (timeout != Some(Duration::ZERO)).then(|| self.begin_wait());
        EVENTS.with(|cell| {
            let mut cell = cell.borrow_mut();
            let events = cell.get_or_insert_with(|| Events::with_capacity(EVENTS_PER_PARK));
            if let Err(e) = self.poller.wait(events, timeout) {
                panic!("sock: the shared poller failed ({e}); the loop cannot go on");
            }
            if let Some(start) = start {
                self.end_wait(start);
            }
            let mut delivered = 0;
            for event in events.iter() {
                delivered += u64::from(self.deliver(event, sentinel));
            }
            SharedCounters::add(&self.counters.events, delivered);
            events.is_full()
        })
    }

    /// The start of a blocking wait: counts the time since this thread's last one busy.
    fn begin_wait(&self) -> Instant {
        let now = Instant::now();
        if let Some((id, woke)) = WOKE.get() {
            if id == self.loop_id {
                let ran = now.saturating_duration_since(woke);
                SharedCounters::add(&self.counters.busy_ns, nanos(ran));
            }
        }
        now
    }

    /// The end of a blocking wait that began at `start`.
    fn end_wait(&self, start: Instant) {
        let now = Instant::now();
        let parked = now.saturating_duration_since(start);
        SharedCounters::add(&self.counters.parked_ns, nanos(parked));
        WOKE.set(Some((self.loop_id, now)));
    }

    /// Sends one event its way: a socket's wake, a sentinel, or the host's handler.
    /// Whether it was a socket's.
    fn deliver(&self, event: &Event, sentinel: &mut dyn FnMut(Sentinel)) -> bool {
        if !event.is_posted() {
            if sys::dispatch(&self.table, event) {
                return true;
            }
            self.hand_to_host(event);
            return false;
        }
        match decode(event.key()) {
            Some((id, s)) if id == self.loop_id => sentinel(s),
            Some(_) => {} // an earlier loop's, left on this poller
            None => self.hand_to_host(event),
        }
        false
    }

    /// Calls the host's handler with `event` (outside the lock: it may set another).
    ///
    /// # Panics
    ///
    /// Without a handler: the host's event would be lost.
    fn hand_to_host(&self, event: &Event) {
        let handler = self
            .host
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match handler {
            Some(handler) => handler(event),
            None => panic!(
                "sock: the shared poller gave an event with key {:#x}, which is not one of \
                 sock's; a host that adds its own fds to the shared poller takes their \
                 events with SharedLoop::on_host_event (set it before adding them)",
                event.key()
            ),
        }
    }
}

impl SharedPark for PoolPark {
    fn park(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        self.0.wait(timeout, sentinel);
    }

    /// Waits, then takes what is queued until a wait comes back short (at most
    /// [`DRAIN_ROUNDS`] full ones; more is flagged as a backlog for `next_deadline`).
    fn park_drained(&self, timeout: Option<Duration>, sentinel: &mut dyn FnMut(Sentinel)) {
        let mut full = self.0.wait(timeout, sentinel);
        for _ in 0..DRAIN_ROUNDS {
            if !full {
                break;
            }
            full = self.0.wait(Some(Duration::ZERO), sentinel);
        }
        self.0.backlog.store(full, Ordering::Release);
    }

    fn post(&self, sentinel: Sentinel) {
        if let Err(e) = self.0.poller.post(encode(self.0.loop_id, sentinel)) {
            panic!("sock: cannot post to the shared poller ({e}); the loop cannot go on");
        }
    }
}

impl fmt::Debug for Park {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Park")
            .field("poller", &self.poller)
            .field("loop_id", &self.loop_id)
            .finish_non_exhaustive()
    }
}

/// The socket table of `poller`: the one a live loop or socket of it still uses, else
/// a new one.
fn table_for(poller: &Poller) -> Arc<sys::Table> {
    let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    tables.retain(|(_, t)| t.strong_count() > 0);
    let live = tables
        .iter()
        .filter(|(id, _)| *id == poller.id())
        .find_map(|(_, t)| t.upgrade());
    if let Some(table) = live {
        return table;
    }
    let table = Arc::new(sys::Table::new());
    tables.push((poller.id(), Arc::downgrade(&table)));
    table
}

/// `d` in nanoseconds (saturating: 584 years).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The posted key of `sentinel` from loop `loop_id`.
fn encode(loop_id: u64, sentinel: Sentinel) -> u64 {
    let payload = match sentinel {
        Sentinel::Wake => 0,
        Sentinel::Stop(epoch) => STOP | (epoch & EPOCH_MASK),
    };
    SENTINEL | (loop_id << LOOP_SHIFT) | payload
}

/// The loop number and sentinel of a posted key; `None` if it is no sentinel.
fn decode(key: u64) -> Option<(u64, Sentinel)> {
    if key >> 62 != SENTINEL >> 62 {
        return None;
    }
    let loop_id = (key >> LOOP_SHIFT) & LOOP_MASK;
    let sentinel = if key & STOP != 0 {
        Sentinel::Stop(key & EPOCH_MASK)
    } else {
        Sentinel::Wake
    };
    Some((loop_id, sentinel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinels_round_trip_and_name_their_loop() {
        for (id, s) in [
            (0, Sentinel::Wake),
            (LOOP_MASK, Sentinel::Stop(0)),
            (5, Sentinel::Stop(EPOCH_MASK)),
        ] {
            let key = encode(id, s);
            assert_eq!(decode(key), Some((id, s)));
            assert_eq!(key & (1 << 62), 0, "a sentinel is never a host key");
        }
        assert_eq!(decode(1 << 62), None);
        assert_eq!(decode(7), None);
    }
}
