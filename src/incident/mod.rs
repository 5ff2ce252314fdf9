//! Probe failures and incident triage: pure state fed by rows (pods,
//! events, workloads, region health), read by the probes and triage panes.
//! No IO here; sources deserialise into the lean types of `events` and
//! `workloads` and hand the rows over.

pub mod events;
mod lean;
pub mod pods;
pub mod probes;
pub mod triage;
pub mod workloads;

use crate::model::{EventRow, PodRow, RegionId, Timestamp, WorkloadKind};
use pods::{PodIndex, WorkloadKey};
use probes::{ProbeBook, ProbeDetail, ProbeKey, ProbeRow};
use std::collections::HashMap;
use triage::{RegionState, TriageInput, TriageItem};
use workloads::WorkloadInfo;

pub use lean::parse_time;

/// Most workloads kept (Deployments + StatefulSets over all regions).
pub const MAX_WORKLOADS: usize = 50_000;

/// Everything the incident panes read. The loop calls the `apply_*`
/// methods as source messages arrive and `probe_rows` / `triage` when it
/// draws.
#[derive(Debug, Default)]
pub struct IncidentState {
    pub pods: PodIndex,
    pub probes: ProbeBook,
    pub workloads: HashMap<WorkloadKey, WorkloadInfo>,
    /// Indexed by `RegionId`; grown on demand.
    pub regions: Vec<RegionState>,
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

impl IncidentState {
    pub fn apply_pod(&mut self, pod: &PodRow, now: Timestamp) {
        self.pods.upsert(pod, now);
    }

    pub fn remove_pod(&mut self, region: RegionId, uid: &str) {
        if let Some(key) = self.pods.remove(region, uid) {
            self.probes.remove_pod(&key, uid);
        }
    }

    /// Returns true when a probe row changed.
    pub fn apply_event(&mut self, ev: &EventRow, now: Timestamp) -> bool {
        self.probes.apply_event(ev, &self.pods, now)
    }

    pub fn remove_event(&mut self, region: RegionId, uid: &str) {
        self.probes.remove_event(region, uid);
    }

    pub fn apply_workload(&mut self, info: WorkloadInfo) {
        let key = workload_key(&info);
        if self.workloads.len() >= MAX_WORKLOADS && !self.workloads.contains_key(&key) {
            return;
        }
        self.workloads.insert(key, info);
    }

    pub fn remove_workload(&mut self, key: &WorkloadKey) {
        self.workloads.remove(key);
    }

    pub fn set_region(&mut self, region: RegionId, state: RegionState) {
        if self.regions.len() <= region {
            self.regions.resize(region + 1, RegionState::Syncing);
        }
        self.regions[region] = state;
    }

    pub fn probe_rows(&self, now: Timestamp) -> Vec<ProbeRow> {
        self.probes.rows(&self.pods, &self.workloads, now)
    }

    pub fn probe_detail(&self, key: &ProbeKey, now: Timestamp) -> Option<ProbeDetail> {
        self.probes.detail(key, &self.pods, now)
    }

    /// The ranked triage list (computes the probe rows it needs).
    pub fn triage(&self, now: Timestamp) -> Vec<TriageItem> {
        let rows = self.probe_rows(now);
        self.triage_with(&rows, now)
    }

    /// Same, reusing probe rows already computed for this frame.
    pub fn triage_with(&self, probe_rows: &[ProbeRow], now: Timestamp) -> Vec<TriageItem> {
        triage::triage(
            &TriageInput {
                pods: &self.pods,
                workloads: &self.workloads,
                probe_rows,
                regions: &self.regions,
            },
            now,
        )
    }
}
