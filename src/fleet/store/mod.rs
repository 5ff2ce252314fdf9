//! The fleet store: every region's pods held once, with the indices the
//! panes read, the one relist rule, and the pods table's ordered view.
//! Workloads (Deployments, StatefulSets) are kept beside the pods with the
//! same relist rule (`workloads`).
//!
//! Rows live in slots (stable ids while the pod lives) indexed per region by
//! uid. Indices kept on every upsert and delete: by owner workload (each
//! pod's facts plus per-workload sums and grace-period ends: `owners`, what
//! triage and probes read), by node and by pod IP. The view is a list of
//! slot ids rebuilt only when rows, sort, scope or filter change, and at
//! most once per frame (`refresh_view`), never per draw: the view is the
//! pods pane's (`panes/pods/state.rs`); the store tells it which slots
//! changed, with the old row, so it stays incremental under a storm.

pub mod workloads;

use super::owners::{OwnerIndex, WorkloadKey};
use crate::model::{PodRow, RegionId, Timestamp};
use crate::panes::pods::state::{PodView, ViewSpec};
use std::collections::{HashMap, HashSet};
use workloads::Workloads;

#[derive(Debug, Default)]
pub struct Store {
    slots: Vec<Option<PodRow>>,
    /// When each slot was last written (a counter bumped by every list start).
    seen: Vec<u64>,
    clock: u64,
    free: Vec<u32>,
    /// Per region: uid -> slot.
    index: Vec<HashMap<String, u32>>,
    /// Per region and list scope (a namespace, or all): when its current
    /// list started.
    generation: Vec<HashMap<Option<String>, u64>>,
    /// Per region: rows received since the current list started.
    listed: Vec<usize>,
    /// By owner workload: pod facts, per-workload sums, grace-period ends.
    owners: OwnerIndex,
    /// Per (region, node name): its pods' slots.
    by_node: HashMap<(RegionId, String), HashSet<u32>>,
    /// Per (region, pod IP): the slots holding it (host-network pods share
    /// their node's IP).
    by_ip: HashMap<(RegionId, String), HashSet<u32>>,
    /// The clock the owner index stamps "first seen unready" with.
    now: Timestamp,
    /// Pods removed since the last `take_gone`, with their owner.
    gone: Vec<(WorkloadKey, String)>,
    /// Deployments and StatefulSets, keyed by workload.
    workloads: Workloads,
    /// The pods table's ordered view (`panes/pods/state.rs`), told of
    /// every slot that changed.
    view: PodView,
}

impl Store {
    pub fn new(regions: usize) -> Store {
        Store {
            index: vec![HashMap::new(); regions],
            generation: vec![HashMap::new(); regions],
            listed: vec![0; regions],
            ..Store::default()
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn region_len(&self, region: RegionId) -> usize {
        self.index.get(region).map_or(0, HashMap::len)
    }

    /// Rows received since the region's current list began.
    pub fn listed_so_far(&self, region: RegionId) -> usize {
        self.listed.get(region).copied().unwrap_or(0)
    }

    pub fn get(&self, slot: u32) -> Option<&PodRow> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn find(&self, region: RegionId, uid: &str) -> Option<&PodRow> {
        let slot = *self.index.get(region)?.get(uid)?;
        self.get(slot)
    }

    /// Every row, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &PodRow> {
        self.slots.iter().flatten()
    }

    /// The time the owner index stamps new facts with (the reducer's clock).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// The by-owner index: each pod's facts grouped by workload.
    pub fn owners(&self) -> &OwnerIndex {
        &self.owners
    }

    pub fn workloads(&self) -> &Workloads {
        &self.workloads
    }

    pub fn workloads_mut(&mut self) -> &mut Workloads {
        &mut self.workloads
    }

    /// Pods removed since the last call, with the workload that owned them.
    pub fn take_gone(&mut self) -> Vec<(WorkloadKey, String)> {
        std::mem::take(&mut self.gone)
    }

    /// Slots of the pods on a node.
    pub fn on_node(&self, region: RegionId, node: &str) -> impl Iterator<Item = u32> + '_ {
        self.by_node
            .get(&(region, node.to_string()))
            .into_iter()
            .flatten()
            .copied()
    }

