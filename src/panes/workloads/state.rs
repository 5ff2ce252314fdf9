//! What the workloads table shows: Deployments and StatefulSets of every
//! region from the fleet store, narrowed by the pods table's scopes and
//! filter (R, N and `/` are the cockpit's, not one pane's) and sorted by
//! its own column. The view is rebuilt only when the store's workloads,
//! the scopes, the filter or the sort changed.

use super::act::Offers;
use super::rollout::{self, RolloutState};
use crate::fleet::owners::WorkloadKey;
use crate::fleet::store::Store;
use crate::model::{WorkloadKind, WorkloadRow};
use crate::panes::pods::state::{split_filter, Column, ViewSpec};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WCol {
    Region,
    Namespace,
    Name,
    Kind,
    Ready,
    UpToDate,
    Available,
    Images,
    Age,
    Rollout,
}

impl WCol {
    pub const ALL: [WCol; 10] = [
        WCol::Region,
        WCol::Namespace,
        WCol::Name,
        WCol::Kind,
        WCol::Ready,
        WCol::UpToDate,
        WCol::Available,
        WCol::Images,
        WCol::Age,
        WCol::Rollout,
    ];

    pub fn title(self) -> &'static str {
        match self {
            WCol::Region => "REGION",
            WCol::Namespace => "NAMESPACE",
            WCol::Name => "NAME",
            WCol::Kind => "KIND",
            WCol::Ready => "READY",
            WCol::UpToDate => "UP-TO-DATE",
            WCol::Available => "AVAILABLE",
            WCol::Images => "IMAGES",
            WCol::Age => "AGE",
            WCol::Rollout => "ROLLOUT",
        }
    }

    fn step(self, by: isize) -> WCol {
        let n = WCol::ALL.len() as isize;
        let i = WCol::ALL.iter().position(|c| *c == self).unwrap_or(0) as isize;
        WCol::ALL[(i + by).rem_euclid(n) as usize]
    }
}

pub fn kind_name(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
    }
}

/// The ROLLOUT cell: `2 of 6 updated`, `complete`, `paused`, `stalled`.
pub fn rollout_cell(row: &WorkloadRow) -> String {
    rollout::state_of(row).cell()
}

/// A workload in trouble: stalled, or fewer ready than desired.
pub fn troubled(row: &WorkloadRow) -> bool {
    rollout::state_of(row) == RolloutState::Stalled || row.ready < row.desired
}

/// What the view was built from; a change to any of it rebuilds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Built {
    version: u64,
    spec: ViewSpec,
    sort: WCol,
    reverse: bool,
}

#[derive(Debug)]
pub struct WorkloadsState {
    pub cursor: crate::widgets::StableCursor<WorkloadKey>,
    view: Vec<WorkloadKey>,
    pub sort: WCol,
    pub reverse: bool,
    built: Option<Built>,
    /// Which actions the write path allows on a selection (greying).
    pub offers: Offers,
}

impl Default for WorkloadsState {
    fn default() -> Self {
        WorkloadsState {
            cursor: Default::default(),
            view: Vec::new(),
            sort: WCol::Namespace,
            reverse: false,
            built: None,
            offers: Offers::default(),
        }
    }
}

impl WorkloadsState {
    pub fn view(&self) -> &[WorkloadKey] {
        &self.view
    }

    pub fn sort_by(&mut self, by: isize) {
        self.sort = self.sort.step(by);
    }

    /// Rebuilds the view if its inputs changed, keeping the cursor on the
    /// selected workload.
    pub fn refresh(&mut self, store: &Store, names: &[String]) {
        let now = Built {
            version: store.workloads().version(),
            spec: store.view_spec().clone(),
            sort: self.sort,
            reverse: self.reverse,
        };
        if self.built.as_ref() == Some(&now) {
            return;
        }
        self.view = build(store, &now.spec, self.sort, self.reverse, names);
        self.built = Some(now);
        self.cursor.sync(&self.view);
    }

    /// The selected workload's row, if it is still in the store.
    pub fn selected<'s>(&self, store: &'s Store) -> Option<&'s WorkloadRow> {
        let key = self.cursor.selected.as_ref()?;
        store.workloads().rows().get(key).map(|i| &i.row)
    }
}

fn name_of(names: &[String], r: usize) -> &str {
    names.get(r).map_or("", String::as_str)
}

fn build(
    store: &Store,
    spec: &ViewSpec,
    sort: WCol,
    reverse: bool,
    names: &[String],
) -> Vec<WorkloadKey> {
    let (fields, free) = split_filter(&spec.filter);
    let free_lower = free.to_lowercase();
    let pattern = (!free.is_empty())
        .then(|| Pattern::parse(&free, CaseMatching::Smart, Normalization::Smart));
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut rows: Vec<(&WorkloadKey, &WorkloadRow)> = store
        .workloads()
        .rows()
        .iter()
        .map(|(k, i)| (k, &i.row))
        .filter(|(_, r)| {
            if spec.region.is_some_and(|x| x != r.region)
                || spec.namespace.as_ref().is_some_and(|ns| *ns != r.namespace)
                || (spec.problems_only && !troubled(r))
            {
                return false;
            }
            // the pods' `field:value` terms that mean something here
            let fields_ok = fields.iter().all(|(col, want)| {
                let text = match col {
                    Column::Region => name_of(names, r.region).to_string(),
                    Column::Namespace => r.namespace.clone(),
                    Column::Name | Column::Owner => r.name.clone(),
                    _ => return true,
                };
                text.to_lowercase().contains(want.as_str())
            });
            if !fields_ok {
                return false;
            }
            let exact = !free_lower.is_empty()
                && std::iter::once(name_of(names, r.region))
                    .chain(r.images.iter().map(String::as_str))
                    .any(|t| t.to_lowercase().contains(&free_lower));
            exact
                || pattern.as_ref().is_none_or(|p| {
                    [&r.name, &r.namespace]
                        .into_iter()
                        .any(|f| p.score(Utf32Str::new(f, &mut buf), &mut matcher).is_some())
                })
        })
        .collect();
    rows.sort_by(|(_, a), (_, b)| {
        let ord = compare(sort, a, b, names).then_with(|| {
            (&a.namespace, &a.name, a.region).cmp(&(&b.namespace, &b.name, b.region))
        });
        if reverse {
            ord.reverse()
        } else {
            ord
        }
    });
    rows.into_iter().map(|(k, _)| k.clone()).collect()
}

fn compare(col: WCol, a: &WorkloadRow, b: &WorkloadRow, names: &[String]) -> Ordering {
    let short = |r: &WorkloadRow| r.desired.saturating_sub(r.ready);
    match col {
        WCol::Region => name_of(names, a.region).cmp(name_of(names, b.region)),
        WCol::Namespace => a.namespace.cmp(&b.namespace),
        WCol::Name => a.name.cmp(&b.name),
        WCol::Kind => kind_name(a.kind).cmp(kind_name(b.kind)),
        // most replicas missing first
        WCol::Ready => short(b).cmp(&short(a)),
        WCol::UpToDate => (a.updated, a.desired).cmp(&(b.updated, b.desired)),
        WCol::Available => (a.available, a.desired).cmp(&(b.available, b.desired)),
        WCol::Images => a.images.cmp(&b.images),
        // youngest first
        WCol::Age => b.created.cmp(&a.created),
        WCol::Rollout => rollout_cell(a).cmp(&rollout_cell(b)),
    }
}
