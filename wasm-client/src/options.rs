//! Manager options: socket.io-client's, as `js/index.js` hands them over — one number per
//! option, in a fixed order ([`Opt`]), `NaN` for an option that is missing or of the wrong
//! type (the JS side reads the options object; no JavaScript value is walked here).

use alloc::vec::Vec;
use core::time::Duration;
use sockeye_core::engine::client::Config as EngineConfig;
use sockeye_core::engine::Transport;
use sockeye_core::socket::client::Config;

/// The position of each option in the numbers `js/index.js` (`config()`) passes. Booleans
/// are 0 or 1. The transports follow the last one, one number each: 0 `polling`,
/// 1 `websocket` (anything else is skipped).
#[derive(Clone, Copy, Debug)]
pub enum Opt {
    /// `upgrade` (boolean).
    Upgrade,
    /// `reconnection` (boolean).
    Reconnection,
    /// `reconnectionAttempts`.
    ReconnectionAttempts,
    /// `reconnectionDelay` (ms).
    ReconnectionDelay,
    /// `reconnectionDelayMax` (ms).
    ReconnectionDelayMax,
    /// `randomizationFactor`.
    RandomizationFactor,
    /// `timeout` (ms).
    Timeout,
    /// `ackTimeout` (ms).
    AckTimeout,
    /// `rememberUpgrade` (boolean).
    RememberUpgrade,
    /// Where the transports start.
    Transports,
}

/// Option `key` of `opts`, if given (not `NaN`).
pub fn get(opts: &[f64], key: Opt) -> Option<f64> {
    opts.get(key as usize).copied().filter(|n| !n.is_nan())
}

/// A boolean option, if given.
pub fn flag(opts: &[f64], key: Opt) -> Option<bool> {
    get(opts, key).map(|n| n != 0.0)
}

fn millis(opts: &[f64], key: Opt) -> Option<Duration> {
    get(opts, key).map(|n| Duration::from_millis(n.clamp(0.0, u32::MAX as f64) as u64))
}

/// The core's client configuration from `transports`, `upgrade`, `reconnection`,
/// `reconnectionAttempts`, `reconnectionDelay`, `reconnectionDelayMax`,
/// `randomizationFactor`, `timeout` and `ackTimeout`; anything missing keeps
/// socket.io-client's default.
pub fn client_config(opts: &[f64]) -> Config {
    let mut config = Config::default();
    let mut transports = Vec::new();
    for &t in opts.get(Opt::Transports as usize..).unwrap_or_default() {
        if t == 0.0 {
            transports.push(Transport::Polling);
        } else if t == 1.0 {
            transports.push(Transport::WebSocket);
        }
    }
    if !transports.is_empty() {
        config.engine = EngineConfig::with_transports(&transports);
    }
    if let Some(upgrade) = flag(opts, Opt::Upgrade) {
        config.engine.upgrade = upgrade;
    }
    if let Some(r) = flag(opts, Opt::Reconnection) {
        config.reconnection = r;
    }
    if let Some(n) = get(opts, Opt::ReconnectionAttempts) {
        // As socket.io-client's `opts.reconnectionAttempts || Infinity`: 0 means no limit.
        config.backoff.max_attempts = if n == 0.0 {
            u32::MAX
        } else {
            n.clamp(0.0, u32::MAX as f64) as u32
        };
    }
    if let Some(d) = millis(opts, Opt::ReconnectionDelay) {
        config.backoff.min = d;
    }
    if let Some(d) = millis(opts, Opt::ReconnectionDelayMax) {
        config.backoff.max = d;
    }
    if let Some(j) = get(opts, Opt::RandomizationFactor) {
        config.backoff.jitter = j.clamp(0.0, 1.0);
    }
    if let Some(d) = millis(opts, Opt::Timeout) {
        config.connect_timeout = d;
    }
    if let Some(d) = millis(opts, Opt::AckTimeout) {
        config.ack_timeout = Some(d);
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn every_option() {
        let c = client_config(&[0.0, 0.0, 3.0, 10.0, 20.0, 0.0, 500.0, 50.0, 1.0, 1.0]);
        assert_eq!(c.engine.transports, vec![Transport::WebSocket]);
        assert!(!c.engine.upgrade);
        assert!(!c.reconnection);
        assert_eq!(c.backoff.max_attempts, 3);
        assert_eq!(c.backoff.min, Duration::from_millis(10));
        assert_eq!(c.backoff.max, Duration::from_millis(20));
        assert_eq!(c.backoff.jitter, 0.0);
        assert_eq!(c.connect_timeout, Duration::from_millis(500));
        assert_eq!(c.ack_timeout, Some(Duration::from_millis(50)));
    }

    #[test]
    fn missing_options_keep_the_defaults() {
        let c = client_config(&[N, N, N, N, N, 7.0, N, N, N, -1.0, N]);
        assert_eq!(
            c.engine.transports,
            vec![Transport::Polling, Transport::WebSocket]
        );
        assert_eq!(c.connect_timeout, Duration::from_millis(20_000));
        assert_eq!(c.backoff.max_attempts, u32::MAX);
        assert_eq!(c.backoff.jitter, 1.0);
        let d = client_config(&[]);
        assert!(d.reconnection);
        assert_eq!(d.ack_timeout, None);
        // 0 reads as "no limit", as in socket.io-client (`opts.reconnectionAttempts || Infinity`).
        let zero = client_config(&[N, N, 0.0]);
        assert_eq!(zero.backoff.max_attempts, u32::MAX);
        // Infinity (socket.io-client's default for reconnectionAttempts) means unlimited.
        let inf = client_config(&[N, N, f64::INFINITY]);
        assert_eq!(inf.backoff.max_attempts, u32::MAX);
    }
}
