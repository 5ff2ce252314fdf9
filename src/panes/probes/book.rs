//! The probe-failure aggregate: one row per (region, namespace, workload,
//! probe kind), fed by `Unhealthy` and `Killing` events as the fleet store
//! reports them new, changed or gone (`fleet/store/events.rs`); the rows of
//! the events themselves live in the store only.
//!
//! The server aggregates repeated events into one object whose `count`
//! grows, so a row adds count DELTAS: an event seen with count 5 and then 7
//! adds 2; the same event seen again on a relist adds nothing.
//!
//! Memory is bounded: per event only its latest count is tracked (at most
//! `MAX_TRACKED_EVENTS`, least recently updated dropped first), rows are
//! capped, each row keeps at most `MAX_PODS_PER_ROW` pods and
//! `MAX_RECENT_PER_ROW` recent events, the trend is 30 fixed minute
//! buckets, and messages are cut at `MAX_MESSAGE_BYTES`.
//!
//! Longer than most files on purpose: the delta rule, the caps and the row
//! building share one set of maps, and splitting them would spread one
//! invariant (every count added once) over several files.
//!
//! Past 600 lines on purpose: event classification, count deltas, the
//! caps and the rows they make are one set of rules, read together.

use crate::fleet::owners::{OwnerIndex, OwnerKind, WorkloadKey};
use crate::fleet::workloads::{ProbeKind, ProbeSpec, WorkloadInfo};
use crate::model::{EventRow, RegionId, Timestamp};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::mem::size_of;

/// Minutes of trend kept per row (the sparkline).
pub const TREND_MINUTES: usize = 30;
/// "Now" for failure counts and pods affected.
pub const RECENT_SECS: i64 = 5 * 60;
pub const MAX_TRACKED_EVENTS: usize = 20_000;
pub const MAX_ROWS: usize = 2_000;
pub const MAX_PODS_PER_ROW: usize = 128;
pub const MAX_RECENT_PER_ROW: usize = 16;
pub const MAX_MESSAGE_BYTES: usize = 256;
/// Observed latencies kept (one per workload).
pub const MAX_LATENCIES: usize = MAX_ROWS;

/// Per-minute counts for the last `TREND_MINUTES` minutes in a fixed ring:
/// each slot remembers which minute it holds, so old slots reset lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteBuckets {
    minute: [i64; TREND_MINUTES],
    count: [u32; TREND_MINUTES],
}

impl Default for MinuteBuckets {
    fn default() -> Self {
        MinuteBuckets {
            minute: [i64::MIN; TREND_MINUTES],
            count: [0; TREND_MINUTES],
        }
    }
}

fn minute_of(t: Timestamp) -> i64 {
    t.div_euclid(60)
}

impl MinuteBuckets {
    fn slot(minute: i64) -> usize {
        minute.rem_euclid(TREND_MINUTES as i64) as usize
    }

    /// Adds `n` to `minute` if it lies in the window ending at `now`.
    pub fn add(&mut self, minute: i64, n: u32, now: Timestamp) {
        let now_min = minute_of(now);
        if n == 0 || minute > now_min || minute <= now_min - TREND_MINUTES as i64 {
            return;
        }
        let s = Self::slot(minute);
        if self.minute[s] != minute {
            if self.minute[s] > minute {
                return; // the slot already holds a newer minute
            }
            self.minute[s] = minute;
            self.count[s] = 0;
        }
        self.count[s] = self.count[s].saturating_add(n);
    }

    /// Spreads `n` occurrences evenly over the minutes from `from` to `to`
    /// (an aggregated event only says how many happened between its first
    /// and last time); the remainder goes to the latest minutes.
    pub fn spread(&mut self, n: u64, from: Timestamp, to: Timestamp, now: Timestamp) {
        let to = to.min(now);
        let (fm, tm) = (minute_of(from.min(to)), minute_of(to));
        let span = (tm - fm + 1) as u64;
        let (per, rem) = (n / span, n % span);
        let start = fm.max(minute_of(now) - TREND_MINUTES as i64 + 1);
        for m in start..=tm {
            let extra = u64::from((tm - m) < rem as i64);
            let add = u32::try_from(per + extra).unwrap_or(u32::MAX);
            self.add(m, add, now);
        }
    }

