//! Deployments and StatefulSets of every region, keyed by workload, with
//! the store's relist rule (every write stamps the row; a finished list
//! drops the rows in its scope not stamped since it began) and when each
//! rollout in progress was first seen so.

use crate::fleet::owners::WorkloadKey;
use crate::fleet::stream::{Change, Update};
use crate::fleet::workloads::WorkloadInfo;
use crate::model::{RegionId, Timestamp, WorkloadKind, WorkloadRow};
use std::collections::HashMap;

/// Most workloads kept (Deployments + StatefulSets over all regions).
pub const MAX_WORKLOADS: usize = 50_000;

/// The workload a Deployment or StatefulSet row is.
pub fn workload_key(info: &WorkloadInfo) -> WorkloadKey {
    WorkloadKey {
        region: info.row.region,
        namespace: info.row.namespace.clone(),
        kind: info.row.kind.into(),
        name: info.row.name.clone(),
    }
}

/// A rollout is under way: a new spec not yet observed, or not every
/// replica on the new template.
pub fn mid_flight(r: &WorkloadRow) -> bool {
    r.observed_generation < r.generation || r.updated < r.desired
}

#[derive(Debug, Default)]
pub struct Workloads {
    rows: HashMap<WorkloadKey, WorkloadInfo>,
    /// When each row was last written (the list clock).
    seen: HashMap<WorkloadKey, u64>,
    clock: u64,
    /// When the current list of (region, kind, namespace scope) began.
    lists: HashMap<(RegionId, WorkloadKind, Option<String>), u64>,
    /// When each rollout in progress was first seen so.
    rollout_since: HashMap<WorkloadKey, Timestamp>,
    /// Bumped on every change to the rows, so a view knows when to rebuild.
    version: u64,
}

impl Workloads {
    pub fn rows(&self) -> &HashMap<WorkloadKey, WorkloadInfo> {
        &self.rows
    }

    pub fn rollout_since(&self) -> &HashMap<WorkloadKey, Timestamp> {
        &self.rollout_since
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Changes whenever a row is written or removed.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// One step of a region's stream of one workload kind.
    pub fn apply(
        &mut self,
        region: RegionId,
        kind: WorkloadKind,
        update: Update<WorkloadInfo>,
        now: Timestamp,
    ) {
        match update {
            Update::ListStart { namespace } => self.list_start(region, kind, namespace.as_deref()),
            Update::ListDone { namespace } => self.list_done(region, kind, namespace.as_deref()),
            Update::ListPage(rows) => rows.into_iter().for_each(|i| self.upsert(i, now)),
            Update::Changes(changes) => {
                for change in changes {
                    match change {
                        Change::Upsert(info) => self.upsert(info, now),
                        Change::Delete(uid) => self.remove_uid(region, kind, &uid),
                    }
                }
            }
        }
    }

    pub fn upsert(&mut self, info: WorkloadInfo, now: Timestamp) {
        let key = workload_key(&info);
        if mid_flight(&info.row) {
            self.rollout_since.entry(key.clone()).or_insert(now);
        } else {
            self.rollout_since.remove(&key);
        }
        if self.rows.len() >= MAX_WORKLOADS && !self.rows.contains_key(&key) {
            return;
        }
        self.seen.insert(key.clone(), self.clock);
        self.rows.insert(key, info);
        self.version += 1;
    }

    pub fn remove(&mut self, key: &WorkloadKey) {
        if self.rows.remove(key).is_some() {
            self.version += 1;
        }
        self.seen.remove(key);
        self.rollout_since.remove(key);
    }

    /// A watch said this workload was deleted (by uid, as watches do).
    pub fn remove_uid(&mut self, region: RegionId, kind: WorkloadKind, uid: &str) {
        let gone: Vec<WorkloadKey> = self
            .rows
            .iter()
            .filter(|(k, i)| k.region == region && i.row.kind == kind && i.row.uid == uid)
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// A (re)list begins: rows stay until `list_done`.
    pub fn list_start(&mut self, region: RegionId, kind: WorkloadKind, namespace: Option<&str>) {
        self.clock += 1;
        self.lists
            .insert((region, kind, namespace.map(String::from)), self.clock);
    }

    /// Drops the rows in the list's scope not written since it began.
    pub fn list_done(&mut self, region: RegionId, kind: WorkloadKind, namespace: Option<&str>) {
        let Some(started) = self
            .lists
            .remove(&(region, kind, namespace.map(String::from)))
        else {
            return;
        };
        let gone: Vec<WorkloadKey> = self
            .rows
            .iter()
            .filter(|(k, info)| {
                k.region == region
                    && info.row.kind == kind
                    && namespace.is_none_or(|ns| ns == k.namespace)
                    && self.seen.get(*k).is_none_or(|s| *s < started)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut w = Workloads::default();
        w.upsert(deploy(0, "shop", "api"), 0);
        w.upsert(deploy(0, "shop", "gone"), 0);
        w.upsert(deploy(1, "shop", "gone"), 0);
        w.list_start(0, WorkloadKind::Deployment, None);
        w.upsert(deploy(0, "shop", "api"), 0);
        assert_eq!(w.len(), 3, "rows stay until the list completes");
        w.list_done(0, WorkloadKind::Deployment, None);
        let mut names: Vec<_> = w
            .rows()
            .keys()
            .map(|k| (k.region, k.name.as_str()))
            .collect();
        names.sort();
        assert_eq!(names, vec![(0, "api"), (1, "gone")]);
        // a namespace-scoped list leaves other namespaces alone
        w.upsert(deploy(0, "data", "db"), 0);
        w.list_start(0, WorkloadKind::Deployment, Some("shop"));
        w.list_done(0, WorkloadKind::Deployment, Some("shop"));
        let names: Vec<_> = w.rows().keys().map(|k| k.name.as_str()).collect();
        assert!(
            names.contains(&"db") && !names.contains(&"api"),
            "{names:?}"
        );
    }

    #[test]
    fn rollouts_keep_when_they_were_first_seen_under_way() {
        let mut w = Workloads::default();
        let mut d = deploy(0, "shop", "cart");
        d.row.desired = 4;
        d.row.updated = 1;
        w.upsert(d.clone(), 100);
        d.row.updated = 3;
        w.upsert(d.clone(), 200);
        let key = workload_key(&d);
        assert_eq!(w.rollout_since().get(&key), Some(&100));
        w.remove_uid(0, WorkloadKind::Deployment, &d.row.uid);
        assert!(w.is_empty() && w.rollout_since().is_empty());
    }
}
