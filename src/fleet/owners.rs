//! The pod facts incident views need, grouped by owning workload: who is
//! unready or crash-looping and since when, which containers are not
//! ready. Kept separately from the pod table's store so this module stays
//! pure; an entry is ~150 bytes plus its names.

use crate::model::{ContainerState, PodRow, RegionId, Timestamp, WorkloadKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// How long a pod may be unready before triage calls it a problem: pods
/// starting in a healthy rollout are briefly unready.
pub const UNREADY_GRACE_SECS: i64 = 15;
/// A pod seen in CrashLoopBackOff stays crash-looping between back-offs
/// (while it briefly runs) until it is ready with no restart for this long.
pub const CRASH_STICKY_SECS: i64 = 120;
/// An OOM kill older than this no longer counts as "now".
pub const OOM_RECENT_SECS: i64 = 30 * 60;

/// Waiting reasons that mean the pod cannot start at all.
pub const FAILING_WAIT_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The kind of a pod's owner: the workload kinds the cockpit streams
/// (`WorkloadKind`), the other controllers pods name, the pod itself when
/// bare, or any other kind by name (custom controllers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnerKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    Pod,
    Other(String),
}

impl OwnerKind {
    const NAMED: [OwnerKind; 6] = [
        OwnerKind::Deployment,
        OwnerKind::StatefulSet,
        OwnerKind::DaemonSet,
        OwnerKind::ReplicaSet,
        OwnerKind::Job,
        OwnerKind::Pod,
    ];

    /// The kind as the API names it.
    pub fn as_str(&self) -> &str {
        match self {
            OwnerKind::Deployment => "Deployment",
            OwnerKind::StatefulSet => "StatefulSet",
            OwnerKind::DaemonSet => "DaemonSet",
            OwnerKind::ReplicaSet => "ReplicaSet",
            OwnerKind::Job => "Job",
            OwnerKind::Pod => "Pod",
            OwnerKind::Other(kind) => kind,
        }
    }
}

impl From<&str> for OwnerKind {
    fn from(kind: &str) -> OwnerKind {
        OwnerKind::NAMED
            .into_iter()
            .find(|k| k.as_str() == kind)
            .unwrap_or_else(|| OwnerKind::Other(kind.to_string()))
    }
}

impl From<WorkloadKind> for OwnerKind {
    fn from(kind: WorkloadKind) -> OwnerKind {
        match kind {
            WorkloadKind::Deployment => OwnerKind::Deployment,
            WorkloadKind::StatefulSet => OwnerKind::StatefulSet,
        }
    }
}

impl PartialEq<&str> for OwnerKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// By name, so lists ordered by workload read alphabetically.
impl Ord for OwnerKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for OwnerKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for OwnerKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The workload that owns a pod (or the pod itself when bare).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadKey {
    pub region: RegionId,
    pub namespace: String,
    pub kind: OwnerKind,
    pub name: String,
}

impl fmt::Display for WorkloadKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{} {}", self.namespace, self.name, self.kind)
    }
}

impl WorkloadKey {
    /// The owner as the pod row names it; a ReplicaSet owner is shown as
    /// its Deployment (`checkout-7d9f8` -> `checkout`).
    pub fn of_pod(pod: &PodRow) -> WorkloadKey {
        let (kind, name) = match (pod.owner_kind.as_str(), pod.owner_name.as_str()) {
            (_, "") | ("", _) => (OwnerKind::Pod, pod.name.clone()),
            (k, n) => {
                let (k, n) = owner_workload(k, n, None);
                (OwnerKind::from(k), n.to_string())
            }
        };
        WorkloadKey {
            region: pod.region,
            namespace: pod.namespace.clone(),
            kind,
            name,
        }
    }

    /// Best guess from a pod name alone, for events about pods not (yet)
    /// seen: `checkout-7d9f8c-x2x4z` -> Deployment `checkout`, `db-0` ->
    /// StatefulSet `db`.
    pub fn guess(region: RegionId, namespace: &str, pod_name: &str) -> WorkloadKey {
        let (kind, name) = guess_owner(pod_name);
        WorkloadKey {
            region,
            namespace: namespace.to_string(),
            kind: OwnerKind::from(kind),
            name: name.to_string(),
        }
    }
}