    /// Counts oldest first, the last entry being the current minute.
    pub fn series(&self, now: Timestamp) -> [u32; TREND_MINUTES] {
        let now_min = minute_of(now);
        let mut out = [0; TREND_MINUTES];
        for (i, o) in out.iter_mut().enumerate() {
            let m = now_min - (TREND_MINUTES - 1 - i) as i64;
            let s = Self::slot(m);
            if self.minute[s] == m {
                *o = self.count[s];
            }
        }
        out
    }

    /// Occurrences in the last `minutes` minutes (current one included).
    pub fn sum_last(&self, minutes: usize, now: Timestamp) -> u64 {
        let series = self.series(now);
        series[TREND_MINUTES - minutes.min(TREND_MINUTES)..]
            .iter()
            .map(|&c| u64::from(c))
            .sum()
    }
}

/// One row's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeKey {
    pub workload: WorkloadKey,
    pub kind: ProbeKind,
}

/// What an event says about probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal<'a> {
    /// `Unhealthy`: `<Kind> probe failed: <detail>`.
    Failure { kind: ProbeKind, detail: &'a str },
    /// `Killing`: `Container x failed liveness probe, will be restarted`.
    Restart { kind: ProbeKind },
}

/// Splits `Readiness probe failed: HTTP probe failed with statuscode: 503`
/// into the kind and the text after the prefix.
pub fn parse_probe_message(message: &str) -> Option<(ProbeKind, &str)> {
    for kind in ProbeKind::ALL {
        let cap = match kind {
            ProbeKind::Readiness => "Readiness probe ",
            ProbeKind::Liveness => "Liveness probe ",
            ProbeKind::Startup => "Startup probe ",
        };
        if let Some(rest) = message.strip_prefix(cap) {
            for verb in ["failed:", "errored:"] {
                if let Some(detail) = rest.strip_prefix(verb) {
                    return Some((kind, detail.trim()));
                }
            }
        }
    }
    None
}

pub fn classify(ev: &EventRow) -> Option<Signal<'_>> {
    if !ev.object.kind.is_empty() && ev.object.kind != "Pod" {
        return None;
    }
    match ev.reason.as_str() {
        "Unhealthy" => {
            parse_probe_message(&ev.message).map(|(kind, detail)| Signal::Failure { kind, detail })
        }
        "Killing" if ev.message.contains("failed liveness probe") => Some(Signal::Restart {
            kind: ProbeKind::Liveness,
        }),
        "Killing" if ev.message.contains("failed startup probe") => Some(Signal::Restart {
            kind: ProbeKind::Startup,
        }),
        _ => None,
    }
}

/// `spec.containers{app}` -> `app`.
pub fn container_of(field_path: &str) -> &str {
    field_path
        .split_once('{')
        .and_then(|(_, rest)| rest.strip_suffix('}'))
        .unwrap_or("")
}

/// Cuts `s` to at most `MAX_MESSAGE_BYTES` on a character boundary.
fn bounded(s: &str) -> String {
    if s.len() <= MAX_MESSAGE_BYTES {
        return s.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Newest last, one entry per event object (at its latest count), capped.
fn push_recent(recent: &mut VecDeque<RecentEvent>, ev: &EventRow) {
    if let Some(i) = recent.iter().position(|e| e.uid == ev.uid) {
        recent.remove(i);
    }
    recent.push_back(RecentEvent {
        uid: ev.uid.clone(),
        pod: ev.object.name.clone(),
        at: ev.last_seen,
        reason: ev.reason.clone(),
        message: bounded(&ev.message),
        count: ev.count,
    });
    while recent.len() > MAX_RECENT_PER_ROW {
        recent.pop_front();
    }
}

/// One pod's failures within a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFailure {
    pub uid: String,
    pub name: String,
    pub container: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub failures: u64,
    pub restarts: u64,
    pub message: String,
}

/// One event as the detail view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentEvent {
    /// The event object's uid: one entry per event, at its latest count.
    pub uid: String,
    pub pod: String,
    pub at: Timestamp,
    pub reason: String,
    pub message: String,
    pub count: u32,
}

#[derive(Debug, Clone)]
struct ProbeAgg {
    first_seen: Timestamp,
    last_seen: Timestamp,
    /// Start of the current run of failures (gap > RECENT_SECS starts anew).
    episode_start: Timestamp,
    total: u64,
    restarts: u64,
    buckets: MinuteBuckets,
    message: String,
    message_at: Timestamp,
    pods: HashMap<String, PodFailure>,
    recent: VecDeque<RecentEvent>,
}

