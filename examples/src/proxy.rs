//! The port forwarder behind `proxy`: each accepted connection is joined to a new
//! connection to the target with [`sock::io::copy_bidirectional`], under a connect
//! deadline and an idle timeout.
//!
//! Each half-close passes through (a client that shuts its sending side down still
//! gets the whole answer), and a session ends when both sides have sent their EOF,
//! either side fails, or nothing moves either way for the idle timeout; both sockets
//! are then closed. A target that cannot be reached closes the client's connection at
//! once (refused) or at the connect deadline (no answer). Errors of one session are
//! printed to stderr and never stop the proxy.

use std::rc::Rc;
use std::time::Duration;

use sock::io::Copied;
use sock::{Expires, Family, Tcp};

/// Where and how the proxy forwards.
#[derive(Debug, Clone)]
pub struct Forwarder {
    /// The target's host (a name or an address).
    pub host: String,
    /// The target's port.
    pub port: u16,
    /// How long connecting to the target may take.
    pub connect_timeout: Duration,
    /// How long a session may move nothing either way.
    pub idle_timeout: Duration,
}

impl Forwarder {
    /// A forwarder to `host:port` with a 5 s connect deadline and a 60 s idle timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = sock_examples::proxy::Forwarder::new("127.0.0.1", 8000);
    /// assert_eq!(f.connect_timeout.as_secs(), 5);
    /// ```
    pub fn new(host: &str, port: u16) -> Forwarder {
        Forwarder {
            host: host.to_owned(),
            port,
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// Accepts connections forever, forwarding each in a thread of its own (see
    /// [`crate::serve::accept_loop`]).
    ///
    /// # Errors
    ///
    /// The first fatal accept error (e.g. the listener was closed).
    pub async fn serve(self, listener: Tcp) -> sock::Result<()> {
        let this = Rc::new(self);
        crate::serve::accept_loop(listener, move |client| {
            let this = Rc::clone(&this);
            async move { this.session(client).await }
        })
        .await
    }

    /// One session, its error (if any) printed.
    async fn session(&self, client: Tcp) {
        let peer = client.remote_addr().map(|a| a.to_string());
        if let Err(e) = self.forward(client).await {
            eprintln!("proxy: {}: {e}", peer.as_deref().unwrap_or("?"));
        }
    }

    /// Connects to the target and copies both ways between it and `client` until the
    /// session ends; returns the bytes moved (`a_to_b`: client to target).
    ///
    /// # Errors
    ///
    /// The connect's error ([`sock::ErrorKind::Timeout`] at the connect deadline,
    /// [`sock::ErrorKind::ConnectionRefused`], …), or the copy's (a reset of either
    /// side, `Timeout` after the idle timeout).
    pub async fn forward(&self, client: Tcp) -> sock::Result<Copied> {
        let target = sock::tcp(Family::UNSPEC)?; // the family of the address it connects to
        target
            .connect(&self.host, self.port)
            .timeout(self.connect_timeout)
            .await?;
        let _ = client.set_nodelay(true); // pass small writes on at once, both ways
        let _ = target.set_nodelay(true);
        sock::io::copy_bidirectional(&client, &target)
            .idle_timeout(self.idle_timeout)
            .await
    }
}
