//! The log documents of a region, as a log shipper would have indexed them:
//! one ECS document per physical line the kube log endpoint gives
//! (`logs::entry`, same instants), for the current and the previous
//! container of every pod. Nothing is stored: a search walks the container
//! instances in time order with a k-way merge, so a page costs what it
//! returns plus what the filters skip.

use super::query::{Fields, Q};
use crate::api::logs::entry;
use crate::world::clock::{stamp_micros, Clock};
use crate::world::region::{PodSim, Region, Stage};
use crate::world::store::{splitmix, Kind};
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// One container instance's log, fixed at the search's (or PIT's) instant.
pub struct Instance {
    pub seed: u64,
    pub number: u32,
    pub start: f64,
    pub rate: f64,
    /// Entries written: indices `0..count`.
    pub count: u64,
    pub hostile: bool,
    /// Tie-break base: orders documents of equal time.
    pub tag: i64,
    pub uid: String,
    /// The `kubernetes` object of its documents.
    pub kube: Value,
}

/// Every container instance of a region at simulated second `at`: the
/// pods' and, as a log store keeps them, those of deleted pods.
pub fn instances(region: &Region, at: f64) -> Vec<Instance> {
    let st = region.lock();
    let mut out = Vec::new();
    for ((ns, name), p) in &st.pods {
        let labels = st
            .store
            .get_value(Kind::Pod, ns, name)
            .and_then(|v| v.pointer("/metadata/labels").cloned())
            .unwrap_or_else(|| json!({}));
        push_pod(&mut out, st.hostile, ns, name, p, labels, at);
    }
    let kept_since = at - crate::world::region::GONE_LOGS_RETENTION;
    for g in st.gone_logs.iter().filter(|g| g.ended >= kept_since) {
        let end = at.min(g.ended);
        push_pod(
            &mut out,
            st.hostile,
            &g.namespace,
            &g.name,
            &g.pod,
            g.labels.clone(),
            end,
        );
    }
    out
}

/// The instances of one pod, their lines written until `at`.
fn push_pod(
    out: &mut Vec<Instance>,
    hostile: bool,
    ns: &str,
    name: &str,
    p: &PodSim,
    labels: Value,
    at: f64,
) {
    let kube = json!({
        "namespace": ns,
        "pod": {"name": name, "uid": p.uid, "ip": p.ip},
        "container": {"name": p.container},
        "node": {"name": p.node},
        "labels": labels,
    });
    let mut push = |number: u32, start: f64, end: f64| {
        let end = end.min(at);
        let count = if p.log_rate > 0.0 && end > start {
            ((end - start) * p.log_rate).floor() as u64
        } else {
            0
        };
        let tag = ((splitmix(p.seed ^ ((number as u64) << 40)) >> 12) << 8) as i64;
        out.push(Instance {
            seed: p.seed,
            number,
            start,
            rate: p.log_rate,
            count,
            hostile,
            tag,
            uid: p.uid.clone(),
            kube: kube.clone(),
        });
    };
    if let Some((a, b, _, _)) = p.previous {
        push(p.restarts.saturating_sub(1), a, b);
    }
    if !matches!(p.stage, Stage::Pulling | Stage::BackOff) {
        push(p.restarts, p.started, at);
    }
}

/// One physical line as a document.
pub struct Doc<'a> {
    pub inst: &'a Instance,
    pub ts: i64,
    pub stamp: String,
    pub message: String,
    pub level: Option<String>,
    pub trace: Option<String>,
    pub entry: u64,
    pub sub: u32,
}

impl Doc<'_> {
    /// The sort values: time in nanoseconds, then the tie-break.
    pub fn key(&self) -> (i64, i64) {
        (self.ts, self.inst.tag | self.sub as i64)
    }

    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.inst.uid, self.inst.number, self.entry, self.sub
        )
    }

    pub fn source(&self, region: &str) -> Value {
        let mut s = json!({
            "@timestamp": self.stamp,
            "message": self.message,
            "stream": "stdout",
            "ecs": {"version": "8.11.0"},
            "kubernetes": self.inst.kube,
            "orchestrator": {"cluster": {"name": region}},
        });
        if let Some(l) = &self.level {
            s["log"] = json!({"level": l});
        }
        if let Some(t) = &self.trace {
            s["trace"] = json!({"id": t});
        }
        s
    }
}

impl Fields for Doc<'_> {
    fn field(&self, name: &str) -> Option<Option<String>> {
        Some(match name {
            "message" => Some(self.message.clone()),
            "log.level" => self.level.clone(),
            "trace.id" => self.trace.clone(),
            _ => return inst_field(self.inst, name),
        })
    }
    fn ts(&self) -> Option<i64> {
        Some(self.ts)
    }
}

/// What the pod alone says about a query (the line is not known yet).
pub struct InstView<'a>(pub &'a Instance);

impl Fields for InstView<'_> {
    fn field(&self, name: &str) -> Option<Option<String>> {
        match name {
            "message" | "log.level" | "trace.id" | "*" | "_all" => None,
            _ => inst_field(self.0, name),
        }
    }
    fn ts(&self) -> Option<i64> {
        None
    }
}

fn inst_field(inst: &Instance, name: &str) -> Option<Option<String>> {
    let known = match name {
        "stream" => Some("stdout".to_string()),
        _ => {
            let path = name.strip_prefix("kubernetes.")?;
            let v = match path.strip_prefix("labels.") {
                Some(l) => inst.kube.get("labels").and_then(|m| m.get(l)),
                None => inst.kube.pointer(&format!("/{}", path.replace('.', "/"))),
            };
            v.and_then(Value::as_str).map(str::to_string)
        }
    };
    Some(known)
}

