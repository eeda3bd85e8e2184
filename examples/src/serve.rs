//! The accept loop the example servers share.

use std::future::Future;
use std::time::Duration;

use sock::{ErrorKind, Family, Tcp};

/// A listening TCP socket on `host:port` (IPv6 when `host` has a colon).
///
/// # Errors
///
/// Socket, bind or listen errors (e.g. [`ErrorKind::AddressInUse`]).
pub fn listener(host: &str, port: u16) -> sock::Result<Tcp> {
    let family = if host.contains(':') {
        Family::INET6
    } else {
        Family::INET
    };
    let listener = sock::tcp(family)?;
    listener.listen(host, port)?;
    Ok(listener)
}

/// Accepts connections forever, running `handler` on each in a thread of its own.
/// Under `EMFILE` (out of fds) sock has already refused the pending connection; the
/// loop backs off 10 ms instead of spinning.
///
/// # Errors
///
/// An accept error other than running out of fds (e.g. the listener was closed).
pub async fn accept_loop<F, Fut>(listener: Tcp, handler: F) -> sock::Result<()>
where
    F: Fn(Tcp) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    loop {
        match listener.accept().await {
            Ok(conn) => {
                sock::thread(handler(conn));
            }
            Err(e) if e.kind() == ErrorKind::TooManyOpenFiles => {
                sock::sleep(Duration::from_millis(10)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
