//! [`Port`]: the service half of a lookup — a number, a service name, or 0.

use std::fmt;

/// The port of a lookup: a number (`0` = any available port), or a service name such as
/// `"http"` looked up in the services database. A string of digits is a number.
///
/// Most callers never name this type: [`lookup`](crate::lookup) takes `impl Into<Port>`,
/// so a `u16` or a `&str` does.
///
/// # Examples
///
/// ```
/// use sock::addr::Port;
///
/// assert_eq!(Port::from(80).number(), Some(80));
/// assert_eq!(Port::from("8080").number(), Some(8080));
/// assert_eq!(Port::from("http").number(), None);
/// assert_eq!(Port::from("http").to_string(), "http");
/// ```
#[doc(alias = "service")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Port(Repr);

/// A number, or a name for the OS to look up.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Number(u16),
    Name(Box<str>),
}

impl Port {
    /// Port 0: any available port (`bind`), or "no service" in a lookup.
    pub const ANY: Port = Port(Repr::Number(0));

    /// The port number, unless this is a service name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Port::ANY.number(), Some(0));
    /// ```
    pub fn number(&self) -> Option<u16> {
        match self.0 {
            Repr::Number(n) => Some(n),
            Repr::Name(_) => None,
        }
    }

    /// The service name, unless this is a number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::addr::Port::from("domain").name(), Some("domain"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        match &self.0 {
            Repr::Number(_) => None,
            Repr::Name(name) => Some(name),
        }
    }
}

impl From<u16> for Port {
    fn from(n: u16) -> Port {
        Port(Repr::Number(n))
    }
}

impl From<&str> for Port {
    fn from(s: &str) -> Port {
        match s.parse::<u16>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Port(Repr::Number(n)),
            _ => Port(Repr::Name(s.into())),
        }
    }
}

impl From<String> for Port {
    fn from(s: String) -> Port {
        Port::from(s.as_str())
    }
}

impl From<&String> for Port {
    fn from(s: &String) -> Port {
        Port::from(s.as_str())
    }
}

impl From<&Port> for Port {
    fn from(port: &Port) -> Port {
        port.clone()
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Number(n) => write!(f, "{n}"),
            Repr::Name(name) => f.write_str(name),
        }
    }
}

impl fmt::Debug for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Number(n) => write!(f, "{n}"),
            Repr::Name(name) => write!(f, "{name:?}"),
        }
    }
}
