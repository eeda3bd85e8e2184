//! Posted packets: each reaches exactly one waiting thread, a batch may take several,
//! and wakes return a waiter without reporting anything.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sock_poll_shared::{Events, Poller};

/// Posts `n` packets to `threads` waiters and returns every key each waiter took.
fn spread(threads: usize, n: u64) -> Vec<Vec<u64>> {
    let poller = Poller::new().unwrap();
    let taken = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..threads)
        .map(|_| {
            let (p, taken) = (poller.clone(), taken.clone());
            thread::spawn(move || {
                let mut mine = Vec::new();
                let mut events = Events::with_capacity(4);
                while taken.load(Ordering::Acquire) < n as usize {
                    p.wait(&mut events, Some(Duration::from_millis(20)))
                        .unwrap();
                    mine.extend(events.iter().filter(|e| e.is_posted()).map(|e| e.key()));
                    taken.fetch_add(events.len(), Ordering::AcqRel);
                }
                mine
            })
        })
        .collect();
    for key in 0..n {
        poller.post(key).unwrap();
    }
    waiters.into_iter().map(|w| w.join().unwrap()).collect()
}

#[test]
fn every_packet_reaches_exactly_one_thread() {
    let _serial = crate::serial();
    let per_thread = spread(4, 10_000);
    let all: Vec<u64> = per_thread.iter().flatten().copied().collect();
    assert_eq!(all.len(), 10_000, "a packet was lost or taken twice");
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(distinct, (0..10_000).collect());
}

#[test]
fn one_wait_takes_several_packets() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    for key in 1..=5 {
        poller.post(key).unwrap();
    }
    let mut events = Events::with_capacity(16);
    let n = poller
        .wait(&mut events, Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(n, 5, "a batch dequeue takes every queued packet that fits");
    let keys: Vec<u64> = events.iter().map(|e| e.key()).collect();
    assert_eq!(keys, [1, 2, 3, 4, 5]);
}

#[test]
fn a_small_buffer_leaves_packets_for_the_next_wait() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    for key in 0..3 {
        poller.post(key).unwrap();
    }
    let mut events = Events::with_capacity(2);
    let mut keys = Vec::new();
    while keys.len() < 3 {
        poller
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(events.len() <= 2);
        keys.extend(events.iter().map(|e| e.key()));
    }
    assert_eq!(keys, [0, 1, 2]);
}

#[test]
fn wake_returns_one_waiter_with_nothing_to_report() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    let p = poller.clone();
    let waiter = thread::spawn(move || {
        let mut events = Events::with_capacity(4);
        p.wait(&mut events, None).unwrap()
    });
    poller.wake().unwrap();
    assert_eq!(waiter.join().unwrap(), 0);
}

#[test]
fn timeout_elapses_without_events() {
    let _serial = crate::serial();
    let poller = Poller::new().unwrap();
    let mut events = Events::with_capacity(4);
    let start = std::time::Instant::now();
    assert_eq!(
        poller
            .wait(&mut events, Some(Duration::from_micros(300)))
            .unwrap(),
        0
    );
    assert!(
        start.elapsed() >= Duration::from_micros(300),
        "woke before the timeout"
    );
}

#[test]
#[should_panic(expected = "reserved for Poller::wake")]
fn posting_the_reserved_key_panics() {
    let _serial = crate::serial();
    let _ = Poller::new().unwrap().post(u64::MAX);
}

#[test]
fn stop_sentinels_reposted_from_a_batch_reach_every_thread() {
    let _serial = crate::serial();
    // The shutdown protocol users of a shared poller follow: post one stop sentinel per
    // thread; a thread that dequeued k of them in one batch keeps one and re-posts k-1.
    const STOP: u64 = 1;
    let poller = Poller::new().unwrap();
    let exits = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (p, exits) = (poller.clone(), exits.clone());
            thread::spawn(move || {
                let mut events = Events::with_capacity(8);
                loop {
                    p.wait(&mut events, None).unwrap();
                    let stops = events.iter().filter(|e| e.key() == STOP).count();
                    if stops > 0 {
                        for _ in 1..stops {
                            p.post(STOP).unwrap();
                        }
                        exits.lock().unwrap().push(i);
                        return;
                    }
                }
            })
        })
        .collect();
    for _ in 0..4 {
        poller.post(STOP).unwrap();
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(exits.lock().unwrap().len(), 4);
}
