//! The pod as the cockpit reads it off the wire: serde keeps only the fields
//! the table shows and skips the rest of the object (a full k8s-openapi `Pod`
//! costs ~50 KB in memory and parses several times slower).

use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanPod {
    pub metadata: LeanMeta,
    pub spec: LeanSpec,
    pub status: LeanStatus,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanMeta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: String,
    pub creation_timestamp: Option<jiff::Timestamp>,
    pub deletion_timestamp: Option<jiff::Timestamp>,
    pub labels: LeanLabels,
    pub owner_references: Vec<LeanOwner>,
}

/// Only the label that ties a pod to its Deployment's ReplicaSet.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct LeanLabels {
    #[serde(rename = "pod-template-hash")]
    pub pod_template_hash: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanOwner {
    pub kind: String,
    pub name: String,
    pub controller: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanSpec {
    pub node_name: String,
    pub containers: Vec<LeanContainer>,
    pub init_containers: Vec<LeanContainer>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanContainer {
    pub name: String,
    /// `Always` on an init container makes it a sidecar.
    pub restart_policy: Option<String>,
    pub readiness_probe: Option<IgnoredAny>,
    pub liveness_probe: Option<IgnoredAny>,
    pub startup_probe: Option<IgnoredAny>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanStatus {
    pub phase: String,
    pub reason: String,
    #[serde(rename = "podIP")]
    pub pod_ip: String,
    pub conditions: Vec<LeanCondition>,
    pub container_statuses: Vec<LeanContainerStatus>,
    pub init_container_statuses: Vec<LeanContainerStatus>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanContainerStatus {
    pub name: String,
    pub ready: bool,
    pub started: Option<bool>,
    pub restart_count: u32,
    pub state: LeanState,
    pub last_state: LeanState,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanState {
    pub running: Option<LeanRunning>,
    pub waiting: Option<LeanWaiting>,
    pub terminated: Option<LeanTerminated>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanRunning {
    pub started_at: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanWaiting {
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanTerminated {
    pub reason: String,
    pub exit_code: i32,
    pub signal: i32,
    pub finished_at: Option<jiff::Timestamp>,
}
