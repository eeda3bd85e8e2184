//! The HTTP hello world both hyper servers answer with, and their command line: shared
//! by `hyper_sock` and `hyper_tokio` (included into each with `#[path]`), so the two
//! differ only in the runtime under hyper.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use sock_netbench::Args;

/// What every request gets back.
pub(crate) const BODY: &str = "Hello, World!";

/// The usage text of both servers.
const USAGE: &str = "usage: SERVER --addr HOST:PORT
  answers every HTTP/1.1 request with \"Hello, World!\" until killed";

/// Answers any request with [`BODY`] (hyper adds `content-length` and `date`).
pub(crate) async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        BODY.as_bytes(),
    ))))
}

/// The `--addr` of this process; on a bad command line prints why and exits with 2.
pub(crate) fn addr_from_env_or_exit() -> SocketAddr {
    let parse = || -> Result<SocketAddr, String> {
        let mut args = Args::from_env();
        if args.flag("--help") || args.flag("-h") {
            return Err(USAGE.to_owned());
        }
        let addr = args.value("--addr")?;
        args.finish()?;
        addr.ok_or_else(|| format!("--addr is required\n{USAGE}"))
    };
    parse().unwrap_or_else(|err| {
        eprintln!("{err}");
        std::process::exit(2)
    })
}
