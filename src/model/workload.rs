//! Deployments and StatefulSets as triage and release views need them.

use super::{RegionId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WorkloadKind {
    #[default]
    Deployment,
    StatefulSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkloadCondition {
    /// e.g. `Progressing`, `Available`.
    pub type_: String,
    pub status: String,
    /// e.g. `ProgressDeadlineExceeded`, `NewReplicaSetAvailable`.
    pub reason: String,
    pub message: String,
    pub last_transition: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkloadRow {
    pub region: RegionId,
    pub kind: WorkloadKind,
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub desired: u32,
    pub updated: u32,
    pub ready: u32,
    pub available: u32,
    pub paused: bool,
    /// `deployment.kubernetes.io/revision`.
    pub revision: u64,
    pub generation: i64,
    pub observed_generation: i64,
    pub images: Vec<String>,
    pub conditions: Vec<WorkloadCondition>,
    pub created: Timestamp,
}
