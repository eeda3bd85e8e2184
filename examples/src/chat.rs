//! A chat server: every line a client sends goes to every other client.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use sock::Tcp;

/// The connected clients, by id.
type Clients = Rc<RefCell<Vec<(u64, Tcp)>>>;

/// Serves chat on `listener` until it is closed. Errors of one connection do not stop
/// it (see [`crate::serve::accept_loop`]).
///
/// # Errors
///
/// The fatal accept error that ended the loop (e.g. the listener was closed).
pub async fn serve(listener: Tcp) -> sock::Result<()> {
    let clients: Clients = Rc::default();
    let last_id = Cell::new(0);
    crate::serve::accept_loop(listener, |conn| {
        let id = last_id.get() + 1;
        last_id.set(id);
        clients.borrow_mut().push((id, conn.clone()));
        client(id, conn, clients.clone())
    })
    .await
}

/// Reads lines from one client and broadcasts them; leaves the room at EOF.
async fn client(id: u64, conn: Tcp, clients: Clients) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = conn.recv(&mut buf).await {
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=i).collect();
            broadcast(id, &line, &clients).await;
        }
    }
    clients.borrow_mut().retain(|(other, _)| *other != id);
}

/// Sends `line` to everyone but `from` (a copy of the list, so nobody holds the borrow
/// across a send).
async fn broadcast(from: u64, line: &[u8], clients: &Clients) {
    let others: Vec<Tcp> = clients
        .borrow()
        .iter()
        .filter(|(id, _)| *id != from)
        .map(|(_, c)| c.clone())
        .collect();
    for other in others {
        let _ = other.send(line).await;
    }
}
