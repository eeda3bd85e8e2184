//! Per-thread environment: typed values a thread can set and read, inherited (as a
//! snapshot) by the threads it creates.
//!
//! Each thread owns a map from type to value. A new thread starts with a copy of its
//! creator's map (values are shared behind `Rc` until one side sets a new value), so a
//! child sees what its parent had at creation, and later changes on either side stay
//! isolated. Outside any thread, the functions act on the loop's root environment, which
//! threads created from outside inherit.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::rc::Rc;

/// A thread's environment.
#[derive(Clone, Default)]
pub(crate) struct Env {
    /// One value per type.
    values: HashMap<TypeId, Rc<dyn Any>>,
}

impl Env {
    /// Sets the value of type `T`, returning the previous one's handle.
    pub(crate) fn insert<T: 'static>(&mut self, value: T) -> Option<Rc<dyn Any>> {
        self.values.insert(TypeId::of::<T>(), Rc::new(value))
    }

    /// The value of type `T`.
    pub(crate) fn get<T: 'static>(&self) -> Option<Rc<dyn Any>> {
        self.values.get(&TypeId::of::<T>()).cloned()
    }

    /// Removes the value of type `T`.
    pub(crate) fn remove<T: 'static>(&mut self) -> Option<Rc<dyn Any>> {
        self.values.remove(&TypeId::of::<T>())
    }

    /// Whether nothing is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}
