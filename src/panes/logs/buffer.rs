//! The ring of entries, bounded in bytes: the oldest go first and are
//! counted. Entries keep absolute sequence numbers, so a scroll position or
//! a search hit survives the front being dropped.

use super::line::Line;
use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;

/// Default budget of the ring.
pub const DEFAULT_BYTES: usize = 64 << 20;

pub struct Ring {
    lines: VecDeque<Line>,
    bytes: usize,
    max_bytes: usize,
    /// Sequence number of the front entry.
    first: u64,
    /// Entries dropped from the front to stay within the budget.
    pub dropped: u64,
}

impl Ring {
    pub fn new(max_bytes: usize) -> Ring {
        Ring {
            lines: VecDeque::new(),
            bytes: 0,
            max_bytes: max_bytes.max(4096),
            first: 0,
            dropped: 0,
        }
    }

    pub fn push(&mut self, line: Line) {
        self.bytes += line.cost();
        self.lines.push_back(line);
        while self.bytes > self.max_bytes && self.lines.len() > 1 {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.cost();
                self.first += 1;
                self.dropped += 1;
            }
        }
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Sequence numbers held: `first()..end()`.
    pub fn first(&self) -> u64 {
        self.first
    }

    pub fn end(&self) -> u64 {
        self.first + self.lines.len() as u64
    }

    pub fn get(&self, seq: u64) -> Option<&Line> {
        self.lines.get(seq.checked_sub(self.first)? as usize)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &Line)> {
        let first = self.first;
        self.lines
            .iter()
            .enumerate()
            .map(move |(i, l)| (first + i as u64, l))
    }

    /// The entries, oldest first, taking the ring apart.
    pub fn into_lines(self) -> impl Iterator<Item = Line> {
        self.lines.into_iter()
    }

    pub fn clear(&mut self) {
        self.first = self.end();
        self.lines.clear();
        self.bytes = 0;
    }
}

/// One entry as saved: `STAMP region/pod/container text` and its
/// continuation lines indented.
pub fn saved_text(l: &Line) -> String {
    let mut s = format!("{} {} {}\n", l.stamp, l.origin.tag(), l.text);
    for c in &l.continuation {
        s.push_str("    ");
        s.push_str(c);
        s.push('\n');
    }
    s
}

/// Write entries to a new file, 0600; returns the bytes written.
pub fn save<'a>(path: &Path, lines: impl Iterator<Item = &'a Line>) -> std::io::Result<u64> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let mut w = std::io::BufWriter::new(f);
    let mut n = 0u64;
    for l in lines {
        let s = saved_text(l);
        w.write_all(s.as_bytes())?;
        n += s.len() as u64;
    }
    w.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::line::{build, FieldNames, Origin};
    use std::sync::Arc;

    fn line(i: usize) -> Line {
        let o = Arc::new(Origin {
            region: "eu".into(),
            namespace: "n".into(),
            pod: "p".into(),
            container: "c".into(),
        });
        let raw = format!("2026-12-03T10:00:00Z line {i} {}", "x".repeat(100));
        build(&o, raw.as_bytes(), &FieldNames::default(), 1000)
    }

    #[test]
    fn the_ring_stays_within_its_bytes_and_counts_what_it_dropped() {
        let mut r = Ring::new(10_000);
        for i in 0..1000 {
            r.push(line(i));
            assert!(r.bytes() <= 10_000);
        }
        assert_eq!(r.dropped + r.len() as u64, 1000);
        assert!(r.dropped > 900);
        assert_eq!(r.end(), 1000);
        let last = r.get(999).expect("newest kept");
        assert!(last.text.starts_with("line 999 "));
        assert!(r.get(r.first() - 1).is_none());
    }

    #[test]
    fn saving_writes_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("logs.txt");
        let mut l = line(1);
        l.continuation.push("\tat x".into());
        save(&p, [&l].into_iter()).expect("saved");
        let text = std::fs::read_to_string(&p).expect("read");
        assert!(
            text.starts_with("2026-12-03T10:00:00Z eu/p/c line 1 "),
            "{text}"
        );
        assert!(text.ends_with("    \tat x\n"));
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
