//! What one stream does with its lines before they meet the others:
//! multi-line entries are assembled (a stack trace stays with its first
//! line), and a stream that resumes with `sinceTime` skips the lines of
//! that second it has already delivered: no gap, no duplicate.

use super::line::{is_continuation, Line};
use std::collections::HashMap;

/// Continuation lines kept per entry; more are counted, not kept.
const MAX_CONTINUATION: usize = 200;

/// Groups continuation lines with the entry they follow.
#[derive(Default)]
pub struct Assembler {
    pending: Option<Line>,
    /// Continuation lines dropped past `MAX_CONTINUATION`.
    pub dropped: u64,
}

impl Assembler {
    /// A new physical line; returns the previous entry once it is complete.
    pub fn push(&mut self, line: Line) -> Option<Line> {
        if let Some(p) = &mut self.pending {
            if line.parsed.is_none() && is_continuation(&line.text) {
                if p.continuation.len() < MAX_CONTINUATION {
                    p.continuation.push(line.text);
                } else {
                    self.dropped += 1;
                }
                return None;
            }
        }
        self.pending.replace(line)
    }

    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The entry held back, when the stream pauses or ends.
    pub fn flush(&mut self) -> Option<Line> {
        self.pending.take()
    }
}

/// The resume point of a stream: the last second seen and the lines of
/// that second already delivered (by instant and text, counted).
#[derive(Default, Debug)]
pub struct Resume {
    second: Option<i64>,
    seen: HashMap<(i64, u64), u32>,
    /// During a replay: how many of each already-seen line to skip still.
    skip: HashMap<(i64, u64), u32>,
    /// Lines skipped as already shown, over the stream's life.
    pub skipped: u64,
}

fn fingerprint(raw: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in raw {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Resume {
    /// `sinceTime` for the next request: the last second seen, whole.
    pub fn since_time(&self) -> Option<String> {
        let s = self.second?;
        let t = jiff::Timestamp::from_second(s).ok()?;
        Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    /// A (re)connection begins: lines of the resume second arrive again.
    pub fn reopen(&mut self) {
        self.skip = self.seen.clone();
    }

    /// Whether a line (its instant in ns and its raw bytes after the
    /// timestamp) is new; records it as seen when it is.
    pub fn admit(&mut self, ts: i64, raw: &[u8]) -> bool {
        let second = ts.div_euclid(1_000_000_000);
        let key = (ts, fingerprint(raw));
        if let Some(n) = self.skip.get_mut(&key) {
            if *n > 0 {
                *n -= 1;
                self.skipped += 1;
                return false;
            }
        }
        if self.second.is_some_and(|s| second < s) {
            // Older than what was shown: only a replay sends these.
            self.skipped += 1;
            return false;
        }
        if self.second != Some(second) {
            self.second = Some(second);
            self.seen.clear();
        }
        *self.seen.entry(key).or_default() += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::line::{build, FieldNames, Origin};
    use std::sync::Arc;

    fn line(s: &str) -> Line {
        let o = Arc::new(Origin {
            region: "r".into(),
            namespace: "n".into(),
            pod: "p".into(),
            container: "c".into(),
        });
        build(&o, s.as_bytes(), &FieldNames::default(), 1000)
    }

    #[test]
    fn a_stack_trace_stays_with_its_first_line() {
        let mut a = Assembler::default();
        assert!(a.push(line("T ERROR [w] boom")).is_none());
        assert!(a.push(line("java.lang.IllegalStateException: x")).is_none());
        assert!(a.push(line("\tat a.b.C(C.java:1)")).is_none());
        let e = a.push(line("T INFO next")).expect("first entry complete");
        assert_eq!(e.text, "T ERROR [w] boom");
        assert_eq!(e.continuation.len(), 2);
        assert_eq!(a.flush().expect("held").text, "T INFO next");
        assert!(a.flush().is_none());
    }

    #[test]
    fn a_resumed_stream_skips_what_it_showed_and_nothing_else() {
        let mut r = Resume::default();
        let s = 1_700_000_000i64 * 1_000_000_000;
        assert!(r.admit(s - 10, b"a"));
        assert!(r.admit(s + 1, b"b"));
        assert!(r.admit(s + 2, b"same"));
        assert!(r.admit(s + 2, b"same"), "two equal lines are two lines");
        assert_eq!(r.since_time().as_deref(), Some("2023-11-14T22:13:20Z"));
        r.reopen();
        // The server resends the whole second, then what came after.
        assert!(!r.admit(s + 1, b"b"));
        assert!(!r.admit(s + 2, b"same"));
        assert!(!r.admit(s + 2, b"same"));
        assert!(r.admit(s + 3, b"c"), "a line of that second not shown yet");
        assert!(r.admit(s + 2_000_000_000, b"d"));
        assert_eq!(r.skipped, 3);
    }
}
