//! The logs pane's state, free of IO: which streams should run (the
//! selection under the concurrency cap), what arrived (merged, in the
//! byte-bounded ring), what is shown (filter, search, follow or paused,
//! scroll, wrap, timestamps) and every count the pane owes the user.

use super::buffer::{save, Ring, DEFAULT_BYTES};
use super::filter::{Filter, Search};
use super::follow::Batch;
use super::line::{FieldNames, Line, DEFAULT_MAX_LINE};
use super::merge::{Merger, WINDOW};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

/// Streams followed at once by default.
pub const DEFAULT_CAP: usize = 50;

/// The pane's settings (`[logs]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsSettings {
    pub max_streams: usize,
    pub buffer_bytes: usize,
    pub max_line: usize,
    pub tail: u64,
    pub names: FieldNames,
}

impl Default for LogsSettings {
    fn default() -> Self {
        LogsSettings {
            max_streams: DEFAULT_CAP,
            buffer_bytes: DEFAULT_BYTES,
            max_line: DEFAULT_MAX_LINE,
            tail: 200,
            names: FieldNames::default(),
        }
    }
}

/// A container instance the selection covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub region: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The runtime's container id: a restarted container is a new target.
    pub container_id: String,
}

/// What to start and stop so the running streams match the selection.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub start: Vec<Target>,
    pub stop: Vec<String>,
    /// Targets left out by the cap: shown, never hidden.
    pub not_streamed: usize,
}

/// Streams to run for `wanted` given those `running` (by container id),
/// at most `cap`: the running ones stay (no churn), new ones fill the
/// rest in a stable order.
pub fn plan(wanted: &[Target], running: &BTreeSet<String>, cap: usize) -> Plan {
    let wanted_ids: BTreeSet<&str> = wanted.iter().map(|t| t.container_id.as_str()).collect();
    let stop: Vec<String> = running
        .iter()
        .filter(|id| !wanted_ids.contains(id.as_str()))
        .cloned()
        .collect();
    let mut kept = running.len() - stop.len();
    let mut sorted: Vec<&Target> = wanted.iter().collect();
    sorted.sort();
    sorted.dedup_by(|a, b| a.container_id == b.container_id);
    let mut start = Vec::new();
    let mut not_streamed = 0;
    for t in sorted {
        if running.contains(&t.container_id) {
            continue;
        }
        if kept < cap {
            start.push(t.clone());
            kept += 1;
        } else {
            not_streamed += 1;
        }
    }
    Plan {
        start,
        stop,
        not_streamed,
    }
}

/// Per-stream facts shown in the pane's status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamInfo {
    pub tag: String,
    pub lines: u64,
    pub dropped: u64,
    pub ended: Option<String>,
}

pub struct LogsState {
    pub settings: LogsSettings,
    pub ring: Ring,
    merger: Merger,
    pub filter: Filter,
    pub search: Search,
    /// Sequence numbers of the shown entries, oldest first (kept in step
    /// with the ring; rebuilt when the filter changes).
    shown: Vec<u64>,
    /// Following the newest line; false while paused or scrolled back.
    pub follow: bool,
    /// First shown entry at the top of the view when not following.
    pub top: Option<u64>,
    pub wrap: bool,
    pub timestamps: bool,
    /// The entry whose full JSON is open.
    pub expanded: Option<u64>,
    pub cursor: Option<u64>,
    pub streams: BTreeMap<String, StreamInfo>,
    pub not_streamed: usize,
    /// Error of the last input (bad regex, ...), shown until the next.
    pub error: Option<String>,
}

impl std::fmt::Debug for LogsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsState")
            .field("counts", &self.counts())
            .field("follow", &self.follow)
            .finish_non_exhaustive()
    }
}

impl LogsState {
    pub fn new(settings: LogsSettings) -> LogsState {
        LogsState {
            ring: Ring::new(settings.buffer_bytes),
            merger: Merger::new(WINDOW, 100_000),
            settings,
            filter: Filter::default(),
            search: Search::default(),
            shown: Vec::new(),
            follow: true,
            top: None,
            wrap: false,
            timestamps: true,
            expanded: None,
            cursor: None,
            streams: BTreeMap::new(),
            not_streamed: 0,
            error: None,
        }
    }

    /// A batch from a stream: into the reorder window.
    pub fn ingest(&mut self, batch: Batch, now: Instant) {
        let info = self
            .streams
            .entry(batch.container_id.to_string())
            .or_default();
        info.lines += batch.lines.len() as u64;
        let mut out = Vec::new();
        for l in batch.lines {
            if info.tag.is_empty() {
                info.tag = l.origin.tag();
            }
            self.merger.push(l, now, &mut out);
        }
        self.admit(out);
    }