impl ProbeAgg {
    fn new(t: Timestamp) -> ProbeAgg {
        ProbeAgg {
            first_seen: t,
            last_seen: t,
            episode_start: t,
            total: 0,
            restarts: 0,
            buckets: MinuteBuckets::default(),
            message: String::new(),
            message_at: Timestamp::MIN,
            pods: HashMap::new(),
            recent: VecDeque::new(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Tracked {
    count: u32,
    last_seen: Timestamp,
    stamp: u64,
}

/// How bad a row is; rows sort by this first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing in the last 5 minutes.
    Quiet,
    Warning,
    /// Half the pods or more, or restarts from liveness/startup.
    Critical,
}

/// A configuration smell shown next to the failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeWarning {
    /// One failed check removes (readiness) or restarts (liveness) the pod:
    /// a slow dependency can take out every pod at once.
    ThresholdOne,
    /// The probe gives up before a typical answer arrives.
    TimeoutBelowLatency { timeout_s: u32, latency_ms: u64 },
    /// The failures are timeouts (`context deadline exceeded`).
    TimingOut { timeout_s: u32 },
}

impl fmt::Display for ProbeWarning {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ProbeWarning::ThresholdOne => {
                f.write_str("failureThreshold=1: one slow answer pulls the pod (avalanche risk)")
            }
            ProbeWarning::TimeoutBelowLatency {
                timeout_s,
                latency_ms,
            } => write!(f, "timeout {timeout_s}s < observed latency {latency_ms}ms"),
            ProbeWarning::TimingOut { timeout_s } => {
                write!(
                    f,
                    "failures are timeouts: probe gives up after {timeout_s}s"
                )
            }
        }
    }
}

/// A row as the probes pane draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    pub key: ProbeKey,
    pub severity: Severity,
    pub pods_affected: u32,
    pub pods_total: u32,
    pub failures_5m: u64,
    pub failures_total: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Start of the current run of failures.
    pub since: Timestamp,
    /// The latest probe message, without the `<Kind> probe failed: ` prefix.
    pub message: String,
    /// Restarts caused by this (liveness / startup) probe.
    pub restarts: u64,
    pub trend: [u32; TREND_MINUTES],
    pub spec: Option<ProbeSpec>,
    pub warnings: Vec<ProbeWarning>,
}

/// The pods and recent events of one row (the detail under the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeDetail {
    /// Pods with failures, currently failing first, then most recent.
    pub pods: Vec<(PodFailure, bool)>,
    /// Newest first.
    pub events: Vec<RecentEvent>,
}

/// The aggregate. Feed it events (and pod removals), read rows.
#[derive(Debug, Default)]
pub struct ProbeBook {
    rows: HashMap<ProbeKey, ProbeAgg>,
    tracked: HashMap<(RegionId, String), Tracked>,
    /// Least recently updated first: eviction order for `tracked`.
    order: BTreeMap<u64, (RegionId, String)>,
    next_stamp: u64,
    latencies: HashMap<WorkloadKey, u64>,
}

/// Sizes of the retained structures (for bounds and memory reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookSize {
    pub rows: usize,
    pub tracked_events: usize,
    pub max_pods_in_a_row: usize,
    pub max_recent_in_a_row: usize,
    /// Estimated heap bytes: table capacities times entry sizes plus
    /// string capacities.
    pub bytes: usize,
}

