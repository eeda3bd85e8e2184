//! Integration tests of `sock-poll-shared` through its public API.

mod adopt;
#[cfg(target_os = "linux")]
mod epoll;
mod packets;

/// Serializes the tests of this binary: one of them checks that a *closed* handle is
/// refused, which only holds while no other test opens an fd that could reuse it.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
