//! No hidden threads: the blocking pool has no thread before the first `spawn_blocking`
//! (its own test binary, so no other test has used the pool in this process).

use sock::task::{blocking_stats, spawn_blocking};

#[test]
fn the_blocking_pool_starts_no_thread_before_its_first_use() {
    sock::run(async {
        sock::sleep(std::time::Duration::from_millis(1)).await;
    });
    assert_eq!(blocking_stats().threads, 0);
    let name = sock::run(spawn_blocking(|| {
        std::thread::current().name().map(str::to_owned)
    }));
    assert_eq!(name.unwrap().as_deref(), Some("sock-blocking"));
    assert_eq!(blocking_stats().threads, 1);
}
