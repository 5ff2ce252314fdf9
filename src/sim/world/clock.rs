//! Simulated time: real elapsed time multiplied by the scenario's time scale,
//! so tests can run a long story quickly. Timestamps written into objects
//! and log lines stay on the wall clock (a simulated second lasts
//! 1/time_scale real seconds), so clients that compute ages or send
//! `sinceTime` from their own clock never see the future.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Clock {
    started: Instant,
    start_wall: jiff::Timestamp,
    scale: f64,
    /// Simulated seconds added by `advance` (unit tests), as f64 bits.
    offset: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Clock {
    pub fn new(scale: f64) -> Clock {
        Clock {
            started: Instant::now(),
            start_wall: jiff::Timestamp::now(),
            scale,
            offset: Default::default(),
        }
    }

    /// Simulated seconds since start.
    pub fn elapsed(&self) -> f64 {
        let offset = f64::from_bits(self.offset.load(std::sync::atomic::Ordering::Relaxed));
        self.started.elapsed().as_secs_f64() * self.scale + offset
    }

    /// Move simulated time forward (unit tests of the world step it).
    #[cfg(test)]
    pub fn advance(&self, secs: f64) {
        use std::sync::atomic::Ordering;
        let now = f64::from_bits(self.offset.load(Ordering::Relaxed));
        self.offset.store((now + secs).to_bits(), Ordering::Relaxed);
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.at(self.elapsed())
    }

    /// The wall-clock timestamp of `secs` simulated seconds after start
    /// (may be negative).
    pub fn at(&self, secs: f64) -> jiff::Timestamp {
        let nanos = (secs / self.scale * 1e9) as i64;
        self.start_wall
            .checked_add(jiff::SignedDuration::from_nanos(nanos))
            .unwrap_or(self.start_wall)
    }

    /// RFC 3339 with whole seconds, as the API server writes metadata times.
    /// Simulated seconds since start of a wall-clock timestamp.
    pub fn sim_secs(&self, t: jiff::Timestamp) -> f64 {
        t.duration_since(self.start_wall).as_secs_f64() * self.scale
    }

    /// Simulated seconds in `real` wall-clock seconds.
    pub fn scaled(&self, real: f64) -> f64 {
        real * self.scale
    }

    pub fn stamp(&self) -> String {
        stamp(self.now())
    }

    pub fn stamp_at(&self, secs: f64) -> String {
        stamp(self.at(secs))
    }

    /// Real time for `secs` simulated seconds.
    pub fn real(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs / self.scale).clamp(0.0, 86_400.0))
    }
}

pub fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn stamp_micros(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parse an RFC 3339 timestamp (sinceTime, event times).
pub fn parse(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}
