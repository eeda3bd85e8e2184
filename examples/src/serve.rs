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

/// Accepts connections forever, running `handler` on each in a thread of its own. An
/// error of one connection (aborted before it was accepted, refused by a firewall rule,
/// out of fds: sock has already refused the waiting connection) does not stop the
/// loop; a shortage of kernel memory backs off 10 ms first (see [`on_error`]).
///
/// # Errors
///
/// The first fatal accept error (e.g. the listener was closed).
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
            Err(e) => on_error(e).await?,
        }
    }
}

/// What an accept loop does after `e`: goes on (`Ok`) after an error of one connection
/// or a passing shortage ([`sock::Error::is_transient_accept`]), after a 10 ms pause
/// when out of fds or kernel memory; stops (`Err(e)`) on a fatal error.
///
/// # Errors
///
/// `e` itself, when it is fatal (the listener was closed, is not listening, …).
///
/// # Examples
///
/// ```
/// use sock::ErrorKind;
///
/// sock::run(async {
///     assert!(sock_examples::serve::on_error(ErrorKind::ConnectionAborted.into()).await.is_ok());
///     let fatal = sock_examples::serve::on_error(ErrorKind::Closed.into()).await;
///     assert_eq!(fatal.unwrap_err().kind(), ErrorKind::Closed);
/// });
/// ```
pub async fn on_error(e: sock::Error) -> sock::Result<()> {
    if !e.is_transient_accept() {
        return Err(e);
    }
    if matches!(
        e.kind(),
        ErrorKind::TooManyOpenFiles | ErrorKind::OutOfMemory
    ) {
        sock::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
