//! A tiny command-line flag parser: `--name value`, `--name=value` and bare `--flag`.
//!
//! The binaries take a handful of flags each; a dependency for that is not worth it. Flags
//! are taken out of the list as they are asked for, and [`Args::finish`] rejects whatever
//! nobody asked for, so a typo is an error instead of a silently ignored setting.

use std::fmt::Display;
use std::str::FromStr;

/// The arguments of one program, consumed flag by flag.
///
/// # Examples
///
/// ```
/// use sock_netbench::Args;
///
/// let mut args = Args::new(["--addr", "127.0.0.1:7000", "--udp"]);
/// assert!(args.flag("--udp"));
/// let addr: Option<String> = args.value("--addr").unwrap();
/// assert_eq!(addr.as_deref(), Some("127.0.0.1:7000"));
/// assert!(args.finish().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Args {
    /// The arguments not yet consumed, in their original order.
    rest: Vec<String>,
}

impl Args {
    /// The arguments of this process, without the program name.
    ///
    /// # Examples
    ///
    /// ```
    /// let args = sock_netbench::Args::from_env();
    /// # let _ = args;
    /// ```
    pub fn from_env() -> Self {
        Self::new(std::env::args().skip(1))
    }

    /// Arguments from any list of strings (the program name not included).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut args = sock_netbench::Args::new(["--quick"]);
    /// assert!(args.flag("--quick"));
    /// ```
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            rest: args.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the bare flag `name` was given; every occurrence is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut args = sock_netbench::Args::new(["--udp"]);
    /// assert!(args.flag("--udp"));
    /// assert!(!args.flag("--udp"));
    /// ```
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|arg| arg != name);
        self.rest.len() != before
    }

    /// The value of `--name value` or `--name=value`, parsed; `None` when absent. The last
    /// occurrence wins.
    ///
    /// # Errors
    ///
    /// When the flag is last with no value, or the value does not parse as `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut args = sock_netbench::Args::new(["--conns=64", "--depth", "x"]);
    /// assert_eq!(args.value::<usize>("--conns").unwrap(), Some(64));
    /// assert!(args.value::<usize>("--depth").is_err());
    /// ```
    pub fn value<T>(&mut self, name: &str) -> Result<Option<T>, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        let mut found = None;
        while let Some(raw) = self.take_raw(name)? {
            found = Some(raw);
        }
        found
            .map(|raw| {
                raw.parse()
                    .map_err(|err| format!("{name}: cannot parse {raw:?}: {err}"))
            })
            .transpose()
    }

    /// Fails when arguments remain that no flag asked for.
    ///
    /// # Errors
    ///
    /// Names the first unknown argument.
    ///
    /// # Examples
    ///
    /// ```
    /// let args = sock_netbench::Args::new(["--bogus"]);
    /// assert!(args.finish().unwrap_err().contains("--bogus"));
    /// ```
    pub fn finish(self) -> Result<(), String> {
        match self.rest.first() {
            Some(arg) => Err(format!("unknown argument {arg:?} (try --help)")),
            None => Ok(()),
        }
    }

    /// Removes the first occurrence of `name` with its value and returns the value.
    fn take_raw(&mut self, name: &str) -> Result<Option<String>, String> {
        let prefix = format!("{name}=");
        let Some(at) = self
            .rest
            .iter()
            .position(|arg| arg == name || arg.starts_with(&prefix))
        else {
            return Ok(None);
        };
        let arg = self.rest.remove(at);
        if let Some(value) = arg.strip_prefix(&prefix) {
            return Ok(Some(value.to_owned()));
        }
        if at < self.rest.len() {
            return Ok(Some(self.rest.remove(at)));
        }
        Err(format!("{name} needs a value"))
    }
}
