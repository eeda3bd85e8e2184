//! An HTTP/1.1 client on hyper over sock: one GET under one deadline for the whole
//! request (connect, handshake, headers and body), with `sock::timeout`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use sock::Family;

/// GETs `path` from `host:port` and returns the status and the whole body, or fails
/// with `Timeout` when it takes longer than `limit` in all.
///
/// # Errors
///
/// Connect and I/O errors, [`ErrorKind::Timeout`](sock::ErrorKind::Timeout), and
/// hyper's errors (as I/O errors).
pub async fn get(
    host: &str,
    port: u16,
    path: &str,
    limit: Duration,
) -> sock::Result<(StatusCode, Bytes)> {
    let family = if host.contains(':') {
        Family::INET6
    } else {
        Family::INET
    };
    let driver = std::cell::Cell::new(None);
    let result = sock::timeout(limit, async {
        let conn = sock::tcp(family)?;
        conn.connect(host, port).await?;
        let (mut sender, connection) = http1::handshake(conn).await.map_err(other)?;
        driver.set(Some(sock::spawn(connection)));
        let req = Request::get(path)
            .header("host", host)
            .body(Empty::<Bytes>::new());
        let response = sender
            .send_request(req.map_err(other)?)
            .await
            .map_err(other)?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(other)?;
        Ok((status, body.to_bytes()))
    })
    .await;
    // The connection's driver ends with the request; on a timeout it is cut off here.
    if let Some(driver) = driver.take() {
        driver.cancel();
    }
    result
}

/// A hyper or http error as a sock error.
fn other(e: impl std::error::Error + Send + Sync + 'static) -> sock::Error {
    std::io::Error::other(e).into()
}
