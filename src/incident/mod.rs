//! Probe failures and incident triage: pure state fed by rows (pods,
//! events, workloads, region health), read by the probes and triage panes.
//! No IO here; sources deserialise into the lean types of `events` and
//! `workloads` and hand the rows over.

pub mod present;
pub mod probes;
pub mod triage;

use crate::fleet::owners::{OwnerIndex, WorkloadKey};
use crate::fleet::stream::{Change, Update};
use crate::fleet::workloads::WorkloadInfo;
use crate::model::{EventRow, RegionId, Timestamp, WorkloadKind};
use probes::{ProbeBook, ProbeDetail, ProbeKey, ProbeRow};
use std::collections::{HashMap, HashSet};
use triage::{RegionState, TriageInput, TriageItem};

pub use crate::fleet::lean::parse_time;
pub use crate::fleet::stream::IncidentUpdate;

/// Most workloads kept (Deployments + StatefulSets over all regions).
pub const MAX_WORKLOADS: usize = 50_000;

/// One stream of rows per region; relists are tracked per feed. (Pods are
/// the fleet store's: `fleet::store`, with its own relist rule.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Events,
    Deployments,
    StatefulSets,
}

impl Feed {
    pub fn name(self) -> &'static str {
        match self {
            Feed::Events => "events",
            Feed::Deployments => "deployments",
            Feed::StatefulSets => "statefulsets",
        }
    }
}

/// Everything the incident panes read besides the pods, which they read
/// from the fleet store's by-owner index (`OwnerIndex`, passed in). The
/// loop calls the `apply_*` methods as source messages arrive and
/// `probe_rows` / `triage` when it draws.
#[derive(Debug, Default)]
pub struct IncidentState {
    pub probes: ProbeBook,
    pub workloads: HashMap<WorkloadKey, WorkloadInfo>,
    /// Indexed by `RegionId`; grown on demand.
    pub regions: Vec<RegionState>,
    /// Relists in progress: what has been seen since the list began, per
    /// (region, feed, namespace scope; None = all namespaces).
    relists: HashMap<(RegionId, Feed, Option<String>), HashSet<String>>,
    /// When each rollout in progress was first seen so.
    pub rollout_since: HashMap<WorkloadKey, Timestamp>,
}

