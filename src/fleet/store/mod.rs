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
use std::collections::HashMap;
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
    by_node: SlotIndex,
    /// Per (region, pod IP): the slots holding it (host-network pods share
    /// their node's IP).
    by_ip: SlotIndex,
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

/// Slots by (region, key); a few per key (the pods of a node, usually one
/// per IP), so a small vector.
type SlotIndex = HashMap<(RegionId, String), Vec<u32>>;

fn slots_of<'a>(
    index: &'a SlotIndex,
    region: RegionId,
    key: &str,
) -> impl Iterator<Item = u32> + 'a {
    index
        .get(&(region, key.to_string()))
        .into_iter()
        .flatten()
        .copied()
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
        slots_of(&self.by_node, region, node)
    }

    /// Slots of the pods with this IP.
    pub fn with_ip(&self, region: RegionId, ip: &str) -> impl Iterator<Item = u32> + '_ {
        slots_of(&self.by_ip, region, ip)
    }

    fn index_row(&mut self, slot: u32, row: &PodRow) {
        for (map, key) in [(&mut self.by_node, &row.node), (&mut self.by_ip, &row.ip)] {
            if !key.is_empty() {
                let slots = map.entry((row.region, key.clone())).or_default();
                if !slots.contains(&slot) {
                    slots.push(slot);
                }
            }
        }
    }

    fn unindex_row(&mut self, slot: u32, row: &PodRow) {
        for (map, key) in [(&mut self.by_node, &row.node), (&mut self.by_ip, &row.ip)] {
            let k = (row.region, key.clone());
            if let Some(slots) = map.get_mut(&k) {
                slots.retain(|s| *s != slot);
                if slots.is_empty() {
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
mod tests;