/// The one owner resolution: a ReplicaSet named
/// `<deployment>-<pod-template-hash>` is its Deployment. With the pod's
/// `pod-template-hash` label the suffix is known (the pod row, on the source
/// task); without it (a row that still names a ReplicaSet) a hash-shaped
/// suffix is taken as one.
pub fn owner_workload<'a>(
    kind: &'a str,
    name: &'a str,
    template_hash: Option<&str>,
) -> (&'a str, &'a str) {
    if kind != "ReplicaSet" {
        return (kind, name);
    }
    let deploy = match template_hash {
        Some(hash) => name.strip_suffix(hash).and_then(|s| s.strip_suffix('-')),
        None => name
            .rsplit_once('-')
            .filter(|(_, hash)| looks_like_hash(hash))
            .map(|(d, _)| d),
    };
    match deploy {
        Some(d) if !d.is_empty() => ("Deployment", d),
        _ => (kind, name),
    }
}

fn looks_like_hash(s: &str) -> bool {
    (4..=10).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn guess_owner(pod: &str) -> (&'static str, &str) {
    if let Some((rest, suffix)) = pod.rsplit_once('-') {
        if suffix.len() == 5 && looks_like_hash(suffix) {
            if let Some((deploy, hash)) = rest.rsplit_once('-') {
                if looks_like_hash(hash) && !deploy.is_empty() {
                    return ("Deployment", deploy);
                }
            }
        }
        if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty() {
            return ("StatefulSet", rest);
        }
    }
    ("Pod", pod)
}

/// What one pod contributes to its workload's health.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodFacts {
    pub name: String,
    pub ready: u16,
    pub total: u16,
    pub deleting: bool,
    pub completed: bool,
    pub restarts: u32,
    /// Set while the pod is unready: when it was first seen so.
    pub unready_since: Option<Timestamp>,
    /// Set when a container was seen waiting in CrashLoopBackOff; kept
    /// while it keeps restarting (see `crash_at`).
    pub crash_since: Option<Timestamp>,
    pub crash_waiting: bool,
    pub last_restart: Option<Timestamp>,
    /// The most recent OOM kill of any container.
    pub oom_at: Option<Timestamp>,
    /// A waiting reason from `FAILING_WAIT_REASONS`.
    pub failing_reason: Option<String>,
    pub failing_since: Option<Timestamp>,
    /// Containers that are not ready (usually empty).
    pub unready_containers: Vec<String>,
}

impl PodFacts {
    fn from_row(pod: &PodRow, prev: Option<&PodFacts>, now: Timestamp) -> PodFacts {
        let completed = pod.phase == "Succeeded" || pod.phase == "Failed";
        let unready = !completed && !pod.deleting && pod.ready < pod.total;
        // first seen unready: on the initial list the pod may have been
        // unready for a while; its last restart or creation is the best bound
        let evidence = pod.last_restart.unwrap_or(pod.created).min(now);
        // `prev` is None on first sight, Some(None) when known and fine before
        let keep = |prev: Option<Option<Timestamp>>, on: bool| match (on, prev) {
            (false, _) => None,
            (true, Some(Some(t))) => Some(t),
            (true, Some(None)) => Some(now),
            (true, None) => Some(if pod.created > 0 { evidence } else { now }),
        };
        // the kubectl STATUS column says it too when containers are not known
        let crash = pod.status == "CrashLoopBackOff"
            || pod.containers.iter().any(|c| {
                matches!(&c.state, ContainerState::Waiting { reason, .. } if reason == "CrashLoopBackOff")
            });
        let failing_reason = pod
            .containers
            .iter()
            .find_map(|c| match &c.state {
                ContainerState::Waiting { reason, .. }
                    if FAILING_WAIT_REASONS.contains(&reason.as_str()) =>
                {
                    Some(reason.clone())
                }
                _ => None,
            })
            .or_else(|| {
                FAILING_WAIT_REASONS
                    .contains(&pod.status.as_str())
                    .then(|| pod.status.clone())
            });
        // between back-offs the container runs for a moment: stay a crash
        // loop until the pod is ready and has stopped restarting
        let recently_restarted = pod
            .last_restart
            .is_some_and(|t| now.saturating_sub(t) <= CRASH_STICKY_SECS);
        let crash_seen = crash
            || (prev.is_some_and(|p| p.crash_since.is_some())
                && (pod.ready < pod.total || recently_restarted));
        let oom_at = pod
            .containers
            .iter()
            .filter_map(|c| {
                let t = match &c.state {
                    ContainerState::Terminated(t) if t.reason == "OOMKilled" => Some(t),
                    _ => c
                        .last_terminated
                        .as_ref()
                        .filter(|t| t.reason == "OOMKilled"),
                };
                t.map(|t| t.finished.unwrap_or(now))
            })
            .max();
        PodFacts {
            name: pod.name.clone(),
            ready: pod.ready,
            total: pod.total,
            deleting: pod.deleting,
            completed,
            restarts: pod.restarts,
            unready_since: keep(prev.map(|p| p.unready_since), unready),
            crash_since: keep(prev.map(|p| p.crash_since), crash_seen && !pod.deleting),
            crash_waiting: crash,
            last_restart: pod.last_restart,
            oom_at,
            failing_since: keep(
                prev.map(|p| p.failing_since),
                failing_reason.is_some() && !pod.deleting,
            ),
            failing_reason,
            unready_containers: pod
                .containers
                .iter()
                .filter(|c| !c.ready)
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    /// Unready for longer than the grace period.
    pub fn unready_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.unready_since
            .filter(|&s| now.saturating_sub(s) >= UNREADY_GRACE_SECS)
    }

    /// Crash-looping now: waiting in back-off, or seen so and since then not
    /// ready or restarted within `CRASH_STICKY_SECS`.
    pub fn crash_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.crash_since.filter(|_| {
            self.crash_waiting
                || self.ready < self.total
                || self
                    .last_restart
                    .is_some_and(|t| now.saturating_sub(t) <= CRASH_STICKY_SECS)
        })
    }

