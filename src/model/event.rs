//! One Kubernetes Event as triage needs it. core/v1 events carry `count` and
//! `firstTimestamp`/`lastTimestamp`; events.k8s.io/v1 events carry `series`
//! (`count`, `lastObservedTime`) and `eventTime`. Sources map both shapes
//! onto these fields.

use super::{RegionId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvolvedObject {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// e.g. `spec.containers{checkout}`.
    pub field_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventRow {
    pub region: RegionId,
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub object: InvolvedObject,
    /// `Normal` or `Warning`.
    pub type_: String,
    /// e.g. `Unhealthy`, `BackOff`, `Killing`, `Pulled`.
    pub reason: String,
    pub message: String,
    /// How many times the server has seen it (1 when absent).
    pub count: u32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub source: String,
}
