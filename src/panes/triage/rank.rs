//! The triage list: what is wrong right now, across every region, ranked.
//!
//! Items are derived from the current facts each time (pods, workloads,
//! probe rows, region health), so a workload that recovers simply stops
//! producing an item. Each item has a stable `TriageId` so the UI can keep
//! the cursor on the same item while the list re-ranks.

use crate::fleet::owners::{OwnerIndex, OwnerKind, PodFacts, WorkloadKey};
use crate::fleet::store::workloads::mid_flight;
use crate::fleet::workloads::{progress_deadline_exceeded, ProbeKind, WorkloadInfo};
use crate::model::{RegionId, Timestamp};
use crate::panes::network::join::Finding;
use crate::panes::probes::book::{ProbeRow, Severity};
use std::collections::HashMap;
use std::fmt;

/// A region's connection as triage needs it (the core maps its own health
/// type onto this). `Error`: the client could not be built (configuration
/// or credentials), which is not the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionState {
    Syncing,
    Live,
    Stale { since: Timestamp },
    Unreachable { reason: String, since: Timestamp },
    Unauthorized { reason: String, since: Timestamp },
    Forbidden { reason: String, since: Timestamp },
    Error { reason: String, since: Timestamp },
}

impl RegionState {
    pub fn is_live(&self) -> bool {
        matches!(self, RegionState::Live)
    }
}

/// What is wrong (part of the identity: one workload can have several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Problem {
    RegionDown,
    RegionStale,
    CrashLoop,
    OomKilled,
    CannotStart,
    RolloutStuck,
    Unready,
    ProbeFailures(ProbeKind),
    RolloutInProgress,
    RolloutPaused,
    /// A node's conntrack table near full, or dropping connections.
    Conntrack,
    /// LVS real servers whose IP has no pod.
    StaleBackend,
    /// LVS real servers at weight 0 still holding connections.
    WeightZero,
}