/// Level and trace id of an entry, as a shipper's parser would find them.
fn level_and_trace(first: &str) -> (Option<String>, Option<String>) {
    if first.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(first) {
            let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            return (s("level"), s("trace_id"));
        }
    }
    let level = first
        .split_whitespace()
        .nth(1)
        .filter(|w| w.chars().all(|c| c.is_ascii_uppercase()))
        .map(|w| w.to_lowercase());
    (level, None)
}

/// Instant (epoch ns) of entry `i` of an instance.
fn nanos(clock: &Clock, inst: &Instance, i: u64) -> i64 {
    clock.at(inst.start + i as f64 / inst.rate).as_nanosecond() as i64
}

/// First entry index whose instant is at or after `t` (epoch ns).
fn index_at(clock: &Clock, inst: &Instance, t: i64) -> u64 {
    if inst.count == 0 {
        return 0;
    }
    let secs = clock.sim_secs(jiff::Timestamp::from_nanosecond(t as i128).unwrap_or_default());
    let guess = ((secs - inst.start) * inst.rate).ceil();
    let mut i = if guess <= 0.0 {
        0
    } else {
        (guess as u64).min(inst.count)
    };
    while i > 0 && nanos(clock, inst, i - 1) >= t {
        i -= 1;
    }
    while i < inst.count && nanos(clock, inst, i) < t {
        i += 1;
    }
    i
}

/// A rendered line waiting for its turn.
struct Pending {
    ts: i64,
    stamp: String,
    message: String,
    level: Option<String>,
    trace: Option<String>,
    entry: u64,
    sub: u32,
}

struct Cursor {
    inst: usize,
    /// Next entry to render (asc: up; desc: down, `None` when done).
    next: Option<u64>,
    /// Entries in `lo..hi` are in range.
    lo: u64,
    hi: u64,
    pending: VecDeque<Pending>,
}

/// Documents of the instances in sort order, within `[lo, hi]` (epoch ns).
pub struct Merge<'a> {
    clock: &'a Clock,
    insts: &'a [Instance],
    cursors: Vec<Cursor>,
    heap: BinaryHeap<Reverse<((i64, i64), usize)>>,
    asc: bool,
    /// Entries rendered so far (the budget of a request).
    pub rendered: u64,
}

impl<'a> Merge<'a> {
    pub fn new(
        clock: &'a Clock,
        insts: &'a [Instance],
        query: &Q,
        lo: Option<i64>,
        hi: Option<i64>,
        asc: bool,
    ) -> Merge<'a> {
        let mut m = Merge {
            clock,
            insts,
            cursors: Vec::new(),
            heap: BinaryHeap::new(),
            asc,
            rendered: 0,
        };
        for (k, inst) in insts.iter().enumerate() {
            if inst.count == 0 || query.eval(&InstView(inst)) == Some(false) {
                continue;
            }
            let a = lo.map_or(0, |t| index_at(clock, inst, t));
            let b = hi.map_or(inst.count, |t| index_at(clock, inst, t.saturating_add(1)));
            if a >= b {
                continue;
            }
            let next = Some(if asc { a } else { b - 1 });
            m.cursors.push(Cursor {
                inst: k,
                next,
                lo: a,
                hi: b,
                pending: VecDeque::new(),
            });
            let c = m.cursors.len() - 1;
            m.refill(c);
        }
        m
    }

    fn order(&self, key: (i64, i64)) -> (i64, i64) {
        if self.asc {
            key
        } else {
            (-key.0, -key.1)
        }
    }

    /// Render the cursor's next entry and queue its lines.
    fn refill(&mut self, c: usize) {
        let cur = &mut self.cursors[c];
        let Some(i) = cur.next else { return };
        cur.next = if self.asc {
            Some(i + 1).filter(|n| *n < cur.hi)
        } else {
            i.checked_sub(1).filter(|n| *n >= cur.lo)
        };
        let inst = &self.insts[cur.inst];
        let t = self.clock.at(inst.start + i as f64 / inst.rate);
        let ts = t.as_nanosecond() as i64;
        let stamp = t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
        let text = entry(inst.seed, inst.number, i, &stamp_micros(t), inst.hostile);
        self.rendered += 1;
        let first = text.split('\n').next().unwrap_or("");
        let (level, trace) = level_and_trace(first);
        let lines: Vec<&str> = text.split('\n').collect();
        for (sub, l) in lines.into_iter().enumerate() {
            let item = Pending {
                ts,
                stamp: stamp.clone(),
                message: l.to_string(),
                level: level.clone(),
                trace: trace.clone(),
                entry: i,
                sub: sub as u32,
            };
            if self.asc {
                cur.pending.push_back(item);
            } else {
                cur.pending.push_front(item);
            }
        }
        let key = (ts, inst.tag | cur.pending[0].sub as i64);
        let ord = self.order(key);
        self.heap.push(Reverse((ord, c)));
    }
}

impl<'a> Iterator for Merge<'a> {
    type Item = Doc<'a>;

    fn next(&mut self) -> Option<Doc<'a>> {
        let Reverse((_, c)) = self.heap.pop()?;
        let insts = self.insts;
        let cur = &mut self.cursors[c];
        let p = cur.pending.pop_front()?;
        let inst = &insts[cur.inst];
        if let Some(n) = cur.pending.front() {
            let key = (n.ts, inst.tag | n.sub as i64);
            let ord = self.order(key);
            self.heap.push(Reverse((ord, c)));
        } else {
            self.refill(c);
        }
        Some(Doc {
            inst,
            ts: p.ts,
            stamp: p.stamp,
            message: p.message,
            level: p.level,
            trace: p.trace,
            entry: p.entry,
            sub: p.sub,
        })
    }
}
