//! Unit tests of the hyper runtime glue over loopback sockets and the real loop timers.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use ::hyper::rt::{Executor as _, Read, ReadBuf, Timer as _, Write};

use super::{Executor, Sleep, Timer};
use crate::{Family, Tcp};

/// A generous upper bound for "soon" on a loaded machine.
const SOON: Duration = Duration::from_secs(10);

async fn pair() -> crate::Result<(Tcp, Tcp)> {
    let l = crate::tcp(Family::INET)?;
    l.listen("127.0.0.1", 0)?;
    let c = crate::tcp(Family::INET)?;
    c.connect("127.0.0.1", l.local_addr()?.port()).await?;
    Ok((c, l.accept().await?))
}

/// Writes all of `data` through `hyper::rt::Write`.
async fn write_all<W: Write + Unpin>(w: &mut W, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

/// Reads to EOF through `hyper::rt::Read`, into uninitialized space.
async fn read_to_end<R: Read + Unpin>(r: &mut R) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    loop {
        let mut buf = ReadBuf::uninit(&mut chunk);
        poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf.unfilled()))
            .await
            .unwrap();
        if buf.filled().is_empty() {
            return out;
        }
        out.extend_from_slice(buf.filled());
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn tcp_reads_and_writes_through_hyper_traits() {
    crate::run(async {
        let (mut c, mut s) = pair().await.unwrap();
        let data = pattern(1 << 20);
        let expect = data.clone();
        let writer = crate::spawn(async move {
            write_all(&mut c, &data).await;
            poll_fn(|cx| Pin::new(&mut c).poll_flush(cx)).await.unwrap();
            poll_fn(|cx| Pin::new(&mut c).poll_shutdown(cx))
                .await
                .unwrap();
            c
        });
        assert_eq!(read_to_end(&mut s).await, expect);
        drop(writer.join().await.unwrap());
    });
}

#[test]
fn owned_halves_read_and_write() {
    crate::run(async {
        let (c, s) = pair().await.unwrap();
        let (mut r, mut w) = s.into_split();
        let (mut cr, mut cw) = c.split();
        write_all(&mut cw, b"to server").await;
        assert!(cw.is_write_vectored());
        let mut raw = [0u8; 9];
        let mut buf = ReadBuf::new(&mut raw);
        while buf.filled().len() < 9 {
            poll_fn(|cx| Pin::new(&mut r).poll_read(cx, buf.unfilled()))
                .await
                .unwrap();
        }
        assert_eq!(buf.filled(), b"to server");
        write_all(&mut w, b"back").await;
        poll_fn(|cx| Pin::new(&mut w).poll_shutdown(cx))
            .await
            .unwrap();
        assert_eq!(read_to_end(&mut cr).await, b"back");
    });
}

#[test]
fn executor_runs_non_send_futures_on_the_loop() {
    crate::run(async {
        let seen = Rc::new(std::cell::Cell::new(0));
        let inner = Rc::clone(&seen);
        Executor.execute(async move { inner.set(inner.get() + 1) });
        let until = Instant::now() + SOON;
        while seen.get() == 0 && Instant::now() < until {
            crate::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(seen.get(), 1);
    });
}

#[test]
fn sleep_ends_at_its_deadline_not_before() {
    crate::run(async {
        let start = Instant::now();
        Timer.sleep(Duration::from_millis(30)).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(30), "{took:?}");
        assert!(took < SOON, "{took:?}");
    });
}

#[test]
fn timer_reset_moves_the_deadline_both_ways() {
    crate::run(async {
        let start = Instant::now();
        let mut later = Timer.sleep(Duration::from_millis(5));
        Timer.reset(&mut later, start + Duration::from_millis(40));
        later.await;
        assert!(start.elapsed() >= Duration::from_millis(40));
        let mut sooner = Timer.sleep(Duration::from_secs(3600));
        Timer.reset(&mut sooner, Instant::now() + Duration::from_millis(5));
        sooner.await;
        assert!(start.elapsed() < SOON);
    });
}

#[test]
fn sleep_dropped_on_another_thread_leaves_the_loop_sound() {
    crate::run(async {
        let mut armed = Sleep::new(Duration::from_millis(20));
        let polled = poll_fn(|cx| Poll::Ready(Pin::new(&mut armed).poll(cx).is_pending())).await;
        assert!(polled);
        std::thread::spawn(move || drop(armed)).join().unwrap();
        // The orphaned loop timer fires and finds itself disarmed; the loop runs on.
        crate::sleep(Duration::from_millis(40)).await;
        Timer.sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn sleep_reset_from_another_thread_wakes_and_rearms() {
    crate::run(async {
        let sleep = Arc::new(Mutex::new(Sleep::new(Duration::from_secs(3600))));
        let waiting = Arc::clone(&sleep);
        let start = Instant::now();
        let waiter = crate::spawn(async move {
            poll_fn(|cx| Pin::new(&mut *waiting.lock().unwrap()).poll(cx)).await;
        });
        crate::sleep(Duration::from_millis(5)).await;
        let resetter = std::thread::spawn(move || {
            let at = Instant::now() + Duration::from_millis(10);
            sleep.lock().unwrap().reset(at);
        });
        waiter.join().await.unwrap();
        resetter.join().unwrap();
        assert!(start.elapsed() < SOON);
    });
}

#[test]
fn sleeps_timer_and_executor_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Sleep>();
    send_sync::<Timer>();
    send_sync::<Executor>();
}
