//! The clock of the Engine.IO layer: the core's [`Instant`]s are milliseconds since the
//! server started, read from tokio's clock (so tests with a paused clock drive every timer).

use std::time::Duration;

use sockeye_core::Instant;

/// Converts between tokio's clock and the core's [`Instant`]s.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: tokio::time::Instant,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn new() -> Clock {
        Clock {
            epoch: tokio::time::Instant::now(),
        }
    }

    /// The current time for the core.
    pub fn now(&self) -> Instant {
        let ms = self.epoch.elapsed().as_millis();
        Instant::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// The tokio instant of a core deadline.
    pub fn deadline(&self, at: Instant) -> tokio::time::Instant {
        self.epoch + Duration::from_millis(at.as_millis())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
