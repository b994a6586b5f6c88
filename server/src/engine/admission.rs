//! Who may open a session: the global and per-address session caps and the per-address
//! handshake rate. A [`Slot`] is taken at the handshake and held by the session for its
//! whole life (also while a WebSocket handshake waits for its upgrade), so that the caps
//! hold even under a flood of concurrent handshakes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::config::EngineConfig;
use super::error::EngineError;

#[derive(Default)]
pub(crate) struct Admission {
    state: Mutex<State>,
    shutting_down: AtomicBool,
    warned: [AtomicBool; 3],
}

#[derive(Default)]
struct State {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    /// Start of the current window and handshakes in it, per address.
    rate: HashMap<IpAddr, (Instant, u32)>,
}

/// One admitted session; dropping it gives the place back.
pub(crate) struct Slot {
    admission: Arc<Admission>,
    address: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.admission.lock();
        s.total = s.total.saturating_sub(1);
        if let Some(a) = self.address {
            if let Some(n) = s.per_address.get_mut(&a) {
                *n -= 1;
                if *n == 0 {
                    s.per_address.remove(&a);
                }
            }
        }
    }
}

impl Admission {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses every handshake from now on.
    pub(crate) fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    /// Warns the first time limit `i` refuses someone; later refusals log at debug level.
    fn refuse(&self, i: usize, what: &str, address: Option<IpAddr>) {
        if !self.warned[i].swap(true, Ordering::Relaxed) {
            tracing::warn!(
                ?address,
                "handshake refused: {what} (logged once; later refusals at debug level)"
            );
        } else {
            tracing::debug!(?address, "handshake refused: {what}");
        }
    }

    /// Admits one more session from `address`, or says why not.
    pub(crate) fn admit(
        self: &Arc<Self>,
        config: &EngineConfig,
        address: Option<IpAddr>,
    ) -> Result<Slot, EngineError> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return Err(EngineError::Busy);
        }
        let mut s = self.lock();
        if let (Some(a), Some((max, window))) = (address, config.handshake_rate) {
            let now = Instant::now();
            if s.rate.len() >= 4096 {
                s.rate
                    .retain(|_, (start, _)| now.duration_since(*start) < window);
            }
            let entry = s.rate.entry(a).or_insert((now, 0));
            if now.duration_since(entry.0) >= window {
                *entry = (now, 0);
            }
            if entry.1 >= max {
                drop(s);
                self.refuse(0, "handshake rate per address", address);
                return Err(EngineError::TooManyRequests);
            }
            entry.1 += 1;
        }
        if s.total >= config.max_sessions {
            drop(s);
            self.refuse(1, "max_sessions reached", address);
            return Err(EngineError::Busy);
        }
        if let (Some(a), Some(max)) = (address, config.max_sessions_per_address) {
            let n = s.per_address.entry(a).or_insert(0);
            if *n >= max {
                if *n == 0 {
                    s.per_address.remove(&a);
                }
                drop(s);
                self.refuse(2, "max_sessions_per_address reached", address);
                return Err(EngineError::TooManyRequests);
            }
            *n += 1;
        }
        s.total += 1;
        Ok(Slot {
            admission: self.clone(),
            address: address.filter(|_| config.max_sessions_per_address.is_some()),
        })
    }
}
