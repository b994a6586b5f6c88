//! Lock access that survives poisoning. A panic while a guard is held (in a user callback
//! run under a lock, say) poisons std locks; every structure the Socket.IO layer keeps
//! under a lock is left consistent by each of its critical sections (single inserts,
//! removals, clones), so the data is used as it is rather than the server silently
//! dropping work from then on.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn lock<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, RwLock};

    #[test]
    fn poisoned_locks_are_still_usable() {
        let rw = Arc::new(RwLock::new(vec![1]));
        let m = Arc::new(Mutex::new(1));
        let (rw2, m2) = (rw.clone(), m.clone());
        let _ = std::thread::spawn(move || {
            let _g = rw2.write().unwrap();
            let _h = m2.lock().unwrap();
            panic!("poison");
        })
        .join();
        assert!(rw.is_poisoned() && m.is_poisoned());
        super::write(&rw).push(2);
        assert_eq!(*super::read(&rw), vec![1, 2]);
        *super::lock(&m) += 1;
        assert_eq!(*super::lock(&m), 2);
    }
}
