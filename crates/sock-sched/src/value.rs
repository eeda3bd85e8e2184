//! [`Value`]: a dynamically typed value passed between threads by `resume`, `suspend`,
//! `yield_` and `transfer`.
//!
//! Like a Lua value, it carries its type at run time: [`Value::take`] and [`Value::get`]
//! check it and panic with both type names on a mismatch. Small everyday types (`()`,
//! `bool`, the integers, `f64`, `char`) are stored inline, so passing them allocates
//! nothing; anything else is boxed. (For statically typed values both ways, use a
//! generator from [`cowrap`](crate::cowrap).)

use std::any::{Any, TypeId, type_name};
use std::fmt;

/// A value passed between threads, typed at run time.
///
/// # Examples
///
/// ```
/// use sock::task::Value;
///
/// let v = Value::new(42u64);
/// assert!(v.is::<u64>());
/// assert_eq!(v.take::<u64>(), 42);
/// assert!(Value::none().is_none());
/// ```
pub struct Value {
    /// The stored value.
    repr: Repr,
    /// The stored type's name, for mismatch messages.
    type_name: &'static str,
}

/// How a value is stored.
enum Repr {
    /// No value (a thread suspended or finished without passing one).
    None,
    /// `()`, `bool`, `char`, `f64` or an integer up to 64 bits, as bits, with its type.
    Word(TypeId, u64),
    /// Anything else.
    Boxed(Box<dyn Any>),
}

/// Moves `v: T` into a `U` if they are the same type; gives it back otherwise.
fn try_cast<T: 'static, U: 'static>(v: T) -> Result<U, T> {
    if TypeId::of::<T>() != TypeId::of::<U>() {
        return Err(v);
    }
    let mut slot = Some(v);
    let same = (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>();
    Ok(same
        .and_then(Option::take)
        .expect("TypeId matched, so the downcast succeeds"))
}

/// Defines the types stored inline and how they map to and from 64 bits.
macro_rules! words {
    ($($t:ty: $to:expr, $from:expr;)*) => {
        /// The bits of `v` if `T` is stored inline.
        #[allow(clippy::redundant_closure_call, clippy::cast_lossless)]
        fn to_word<T: 'static>(v: T) -> Result<u64, T> {
            $(let v = match try_cast::<T, $t>(v) {
                Ok(x) => return Ok(($to)(x)),
                Err(v) => v,
            };)*
            Err(v)
        }

        /// A `T` rebuilt from bits stored by [`to_word`].
        #[allow(clippy::redundant_closure_call)]
        fn from_word<T: 'static>(bits: u64) -> T {
            $(if let Ok(x) = try_cast::<$t, T>(($from)(bits)) {
                return x;
            })*
            unreachable!("from_word is only called for a type that to_word stored")
        }
    };
}

words! {
    (): |_| 0, |_| ();
    bool: u64::from, |b| b != 0;
    u8: u64::from, |b| b as u8;
    u16: u64::from, |b| b as u16;
    u32: u64::from, |b| b as u32;
    u64: |x| x, |b| b;
    usize: |x| x as u64, |b| b as usize;
    i8: |x: i8| x as u64, |b| b as i8;
    i16: |x: i16| x as u64, |b| b as i16;
    i32: |x: i32| x as u64, |b| b as i32;
    i64: |x: i64| x as u64, |b| b as i64;
    isize: |x: isize| x as u64, |b| b as isize;
    f64: f64::to_bits, f64::from_bits;
    char: u64::from, |b| char::from_u32(b as u32).unwrap_or_default();
}

impl Value {
    /// Wraps `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = sock::task::Value::new(String::from("hi"));
    /// assert_eq!(v.take::<String>(), "hi");
    /// ```
    pub fn new<T: 'static>(value: T) -> Self {
        let repr = match to_word(value) {
            Ok(bits) => Repr::Word(TypeId::of::<T>(), bits),
            Err(value) => Repr::Boxed(Box::new(value)),
        };
        Self {
            repr,
            type_name: type_name::<T>(),
        }
    }

    /// No value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sock::task::Value::none().is_none());
    /// ```
    pub fn none() -> Self {
        Self {
            repr: Repr::None,
            type_name: "no value",
        }
    }

    /// Whether there is no value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sock::task::Value::new(()).is_none());
    /// ```
    pub fn is_none(&self) -> bool {
        matches!(self.repr, Repr::None)
    }

    /// Whether the value is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = sock::task::Value::new(1i32);
    /// assert!(v.is::<i32>() && !v.is::<u32>());
    /// ```
    pub fn is<T: 'static>(&self) -> bool {
        match &self.repr {
            Repr::None => false,
            Repr::Word(id, _) => *id == TypeId::of::<T>(),
            Repr::Boxed(b) => b.is::<T>(),
        }
    }

    /// The name of the stored type (`"no value"` if none).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::task::Value::new(1u8).type_name(), "u8");
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The value as a `T`, or `None` if there is no value.
    ///
    /// # Panics
    ///
    /// If the value is not a `T` (the message names both types).
    ///
    /// # Examples
    ///
    /// ```
    /// use sock::task::Value;
    ///
    /// assert_eq!(Value::new(7u64).get::<u64>(), Some(7));
    /// assert_eq!(Value::none().get::<u64>(), None);
    /// ```
    pub fn get<T: 'static>(self) -> Option<T> {
        if self.is_none() {
            return None;
        }
        assert!(
            self.is::<T>(),
            "expected a value of type {}, but got a {}; pass the type the receiver expects",
            type_name::<T>(),
            self.type_name
        );
        match self.repr {
            Repr::None => None,
            Repr::Word(_, bits) => Some(from_word(bits)),
            Repr::Boxed(b) => b.downcast::<T>().ok().map(|b| *b),
        }
    }

    /// The value as a `T`.
    ///
    /// # Panics
    ///
    /// If there is no value or it is not a `T` (the message names both types).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sock::task::Value::new('x').take::<char>(), 'x');
    /// ```
    pub fn take<T: 'static>(self) -> T {
        let expected = type_name::<T>();
        self.get().unwrap_or_else(|| {
            panic!(
                "expected a value of type {expected}, but none was passed; pass one or use get()"
            )
        })
    }
}

impl Default for Value {
    fn default() -> Self {
        Self::none()
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Value").field(&self.type_name).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_types_round_trip() {
        assert_eq!(Value::new(-5i64).take::<i64>(), -5);
        assert_eq!(Value::new(-5i8).take::<i8>(), -5);
        assert_eq!(Value::new(u64::MAX).take::<u64>(), u64::MAX);
        assert!(Value::new(true).take::<bool>());
        assert_eq!(Value::new(1.5f64).take::<f64>(), 1.5);
        assert_eq!(Value::new('é').take::<char>(), 'é');
        Value::new(()).take::<()>();
        assert!(matches!(Value::new(3u32).repr, Repr::Word(..)));
        assert!(matches!(Value::new(vec![1]).repr, Repr::Boxed(_)));
    }

    #[test]
    #[should_panic(expected = "expected a value of type u32, but got a i32")]
    fn mismatch_names_both_types() {
        Value::new(1i32).take::<u32>();
    }
}
