//! What the pods table shows: its columns, the spec (sort, filter, scopes)
//! of its view, and the view itself: the store's pod slots in display
//! order. The rows are the fleet store's (`fleet::store`); the store tells
//! the view which slots changed, with the old row, so that the view stays
//! incremental: rebuilt only when rows, sort, scope or filter change, and
//! at most once per frame (`refresh_view`), never per draw.

use crate::model::{PodRow, RegionId, Timestamp};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cmp::Ordering;

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

/// The pods table's view over the store's slots.
#[derive(Debug)]
pub struct PodView {
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

impl Default for PodView {
    fn default() -> Self {
        PodView {
            view: Vec::new(),
            placed: Vec::new(),
            moved: Vec::new(),
            rebuild: true,
            view_spec: ViewSpec::default(),
            view_dirty: true,
        }
    }
}

impl PodView {
    /// Whether replacing `old` by `new` (same pod) can move it in the view:
    /// a storm of updates mostly leaves the view as it is.
    pub fn changes(&self, old: &PodRow, new: &PodRow) -> bool {
        changes_view(&self.view_spec, old, new)
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
    pub fn refresh_view(
        &mut self,
        slots: &[Option<PodRow>],
        now: Timestamp,
        region_names: &[String],
    ) {
        if !self.view_dirty {
            return;
        }
        self.view_dirty = false;
        let spec = &self.view_spec;
        let pattern = (!spec.filter.trim().is_empty())
            .then(|| Pattern::parse(&spec.filter, CaseMatching::Smart, Normalization::Smart));
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
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
                    let w = crate::fleet::owners::WorkloadKey::of_pod(row);
                    w.kind.as_str() != kind || w.name != *name
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
    pub fn moved(&mut self, slot: u32, rows: usize) {
        self.view_dirty = true;
        if self.rebuild {
            return;
        }
        // past a quarter of the rows a rebuild is cheaper (and this stays bounded)
        if self.moved.len() >= rows / 4 + 64 {
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

pub(crate) fn compare(
    col: Column,
    a: &PodRow,
    b: &PodRow,
    _now: Timestamp,
    names: &[String],
) -> Ordering {
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

pub(crate) fn tie_break(a: &PodRow, b: &PodRow) -> Ordering {
    (&a.namespace, &a.name, a.region, &a.uid).cmp(&(&b.namespace, &b.name, b.region, &b.uid))
}

/// IPv4 sorts numerically; anything else after, as text.
fn ip_key(ip: &str) -> (u8, u32, &str) {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(v4) => (0, u32::from(v4), ""),
        Err(_) => (1, 0, ip),
    }
}
