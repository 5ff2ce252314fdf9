//! The timeline of one workload as data: one lane per region, markers
//! (revisions, rollout state changes and events, pitwall's audited
//! actions, promotion waves, and an overlay of probe failures, restarts
//! and unready pods) and bars (rollouts), all from the fleet store plus
//! what the history task read. Pure; the view places them on the axis.

use super::plan::{tag, WaveState};
use super::state::ReleasesState;
use crate::fleet::owners::{OwnerKind, WorkloadKey};
use crate::fleet::store::Store;
use crate::model::{RegionId, Timestamp};

/// Most markers per lane (the newest kept).
pub const LANE_CAP: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A revision (an image change).
    Revision,
    /// A rollout state change (a Deployment condition).
    Rollout,
    /// An event of the Deployment (ScalingReplicaSet, ...).
    Event,
    /// An action pitwall took, from the audit log.
    Audit,
    /// A promotion wave starting or ending.
    Promotion,
    /// Probe failures, restarts, unready or crash-looping pods.
    Trouble,
}

impl Kind {
    pub fn glyph(self) -> char {
        match self {
            Kind::Revision => '◆',
            Kind::Rollout => '○',
            Kind::Event => '·',
            Kind::Audit => '▲',
            Kind::Promotion => '▶',
            Kind::Trouble => '✖',
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Kind::Revision => "revision",
            Kind::Rollout => "rollout",
            Kind::Event => "event",
            Kind::Audit => "pitwall",
            Kind::Promotion => "promotion",
            Kind::Trouble => "trouble",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub region: RegionId,
    pub at: Timestamp,
    pub kind: Kind,
    /// One line: `rev 5 4.3.0`.
    pub label: String,
    /// The detail view's lines (the image diff of a revision).
    pub detail: Vec<String>,
}

/// A rollout, from its revision's creation to its last scaling event (or
/// now while it is under way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub region: RegionId,
    pub from: Timestamp,
    pub to: Timestamp,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    /// Every marker, in time order (then region, kind).
    pub markers: Vec<Marker>,
    pub bars: Vec<Bar>,
}

fn images_line(images: &[String]) -> String {
    images.iter().map(|i| tag(i)).collect::<Vec<_>>().join(",")
}

/// The timeline of `ns/name` over every region.
pub fn build(
    store: &Store,
    rel: &ReleasesState,
    region_names: &[String],
    now: Timestamp,
) -> Timeline {
    let Some((ns, name)) = &rel.workload else {
        return Timeline::default();
    };
    let mut t = Timeline::default();
    for (region, rname) in region_names.iter().enumerate() {
        let mut lane: Vec<Marker> = Vec::new();
        let key = WorkloadKey {
            region,
            namespace: ns.clone(),
            kind: OwnerKind::Deployment,
            name: name.clone(),
        };
        let row = store.workloads().rows().get(&key).map(|i| &i.row);
        // revisions, oldest first: markers with the diff against the one before
        let scaling: Vec<Timestamp> = store
            .events()
            .of_object(region, "Deployment", ns, name)
            .filter(|e| e.reason == "ScalingReplicaSet")
            .map(|e| e.last_seen)
            .collect();
        if let Some(Ok(revs)) = rel.revisions.get(&region) {
            let mut oldest_first: Vec<_> = revs.iter().collect();
            oldest_first.reverse();
            for (i, r) in oldest_first.iter().enumerate() {
                let Some(at) = r
                    .created
                    .as_deref()
                    .and_then(crate::fleet::lean::parse_time)
                else {
                    continue;
                };
                let mut detail = vec![
                    format!(
                        "revision {}  created {}",
                        r.number,
                        r.created.as_deref().unwrap_or("")
                    ),
                    format!("images: {}", r.images.join(", ")),
                    format!(
                        "change-cause: {}",
                        r.change_cause.as_deref().unwrap_or("(none)")
                    ),
                ];
                if i > 0 {
                    let before = &oldest_first[i - 1];
                    for (old, new) in before.image_diff(&r.images).iter().map(|(a, b)| (b, a)) {
                        detail.push(format!("image: {old}  ->  {new}"));
                    }
                    let _ = before;
                }
                lane.push(Marker {
                    region,
                    at,
                    kind: Kind::Revision,
                    label: format!("rev {} {}", r.number, images_line(&r.images)),
                    detail,
                });
                // its rollout: up to the last scaling event before the next revision
                let next = oldest_first
                    .get(i + 1)
                    .and_then(|n| n.created.as_deref())
                    .and_then(crate::fleet::lean::parse_time)
                    .unwrap_or(Timestamp::MAX);
                let last = scaling
                    .iter()
                    .copied()
                    .filter(|&s| s >= at && s < next)
                    .max();
                let current = i + 1 == oldest_first.len();
                let running =
                    current && row.is_some_and(crate::fleet::store::workloads::mid_flight);
                let to = if running { Some(now) } else { last };
                if let Some(to) = to.filter(|&to| to > at) {
                    t.bars.push(Bar {
                        region,
                        from: at,
                        to,
                        label: format!("rollout of rev {}", r.number),
                    });
                }
            }
        }
        // rollout state changes and the Deployment's events
        if let Some(row) = row {
            for c in &row.conditions {
                if let Some(at) = c.last_transition {
                    lane.push(Marker {
                        region,
                        at,
                        kind: Kind::Rollout,
                        label: format!("{} {}", c.type_, c.reason),
                        detail: vec![format!(
                            "{}={} {}: {}",
                            c.type_, c.status, c.reason, c.message
                        )],
                    });
                }
            }
        }
        for e in store.events().of_object(region, "Deployment", ns, name) {
            lane.push(Marker {
                region,
                at: e.last_seen,
                kind: Kind::Event,
                label: e.reason.clone(),
                detail: vec![format!(
                    "{} {} (x{}): {}",
                    e.type_, e.reason, e.count, e.message
                )],
            });
        }
        // the overlay: the workload's pods in trouble and their probe failures
        if let Some(pods) = store.owners().pods_of(&key) {
            for f in pods.values() {
                if let Some(at) = f.crash_at(now) {
                    lane.push(trouble(region, at, format!("crash loop {}", f.name)));
                }
                if let Some(at) = f.unready_at(now) {
                    lane.push(trouble(region, at, format!("unready {}", f.name)));
                }
                if let (Some(at), true) = (f.last_restart, f.restarts > 0) {
                    lane.push(trouble(
                        region,
                        at,
                        format!("restart {} ({} so far)", f.name, f.restarts),
                    ));
                }
                for e in store.events().of_object(region, "Pod", ns, &f.name) {
                    if e.reason == "Unhealthy" || e.reason == "BackOff" {
                        lane.push(trouble(
                            region,
                            e.last_seen,
                            format!("{} {} x{}: {}", e.reason, f.name, e.count, e.message),
                        ));
                    }
                }
            }
        }
        for a in rel.audit.iter().filter(|a| a.region == *rname) {
            lane.push(Marker {
                region,
                at: a.at,
                kind: Kind::Audit,
                label: a.action.clone(),
                detail: vec![
                    format!("{} by {}: {}", a.action, a.user, a.result),
                    format!("parameters: {}", a.parameters),
                ],
            });
        }
        if let Some(plan) = rel.plan() {
            for (i, w) in plan.waves.iter().enumerate() {
                let Some(r) = w.regions.iter().find(|r| r.region == *rname) else {
                    continue;
                };
                let head = format!("wave {} {} {}", i + 1, w.stage, w.state.word());
                let detail = vec![
                    format!(
                        "promote {} {} -> {}",
                        plan.workload(),
                        tag(&r.from),
                        tag(&r.to)
                    ),
                    format!("{head}: {}", r.note),
                ];
                if let Some(at) = w.started {
                    lane.push(Marker {
                        region,
                        at,
                        kind: Kind::Promotion,
                        label: format!("wave {} {} started", i + 1, w.stage),
                        detail: detail.clone(),
                    });
                }
                if let (Some(at), WaveState::Passed | WaveState::Failed) = (w.ended, w.state) {
                    lane.push(Marker {
                        region,
                        at,
                        kind: Kind::Promotion,
                        label: head,
                        detail,
                    });
                }
            }
        }
        lane.sort_by_key(|a| (a.at, a.kind));
        if lane.len() > LANE_CAP {
            lane.drain(..lane.len() - LANE_CAP);
        }
        t.markers.extend(lane);
    }
    t.markers.sort_by_key(|a| (a.at, a.region, a.kind));
    t
}

fn trouble(region: RegionId, at: Timestamp, label: String) -> Marker {
    Marker {
        region,
        at,
        kind: Kind::Trouble,
        detail: vec![label.clone()],
        label,
    }
}

/// The window the axis shows: `span` seconds ending a quarter span after
/// `at` (never in the future), or ending now.
pub fn window(at: Option<Timestamp>, span: i64, now: Timestamp) -> (Timestamp, Timestamp) {
    let end = at.map_or(now, |t| (t + span / 4).min(now));
    (end - span, end)
}

/// The marker a timeline opened at `at` selects: the last one at or
/// before it (what changed just before), else the newest.
pub fn marker_at(t: &Timeline, at: Option<Timestamp>) -> usize {
    let n = t.markers.len();
    match at {
        Some(at) => t
            .markers
            .iter()
            .rposition(|m| m.at <= at && m.kind != Kind::Trouble)
            .unwrap_or(0),
        None => n.saturating_sub(1),
    }
}
