//! Time order across streams and regions: entries wait a small reorder
//! window (by arrival) in a heap ordered by their instant, so a line that
//! arrives a little late from a slower stream still takes its place. One
//! that arrives later than the window is appended where it is and counted.

use super::line::Line;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// Default reorder window.
pub const WINDOW: Duration = Duration::from_millis(300);

struct Held {
    ts: i64,
    seq: u64,
    arrived: Instant,
    line: Line,
}

impl PartialEq for Held {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.seq) == (o.ts, o.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Held {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.ts, self.seq).cmp(&(o.ts, o.seq))
    }
}

pub struct Merger {
    heap: BinaryHeap<Reverse<Held>>,
    seq: u64,
    window: Duration,
    /// Most entries held at once; more release the oldest early.
    cap: usize,
    /// Instant of the last entry released.
    last_out: i64,
    /// Entries released after a later one (they came past the window).
    pub late: u64,
}

impl Merger {
    pub fn new(window: Duration, cap: usize) -> Merger {
        Merger {
            heap: BinaryHeap::new(),
            seq: 0,
            window,
            cap: cap.max(1),
            last_out: i64::MIN,
            late: 0,
        }
    }

    pub fn push(&mut self, line: Line, now: Instant, out: &mut Vec<Line>) {
        self.seq += 1;
        self.heap.push(Reverse(Held {
            ts: line.ts,
            seq: self.seq,
            arrived: now,
            line,
        }));
        while self.heap.len() > self.cap {
            self.release(out);
        }
    }

    /// Release every entry whose window has passed, in time order.
    pub fn drain(&mut self, now: Instant, out: &mut Vec<Line>) {
        while self
            .heap
            .peek()
            .is_some_and(|Reverse(h)| now.duration_since(h.arrived) >= self.window)
        {
            self.release(out);
        }
    }

    /// Release everything (pause, save, close).
    pub fn flush(&mut self, out: &mut Vec<Line>) {
        while !self.heap.is_empty() {
            self.release(out);
        }
    }

    fn release(&mut self, out: &mut Vec<Line>) {
        if let Some(Reverse(h)) = self.heap.pop() {
            if h.ts < self.last_out {
                self.late += 1;
            }
            self.last_out = self.last_out.max(h.ts);
            out.push(h.line);
        }
    }

    /// When the oldest held entry is due, for the loop's next wake-up.
    pub fn next_due(&self) -> Option<Instant> {
        self.heap
            .iter()
            .map(|Reverse(h)| h.arrived + self.window)
            .min()
    }

    pub fn held(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::line::{build, FieldNames, Origin};
    use std::sync::Arc;

    fn at(region: &str, secs: u32) -> Line {
        let o = Arc::new(Origin {
            region: region.into(),
            namespace: "n".into(),
            pod: "p".into(),
            container: "c".into(),
        });
        let raw = format!("2026-12-03T10:00:{secs:02}Z line {secs}");
        build(&o, raw.as_bytes(), &FieldNames::default(), 1000)
    }

    #[test]
    fn lines_from_slower_regions_take_their_place_within_the_window() {
        let mut m = Merger::new(Duration::from_millis(300), 1000);
        let t0 = Instant::now();
        let mut out = Vec::new();
        m.push(at("eu", 2), t0, &mut out);
        m.push(at("us", 1), t0 + Duration::from_millis(100), &mut out);
        m.push(at("ap", 3), t0 + Duration::from_millis(100), &mut out);
        m.drain(t0 + Duration::from_millis(200), &mut out);
        assert!(out.is_empty(), "nothing is due yet");
        m.drain(t0 + Duration::from_millis(450), &mut out);
        let order: Vec<&str> = out.iter().map(|l| l.origin.region.as_str()).collect();
        assert_eq!(order, ["us", "eu", "ap"]);
        // Past the window: appended and counted.
        m.push(at("cn", 0), t0 + Duration::from_millis(500), &mut out);
        m.flush(&mut out);
        assert_eq!(out.last().map(|l| l.origin.region.as_str()), Some("cn"));
        assert_eq!(m.late, 1);
    }

    #[test]
    fn the_heap_is_bounded() {
        let mut m = Merger::new(Duration::from_secs(60), 2);
        let t0 = Instant::now();
        let mut out = Vec::new();
        for s in 0..5 {
            m.push(at("eu", s), t0, &mut out);
        }
        assert_eq!(m.held(), 2);
        assert_eq!(out.len(), 3);
    }
}
