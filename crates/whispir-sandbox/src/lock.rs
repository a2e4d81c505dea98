//! Locking the sandbox's shared data.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, taking the data even when a panicking thread poisoned it:
/// the sandbox's data stays usable whatever one request did.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