    /// Release what the reorder window lets go; true when something moved.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut out = Vec::new();
        self.merger.drain(now, &mut out);
        let moved = !out.is_empty();
        self.admit(out);
        moved
    }

    pub fn next_due(&self) -> Option<Instant> {
        self.merger.next_due()
    }

    fn admit(&mut self, lines: Vec<Line>) {
        for l in lines {
            self.push(l);
        }
    }

    /// An entry into the ring (history pages come here too).
    pub fn push(&mut self, l: Line) {
        let seq = self.ring.end();
        let shown = self.filter.matches(&l);
        self.ring.push(l);
        if shown {
            self.shown.push(seq);
        }
        let first = self.ring.first();
        if self.shown.first().is_some_and(|s| *s < first) {
            let cut = self.shown.partition_point(|s| *s < first);
            self.shown.drain(..cut);
        }
    }

    /// Starts over (a new selection): the buffer, the window, the streams'
    /// facts; the filter and the drop counters stay.
    pub fn clear(&mut self) {
        let mut rest = Vec::new();
        self.merger.flush(&mut rest);
        self.ring.clear();
        self.shown.clear();
        self.top = None;
        self.cursor = None;
        self.expanded = None;
        self.follow = true;
        self.streams.clear();
        self.not_streamed = 0;
    }

    /// Entries from history: merged with what the ring holds in time order
    /// (history is older than the live tail, so the ring is rebuilt once
    /// per page; the byte budget still holds).
    pub fn push_history(&mut self, lines: Vec<Line>) {
        if lines.is_empty() {
            return;
        }
        let old = std::mem::replace(&mut self.ring, Ring::new(0));
        let dropped = old.dropped;
        let mut all: Vec<Line> = old.into_lines().collect();
        all.extend(lines);
        // stable: entries of the same instant keep their arrival order
        all.sort_by_key(|l| l.ts);
        let mut ring = Ring::new(self.settings.buffer_bytes);
        ring.dropped = dropped;
        self.ring = ring;
        self.shown.clear();
        self.top = None;
        self.cursor = None;
        self.expanded = None;
        for l in all {
            self.push(l);
        }
    }

    /// Entries shown, oldest first.
    pub fn shown(&self) -> &[u64] {
        &self.shown
    }

    pub fn line(&self, seq: u64) -> Option<&Line> {
        self.ring.get(seq)
    }

    fn refilter(&mut self) {
        self.shown = self
            .ring
            .iter()
            .filter(|(_, l)| self.filter.matches(l))
            .map(|(s, _)| s)
            .collect();
    }

    /// Apply an input to the filter; a bad one keeps the previous filter
    /// and says why.
    pub fn set_filter(&mut self, apply: impl FnOnce(&mut Filter) -> Result<(), String>) -> bool {
        match apply(&mut self.filter) {
            Ok(()) => {
                self.error = None;
                self.refilter();
                true
            }
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    pub fn set_search(&mut self, s: &str) -> bool {
        match self.search.set(s) {
            Ok(()) => {
                self.error = None;
                self.search_step(true);
                true
            }
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    /// n / N: move the cursor to the next or previous hit (stops following).
    pub fn search_step(&mut self, forward: bool) -> Option<u64> {
        let ring = &self.ring;
        let hit = self
            .search
            .step(&self.shown, self.cursor, forward, |s| ring.get(s))?;
        self.cursor = Some(hit);
        self.follow = false;
        self.top = Some(hit);
        Some(hit)
    }

    pub fn toggle_follow(&mut self) {
        self.follow = !self.follow;
        if self.follow {
            self.top = None;
        } else {
            self.top = self.shown.last().copied();
        }
    }

    /// Scroll by `n` entries (negative: back); scrolling back pauses.
    pub fn scroll(&mut self, n: i64, rows: usize) {
        let len = self.shown.len();
        if len == 0 {
            return;
        }
        let bottom_top = len.saturating_sub(rows.max(1));
        let cur = match self
            .top
            .and_then(|t| self.shown.iter().position(|s| *s >= t))
        {
            Some(i) if !self.follow => i,
            _ => bottom_top,
        };
        let next = (cur as i64 + n).clamp(0, bottom_top as i64) as usize;
        if n > 0 && next >= bottom_top {
            self.follow = true;
            self.top = None;
        } else {
            self.follow = false;
            self.top = self.shown.get(next).copied();
        }
    }

    /// The entries to draw for `rows` rows (one entry per row, not wrapped).
    pub fn window(&self, rows: usize) -> &[u64] {
        let len = self.shown.len();
        let start = if self.follow {
            len.saturating_sub(rows)
        } else {
            self.top
                .map(|t| self.shown.partition_point(|s| *s < t))
                .unwrap_or(len.saturating_sub(rows))
        };
        &self.shown[start.min(len)..(start + rows).min(len)]
    }

    /// Save the shown entries (or all of them) to `path`, 0600; says what
    /// was written where.
    pub fn save(&self, path: &Path, all: bool) -> Result<String, String> {
        let n;
        let bytes = if all {
            n = self.ring.len();
            save(path, self.ring.iter().map(|(_, l)| l))
        } else {
            n = self.shown.len();
            save(path, self.shown.iter().filter_map(|s| self.ring.get(*s)))
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(format!(
            "saved {n} entries ({bytes} bytes) to {}",
            path.display()
        ))
    }

    /// The counts the pane shows: dropped oldest, dropped at streams, not
    /// streamed, late.
    pub fn counts(&self) -> Counts {
        Counts {
            entries: self.ring.len(),
            bytes: self.ring.bytes(),
            dropped_oldest: self.ring.dropped,
            dropped_streams: self.streams.values().map(|s| s.dropped).sum(),
            not_streamed: self.not_streamed,
            streams: self.streams.values().filter(|s| s.ended.is_none()).count(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub entries: usize,
    pub bytes: usize,
    pub dropped_oldest: u64,
    pub dropped_streams: u64,
    pub not_streamed: usize,
    pub streams: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::logs::line::{build, Origin};
    use std::sync::Arc;

    fn t(region: &str, pod: &str, id: &str) -> Target {
        Target {
            region: region.into(),
            namespace: "shop".into(),
            pod: pod.into(),
            container: "app".into(),
            container_id: id.into(),
        }
    }

    #[test]
    fn the_cap_keeps_running_streams_and_counts_the_rest() {
        let wanted: Vec<Target> = (0..8)
            .map(|i| t("eu", &format!("p{i}"), &format!("c{i}")))
            .collect();
        let p = plan(&wanted, &BTreeSet::new(), 5);
        assert_eq!(p.start.len(), 5);
        assert_eq!(p.not_streamed, 3);
        let running: BTreeSet<String> = p.start.iter().map(|t| t.container_id.clone()).collect();
        // p0 restarted (new id) and p1 left: both old streams stop.
        let mut wanted2 = wanted.clone();
        wanted2[0].container_id = "c0-new".into();
        wanted2.remove(1);
        let p2 = plan(&wanted2, &running, 5);
        assert_eq!(p2.stop, vec!["c0".to_string(), "c1".to_string()]);
        assert_eq!(p2.start.len(), 2);
        assert_eq!(p2.not_streamed, 2);
    }

    fn batch(id: &str, region: &str, secs: &[u32]) -> Batch {
        let o = Arc::new(Origin {
            region: region.into(),
            namespace: "shop".into(),
            pod: "p".into(),
            container: "c".into(),
        });
        Batch {
            container_id: id.into(),
            lines: secs
                .iter()
                .map(|s| {
                    let level = if s % 2 == 0 { "error" } else { "info" };
                    let raw = format!(
                        "2026-12-03T10:00:{s:02}Z {{\"level\":\"{level}\",\"msg\":\"m{s}\"}}"
                    );
                    build(&o, raw.as_bytes(), &FieldNames::default(), 1000)
                })
                .collect(),
            held: Default::default(),
        }
    }

    #[test]
    fn ingest_merge_filter_search_scroll_and_save() {
        let mut s = LogsState::new(LogsSettings::default());
        let t0 = Instant::now();
        s.ingest(batch("a", "eu", &[1, 3, 5]), t0);
        s.ingest(batch("b", "us", &[2, 4]), t0);
        assert!(!s.tick(t0));
        assert!(s.tick(t0 + WINDOW));
        let texts: Vec<String> = s
            .window(10)
            .iter()
            .map(|q| s.line(*q).unwrap().stamp.clone())
            .collect();
        assert_eq!(texts.len(), 5);
        assert!(texts.windows(2).all(|w| w[0] <= w[1]));
        assert!(s.set_filter(|f| f.set_level("error")));
        assert_eq!(s.shown().len(), 2);
        assert!(!s.set_filter(|f| f.set_include("(")));
        assert!(s.error.is_some());
        assert_eq!(s.shown().len(), 2, "previous filter kept");
        assert!(s.set_search("m4"));
        assert!(!s.follow);
        assert_eq!(
            s.line(s.cursor.unwrap())
                .unwrap()
                .parsed
                .as_ref()
                .unwrap()
                .message
                .as_deref(),
            Some("m4")
        );
        let dir = tempfile::tempdir().unwrap();
        let msg = s.save(&dir.path().join("out.log"), false).unwrap();
        assert!(msg.starts_with("saved 2 entries"), "{msg}");
        let all = s.save(&dir.path().join("all.log"), true).unwrap();
        assert!(all.starts_with("saved 5 entries"), "{all}");
        s.scroll(10, 1);
        assert!(s.follow, "scrolling to the bottom follows again");
        let c = s.counts();
        assert_eq!((c.entries, c.dropped_oldest, c.streams), (5, 0, 2));
    }
}
