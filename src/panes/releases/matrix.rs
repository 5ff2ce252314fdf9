//! The release matrix: workloads by regions, the image (version) running
//! where, mixed while a rollout is under way, and drift against the stage
//! order: a later stage running an image the first stage never ran.

use super::plan::tag;
use super::state::ReleasesState;
use crate::fleet::store::workloads::mid_flight;
use crate::fleet::store::Store;
use crate::model::WorkloadKind;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    /// `4.3.0`; `-` where the workload does not run.
    pub text: String,
    /// A rollout is under way (`updated/desired`).
    pub mixed: Option<(u32, u32)>,
    /// Runs an image the first stage never ran.
    pub drift: bool,
    /// A promotion touches this cell: its wave's state.
    pub promotion: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    /// One per region, in region order.
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn drift(&self) -> bool {
        self.cells.iter().any(|c| c.drift)
    }
}

/// Every workload of the store, by namespace and name, with one cell per
/// region.
pub fn build(store: &Store, rel: &ReleasesState, region_names: &[String]) -> Vec<Row> {
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let first: Vec<usize> = rel
        .first_stage()
        .iter()
        .filter_map(|r| region_names.iter().position(|n| n == r))
        .collect();
    for info in store.workloads().rows().values() {
        let w = &info.row;
        let row = rows
            .entry((w.namespace.clone(), w.name.clone()))
            .or_insert_with(|| Row {
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                kind: w.kind,
                cells: vec![
                    Cell {
                        text: "-".into(),
                        ..Cell::default()
                    };
                    region_names.len()
                ],
            });
        let Some(cell) = row.cells.get_mut(w.region) else {
            continue;
        };
        cell.text = w
            .images
            .iter()
            .map(|i| tag(i))
            .collect::<Vec<_>>()
            .join(",");
        if mid_flight(w) {
            cell.mixed = Some((w.updated, w.desired));
        }
    }
    for row in rows.values_mut() {
        // what the first stage ran: its revisions' images, and what runs there now
        let mut ran: std::collections::BTreeSet<String> = rel
            .first_stage_images
            .get(&(row.namespace.clone(), row.name.clone()))
            .map(|s| s.iter().map(|i| tag(i).to_string()).collect())
            .unwrap_or_default();
        for &f in &first {
            if let Some(c) = row.cells.get(f) {
                ran.extend(c.text.split(',').map(str::to_string));
            }
        }
        // only once the first stage's ReplicaSets were read: before, an
        // older image would look like one it never ran
        let known = rel
            .first_stage_images
            .contains_key(&(row.namespace.clone(), row.name.clone()));
        for (i, cell) in row.cells.iter_mut().enumerate() {
            let later = rel.stage_of(&region_names[i]).is_some_and(|s| s > 0);
            cell.drift = known
                && later
                && cell.text != "-"
                && cell.text.split(',').any(|t| !ran.contains(t));
        }
        if let Some(plan) = rel.plans.get(&(row.namespace.clone(), row.name.clone())) {
            for w in &plan.waves {
                for r in &w.regions {
                    if let Some(i) = region_names.iter().position(|n| *n == r.region) {
                        row.cells[i].promotion = Some(w.state.word());
                    }
                }
            }
        }
    }
    rows.into_values().collect()
}
