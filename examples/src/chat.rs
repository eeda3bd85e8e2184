//! A chat server: every line a client sends goes to every other client.
//!
//! Broadcasting never waits on a socket. Each client has an outbox (the bytes not yet
//! handed to its socket, at most [`MAX_QUEUED`]) and a writer thread that empties it,
//! so a client that stops reading cannot stall the room: when a line would overflow
//! its outbox, it is dropped — its connection closed, what it had not yet been sent
//! lost — and everyone else goes on. A client that sends a line longer than
//! [`MAX_LINE`] is dropped the same way, so neither kind of client makes the server
//! hold unbounded memory: at most about `2 * MAX_QUEUED + MAX_LINE` per client (the
//! outbox, the bytes its writer is sending, a partial line). A client's reader yields
//! to the loop after each chunk it broadcasts, so the writers of clients that do read
//! keep up with a fast sender.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use sock::{Tcp, time::SleepJob};

/// The most bytes waiting in one client's outbox; a line that would go past it drops
/// the client.
pub const MAX_QUEUED: usize = 64 * 1024;

/// The longest line a client may send (newline included); a longer one drops it.
pub const MAX_LINE: usize = 8 * 1024;

/// How long an idle writer sleeps before it looks again (it is woken early by every
/// line queued for it and when its client leaves).
const IDLE: Duration = Duration::from_secs(60);

/// The clients in the room.
type Room = Rc<RefCell<Vec<Rc<Member>>>>;

/// One connected client.
struct Member {
    /// Unique in the room, so a sender can skip itself.
    id: u64,
    /// The connection, shared by the reader and the writer thread.
    conn: Tcp,
    /// Lines broadcast to this client and not yet taken by its writer.
    outbox: RefCell<Vec<u8>>,
    /// Wakes the writer when the outbox fills or the client leaves.
    wake: SleepJob<()>,
}

/// Serves chat on `listener` until it is closed. Errors of one connection do not stop
/// it (see [`crate::serve::accept_loop`]); a slow or misbehaving client is dropped
/// (see the module docs).
///
/// # Errors
///
/// The fatal accept error that ended the loop (e.g. the listener was closed).
pub async fn serve(listener: Tcp) -> sock::Result<()> {
    let room: Room = Rc::default();
    let last_id = Cell::new(0);
    crate::serve::accept_loop(listener, |conn| {
        let id = last_id.get() + 1;
        last_id.set(id);
        let member = Rc::new(Member {
            id,
            conn,
            outbox: RefCell::default(),
            wake: SleepJob::new(),
        });
        room.borrow_mut().push(member.clone());
        sock::thread(write_loop(member.clone()));
        read_loop(member, room.clone())
    })
    .await
}

/// Reads lines from one client and broadcasts them; leaves the room at EOF, on an
/// error, or when the client sends a line longer than [`MAX_LINE`].
async fn read_loop(member: Rc<Member>, room: Room) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = member.conn.recv(&mut buf).await {
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            broadcast(member.id, &line, &room);
        }
        if pending.len() >= MAX_LINE {
            break;
        }
        yield_now().await;
    }
    leave(&member, &room);
}

/// Lets every other ready thread run once (the writers, above all) before the reader
/// takes the next chunk. Without it a fast sender's reader keeps finding data ready
/// and fills the outboxes of clients that do read before their writers get a turn.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// Sends what is queued for `member` until its connection fails or is closed.
async fn write_loop(member: Rc<Member>) {
    while !member.conn.is_closed() {
        let out = std::mem::take(&mut *member.outbox.borrow_mut());
        if out.is_empty() {
            member.wake.sleep(IDLE).await;
        } else if member.conn.send(&out).await.is_err() {
            break;
        }
    }
}

/// Queues `line` for everyone but `from`; drops each client whose outbox is full.
fn broadcast(from: u64, line: &[u8], room: &Room) {
    let members = room.borrow().clone();
    for member in members.iter().filter(|m| m.id != from) {
        if !member.queue(line) {
            leave(member, room);
        }
    }
}

/// Takes `member` out of the room, closes its connection (which ends its reader and
/// writer) and wakes its writer.
fn leave(member: &Member, room: &Room) {
    room.borrow_mut().retain(|m| m.id != member.id);
    let _ = member.conn.close();
    member.wake.wakeup(());
}

impl Member {
    /// Appends `line` to the outbox and wakes the writer; false, queuing nothing, when
    /// the outbox would grow past [`MAX_QUEUED`].
    fn queue(&self, line: &[u8]) -> bool {
        let mut outbox = self.outbox.borrow_mut();
        if outbox.len() + line.len() > MAX_QUEUED {
            return false;
        }
        outbox.extend_from_slice(line);
        drop(outbox);
        self.wake.wakeup(());
        true
    }
}