    pub fn oom_recent(&self, now: Timestamp) -> Option<Timestamp> {
        self.oom_at
            .filter(|&t| now.saturating_sub(t) <= OOM_RECENT_SECS)
    }

    /// Is this container (or, when `None`, the whole pod) ready?
    pub fn container_ready(&self, container: Option<&str>) -> bool {
        match container {
            Some(c) if !c.is_empty() => !self.unready_containers.iter().any(|u| u == c),
            _ => self.ready >= self.total,
        }
    }
}

/// A pod that counts toward its workload's size (not leaving, not done).
fn is_live(p: &PodFacts) -> bool {
    !p.deleting && !p.completed
}

/// A live pod with a fact that may make a triage item; every triage count
/// filters on one of these, so the other pods need not be looked at.
fn is_troubled(p: &PodFacts) -> bool {
    is_live(p)
        && (p.unready_since.is_some()
            || p.crash_since.is_some()
            || p.oom_at.is_some()
            || p.failing_reason.is_some())
}

/// Per-workload sums kept up to date on every upsert and removal, so a
/// triage refresh walks workloads and their troubled pods, not every pod.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkloadAgg {
    /// Pods neither being deleted nor completed.
    pub live: u32,
    /// Uids of the troubled pods (see `is_troubled`), usually none.
    pub troubled: HashSet<String>,
}

#[derive(Debug, Default)]
struct WorkloadPods {
    pods: HashMap<String, PodFacts>,
    agg: WorkloadAgg,
}

/// Grace-period ends of unready pods, as a multiset: the next one is a
/// lookup instead of a walk over every pod.
type GraceEnds = BTreeMap<Timestamp, u32>;

fn grace_end(p: &PodFacts) -> Option<Timestamp> {
    p.unready_since.map(|s| s + UNREADY_GRACE_SECS)
}

impl WorkloadPods {
    fn count(&mut self, uid: &str, p: &PodFacts, grace: &mut GraceEnds) {
        if is_live(p) {
            self.agg.live += 1;
        }
        if is_troubled(p) && !self.agg.troubled.contains(uid) {
            self.agg.troubled.insert(uid.to_string());
        }
        if let Some(t) = grace_end(p) {
            *grace.entry(t).or_default() += 1;
        }
    }

    fn uncount(&mut self, uid: &str, p: &PodFacts, grace: &mut GraceEnds) {
        if is_live(p) {
            self.agg.live -= 1;
        }
        self.agg.troubled.remove(uid);
        uncount_grace(p, grace);
    }
}

