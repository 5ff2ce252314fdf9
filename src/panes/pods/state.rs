//! Every region's pods in one store, plus the cached sorted/filtered view the
//! table draws from.
//!
//! Rows live in slots (stable ids while the pod lives) indexed per region by
//! uid. The view is a list of slot ids rebuilt only when rows, sort, scope or
//! filter change, and at most once per frame (`refresh_view`), never per draw.

use crate::model::{PodRow, RegionId, Timestamp};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cmp::Ordering;
use std::collections::HashMap;

/// The table's columns, in display order. Sorting works on every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Region,
    Namespace,
    Name,
    Ready,
    Status,
    Restarts,
    Age,
    Node,
    Ip,
    Owner,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Region,
        Column::Namespace,
        Column::Name,
        Column::Ready,
        Column::Status,
        Column::Restarts,
        Column::Age,
        Column::Node,
        Column::Ip,
        Column::Owner,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Region => "REGION",
            Column::Namespace => "NAMESPACE",
            Column::Name => "NAME",
            Column::Ready => "READY",
            Column::Status => "STATUS",
            Column::Restarts => "RESTARTS",
            Column::Age => "AGE",
            Column::Node => "NODE",
            Column::Ip => "IP",
            Column::Owner => "OWNER",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    pub fn prev(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + Column::ALL.len() - 1) % Column::ALL.len()]
    }
}

/// What narrows and orders the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSpec {
    pub sort: Column,
    pub reverse: bool,
    /// Fuzzy pattern on name, namespace, node and owner; empty = everything.
    pub filter: String,
    pub region: Option<RegionId>,
    pub namespace: Option<String>,
    pub problems_only: bool,
    /// Only pods of this workload (kind, name), e.g. from a triage jump.
    pub owner: Option<(String, String)>,
}