impl ProbeBook {
    /// Applies one added or modified event. Returns true when a row changed.
    pub fn apply_event(&mut self, ev: &EventRow, pods: &OwnerIndex, now: Timestamp) -> bool {
        let Some(signal) = classify(ev) else {
            return self.note_other_warning(ev, pods);
        };
        let id = (ev.region, ev.uid.clone());
        let (delta, from) = match self.tracked.get(&id) {
            None => (u64::from(ev.count), ev.first_seen),
            Some(t) if ev.count > t.count => (
                u64::from(ev.count - t.count),
                (t.last_seen + 1).min(ev.last_seen),
            ),
            Some(_) => (0, ev.last_seen),
        };
        let count = self
            .tracked
            .get(&id)
            .map_or(ev.count, |t| t.count.max(ev.count));
        self.track(id, count, ev.last_seen.max(from));
        if delta == 0 {
            return false;
        }

        let workload = pods
            .owner_of(ev.region, &ev.object.uid)
            .cloned()
            .unwrap_or_else(|| {
                WorkloadKey::guess(ev.region, &ev.object.namespace, &ev.object.name)
            });
        let kind = match signal {
            Signal::Failure { kind, .. } | Signal::Restart { kind } => kind,
        };
        let key = ProbeKey { workload, kind };
        if !self.rows.contains_key(&key) && self.rows.len() >= MAX_ROWS {
            self.evict_oldest_rows();
        }
        let row = self.rows.entry(key).or_insert_with(|| ProbeAgg::new(from));
        let pod = row
            .pods
            .entry(ev.object.uid.clone())
            .or_insert_with(|| PodFailure {
                uid: ev.object.uid.clone(),
                name: ev.object.name.clone(),
                container: container_of(&ev.object.field_path).to_string(),
                first_seen: from,
                last_seen: ev.last_seen,
                failures: 0,
                restarts: 0,
                message: String::new(),
            });
        pod.first_seen = pod.first_seen.min(from);
        pod.last_seen = pod.last_seen.max(ev.last_seen);
        match signal {
            Signal::Failure { detail, .. } => {
                if row.total == 0 || from > row.last_seen + RECENT_SECS {
                    row.episode_start = from;
                }
                row.total += delta;
                row.buckets.spread(delta, from, ev.last_seen, now);
                pod.failures += delta;
                if ev.last_seen >= row.message_at {
                    row.message = bounded(detail);
                    row.message_at = ev.last_seen;
                }
                pod.message = bounded(detail);
            }
            Signal::Restart { .. } => {
                row.restarts += delta;
                pod.restarts += delta;
            }
        }
        row.first_seen = row.first_seen.min(from);
        row.last_seen = row.last_seen.max(ev.last_seen);
        if row.pods.len() > MAX_PODS_PER_ROW {
            if let Some(oldest) = row
                .pods
                .values()
                .min_by(|a, b| {
                    a.last_seen
                        .cmp(&b.last_seen)
                        .then_with(|| a.uid.cmp(&b.uid))
                })
                .map(|p| p.uid.clone())
            {
                row.pods.remove(&oldest);
            }
        }
        push_recent(&mut row.recent, ev);
        true
    }

    /// Another Warning (BackOff, Failed, OOMKilling, ...) about a pod that
    /// already fails a probe joins that row's recent events, so the detail
    /// tells the pod's story; it adds no failures.
    fn note_other_warning(&mut self, ev: &EventRow, pods: &OwnerIndex) -> bool {
        if ev.type_ != "Warning" || (!ev.object.kind.is_empty() && ev.object.kind != "Pod") {
            return false;
        }
        let workload = pods
            .owner_of(ev.region, &ev.object.uid)
            .cloned()
            .unwrap_or_else(|| {
                WorkloadKey::guess(ev.region, &ev.object.namespace, &ev.object.name)
            });
        let mut noted = false;
        for kind in ProbeKind::ALL {
            let key = ProbeKey {
                workload: workload.clone(),
                kind,
            };
            if let Some(row) = self.rows.get_mut(&key) {
                if row.pods.contains_key(&ev.object.uid) {
                    push_recent(&mut row.recent, ev);
                    noted = true;
                }
            }
        }
        noted
    }

    /// What was already counted of an event the store held before, when
    /// the book no longer tracks it (its cap is fleet-wide, the store's per
    /// region): the next change then adds only its delta.
    pub fn remember_event(&mut self, ev: &EventRow, count: u32, last_seen: Timestamp) {
        if classify(ev).is_none() {
            return;
        }
        let id = (ev.region, ev.uid.clone());
        if !self.tracked.contains_key(&id) {
            self.track(id, count, last_seen);
        }
    }

    /// The event object was deleted (TTL): stop tracking its count. The
    /// failures it contributed stay in the rows.
    pub fn remove_event(&mut self, region: RegionId, uid: &str) {
        if let Some(t) = self.tracked.remove(&(region, uid.to_string())) {
            self.order.remove(&t.stamp);
        }
    }

    /// A pod is gone: it no longer counts as affected anywhere.
    pub fn remove_pod(&mut self, workload: &WorkloadKey, uid: &str) -> bool {
        let mut changed = false;
        for kind in ProbeKind::ALL {
            let key = ProbeKey {
                workload: workload.clone(),
                kind,
            };
            if let Some(row) = self.rows.get_mut(&key) {
                changed |= row.pods.remove(uid).is_some();
            }
        }
        changed
    }

