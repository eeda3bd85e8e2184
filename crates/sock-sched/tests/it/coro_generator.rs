//! Generators from `cowrap` / `Generator::new`.

use std::time::Duration;

use sock_sched::{Co, Executor, Generator, cowrap, sleep};

use crate::support::manual_loop;

#[test]
fn a_generator_yields_a_million_values_in_order() {
    let ex = Executor::new();
    let (count, ordered) = ex.run(async {
        let mut g = cowrap(|co| async move {
            for i in 0..1_000_000u64 {
                co.yield_(i).await;
            }
        });
        let (mut count, mut expected, mut ordered) = (0u64, 0u64, true);
        while let Some(v) = g.next().await {
            ordered &= v == expected;
            expected += 1;
            count += 1;
        }
        (count, ordered)
    });
    assert_eq!(count, 1_000_000);
    assert!(ordered);
}

#[test]
fn a_generator_body_may_wait_on_timers_between_yields() {
    let (ex, _clock) = manual_loop();
    let start = ex.clock();
    let got = ex.run(async move {
        let mut ticks = cowrap(|co| async move {
            for i in 0..3u32 {
                sleep(Duration::from_millis(10)).await;
                co.yield_((i, sock_sched::clock() - start)).await;
            }
        });
        let mut got = vec![];
        while let Some(v) = ticks.next().await {
            got.push(v);
        }
        got
    });
    let ms = |n| Duration::from_millis(n);
    assert_eq!(got, [(0, ms(10)), (1, ms(20)), (2, ms(30))]);
}

#[test]
fn generator_values_pass_both_ways_and_the_output_is_kept() {
    let ex = Executor::new();
    let (outs, output) = ex.run(async {
        let mut acc = Generator::new(|co: Co<i64, i64>| async move {
            let mut total = co.take_resumed().unwrap_or(0);
            while total < 100 {
                total += co.yield_(total).await;
            }
            format!("total {total}")
        });
        let mut outs = vec![];
        for x in [1, 10, 100, 1000] {
            outs.push(acc.resume(x).await);
        }
        (outs, acc.take_output())
    });
    assert_eq!(outs, [Some(1), Some(11), None, None]);
    assert_eq!(output.as_deref(), Some("total 111"));
}