pub fn workload_key(info: &WorkloadInfo) -> WorkloadKey {
    WorkloadKey {
        region: info.row.region,
        namespace: info.row.namespace.clone(),
        kind: match info.row.kind {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
        .to_string(),
        name: info.row.name.clone(),
    }
}

fn feed_of(kind: WorkloadKind) -> Feed {
    match kind {
        WorkloadKind::Deployment => Feed::Deployments,
        WorkloadKind::StatefulSet => Feed::StatefulSets,
    }
}

impl IncidentState {
    fn mark_seen(&mut self, region: RegionId, feed: Feed, namespace: &str, id: &str) {
        if self.relists.is_empty() {
            return;
        }
        for scope in [None, Some(namespace.to_string())] {
            if let Some(seen) = self.relists.get_mut(&(region, feed, scope)) {
                seen.insert(id.to_string());
            }
        }
    }

    /// A (re)list of `feed` in one region (and namespace scope) begins: what
    /// is held stays until `list_done`.
    pub fn list_start(&mut self, region: RegionId, feed: Feed, namespace: Option<&str>) {
        self.relists
            .insert((region, feed, namespace.map(String::from)), HashSet::new());
    }

    /// The list is complete: workloads in its scope that it did not
    /// contain are gone. (Events need nothing: counts already seen are
    /// remembered, so a relist adds no failures.)
    pub fn list_done(&mut self, region: RegionId, feed: Feed, namespace: Option<&str>) {
        let Some(seen) = self
            .relists
            .remove(&(region, feed, namespace.map(String::from)))
        else {
            return;
        };
        let in_scope =
            |k: &WorkloadKey| k.region == region && namespace.is_none_or(|ns| ns == k.namespace);
        match feed {
            Feed::Events => {}
            Feed::Deployments | Feed::StatefulSets => {
                let gone: Vec<WorkloadKey> = self
                    .workloads
                    .iter()
                    .filter(|(k, info)| {
                        in_scope(k)
                            && feed_of(info.row.kind) == feed
                            && !seen.contains(&info.row.uid)
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in gone {
                    self.remove_workload(&k);
                }
            }
        }
    }

    /// Applies one step of a region's incident feed. Returns true when
    /// anything shown may have changed.
    pub fn apply_update(
        &mut self,
        pods: &OwnerIndex,
        region: RegionId,
        update: IncidentUpdate,
        now: Timestamp,
    ) -> bool {
        match update {
            IncidentUpdate::Events(u) => match u {
                Update::ListStart { namespace } => {
                    self.list_start(region, Feed::Events, namespace.as_deref());
                    false
                }
                Update::ListDone { namespace } => {
                    self.list_done(region, Feed::Events, namespace.as_deref());
                    false
                }
                Update::ListPage(rows) => rows.iter().fold(false, |c, ev| {
                    self.mark_seen(region, Feed::Events, &ev.namespace, &ev.uid);
                    self.apply_event(pods, ev, now) | c
                }),
                Update::Changes(changes) => changes.into_iter().fold(false, |c, ch| match ch {
                    Change::Upsert(ev) => self.apply_event(pods, &ev, now) | c,
                    Change::Delete(uid) => {
                        self.remove_event(region, &uid);
                        c
                    }
                }),
            },
            IncidentUpdate::Workloads(kind, u) => {
                let feed = feed_of(kind);
                match u {
                    Update::ListStart { namespace } => {
                        self.list_start(region, feed, namespace.as_deref())
                    }
                    Update::ListDone { namespace } => {
                        self.list_done(region, feed, namespace.as_deref())
                    }
                    Update::ListPage(rows) => {
                        for info in rows {
                            self.apply_workload(info, now);
                        }
                    }
                    Update::Changes(changes) => {
                        for ch in changes {
                            match ch {
                                Change::Upsert(info) => self.apply_workload(info, now),
                                Change::Delete(uid) => self.remove_workload_uid(region, kind, &uid),
                            }
                        }
                    }
                }
                true
            }
        }
    }

    /// A pod left the fleet store (`Store::take_gone`).
    pub fn pod_gone(&mut self, owner: &WorkloadKey, uid: &str) {
        self.probes.remove_pod(owner, uid);
    }

    /// Returns true when a probe row changed.
    pub fn apply_event(&mut self, pods: &OwnerIndex, ev: &EventRow, now: Timestamp) -> bool {
        self.probes.apply_event(ev, pods, now)
    }

    pub fn remove_event(&mut self, region: RegionId, uid: &str) {
        self.probes.remove_event(region, uid);
    }

    pub fn apply_workload(&mut self, info: WorkloadInfo, now: Timestamp) {
        let r = &info.row;
        self.mark_seen(r.region, feed_of(r.kind), &r.namespace, &r.uid);
        let key = workload_key(&info);
        if triage::mid_flight(r) {
            self.rollout_since.entry(key.clone()).or_insert(now);
        } else {
            self.rollout_since.remove(&key);
        }
        if self.workloads.len() >= MAX_WORKLOADS && !self.workloads.contains_key(&key) {
            return;
        }
        self.workloads.insert(key, info);
    }

    pub fn remove_workload(&mut self, key: &WorkloadKey) {
        self.workloads.remove(key);
        self.rollout_since.remove(key);
    }

    /// A watch said this workload was deleted (by uid, as watches do).
    pub fn remove_workload_uid(&mut self, region: RegionId, kind: WorkloadKind, uid: &str) {
        let gone: Vec<WorkloadKey> = self
            .workloads
            .iter()
            .filter(|(k, i)| k.region == region && i.row.kind == kind && i.row.uid == uid)
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove_workload(&k);
        }
    }

    pub fn set_region(&mut self, region: RegionId, state: RegionState) {
        if self.regions.len() <= region {
            self.regions.resize(region + 1, RegionState::Syncing);
        }
        self.regions[region] = state;
    }

    pub fn probe_rows(&self, pods: &OwnerIndex, now: Timestamp) -> Vec<ProbeRow> {
        self.probes.rows(pods, &self.workloads, now)
    }

    pub fn probe_detail(
        &self,
        pods: &OwnerIndex,
        key: &ProbeKey,
        now: Timestamp,
    ) -> Option<ProbeDetail> {
        self.probes.detail(key, pods, now)
    }

    /// The ranked triage list (computes the probe rows it needs).
    pub fn triage(&self, pods: &OwnerIndex, now: Timestamp) -> Vec<TriageItem> {
        let rows = self.probe_rows(pods, now);
        self.triage_with(pods, &rows, now)
    }

    /// Same, reusing probe rows already computed for this frame.
    pub fn triage_with(
        &self,
        pods: &OwnerIndex,
        probe_rows: &[ProbeRow],
        now: Timestamp,
    ) -> Vec<TriageItem> {
        triage::triage(
            &TriageInput {
                pods,
                workloads: &self.workloads,
                probe_rows,
                regions: &self.regions,
                rollout_since: &self.rollout_since,
            },
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::owners::tests::pod;
    use crate::fleet::store::Store;
    use crate::model::WorkloadRow;

    fn deploy(region: RegionId, ns: &str, name: &str) -> WorkloadInfo {
        WorkloadInfo {
            row: WorkloadRow {
                region,
                kind: WorkloadKind::Deployment,
                uid: format!("{ns}-{name}"),
                namespace: ns.into(),
                name: name.into(),
                ..WorkloadRow::default()
            },
            probes: vec![],
        }
    }

    #[test]
    fn relist_drops_what_disappeared_and_keeps_the_rest() {
        // pods relist in the fleet store (its by-owner index follows), the
        // workloads here: the same rule
        let mut store = Store::new(2);
        let mut s = IncidentState::default();
        for i in 0..3 {
            store.upsert(pod(0, &format!("a{i}"), &format!("api-1-{i}"), "api", true));
        }
        store.upsert(pod(1, "other", "api-1-9", "api", true));
        s.apply_workload(deploy(0, "shop", "api"), 0);
        s.apply_workload(deploy(0, "shop", "gone"), 0);

        store.list_start(0, None);
        s.list_start(0, Feed::Deployments, None);
        store.set_now(1);
        store.upsert(pod(0, "a0", "api-1-0", "api", true));
        store.upsert(pod(0, "a2", "api-1-2", "api", true));
        s.apply_workload(deploy(0, "shop", "api"), 0);
        // rows stay until the list completes
        assert_eq!(store.owners().len(), 4);
        store.list_done(0, None);
        s.list_done(0, Feed::Deployments, None);
        let pods = store.owners();
        assert_eq!(pods.len(), 3, "a1 is gone, region 1 untouched");
        assert!(pods.get(0, "a1").is_none() && pods.get(1, "other").is_some());
        let names: Vec<_> = s.workloads.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(names, vec!["api"]);
    }

    #[test]
    fn namespace_scoped_relist_leaves_other_namespaces_alone() {
        let mut store = Store::new(1);
        let mut p = pod(0, "x", "db-0", "db", true);
        p.namespace = "data".into();
        store.upsert(p);
        store.upsert(pod(0, "y", "api-1-0", "api", true));
        store.list_start(0, Some("shop"));
        store.list_done(0, Some("shop"));
        assert!(store.owners().get(0, "x").is_some());
        assert!(store.owners().get(0, "y").is_none());
    }
}

/// For the ranking tests: the aggregate with a by-owner pod index beside
/// it, as the cockpit keeps the fleet store beside it.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::model::PodRow;

    #[derive(Debug, Default)]
    pub struct Incident {
        pub inc: IncidentState,
        pub pods: OwnerIndex,
    }

    impl std::ops::Deref for Incident {
        type Target = IncidentState;
        fn deref(&self) -> &IncidentState {
            &self.inc
        }
    }

    impl std::ops::DerefMut for Incident {
        fn deref_mut(&mut self) -> &mut IncidentState {
            &mut self.inc
        }
    }

    impl Incident {
        pub fn apply_pod(&mut self, pod: &PodRow, now: Timestamp) {
            self.pods.upsert(pod, now);
        }

        pub fn remove_pod(&mut self, region: RegionId, uid: &str) {
            if let Some(key) = self.pods.remove(region, uid) {
                self.inc.pod_gone(&key, uid);
            }
        }

        pub fn apply_event(&mut self, ev: &EventRow, now: Timestamp) -> bool {
            self.inc.apply_event(&self.pods, ev, now)
        }

        pub fn probe_rows(&self, now: Timestamp) -> Vec<ProbeRow> {
            self.inc.probe_rows(&self.pods, now)
        }

        pub fn triage(&self, now: Timestamp) -> Vec<TriageItem> {
            self.inc.triage(&self.pods, now)
        }
    }
}