    /// Forget a region entirely (removed from the config).
    pub fn clear_region(&mut self, region: RegionId) {
        self.rows.retain(|k, _| k.workload.region != region);
        self.tracked.retain(|(r, _), _| *r != region);
        self.order.retain(|_, (r, _)| *r != region);
        self.latencies.retain(|k, _| k.region != region);
    }

    /// A typical response time of the workload's probe endpoint, when some
    /// source knows it (logs, metrics).
    pub fn set_observed_latency(&mut self, workload: WorkloadKey, ms: u64) {
        if !self.latencies.contains_key(&workload) && self.latencies.len() >= MAX_LATENCIES {
            return;
        }
        self.latencies.insert(workload, ms);
    }

    fn track(&mut self, id: (RegionId, String), count: u32, last_seen: Timestamp) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        if let Some(old) = self.tracked.get(&id) {
            self.order.remove(&old.stamp);
        }
        self.order.insert(stamp, id.clone());
        self.tracked.insert(
            id,
            Tracked {
                count,
                last_seen,
                stamp,
            },
        );
        while self.tracked.len() > MAX_TRACKED_EVENTS {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.tracked.remove(&oldest);
        }
    }

    /// Drops the least recently failing tenth of the rows at once, so a
    /// storm of new workloads costs one scan per many insertions.
    fn evict_oldest_rows(&mut self) {
        let mut by_age: Vec<(Timestamp, ProbeKey)> = self
            .rows
            .iter()
            .map(|(k, r)| (r.last_seen, k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, k) in by_age.into_iter().take((MAX_ROWS / 10).max(1)) {
            self.rows.remove(&k);
        }
    }

    fn is_affected(
        kind: ProbeKind,
        p: &PodFailure,
        workload: &WorkloadKey,
        pods: &OwnerIndex,
        now: Timestamp,
    ) -> bool {
        if now - p.last_seen > RECENT_SECS {
            return false;
        }
        match pods.get(workload.region, &p.uid) {
            // a readiness failure ends when the container is ready again
            Some(f) if kind == ProbeKind::Readiness => {
                !f.deleting && !f.container_ready(Some(&p.container))
            }
            Some(f) => !f.deleting,
            // not (yet) in the pod stream: trust the recent event
            None => true,
        }
    }

    fn row(
        &self,
        key: &ProbeKey,
        agg: &ProbeAgg,
        pods: &OwnerIndex,
        workloads: &HashMap<WorkloadKey, WorkloadInfo>,
        now: Timestamp,
    ) -> ProbeRow {
        let affected = agg
            .pods
            .values()
            .filter(|p| Self::is_affected(key.kind, p, &key.workload, pods, now))
            .count() as u32;
        let info = workloads.get(&key.workload);
        let mut total = pods.live_count(&key.workload);
        if total == 0 {
            total = info.map_or(0, |i| i.row.desired);
        }
        let total = total.max(affected);
        let failures_5m = agg.buckets.sum_last((RECENT_SECS / 60) as usize, now);
        // the probe of the container that fails most recently, else any
        let container = agg
            .pods
            .values()
            .max_by_key(|p| p.last_seen)
            .map(|p| p.container.as_str())
            .unwrap_or("");
        let spec = info.and_then(|i| {
            let of_kind = || i.probes.iter().filter(|p| p.kind == key.kind);
            of_kind()
                .find(|p| p.container == container)
                .or_else(|| of_kind().next())
                .cloned()
        });
        let mut warnings = Vec::new();
        if let Some(s) = &spec {
            if s.failure_threshold == 1 {
                warnings.push(ProbeWarning::ThresholdOne);
            }
            if let Some(&ms) = self.latencies.get(&key.workload) {
                if u64::from(s.timeout_s) * 1000 < ms {
                    warnings.push(ProbeWarning::TimeoutBelowLatency {
                        timeout_s: s.timeout_s,
                        latency_ms: ms,
                    });
                }
            }
            let m = agg.message.to_ascii_lowercase();
            if m.contains("deadline exceeded") || m.contains("timeout") || m.contains("timed out") {
                warnings.push(ProbeWarning::TimingOut {
                    timeout_s: s.timeout_s,
                });
            }
        }
        // failures of pods that are ready again (or gone) are history: the
        // row stays, counted, but no longer active
        let active = affected > 0;
        let severity = if !active {
            Severity::Quiet
        } else if (key.kind != ProbeKind::Readiness && agg.restarts > 0 && affected > 0)
            || (total > 0 && affected * 2 >= total)
        {
            Severity::Critical
        } else {
            Severity::Warning
        };
        ProbeRow {
            key: key.clone(),
            severity,
            pods_affected: affected,
            pods_total: total,
            failures_5m,
            failures_total: agg.total,
            first_seen: agg.first_seen,
            last_seen: agg.last_seen,
            since: agg.episode_start,
            message: agg.message.clone(),
            restarts: agg.restarts,
            trend: agg.buckets.series(now),
            spec,
            warnings,
        }
    }

    /// Every row, most severe first (then larger share of pods affected,
    /// more failures in 5 min, more recent); ties by key so the order is
    /// stable.
    pub fn rows(
        &self,
        pods: &OwnerIndex,
        workloads: &HashMap<WorkloadKey, WorkloadInfo>,
        now: Timestamp,
    ) -> Vec<ProbeRow> {
        let mut rows: Vec<ProbeRow> = self
            .rows
            .iter()
            .map(|(k, a)| self.row(k, a, pods, workloads, now))
            .collect();
        rows.sort_by(|a, b| {
            let share = |r: &ProbeRow, o: &ProbeRow| {
                u64::from(r.pods_affected) * u64::from(o.pods_total.max(1))
            };
            b.severity
                .cmp(&a.severity)
                .then(share(b, a).cmp(&share(a, b)))
                .then(b.failures_5m.cmp(&a.failures_5m))
                .then(b.last_seen.cmp(&a.last_seen))
                .then_with(|| a.key.cmp(&b.key))
        });
        rows
    }

    pub fn detail(&self, key: &ProbeKey, pods: &OwnerIndex, now: Timestamp) -> Option<ProbeDetail> {
        let agg = self.rows.get(key)?;
        let mut list: Vec<(PodFailure, bool)> = agg
            .pods
            .values()
            .map(|p| {
                let on = Self::is_affected(key.kind, p, &key.workload, pods, now);
                (p.clone(), on)
            })
            .collect();
        list.sort_by_key(|(p, on)| (Reverse(*on), Reverse(p.last_seen), p.name.clone()));
        Some(ProbeDetail {
            pods: list,
            events: agg.recent.iter().rev().cloned().collect(),
        })
    }

    pub fn size(&self) -> BookSize {
        let s = |x: &String| x.capacity();
        let kind = |k: &OwnerKind| match k {
            OwnerKind::Other(name) => name.capacity(),
            _ => 0,
        };
        let key_bytes = |k: &WorkloadKey| s(&k.namespace) + kind(&k.kind) + s(&k.name);
        let mut bytes = self.rows.capacity() * (size_of::<ProbeKey>() + size_of::<ProbeAgg>() + 8)
            + self.tracked.capacity()
                * (size_of::<(RegionId, String)>() + size_of::<Tracked>() + 8)
            + self.order.len() * (size_of::<u64>() + size_of::<(RegionId, String)>() + 16)
            + self.latencies.capacity() * (size_of::<WorkloadKey>() + 16);
        for (k, r) in &self.rows {
            bytes += key_bytes(&k.workload) + s(&r.message);
            bytes += r.pods.capacity() * (size_of::<String>() + size_of::<PodFailure>() + 8);
            for (uid, p) in &r.pods {
                bytes += s(uid) + s(&p.uid) + s(&p.name) + s(&p.container) + s(&p.message);
            }
            bytes += r.recent.capacity() * size_of::<RecentEvent>();
            for e in &r.recent {
                bytes += s(&e.uid) + s(&e.pod) + s(&e.reason) + s(&e.message);
            }
        }
        // each event uid is held twice: the table and the eviction order
        bytes += self
            .tracked
            .keys()
            .map(|(_, u)| 2 * u.capacity())
            .sum::<usize>();
        bytes += self.latencies.keys().map(key_bytes).sum::<usize>();
        BookSize {
            rows: self.rows.len(),
            tracked_events: self.tracked.len(),
            max_pods_in_a_row: self.rows.values().map(|r| r.pods.len()).max().unwrap_or(0),
            max_recent_in_a_row: self
                .rows
                .values()
                .map(|r| r.recent.len())
                .max()
                .unwrap_or(0),
            bytes,
        }
    }
}

#[cfg(test)]
mod tests;
