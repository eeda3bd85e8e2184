//! Command-line flags for the examples.

/// The value after `--name` on the command line, or `default`.
///
/// # Examples
///
/// ```
/// assert_eq!(sock_examples::args::flag("--nothing-like-this", "x"), "x");
/// ```
pub fn flag(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// Splits `HOST:PORT` (the port after the last colon; `[v6]` brackets removed).
///
/// # Panics
///
/// If `addr` has no `:PORT` with a number: pass `--addr HOST:PORT`.
///
/// # Examples
///
/// ```
/// assert_eq!(sock_examples::args::host_port("127.0.0.1:80"), ("127.0.0.1".to_owned(), 80));
/// assert_eq!(sock_examples::args::host_port("[::1]:80"), ("::1".to_owned(), 80));
/// ```
pub fn host_port(addr: &str) -> (String, u16) {
    let (host, port) = addr.rsplit_once(':').expect("pass --addr HOST:PORT");
    let port = port
        .parse()
        .expect("the port of --addr HOST:PORT must be a number");
    (
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
    )
}
