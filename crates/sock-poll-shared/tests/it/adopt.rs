//! Handing a poller's raw handle to another thread and adopting it there.

use std::io::ErrorKind;
use std::thread;
use std::time::Duration;

use sock_poll_shared::{Events, Poller, RawPoller};

/// The raw handle as an integer, to cross threads as the seed does (a plain number).
fn to_int(raw: RawPoller) -> usize {
    raw as usize
}

fn from_int(n: usize) -> RawPoller {
    n as RawPoller
}

#[test]
fn another_thread_adopts_the_same_poller() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    let raw = to_int(poller.as_raw());
    let other = thread::spawn(move || {
        let adopted = Poller::lookup(from_int(raw)).unwrap();
        let mut events = Events::with_capacity(4);
        adopted
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        events.iter().map(|e| e.key()).collect::<Vec<_>>()
    });
    poller.post(99).unwrap();
    assert_eq!(other.join().unwrap(), [99]);
}

#[test]
fn the_adopted_poller_keeps_the_handle_open() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    let raw = poller.as_raw();
    let adopted = Poller::lookup(raw).unwrap();
    drop(poller);
    adopted.post(5).unwrap();
    let mut events = Events::with_capacity(4);
    adopted
        .wait(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(events.iter().next().map(|e| e.key()), Some(5));
}

#[test]
fn adopting_a_closed_handle_is_a_clear_error() {
    let _serial = crate::serial();
    let raw = Poller::new().unwrap().as_raw(); // dropped: closed
    let err = Poller::lookup(raw).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("not open"), "{err}");
    // SAFETY: the handle is closed; from_raw must refuse it before using it.
    let err = unsafe { Poller::from_raw(raw) }.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
