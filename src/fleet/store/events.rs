//! core/v1 Events of every region, held once as `EventRow`s in slots keyed
//! by (region, uid), with an index by involved object (region, kind,
//! namespace, name) and the store's relist rule. Bounded: at most
//! `MAX_EVENTS_PER_REGION` per region; past it the oldest `lastTimestamp`
//! goes first and is counted in `evicted`.
//!
//! Every write reports what happened through one callback (`EventOutcome`):
//! the probe book aggregates from these outcomes, never from the feed.

use crate::fleet::stream::{Change, Update};
use crate::model::{EventRow, RegionId, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// Most events kept per region.
pub const MAX_EVENTS_PER_REGION: usize = 20_000;

/// What a write did to the events held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome<'a> {
    /// Not held before.
    New(&'a EventRow),
    /// Held, and some field changed (a relisted identical row says
    /// nothing); with the count and lastTimestamp it had before.
    Changed {
        row: &'a EventRow,
        count_before: u32,
        last_seen_before: Timestamp,
    },
    /// Deleted, dropped by a relist, or evicted by the cap.
    Gone(RegionId, &'a str),
}

/// The object an event is about: (region, kind, namespace, name).
pub type ObjectKey = (RegionId, String, String, String);

fn object_key(ev: &EventRow) -> ObjectKey {
    (
        ev.region,
        ev.object.kind.clone(),
        ev.object.namespace.clone(),
        ev.object.name.clone(),
    )
}

fn same_object(a: &EventRow, b: &EventRow) -> bool {
    a.region == b.region
        && a.object.kind == b.object.kind
        && a.object.namespace == b.object.namespace
        && a.object.name == b.object.name
}

#[derive(Debug, Default)]
pub struct Events {
    slots: Vec<Option<EventRow>>,
    /// When each slot was last written (the list clock).
    seen: Vec<u64>,
    clock: u64,
    free: Vec<u32>,
    /// Per region: uid -> slot.
    index: Vec<HashMap<String, u32>>,
    /// Per region: (lastTimestamp, slot), oldest first: eviction order.
    order: Vec<BTreeSet<(Timestamp, u32)>>,
    /// By involved object: its events' slots.
    by_object: HashMap<ObjectKey, Vec<u32>>,
    /// Per region and list scope: when its current list started.
    generation: Vec<HashMap<Option<String>, u64>>,
    /// Per region: events dropped by the cap.
    evicted: Vec<u64>,
}

impl Events {
    pub fn new(regions: usize) -> Events {
        Events {
            index: vec![HashMap::new(); regions],
            order: vec![BTreeSet::new(); regions],
            generation: vec![HashMap::new(); regions],
            evicted: vec![0; regions],
            ..Events::default()
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

    /// Events of the region dropped by the cap so far.
    pub fn evicted(&self, region: RegionId) -> u64 {
        self.evicted.get(region).copied().unwrap_or(0)
    }

    pub fn find(&self, region: RegionId, uid: &str) -> Option<&EventRow> {
        let slot = *self.index.get(region)?.get(uid)?;
        self.slots.get(slot as usize)?.as_ref()
    }

    /// Every event, in no particular order.
    pub fn rows(&self) -> impl Iterator<Item = &EventRow> {
        self.slots.iter().flatten()
    }

    /// The events about one object, in no particular order.
    pub fn of_object(
        &self,
        region: RegionId,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> impl Iterator<Item = &EventRow> + '_ {
        let key = (
            region,
            kind.to_string(),
            namespace.to_string(),
            name.to_string(),
        );
        self.by_object
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|&s| self.slots.get(s as usize).and_then(Option::as_ref))
    }

    /// The by-object index as it stands (for tests against a rebuild).
    pub fn object_index(&self) -> &HashMap<ObjectKey, Vec<u32>> {
        &self.by_object
    }

    /// One step of a region's events stream.
    pub fn apply(
        &mut self,
        region: RegionId,
        update: Update<EventRow>,
        on: &mut dyn FnMut(EventOutcome),
    ) {
        match update {
            Update::ListStart { namespace } => self.list_start(region, namespace.as_deref()),
            Update::ListDone { namespace } => self.list_done(region, namespace.as_deref(), on),
            Update::ListPage(rows) => rows.into_iter().for_each(|r| self.upsert(r, on)),
            Update::Changes(changes) => {
                for change in changes {
                    match change {
                        Change::Upsert(row) => self.upsert(row, on),
                        Change::Delete(uid) => self.delete(region, &uid, on),
                    }
                }
            }
        }
    }

    pub fn upsert(&mut self, row: EventRow, on: &mut dyn FnMut(EventOutcome)) {
        let region = row.region;
        if region >= self.index.len() {
            return;
        }
        let clock = self.clock;
        if let Some(&slot) = self.index[region].get(&row.uid) {
            let s = slot as usize;
            self.seen[s] = clock;
            let Some(old) = self.slots[s].take() else {
                return;
            };
            if old == row {
                self.slots[s] = Some(old);
                return;
            }
            self.order[region].remove(&(old.last_seen, slot));
            self.order[region].insert((row.last_seen, slot));
            if !same_object(&old, &row) {
                self.unindex(slot, &old);
                self.index_object(slot, &row);
            }
            let (count_before, last_seen_before) = (old.count, old.last_seen);
            on(EventOutcome::Changed {
                row: self.slots[s].insert(row),
                count_before,
                last_seen_before,
            });
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.seen.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        self.index[region].insert(row.uid.clone(), slot);
        self.order[region].insert((row.last_seen, slot));
        self.index_object(slot, &row);
        self.seen[slot as usize] = clock;
        on(EventOutcome::New(self.slots[slot as usize].insert(row)));
        while self.index[region].len() > MAX_EVENTS_PER_REGION {
            let Some(&(_, oldest)) = self.order[region].first() else {
                break;
            };
            let uid = match &self.slots[oldest as usize] {
                Some(r) => r.uid.clone(),
                None => break,
            };
            self.evicted[region] += 1;
            self.delete(region, &uid, on);
        }
    }

    pub fn delete(&mut self, region: RegionId, uid: &str, on: &mut dyn FnMut(EventOutcome)) {
        let Some(slot) = self.index.get_mut(region).and_then(|m| m.remove(uid)) else {
            return;
        };
        if let Some(old) = self.slots[slot as usize].take() {
            self.order[region].remove(&(old.last_seen, slot));
            self.unindex(slot, &old);
        }
        self.free.push(slot);
        on(EventOutcome::Gone(region, uid));
    }

    /// A (re)list of `namespace` (or all) begins: events stay until
    /// `list_done` decides what is gone.
    pub fn list_start(&mut self, region: RegionId, namespace: Option<&str>) {
        self.clock += 1;
        if let Some(g) = self.generation.get_mut(region) {
            g.insert(namespace.map(String::from), self.clock);
        }
    }

    /// Drops the events in the list's scope not written since it started.
    pub fn list_done(
        &mut self,
        region: RegionId,
        namespace: Option<&str>,
        on: &mut dyn FnMut(EventOutcome),
    ) {
        let key = namespace.map(String::from);
        let Some(started) = self.generation.get_mut(region).and_then(|g| g.remove(&key)) else {
            return;
        };
        let (slots, seen) = (&self.slots, &self.seen);
        let gone: Vec<String> = self.index[region]
            .iter()
            .filter(|(_, &slot)| {
                seen[slot as usize] < started
                    && namespace.is_none_or(|ns| {
                        slots[slot as usize]
                            .as_ref()
                            .is_some_and(|r| r.namespace == ns)
                    })
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in gone {
            self.delete(region, &uid, on);
        }
    }

    fn index_object(&mut self, slot: u32, row: &EventRow) {
        // a slot is indexed only when it is new or its object changed
        self.by_object
            .entry(object_key(row))
            .or_default()
            .push(slot);
    }

    fn unindex(&mut self, slot: u32, row: &EventRow) {
        let key = object_key(row);
        if let Some(slots) = self.by_object.get_mut(&key) {
            slots.retain(|s| *s != slot);
            if slots.is_empty() {
                self.by_object.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests;
