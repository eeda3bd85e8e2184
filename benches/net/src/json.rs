//! One-line flat JSON records: how the load generator reports and the driver reads.
//!
//! Only what the harness needs: an object of string and number fields on one line, and a
//! lookup of one field's raw value. Strings written here never need escaping beyond `"` and
//! `\`, which are escaped; the reader does not unescape (the driver only reads numbers and
//! plain words).

use std::fmt::Write as _;

/// A flat JSON object being built, one field at a time.
///
/// # Examples
///
/// ```
/// use sock_netbench::{JsonLine, json_field};
///
/// let line = JsonLine::new().str("mode", "echo").num("rt_per_sec", 1.5e5).finish();
/// assert_eq!(line, r#"{"mode":"echo","rt_per_sec":150000}"#);
/// assert_eq!(json_field(&line, "mode"), Some("echo"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct JsonLine {
    /// The fields written so far, without the braces.
    body: String,
}

impl JsonLine {
    /// An empty object.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock_netbench::JsonLine::new().finish(), "{}");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a string field.
    ///
    /// # Examples
    ///
    /// ```
    /// let line = sock_netbench::JsonLine::new().str("a", "x\"y").finish();
    /// assert_eq!(line, r#"{"a":"x\"y"}"#);
    /// ```
    pub fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.body.push('"');
        for c in value.chars() {
            if c == '"' || c == '\\' {
                self.body.push('\\');
            }
            self.body.push(c);
        }
        self.body.push('"');
        self
    }

    /// Adds a number field; whole numbers print without a fraction, non-finite ones as `null`.
    ///
    /// # Examples
    ///
    /// ```
    /// let line = sock_netbench::JsonLine::new().num("n", 3.0).num("r", 0.25).finish();
    /// assert_eq!(line, r#"{"n":3,"r":0.25}"#);
    /// ```
    pub fn num(mut self, key: &str, value: f64) -> Self {
        self.key(key);
        if !value.is_finite() {
            self.body.push_str("null");
        } else if value.fract() == 0.0 && value.abs() < 1e15 {
            let _ = write!(self.body, "{}", value as i64);
        } else {
            let _ = write!(self.body, "{value}");
        }
        self
    }

    /// The finished object as one line of text.
    ///
    /// # Examples
    ///
    /// ```
    /// let line = sock_netbench::JsonLine::new().num("x", 1.0).finish();
    /// assert!(line.starts_with('{') && line.ends_with('}'));
    /// ```
    pub fn finish(self) -> String {
        format!("{{{}}}", self.body)
    }

    /// Writes `"key":`, after a comma when a field came before.
    fn key(&mut self, key: &str) {
        if !self.body.is_empty() {
            self.body.push(',');
        }
        let _ = write!(self.body, "\"{key}\":");
    }
}

/// The raw value of field `key` in a flat one-line JSON object: a string's contents
/// (unescaped quotes stay escaped) or a number's text; `None` when the field is absent.
///
/// # Examples
///
/// ```
/// use sock_netbench::json_field;
///
/// let line = r#"{"mode":"echo","rt_per_sec":1234.5,"p99_us":80}"#;
/// assert_eq!(json_field(line, "rt_per_sec"), Some("1234.5"));
/// assert_eq!(json_field(line, "p99_us").and_then(|v| v.parse::<f64>().ok()), Some(80.0));
/// assert_eq!(json_field(line, "missing"), None);
/// ```
pub fn json_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":");
    let start = line.find(&needle)? + needle.len();
    let rest = &line[start..];
    if let Some(string) = rest.strip_prefix('"') {
        return Some(&string[..string_end(string)?]);
    }
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The index of the closing quote of a JSON string body, skipping escaped characters.
fn string_end(body: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(at),
            _ => {}
        }
    }
    None
}