    /// Slots of the pods with this IP.
    pub fn with_ip(&self, region: RegionId, ip: &str) -> impl Iterator<Item = u32> + '_ {
        self.by_ip
            .get(&(region, ip.to_string()))
            .into_iter()
            .flatten()
            .copied()
    }

    fn index_row(&mut self, slot: u32, row: &PodRow) {
        for (map, key) in [(&mut self.by_node, &row.node), (&mut self.by_ip, &row.ip)] {
            if !key.is_empty() {
                map.entry((row.region, key.clone()))
                    .or_default()
                    .insert(slot);
            }
        }
    }

    fn unindex_row(&mut self, slot: u32, row: &PodRow) {
        for (map, key) in [(&mut self.by_node, &row.node), (&mut self.by_ip, &row.ip)] {
            let k = (row.region, key.clone());
            if let Some(set) = map.get_mut(&k) {
                set.remove(&slot);
                if set.is_empty() {
                    map.remove(&k);
                }
            }
        }
    }

    pub fn upsert(&mut self, row: PodRow) {
        let region = row.region;
        if region >= self.index.len() {
            return;
        }
        self.owners.upsert(&row, self.now);
        let generation = self.clock;
        if let Some(&slot) = self.index[region].get(&row.uid) {
            let old = self.slots[slot as usize].take();
            // a storm of updates mostly leaves the view as it is: keep it
            // (the table reads the new row through its slot)
            let moves = old.as_ref().is_none_or(|old| self.view.changes(old, &row));
            match &old {
                Some(old) if old.node == row.node && old.ip == row.ip => {}
                Some(old) => {
                    self.unindex_row(slot, old);
                    self.index_row(slot, &row);
                }
                None => self.index_row(slot, &row),
            }
            self.slots[slot as usize] = Some(row);
            self.seen[slot as usize] = generation;
            if moves {
                self.moved(slot);
            }
            return;
        }
        let uid = row.uid.clone();
        let slot = self.free.last().copied().unwrap_or(self.slots.len() as u32);
        self.index_row(slot, &row);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(row);
                self.seen[slot as usize] = generation;
                slot
            }
            None => {
                self.slots.push(Some(row));
                self.seen.push(generation);
                (self.slots.len() - 1) as u32
            }
        };
        self.index[region].insert(uid, slot);
        self.moved(slot);
    }

    pub fn delete(&mut self, region: RegionId, uid: &str) {
        let Some(slot) = self.index.get_mut(region).and_then(|m| m.remove(uid)) else {
            return;
        };
        if let Some(old) = self.slots[slot as usize].take() {
            self.unindex_row(slot, &old);
        }
        if let Some(key) = self.owners.remove(region, uid) {
            self.gone.push((key, uid.to_string()));
        }
        self.free.push(slot);
        self.moved(slot);
    }

    /// A (re)list of `namespace` (or all) begins: rows stay until
    /// `list_done` decides what is gone.
    pub fn list_start(&mut self, region: RegionId, namespace: Option<&str>) {
        self.clock += 1;
        if let Some(g) = self.generation.get_mut(region) {
            g.insert(namespace.map(String::from), self.clock);
            self.listed[region] = 0;
        }
    }

    pub fn list_page(&mut self, region: RegionId, rows: Vec<PodRow>) {
        if let Some(n) = self.listed.get_mut(region) {
            *n += rows.len();
        }
        for row in rows {
            self.upsert(row);
        }
    }

    /// Drops the rows in the list's scope that were not written since it
    /// started: gone while we were not watching.
    pub fn list_done(&mut self, region: RegionId, namespace: Option<&str>) {
        let key = namespace.map(String::from);
        let Some(&started) = self.generation.get(region).and_then(|g| g.get(&key)) else {
            return;
        };
        let slots = &self.slots;
        let gone: Vec<String> = self.index[region]
            .iter()
            .filter(|(_, &slot)| {
                self.seen[slot as usize] < started
                    && namespace.is_none_or(|ns| {
                        slots[slot as usize]
                            .as_ref()
                            .is_some_and(|r| r.namespace == ns)
                    })
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in gone {
            self.delete(region, &uid);
        }
    }

    /// Namespaces present (for scope cycling), sorted; borrows while
    /// scanning, so only the distinct names are copied.
    pub fn namespaces(&self, region: Option<RegionId>) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .rows()
            .filter(|r| region.is_none_or(|g| g == r.region))
            .map(|r| r.namespace.as_str())
            .collect();
        set.into_iter().map(String::from).collect()
    }

    pub fn view_spec(&self) -> &ViewSpec {
        self.view.view_spec()
    }

    pub fn set_view_spec(&mut self, spec: ViewSpec) {
        self.view.set_view_spec(spec);
    }

    pub fn view_is_dirty(&self) -> bool {
        self.view.view_is_dirty()
    }

    /// Slot ids in display order. Call `refresh_view` first.
    pub fn view(&self) -> &[u32] {
        self.view.view()
    }

    /// Brings the pods table's view up to date.
    pub fn refresh_view(&mut self, now: Timestamp, region_names: &[String]) {
        self.view.refresh_view(&self.slots, now, region_names);
    }

    /// `slot` changed in a way that can move it in (or out of) the view.
    fn moved(&mut self, slot: u32) {
        self.view.moved(slot, self.slots.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panes::pods::state::{compare, tie_break, Column};
    use std::collections::{BTreeMap, BTreeSet};

    fn pod(region: RegionId, ns: &str, name: &str) -> PodRow {
        PodRow {
            region,
            uid: format!("{region}-{ns}-{name}"),
            namespace: ns.into(),
            name: name.into(),
            phase: "Running".into(),
            status: "Running".into(),
            ready: 1,
            total: 1,
            ..PodRow::default()
        }
    }

    fn names(store: &Store) -> Vec<String> {
        store
            .view()
            .iter()
            .map(|s| store.get(*s).map(|r| r.name.clone()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn relist_keeps_listed_rows_and_drops_the_rest_without_duplicates() {
        let mut s = Store::new(2);
        s.list_start(0, None);
        s.list_page(0, vec![pod(0, "a", "one"), pod(0, "a", "two")]);
        s.list_done(0, None);
        s.upsert(pod(1, "a", "other"));
        assert_eq!(s.len(), 3);
        s.list_start(0, None);
        // during the relist the old rows stay
        assert_eq!(s.region_len(0), 2);
        s.list_page(0, vec![pod(0, "a", "two"), pod(0, "a", "three")]);
        s.list_done(0, None);
        let mut got: Vec<_> = s
            .rows()
            .filter(|r| r.region == 0)
            .map(|r| r.name.clone())
            .collect();
        got.sort();
        assert_eq!(got, vec!["three", "two"]);
        assert_eq!(s.region_len(1), 1, "other regions untouched");
    }

    #[test]
    fn view_filters_scopes_and_sorts() {
        let mut s = Store::new(2);
        s.upsert(pod(0, "shop", "checkout-1"));
        s.upsert(pod(0, "shop", "cart-1"));
        s.upsert(pod(1, "infra", "checkout-2"));
        let mut bad = pod(1, "shop", "payments-1");
        bad.status = "CrashLoopBackOff".into();
        bad.ready = 0;
        s.upsert(bad);
        let regions = vec!["eu".to_string(), "us".to_string()];
        s.refresh_view(0, &regions);
        assert_eq!(
            names(&s),
            vec!["checkout-2", "cart-1", "checkout-1", "payments-1"]
        );

        s.set_view_spec(ViewSpec {
            filter: "chk".into(),
            ..ViewSpec::default()
        });
        s.refresh_view(0, &regions);
        assert_eq!(names(&s), vec!["checkout-2", "checkout-1"]);

        s.set_view_spec(ViewSpec {
            region: Some(1),
            ..ViewSpec::default()
        });
        s.refresh_view(0, &regions);
        assert_eq!(names(&s), vec!["checkout-2", "payments-1"]);

        s.set_view_spec(ViewSpec {
            problems_only: true,
            ..ViewSpec::default()
        });
        s.refresh_view(0, &regions);
        assert_eq!(names(&s), vec!["payments-1"]);

        s.set_view_spec(ViewSpec {
            sort: Column::Name,
            reverse: true,
            ..ViewSpec::default()
        });
        s.refresh_view(0, &regions);
        assert_eq!(
            names(&s),
            vec!["payments-1", "checkout-2", "checkout-1", "cart-1"]
        );
    }

    #[test]
    fn updates_that_move_nothing_keep_the_view_and_show_the_new_row() {
        let mut s = Store::new(1);
        s.upsert(pod(0, "a", "x"));
        s.upsert(pod(0, "b", "y"));
        s.refresh_view(0, &["r".into()]);
        let mut y = pod(0, "b", "y");
        y.status = "CrashLoopBackOff".into();
        y.restarts = 3;
        s.upsert(y);
        assert!(!s.view_is_dirty(), "sorted by namespace: nothing moved");
        assert_eq!(names(&s), vec!["x", "y"]);
        let shown = s.get(s.view()[1]).map(|r| r.status.clone());
        assert_eq!(shown.as_deref(), Some("CrashLoopBackOff"));

        // sorted by status, the same change reorders the rows
        s.set_view_spec(ViewSpec {
            sort: Column::Status,
            ..ViewSpec::default()
        });
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["y", "x"]);
        let mut x = pod(0, "a", "x");
        x.status = "Completed".into();
        s.upsert(x);
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["x", "y"]);

        // showing problems only, a pod turning healthy leaves the view
        s.set_view_spec(ViewSpec {
            problems_only: true,
            ..ViewSpec::default()
        });
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["x", "y"]);
        s.upsert(pod(0, "b", "y"));
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["x"]);

        // filtering, a pod moving to a matching node joins the view
        s.set_view_spec(ViewSpec {
            filter: "gpu".into(),
            ..ViewSpec::default()
        });
        s.refresh_view(0, &["r".into()]);
        assert!(names(&s).is_empty());
        let mut y = pod(0, "b", "y");
        y.node = "gpu-node-1".into();
        s.upsert(y);
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["y"]);
    }

    /// The view kept across changes equals a view sorted from scratch.
    #[test]
    fn incremental_view_matches_a_fresh_sort_through_random_changes() {
        let names_of = vec!["eu".to_string(), "us".to_string()];
        let mut rng = fastrand::Rng::with_seed(11);
        let mut s = Store::new(2);
        let statuses = ["Running", "Pending", "CrashLoopBackOff", "Completed"];
        for step in 0..2000 {
            let region = rng.usize(..2);
            let n = rng.usize(..60);
            let mut p = pod(region, &format!("ns{}", n % 5), &format!("p{n}"));
            p.status = statuses[rng.usize(..statuses.len())].into();
            p.restarts = rng.u32(..4);
            p.created = rng.i64(..1000);
            match rng.u8(..10) {
                0..=5 => s.upsert(p),
                6..=7 => s.delete(region, &p.uid),
                _ => {
                    let sort = Column::ALL[rng.usize(..Column::ALL.len())];
                    s.set_view_spec(ViewSpec {
                        sort,
                        reverse: rng.bool(),
                        problems_only: rng.u8(..4) == 0,
                        ..ViewSpec::default()
                    });
                }
            }
            // refresh after one change or after several
            if rng.u8(..3) > 0 {
                continue;
            }
            s.refresh_view(0, &names_of);
            let spec = s.view_spec().clone();
            let mut fresh: Vec<&PodRow> = s
                .rows()
                .filter(|r| !(spec.problems_only && r.is_healthy()))
                .collect();
            fresh.sort_by(|a, b| {
                let o = compare(spec.sort, a, b, 0, &names_of).then_with(|| tie_break(a, b));
                if spec.reverse {
                    o.reverse()
                } else {
                    o
                }
            });
            let got: Vec<&PodRow> = s.view().iter().filter_map(|v| s.get(*v)).collect();
            assert_eq!(got, fresh, "step {step}");
        }
    }

    #[test]
    fn deleted_slots_are_reused_and_view_skips_them() {
        let mut s = Store::new(1);
        s.upsert(pod(0, "a", "x"));
        s.upsert(pod(0, "a", "y"));
        s.delete(0, "0-a-x");
        s.upsert(pod(0, "a", "z"));
        assert_eq!(s.len(), 2);
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["y", "z"]);
    }

    fn uids(s: &Store) -> Vec<String> {
        s.view()
            .iter()
            .filter_map(|x| s.get(*x))
            .map(|r| r.uid.clone())
            .collect()
    }

    #[test]
    fn incremental_view_matches_a_fresh_build() {
        let mut rng = fastrand::Rng::with_seed(7);
        let names = vec!["a".to_string(), "b".to_string()];
        for sort in Column::ALL {
            let mut s = Store::new(2);
            let spec = ViewSpec {
                sort,
                ..ViewSpec::default()
            };
            s.set_view_spec(spec.clone());
            let mut all = Vec::new();
            for i in 0..500 {
                let mut p = pod(
                    rng.usize(0..2),
                    &format!("ns{}", rng.u8(0..5)),
                    &format!("p{i}"),
                );
                p.restarts = rng.u32(0..4);
                p.created = rng.i64(0..1000);
                all.push(p.clone());
                s.upsert(p);
            }
            s.refresh_view(0, &names);
            for _ in 0..60 {
                let i = rng.usize(0..all.len());
                if rng.bool() {
                    all[i].restarts = rng.u32(0..9);
                    all[i].namespace = format!("ns{}", rng.u8(0..5));
                    s.upsert(all[i].clone());
                } else {
                    let p = all.swap_remove(i);
                    s.delete(p.region, &p.uid);
                }
            }
            s.refresh_view(0, &names);
            let mut fresh = Store::new(2);
            fresh.set_view_spec(spec);
            for p in &all {
                fresh.upsert(p.clone());
            }
            fresh.refresh_view(0, &names);
            assert_eq!(uids(&s), uids(&fresh), "sort by {sort:?}");
        }
    }

    /// The indices as a fresh build over the rows held would make them.
    fn indices(
        s: &Store,
    ) -> (
        BTreeMap<String, BTreeSet<String>>,
        BTreeMap<String, u32>,
        IdxMap,
    ) {
        let (mut owners, mut live) = (BTreeMap::new(), BTreeMap::new());
        for (key, pods) in s.owners().workloads() {
            let k = format!("{}/{key}", key.region);
            owners.insert(k.clone(), pods.keys().cloned().collect::<BTreeSet<_>>());
            live.insert(k, s.owners().live_count(key));
        }
        let mut by = IdxMap::new();
        for (name, map) in [("node", &s.by_node), ("ip", &s.by_ip)] {
            for ((region, key), slots) in map {
                let uids = slots
                    .iter()
                    .filter_map(|x| s.get(*x))
                    .map(|r| r.uid.clone());
                by.insert(format!("{name}:{region}:{key}"), uids.collect());
            }
        }
        (owners, live, by)
    }

    type IdxMap = BTreeMap<String, BTreeSet<String>>;

    fn randomised(rng: &mut fastrand::Rng) -> PodRow {
        let mut p = crate::fleet::owners::tests::random_pod(rng);
        p.node = ["", "node-a", "node-b", "node-c"][rng.usize(0..4)].into();
        p.ip = ["", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"][rng.usize(0..5)].into();
        p.namespace = ["shop", "data"][rng.usize(0..2)].into();
        p
    }

    #[test]
    fn indices_match_a_fresh_build_through_upserts_deletes_and_relists() {
        let mut rng = fastrand::Rng::with_seed(11);
        let mut s = Store::new(2);
        let mut gone = 0;
        for step in 0..3_000 {
            s.set_now(step / 10);
            match rng.u8(0..10) {
                0..=5 => s.upsert(randomised(&mut rng)),
                6 | 7 => {
                    let region = rng.usize(0..2);
                    let uid = format!("u{}", rng.usize(0..24));
                    let held = s.find(region, &uid).is_some();
                    s.delete(region, &uid);
                    gone += usize::from(held);
                }
                _ => {
                    // a relist of one region (maybe one namespace) that
                    // sees a random part of the rows again
                    let region = rng.usize(0..2);
                    let ns = rng.bool().then_some(["shop", "data"][rng.usize(0..2)]);
                    let before = s.len();
                    s.list_start(region, ns);
                    for _ in 0..rng.usize(0..12) {
                        let mut p = randomised(&mut rng);
                        p.region = region;
                        if let Some(ns) = ns {
                            p.namespace = ns.into();
                        }
                        s.upsert(p);
                    }
                    let grown = s.len() - before;
                    s.list_done(region, ns);
                    gone += before + grown - s.len();
                }
            }
            if step % 50 == 0 {
                let mut fresh = Store::new(2);
                for row in s.rows() {
                    fresh.upsert(row.clone());
                }
                assert_eq!(indices(&s), indices(&fresh), "step {step}");
                assert_eq!(s.owners().len(), s.len());
                for row in s.rows() {
                    assert!(s.owners().get(row.region, &row.uid).is_some());
                    assert!(
                        s.on_node(row.region, &row.node)
                            .any(|x| s.get(x) == Some(row))
                            || row.node.is_empty()
                    );
                    assert!(
                        s.with_ip(row.region, &row.ip)
                            .any(|x| s.get(x) == Some(row))
                            || row.ip.is_empty()
                    );
                }
                assert_eq!(s.take_gone().len(), gone, "every removal reported once");
                gone = 0;
            }
        }
    }

    #[test]
    fn relists_keep_the_owner_index_in_step() {
        use crate::fleet::owners::tests::pod;
        let mut store = Store::new(2);
        for i in 0..3 {
            store.upsert(pod(0, &format!("a{i}"), &format!("api-1-{i}"), "api", true));
        }
        store.upsert(pod(1, "other", "api-1-9", "api", true));
        store.list_start(0, None);
        store.set_now(1);
        store.upsert(pod(0, "a0", "api-1-0", "api", true));
        store.upsert(pod(0, "a2", "api-1-2", "api", true));
        // rows stay until the list completes
        assert_eq!(store.owners().len(), 4);
        store.list_done(0, None);
        let pods = store.owners();
        assert_eq!(pods.len(), 3, "a1 is gone, region 1 untouched");
        assert!(pods.get(0, "a1").is_none() && pods.get(1, "other").is_some());
        assert_eq!(store.take_gone().len(), 1);
        // a namespace-scoped list leaves other namespaces alone
        let mut p = pod(0, "x", "db-0", "db", true);
        p.namespace = "data".into();
        store.upsert(p);
        store.list_start(0, Some("shop"));
        store.list_done(0, Some("shop"));
        assert!(store.owners().get(0, "x").is_some());
        assert!(store.owners().get(0, "a0").is_none());
    }
}