impl Default for ViewSpec {
    fn default() -> Self {
        ViewSpec {
            sort: Column::Namespace,
            reverse: false,
            filter: String::new(),
            region: None,
            namespace: None,
            problems_only: false,
            owner: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct PodStore {
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
    view: Vec<u32>,
    /// Scratch for `refresh_view`: one flag per slot.
    placed: Vec<bool>,
    /// Slots to put back in place at the next refresh (bounded; past the
    /// bound the view is rebuilt instead).
    moved: Vec<u32>,
    /// The next refresh rebuilds the whole view (new spec, many changes).
    rebuild: bool,
    view_spec: ViewSpec,
    view_dirty: bool,
}

impl PodStore {
    pub fn new(regions: usize) -> PodStore {
        PodStore {
            index: vec![HashMap::new(); regions],
            generation: vec![HashMap::new(); regions],
            listed: vec![0; regions],
            view_dirty: true,
            rebuild: true,
            ..PodStore::default()
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

    pub fn upsert(&mut self, row: PodRow) {
        let region = row.region;
        if region >= self.index.len() {
            return;
        }
        let generation = self.clock;
        if let Some(&slot) = self.index[region].get(&row.uid) {
            let old = self.slots[slot as usize].as_ref();
            // a storm of updates mostly leaves the view as it is: keep it
            // (the table reads the new row through its slot)
            let moves = old.is_none_or(|old| changes_view(&self.view_spec, old, &row));
            self.slots[slot as usize] = Some(row);
            self.seen[slot as usize] = generation;
            if moves {
                self.moved(slot);
            }
            return;
        }
        let uid = row.uid.clone();
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
        self.slots[slot as usize] = None;
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
        &self.view_spec
    }

    pub fn set_view_spec(&mut self, spec: ViewSpec) {
        if spec != self.view_spec {
            self.view_spec = spec;
            self.view_dirty = true;
            self.rebuild = true;
        }
    }

    pub fn view_is_dirty(&self) -> bool {
        self.view_dirty
    }

    /// Slot ids in display order. Call `refresh_view` first.
    pub fn view(&self) -> &[u32] {
        &self.view
    }

    /// Brings the view up to date. A few changed rows are taken out and
    /// put back in place by binary search (a storm costs about a pass over
    /// the slot ids per frame, not a sort); a new spec or many changes
    /// rebuild it.
    pub fn refresh_view(&mut self, now: Timestamp, region_names: &[String]) {
        if !self.view_dirty {
            return;
        }
        self.view_dirty = false;
        let spec = &self.view_spec;
        let pattern = (!spec.filter.trim().is_empty())
            .then(|| Pattern::parse(&spec.filter, CaseMatching::Smart, Normalization::Smart));
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let slots = &self.slots;
        let mut keep = |slot: u32| -> bool {
            let Some(row) = slots.get(slot as usize).and_then(Option::as_ref) else {
                return false;
            };
            if spec.region.is_some_and(|r| r != row.region)
                || spec
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| *ns != row.namespace)
                || (spec.problems_only && row.is_healthy())
                || spec.owner.as_ref().is_some_and(|(kind, name)| {
                    let w = crate::incident::pods::WorkloadKey::of_pod(row);
                    w.kind != *kind || w.name != *name
                })
            {
                return false;
            }
            pattern.as_ref().is_none_or(|p| {
                [&row.name, &row.namespace, &row.node, &row.owner_name]
                    .into_iter()
                    .any(|field| {
                        p.score(Utf32Str::new(field, &mut buf), &mut matcher)
                            .is_some()
                    })
            })
        };
        let order = |a: &u32, b: &u32| -> Ordering {
            let (Some(a), Some(b)) = (slots[*a as usize].as_ref(), slots[*b as usize].as_ref())
            else {
                return Ordering::Equal;
            };
            let ord = compare(spec.sort, a, b, now, region_names).then_with(|| tie_break(a, b));
            if spec.reverse {
                ord.reverse()
            } else {
                ord
            }
        };
        let mut marked = std::mem::take(&mut self.placed);
        marked.clear();
        marked.resize(slots.len(), false);
        let mut view = std::mem::take(&mut self.view);
        if std::mem::take(&mut self.rebuild) {
            // Start from the previous order, new rows at the end: the stable
            // sort finds the presorted runs.
            let previous = std::mem::take(&mut view);
            for slot in previous {
                if marked.get(slot as usize) == Some(&false) {
                    marked[slot as usize] = true;
                    if keep(slot) {
                        view.push(slot);
                    }
                }
            }
            for slot in 0..slots.len() as u32 {
                if !marked[slot as usize] && keep(slot) {
                    view.push(slot);
                }
            }
            view.sort_by(order);
        } else {
            // Take the moved rows out, then put back those still shown.
            for &slot in &self.moved {
                marked[slot as usize] = true;
            }
            view.retain(|slot| !marked[*slot as usize]);
            let mut back = Vec::with_capacity(self.moved.len());
            for &slot in &self.moved {
                if std::mem::take(&mut marked[slot as usize]) && keep(slot) {
                    back.push(slot);
                }
            }
            back.sort_by(order);
            let mut merged = Vec::with_capacity(view.len() + back.len());
            let mut from = 0;
            for slot in back {
                let at = from + view[from..].partition_point(|v| order(v, &slot).is_lt());
                merged.extend_from_slice(&view[from..at]);
                merged.push(slot);
                from = at;
            }
            merged.extend_from_slice(&view[from..]);
            view = merged;
        }
        self.moved.clear();
        self.placed = marked;
        self.view = view;
    }

    /// `slot` changed in a way that can move it in (or out of) the view.
    fn moved(&mut self, slot: u32) {
        self.view_dirty = true;
        if self.rebuild {
            return;
        }
        // past a quarter of the rows a rebuild is cheaper (and this stays bounded)
        if self.moved.len() >= self.slots.len() / 4 + 64 {
            self.rebuild = true;
            self.moved.clear();
        } else {
            self.moved.push(slot);
        }
    }
}

fn region_name(names: &[String], r: RegionId) -> &str {
    names.get(r).map_or("", String::as_str)
}

fn compare(col: Column, a: &PodRow, b: &PodRow, _now: Timestamp, names: &[String]) -> Ordering {
    match col {
        Column::Region => region_name(names, a.region).cmp(region_name(names, b.region)),
        Column::Namespace => a.namespace.cmp(&b.namespace),
        Column::Name => a.name.cmp(&b.name),
        Column::Ready => (a.ready, a.total).cmp(&(b.ready, b.total)),
        Column::Status => a.status.cmp(&b.status),
        // most restarts first reads best; reverse flips it
        Column::Restarts => b.restarts.cmp(&a.restarts),
        // youngest first
        Column::Age => b.created.cmp(&a.created),
        Column::Node => a.node.cmp(&b.node),
        Column::Ip => ip_key(&a.ip).cmp(&ip_key(&b.ip)),
        Column::Owner => (&a.owner_kind, &a.owner_name).cmp(&(&b.owner_kind, &b.owner_name)),
    }
}

/// Whether replacing `old` by `new` (same pod) can change which rows the
/// view holds or their order.
fn changes_view(spec: &ViewSpec, old: &PodRow, new: &PodRow) -> bool {
    // region names only matter between regions; a pod keeps its region
    compare(spec.sort, old, new, 0, &[]) != Ordering::Equal
        || tie_break(old, new) != Ordering::Equal
        || (spec.problems_only && old.is_healthy() != new.is_healthy())
        || (spec.owner.is_some()
            && (old.owner_kind != new.owner_kind || old.owner_name != new.owner_name))
        || (!spec.filter.trim().is_empty()
            && (old.node != new.node || old.owner_name != new.owner_name))
}

fn tie_break(a: &PodRow, b: &PodRow) -> Ordering {
    (&a.namespace, &a.name, a.region, &a.uid).cmp(&(&b.namespace, &b.name, b.region, &b.uid))
}

/// IPv4 sorts numerically; anything else after, as text.
fn ip_key(ip: &str) -> (u8, u32, &str) {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(v4) => (0, u32::from(v4), ""),
        Err(_) => (1, 0, ip),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn names(store: &PodStore) -> Vec<String> {
        store
            .view()
            .iter()
            .map(|s| store.get(*s).map(|r| r.name.clone()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn relist_keeps_listed_rows_and_drops_the_rest_without_duplicates() {
        let mut s = PodStore::new(2);
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
        let mut s = PodStore::new(2);
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
        let mut s = PodStore::new(1);
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
        let mut s = PodStore::new(2);
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
        let mut s = PodStore::new(1);
        s.upsert(pod(0, "a", "x"));
        s.upsert(pod(0, "a", "y"));
        s.delete(0, "0-a-x");
        s.upsert(pod(0, "a", "z"));
        assert_eq!(s.len(), 2);
        s.refresh_view(0, &["r".into()]);
        assert_eq!(names(&s), vec!["y", "z"]);
    }

    fn uids(s: &PodStore) -> Vec<String> {
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
            let mut s = PodStore::new(2);
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
            let mut fresh = PodStore::new(2);
            fresh.set_view_spec(spec);
            for p in &all {
                fresh.upsert(p.clone());
            }
            fresh.refresh_view(0, &names);
            assert_eq!(uids(&s), uids(&fresh), "sort by {sort:?}");
        }
    }
}
