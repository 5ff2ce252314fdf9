//! Simulated time: wall-clock time at start plus real elapsed time multiplied
//! by the scenario's time scale, so tests can run a long story quickly.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Clock {
    started: Instant,
    start_wall: jiff::Timestamp,
    scale: f64,
}

impl Clock {
    pub fn new(scale: f64) -> Clock {
        Clock {
            started: Instant::now(),
            start_wall: jiff::Timestamp::now(),
            scale,
        }
    }

    /// Simulated seconds since start.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.scale
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.at(self.elapsed())
    }

    /// The timestamp `secs` simulated seconds after start (may be negative).
    pub fn at(&self, secs: f64) -> jiff::Timestamp {
        let nanos = (secs * 1e9) as i64;
        self.start_wall
            .checked_add(jiff::SignedDuration::from_nanos(nanos))
            .unwrap_or(self.start_wall)
    }

    /// RFC 3339 with whole seconds, as the API server writes metadata times.
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
