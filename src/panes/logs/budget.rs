//! The byte budget of log entries in flight between the streams and the
//! pane: in a stream's small queue or in the loop's channel. A stream takes
//! a batch's bytes (`Line::cost`) before it sends the batch and drops it,
//! counted, when the budget is spent; the reducer gives them back when it
//! takes the batch. So a pane that falls behind costs at most this much on
//! top of its ring, whatever the streams offer, and the loop never waits.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The share of the ring's bytes (`[logs] buffer_mib`) allowed in flight.
pub const SHARE: usize = 4;

/// Bytes a batch holds of a budget, given back when it is dropped: taken
/// by the pane, let go by a stopped stream or a closed channel alike. A
/// copy holds nothing (the original gives the bytes back once).
#[derive(Debug, Default)]
pub struct Held {
    budget: Option<Arc<Budget>>,
    bytes: usize,
}

impl Held {
    /// `n` bytes of `budget`, if they fit.
    pub fn take(budget: &Arc<Budget>, n: usize) -> Option<Held> {
        budget.try_take(n).then(|| Held {
            budget: Some(budget.clone()),
            bytes: n,
        })
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Clone for Held {
    fn clone(&self) -> Held {
        Held::default()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.give_back(self.bytes);
        }
    }
}

/// Bytes in flight, under a limit.
#[derive(Debug, Default)]
pub struct Budget {
    limit: AtomicUsize,
    held: AtomicUsize,
    peak: AtomicUsize,
}

impl Budget {
    /// A budget of a quarter of a ring of `ring_bytes`.
    pub fn for_ring(ring_bytes: usize) -> Budget {
        Budget::new(ring_bytes / SHARE)
    }

    pub fn new(limit: usize) -> Budget {
        Budget {
            limit: AtomicUsize::new(limit),
            ..Budget::default()
        }
    }

    /// Takes `n` bytes if they fit under the limit.
    pub fn try_take(&self, n: usize) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        let got = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                h.checked_add(n).filter(|t| *t <= limit)
            });
        match got {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Gives back `n` bytes taken before.
    pub fn give_back(&self, n: usize) {
        let _ = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                Some(h.saturating_sub(n))
            });
    }

    /// Bytes in flight now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// The most bytes ever in flight at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// A new limit (the settings changed); what is in flight stays counted.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_the_limit_and_gives_back() {
        let b = Budget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41), "61 + 41 is past the limit");
        assert!(b.try_take(40));
        assert_eq!((b.held(), b.peak()), (100, 100));
        b.give_back(60);
        assert_eq!(b.held(), 40);
        assert!(!b.try_take(61));
        assert!(b.try_take(60));
        b.give_back(200);
        assert_eq!((b.held(), b.peak()), (0, 100));
    }

    #[test]
    fn held_bytes_go_back_once_when_dropped() {
        let b = Arc::new(Budget::new(100));
        let h = Held::take(&b, 70).expect("fits");
        assert!(Held::take(&b, 31).is_none());
        let copy = h.clone();
        drop(copy);
        assert_eq!(b.held(), 70, "a copy gives nothing back");
        drop(h);
        assert_eq!(b.held(), 0);
    }
}