impl Problem {
    /// Base rank; items add up to 40 for the share of pods hit, so a whole
    /// workload unready outranks one crash-looping pod of twelve.
    fn base(self) -> u32 {
        match self {
            Problem::RegionDown => 75,
            Problem::CrashLoop => 60,
            Problem::OomKilled => 55,
            Problem::CannotStart => 52,
            Problem::RolloutStuck => 50,
            Problem::RegionStale => 45,
            Problem::Unready => 40,
            Problem::ProbeFailures(_) => 35,
            Problem::RolloutInProgress => 10,
            Problem::RolloutPaused => 5,
            // critical when full or dropping (see `network_items`)
            Problem::Conntrack => 42,
            Problem::StaleBackend => 62,
            Problem::WeightZero => 38,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Problem::RegionDown => "region down",
            Problem::RegionStale => "region stale",
            Problem::CrashLoop => "crash loop",
            Problem::OomKilled => "OOM killed",
            Problem::CannotStart => "cannot start",
            Problem::RolloutStuck => "rollout stuck",
            Problem::Unready => "unready",
            Problem::ProbeFailures(ProbeKind::Readiness) => "readiness failing",
            Problem::ProbeFailures(ProbeKind::Liveness) => "liveness failing",
            Problem::ProbeFailures(ProbeKind::Startup) => "startup failing",
            Problem::RolloutInProgress => "rolling out",
            Problem::RolloutPaused => "rollout paused",
            Problem::Conntrack => "conntrack",
            Problem::StaleBackend => "stale LVS backend",
            Problem::WeightZero => "LVS weight 0",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Stable identity of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TriageId {
    pub region: RegionId,
    /// Empty for region-wide items.
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Notice,
    Warning,
    Critical,
}

/// Where Enter on an item goes: the pods pane scoped to this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PodsTarget {
    pub region: RegionId,
    pub namespace: Option<String>,
    /// (kind, name) of the owning workload.
    pub owner: Option<(String, String)>,
}

impl PodsTarget {
    /// The pods of one workload (a bare pod: its namespace).
    pub fn workload(key: &WorkloadKey) -> PodsTarget {
        PodsTarget {
            region: key.region,
            namespace: Some(key.namespace.clone()),
            owner: (key.kind != OwnerKind::Pod).then(|| (key.kind.to_string(), key.name.clone())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriageItem {
    pub id: TriageId,
    pub level: Level,
    pub score: u32,
    /// How bad, e.g. `3/12 pods unready`.
    pub how_bad: String,
    /// Extra detail (latest message, reason).
    pub detail: String,
    pub since: Option<Timestamp>,
    /// The region is not live: the facts may be out of date.
    pub stale: bool,
    pub target: PodsTarget,
}

/// Everything triage reads.
pub struct TriageInput<'a> {
    pub pods: &'a OwnerIndex,
    pub workloads: &'a HashMap<WorkloadKey, WorkloadInfo>,
    /// From `ProbeBook::rows`.
    pub probe_rows: &'a [ProbeRow],
    /// Indexed by `RegionId`.
    pub regions: &'a [RegionState],
    /// When each rollout in progress was first seen so.
    pub rollout_since: &'a HashMap<WorkloadKey, Timestamp>,
    /// What the network pane's pollers found (hot nodes, drops, LVS).
    pub network: &'a [NetworkTrouble],
}

/// One network finding of a region, and since when it has been seen.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkTrouble {
    pub region: RegionId,
    pub finding: Finding,
    pub since: Timestamp,
}

fn share(n: u32, of: u32) -> u32 {
    (40 * n.min(of)).checked_div(of).unwrap_or(0)
}

fn level(score: u32) -> Level {
    match score {
        s if s >= 60 => Level::Critical,
        s if s >= 35 => Level::Warning,
        _ => Level::Notice,
    }
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn workload_item(
    key: &WorkloadKey,
    problem: Problem,
    score: u32,
    how_bad: String,
    detail: String,
    since: Option<Timestamp>,
) -> TriageItem {
    TriageItem {
        id: TriageId {
            region: key.region,
            namespace: key.namespace.clone(),
            kind: key.kind.to_string(),
            name: key.name.clone(),
            problem,
        },
        level: level(score),
        score,
        how_bad,
        detail,
        since,
        stale: false,
        target: PodsTarget::workload(key),
    }
}

fn explained_unready(p: &PodFacts, now: Timestamp) -> Option<Timestamp> {
    if p.crash_at(now).is_some() || p.failing_reason.is_some() {
        return None;
    }
    p.unready_at(now)
}

/// Items from the pods of each workload.
fn pod_items(input: &TriageInput, now: Timestamp, out: &mut Vec<TriageItem>) {
    // every count below needs a trouble fact on a live pod, so only those
    // pods are read; `total` still counts every live pod of the workload
    for (key, agg, troubled) in input.pods.troubled() {
        let live: Vec<&PodFacts> = troubled.collect();
        let total = agg.live;
        let min_since =
            |f: &dyn Fn(&PodFacts) -> Option<Timestamp>| live.iter().filter_map(|p| f(p)).min();
        let crash: u32 = live.iter().filter(|p| p.crash_at(now).is_some()).count() as u32;
        if crash > 0 {
            let score = Problem::CrashLoop.base() + share(crash, total);
            out.push(workload_item(
                key,
                Problem::CrashLoop,
                score,
                format!("{crash}/{total} pods CrashLoopBackOff"),
                String::new(),
                min_since(&|p| p.crash_at(now)),
            ));
        }
        let oom: u32 = live.iter().filter(|p| p.oom_recent(now).is_some()).count() as u32;
        if oom > 0 {
            let score = Problem::OomKilled.base() + share(oom, total);
            out.push(workload_item(
                key,
                Problem::OomKilled,
                score,
                format!("{oom}/{total} pods OOMKilled in 30m"),
                String::new(),
                min_since(&|p| p.oom_recent(now)),
            ));
        }
        let failing: Vec<_> = live.iter().filter(|p| p.failing_reason.is_some()).collect();
        if !failing.is_empty() {
            let n = failing.len() as u32;
            let reason = failing
                .iter()
                .filter_map(|p| p.failing_reason.clone())
                .min()
                .unwrap_or_default();
            let score = Problem::CannotStart.base() + share(n, total);
            out.push(workload_item(
                key,
                Problem::CannotStart,
                score,
                format!("{n}/{total} pods {reason}"),
                reason,
                min_since(&|p| p.failing_since),
            ));
        }
        // pods already named by a crash-loop or cannot-start item are not
        // repeated here
        let unready: u32 = live
            .iter()
            .filter(|p| explained_unready(p, now).is_some())
            .count() as u32;
        if unready > 0 {
            let score = Problem::Unready.base() + share(unready, total);
            out.push(workload_item(
                key,
                Problem::Unready,
                score,
                format!("{unready}/{total} pods unready"),
                String::new(),
                min_since(&|p| explained_unready(p, now)),
            ));
        }
    }
}

/// Items from Deployment / StatefulSet status.
fn rollout_items(input: &TriageInput, now: Timestamp, out: &mut Vec<TriageItem>) {
    for (key, info) in input.workloads {
        let r = &info.row;
        if let Some(c) = progress_deadline_exceeded(r) {
            let score = Problem::RolloutStuck.base()
                + share(r.desired - r.updated.min(r.desired), r.desired);
            out.push(workload_item(
                key,
                Problem::RolloutStuck,
                score,
                format!(
                    "{}/{} updated, deadline exceeded (rev {})",
                    r.updated, r.desired, r.revision
                ),
                c.message.clone(),
                c.last_transition,
            ));
            continue;
        }
        if !mid_flight(r) {
            continue;
        }
        // the Progressing condition keeps its transition time through a
        // new rollout, so the start is when it was first seen under way
        let since = Some(input.rollout_since.get(key).copied().unwrap_or(now));
        let (problem, what) = if r.paused {
            (Problem::RolloutPaused, "paused at")
        } else {
            (Problem::RolloutInProgress, "rolling:")
        };
        out.push(workload_item(
            key,
            problem,
            problem.base(),
            format!(
                "{what} {}/{} updated (rev {})",
                r.updated, r.desired, r.revision
            ),
            r.images.join(", "),
            since,
        ));
    }
}

fn probe_items(input: &TriageInput, out: &mut Vec<TriageItem>) {
    for row in input.probe_rows {
        if row.severity == Severity::Quiet || row.pods_affected == 0 {
            continue;
        }
        let problem = Problem::ProbeFailures(row.key.kind);
        let score = problem.base() + share(row.pods_affected, row.pods_total);
        let restarts = if row.restarts > 0 {
            format!(", {}", plural(row.restarts as u32, "restart", "restarts"))
        } else {
            String::new()
        };
        out.push(workload_item(
            &row.key.workload,
            problem,
            score,
            format!(
                "{}/{} pods, {} in 5m{restarts}",
                row.pods_affected,
                row.pods_total,
                plural(row.failures_5m as u32, "failure", "failures")
            ),
            row.message.clone(),
            Some(row.since),
        ));
    }
}

/// Every region of a fleet of two or more down: one item says so, instead
/// of one per region (the reasons are in each badge).
fn fleet_down_item(input: &TriageInput) -> Option<TriageItem> {
    let regions = input.regions;
    let down = |s: &RegionState| {
        !matches!(
            s,
            RegionState::Syncing | RegionState::Live | RegionState::Stale { .. }
        )
    };
    if regions.len() < 2 || !regions.iter().all(down) {
        return None;
    }
    let (first, reason) = regions
        .iter()
        .filter_map(|s| match s {
            RegionState::Unreachable { reason, since }
            | RegionState::Unauthorized { reason, since }
            | RegionState::Forbidden { reason, since }
            | RegionState::Error { reason, since } => Some((*since, reason.clone())),
            _ => None,
        })
        .min_by_key(|(since, _)| *since)?;
    let unreachable = regions
        .iter()
        .all(|s| matches!(s, RegionState::Unreachable { .. }));
    let score = Problem::RegionDown.base();
    Some(TriageItem {
        id: TriageId {
            region: 0,
            namespace: String::new(),
            kind: "Fleet".into(),
            name: String::new(),
            problem: Problem::RegionDown,
        },
        level: Level::Critical,
        score,
        how_bad: if unreachable {
            format!("{} regions unreachable", regions.len())
        } else {
            format!("{} regions down", regions.len())
        },
        detail: reason,
        since: Some(first),
        stale: true,
        target: PodsTarget {
            region: 0,
            namespace: None,
            owner: None,
        },
    })
}

fn region_items(input: &TriageInput, out: &mut Vec<TriageItem>) {
    if let Some(item) = fleet_down_item(input) {
        out.push(item);
        return;
    }
    for (region, state) in input.regions.iter().enumerate() {
        let (problem, how_bad, since) = match state {
            RegionState::Syncing | RegionState::Live => continue,
            RegionState::Stale { since } => (
                Problem::RegionStale,
                "data stale (watch lost, reconnecting)".to_string(),
                *since,
            ),
            RegionState::Unreachable { reason, since } => (
                Problem::RegionDown,
                format!("unreachable: {reason}"),
                *since,
            ),
            RegionState::Unauthorized { reason, since } => (
                Problem::RegionDown,
                format!("unauthorized: {reason}"),
                *since,
            ),
            RegionState::Forbidden { reason, since } => {
                (Problem::RegionDown, format!("forbidden: {reason}"), *since)
            }
            RegionState::Error { reason, since } => {
                (Problem::RegionDown, format!("error: {reason}"), *since)
            }
        };
        let score = problem.base();
        out.push(TriageItem {
            id: TriageId {
                region,
                namespace: String::new(),
                kind: "Region".into(),
                name: String::new(),
                problem,
            },
            level: level(score),
            score,
            how_bad,
            detail: String::new(),
            since: Some(since),
            stale: true,
            target: PodsTarget {
                region,
                namespace: None,
                owner: None,
            },
        });
    }
}

/// The ranked list: highest score first, then the longest-standing, then
/// by identity so equal items never swap places between frames.
pub fn triage(input: &TriageInput, now: Timestamp) -> Vec<TriageItem> {
    let mut out = Vec::new();
    region_items(input, &mut out);
    pod_items(input, now, &mut out);
    rollout_items(input, now, &mut out);
    probe_items(input, &mut out);
    network::network_items(input, &mut out);
    let mut out = merge::merge_same_cause(out);
    for item in &mut out {
        if let Some(r) = input.regions.get(item.id.region) {
            item.stale |= !r.is_live();
        }
    }
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.since.unwrap_or(now).cmp(&b.since.unwrap_or(now)))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Where the cursor goes after the list changed: the same item if it is
/// still there, otherwise the same position (clamped), so the cursor never
/// jumps to an unrelated far-away row.
pub fn reselect(
    items: &[TriageItem],
    selected: Option<&TriageId>,
    old_index: usize,
) -> Option<usize> {
    if items.is_empty() {
        return None;
    }
    selected
        .and_then(|id| items.iter().position(|i| &i.id == id))
        .or(Some(old_index.min(items.len() - 1)))
}

mod merge;
mod network;
#[cfg(test)]
mod tests;