fn uncount_grace(p: &PodFacts, grace: &mut GraceEnds) {
    if let Some(t) = grace_end(p) {
        if let Some(n) = grace.get_mut(&t) {
            *n -= 1;
            if *n == 0 {
                grace.remove(&t);
            }
        }
    }
}

/// Pods grouped by workload, keyed by uid.
#[derive(Debug, Default)]
pub struct OwnerIndex {
    by_workload: HashMap<WorkloadKey, WorkloadPods>,
    owner: HashMap<(RegionId, String), WorkloadKey>,
    grace_ends: GraceEnds,
}

impl OwnerIndex {
    pub fn upsert(&mut self, pod: &PodRow, now: Timestamp) {
        let key = WorkloadKey::of_pod(pod);
        let id = (pod.region, pod.uid.clone());
        // an owner change (rare: orphaned then adopted) moves the pod
        if self.owner.get(&id).is_some_and(|old| *old != key) {
            self.remove(pod.region, &pod.uid);
        }
        let w = self.by_workload.entry(key.clone()).or_default();
        let old = w.pods.remove(&pod.uid);
        let facts = PodFacts::from_row(pod, old.as_ref(), now);
        if let Some(old) = &old {
            w.uncount(&pod.uid, old, &mut self.grace_ends);
        }
        w.count(&pod.uid, &facts, &mut self.grace_ends);
        w.pods.insert(pod.uid.clone(), facts);
        self.owner.insert(id, key);
    }

    /// Returns the workload the pod belonged to.
    pub fn remove(&mut self, region: RegionId, uid: &str) -> Option<WorkloadKey> {
        let key = self.owner.remove(&(region, uid.to_string()))?;
        if let Some(w) = self.by_workload.get_mut(&key) {
            if let Some(old) = w.pods.remove(uid) {
                w.uncount(uid, &old, &mut self.grace_ends);
            }
            if w.pods.is_empty() {
                self.by_workload.remove(&key);
            }
        }
        Some(key)
    }

    /// Every pod of a region is gone (region removed or relisted from
    /// scratch by the caller).
    pub fn clear_region(&mut self, region: RegionId) {
        let grace = &mut self.grace_ends;
        self.by_workload.retain(|k, w| {
            if k.region != region {
                return true;
            }
            for p in w.pods.values() {
                uncount_grace(p, grace);
            }
            false
        });
        self.owner.retain(|(r, _), _| *r != region);
    }

    pub fn owner_of(&self, region: RegionId, uid: &str) -> Option<&WorkloadKey> {
        self.owner.get(&(region, uid.to_string()))
    }

    pub fn get(&self, region: RegionId, uid: &str) -> Option<&PodFacts> {
        let key = self.owner_of(region, uid)?;
        self.by_workload.get(key)?.pods.get(uid)
    }

    pub fn pods_of(&self, key: &WorkloadKey) -> Option<&HashMap<String, PodFacts>> {
        self.by_workload.get(key).map(|w| &w.pods)
    }

    /// Pods of the workload that are not being deleted.
    pub fn live_count(&self, key: &WorkloadKey) -> u32 {
        self.by_workload.get(key).map_or(0, |w| w.agg.live)
    }

    pub fn workloads(&self) -> impl Iterator<Item = (&WorkloadKey, &HashMap<String, PodFacts>)> {
        self.by_workload.iter().map(|(k, w)| (k, &w.pods))
    }

    /// Workloads with at least one troubled pod: their aggregate and those
    /// pods (live, with a trouble fact set).
    pub fn troubled(
        &self,
    ) -> impl Iterator<Item = (&WorkloadKey, &WorkloadAgg, impl Iterator<Item = &PodFacts>)> {
        self.by_workload
            .iter()
            .filter(|(_, w)| !w.agg.troubled.is_empty())
            .map(|(k, w)| {
                let pods = w.agg.troubled.iter().filter_map(|uid| w.pods.get(uid));
                (k, &w.agg, pods)
            })
    }

    pub fn len(&self) -> usize {
        self.owner.len()
    }

    /// The next moment an unready pod's grace period ends (after `now`).
    pub fn next_grace_end(&self, now: Timestamp) -> Option<Timestamp> {
        self.grace_ends
            .range(now.saturating_add(1)..)
            .next()
            .map(|(&t, _)| t)
    }

    pub fn is_empty(&self) -> bool {
        self.owner.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod tests;
