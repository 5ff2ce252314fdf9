//! Lean serde types for apps/v1 Deployment and StatefulSet, turned into a
//! `model::WorkloadRow` plus the probe configuration of the pod template
//! (`ProbeSpec`). Serde skips every field not listed here.

use super::lean::{opt_time, LeanMeta};
use crate::model::{RegionId, Timestamp, WorkloadCondition, WorkloadKind, WorkloadRow};
use serde::Deserialize;
use std::fmt;

/// Which probe a failure or a config belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProbeKind {
    Readiness,
    Liveness,
    Startup,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 3] = [
        ProbeKind::Readiness,
        ProbeKind::Liveness,
        ProbeKind::Startup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProbeKind::Readiness => "readiness",
            ProbeKind::Liveness => "liveness",
            ProbeKind::Startup => "startup",
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a probe checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeTarget {
    Http { path: String, port: String },
    Tcp { port: String },
    Grpc { port: String },
    Exec { command: String },
    Unknown,
}

impl fmt::Display for ProbeTarget {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ProbeTarget::Http { path, port } => write!(f, "GET :{port}{path}"),
            ProbeTarget::Tcp { port } => write!(f, "tcp :{port}"),
            ProbeTarget::Grpc { port } => write!(f, "grpc :{port}"),
            ProbeTarget::Exec { command } => write!(f, "exec {command}"),
            ProbeTarget::Unknown => f.write_str("?"),
        }
    }
}

/// One probe of one container, with the kubelet's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    pub container: String,
    pub kind: ProbeKind,
    pub target: ProbeTarget,
    pub initial_delay_s: u32,
    pub period_s: u32,
    pub timeout_s: u32,
    pub failure_threshold: u32,
}

/// `intstr.IntOrString` as used for ports.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::Str(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PortRef {
    pub port: Option<IntOrString>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExecAction {
    pub command: Vec<String>,
}

/// core/v1 `Probe`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanProbe {
    pub http_get: Option<PortRef>,
    pub tcp_socket: Option<PortRef>,
    pub grpc: Option<PortRef>,
    pub exec: Option<ExecAction>,
    pub initial_delay_seconds: Option<i64>,
    pub period_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub failure_threshold: Option<i64>,
}

fn secs(v: Option<i64>, default: u32) -> u32 {
    match v {
        Some(v) if v > 0 => u32::try_from(v).unwrap_or(u32::MAX),
        Some(0) => 0,
        _ => default,
    }
}

impl LeanProbe {
    pub fn to_spec(&self, container: &str, kind: ProbeKind) -> ProbeSpec {
        let port = |p: &PortRef| p.port.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let target = if let Some(h) = &self.http_get {
            ProbeTarget::Http {
                path: h.path.clone().unwrap_or_else(|| "/".into()),
                port: port(h),
            }
        } else if let Some(t) = &self.tcp_socket {
            ProbeTarget::Tcp { port: port(t) }
        } else if let Some(g) = &self.grpc {
            ProbeTarget::Grpc { port: port(g) }
        } else if let Some(e) = &self.exec {
            ProbeTarget::Exec {
                command: e.command.join(" "),
            }
        } else {
            ProbeTarget::Unknown
        };
        ProbeSpec {
            container: container.to_string(),
            kind,
            target,
            // kubelet defaults (core/v1 Probe docs)
            initial_delay_s: secs(self.initial_delay_seconds, 0),
            period_s: secs(self.period_seconds, 10).max(1),
            timeout_s: secs(self.timeout_seconds, 1).max(1),
            failure_threshold: secs(self.failure_threshold, 3).max(1),
        }
    }
}

/// core/v1 `Container`, as far as probes and images go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanContainer {
    pub name: String,
    pub image: Option<String>,
    pub readiness_probe: Option<LeanProbe>,
    pub liveness_probe: Option<LeanProbe>,
    pub startup_probe: Option<LeanProbe>,
}

/// core/v1 `PodSpec`, as far as probes and images go. Also usable on a pod.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanPodSpec {
    pub containers: Vec<LeanContainer>,
}

impl LeanPodSpec {
    /// Every probe of every container, readiness first.
    pub fn probes(&self) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for c in &self.containers {
            for (kind, p) in [
                (ProbeKind::Readiness, &c.readiness_probe),
                (ProbeKind::Liveness, &c.liveness_probe),
                (ProbeKind::Startup, &c.startup_probe),
            ] {
                if let Some(p) = p {
                    out.push(p.to_spec(&c.name, kind));
                }
            }
        }
        out
    }

    pub fn images(&self) -> Vec<String> {
        self.containers
            .iter()
            .filter_map(|c| c.image.clone())
            .collect()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeanTemplate {
    pub spec: LeanPodSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(deserialize_with = "opt_time")]
    pub last_transition_time: Option<Timestamp>,
    #[serde(deserialize_with = "opt_time")]
    pub last_update_time: Option<Timestamp>,
}

impl From<LeanCondition> for WorkloadCondition {
    fn from(c: LeanCondition) -> Self {
        WorkloadCondition {
            type_: c.type_,
            status: c.status,
            reason: c.reason.unwrap_or_default(),
            message: c.message.unwrap_or_default(),
            last_transition: c.last_transition_time.or(c.last_update_time),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanWorkloadSpec {
    pub replicas: Option<i64>,
    pub paused: bool,
    pub template: LeanTemplate,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeanWorkloadStatus {
    pub replicas: Option<i64>,
    pub updated_replicas: Option<i64>,
    pub ready_replicas: Option<i64>,
    pub available_replicas: Option<i64>,
    pub observed_generation: Option<i64>,
    pub conditions: Vec<LeanCondition>,
}

/// apps/v1 `Deployment`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeanDeployment {
    pub metadata: LeanMeta,
    pub spec: LeanWorkloadSpec,
    pub status: LeanWorkloadStatus,
}

/// apps/v1 `StatefulSet` (no `paused`; its spec simply lacks the field).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeanStatefulSet {
    pub metadata: LeanMeta,
    pub spec: LeanWorkloadSpec,
    pub status: LeanWorkloadStatus,
}

/// A workload row and the probes of its pod template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkloadInfo {
    pub row: WorkloadRow,
    pub probes: Vec<ProbeSpec>,
}

fn count(v: Option<i64>) -> u32 {
    v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

fn to_info(
    region: RegionId,
    kind: WorkloadKind,
    meta: &LeanMeta,
    spec: LeanWorkloadSpec,
    status: LeanWorkloadStatus,
) -> WorkloadInfo {
    let revision = meta
        .annotations
        .get("deployment.kubernetes.io/revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let row = WorkloadRow {
        region,
        kind,
        uid: meta.uid.clone(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        // replicas defaults to 1 when unset (apps/v1 defaulting)
        desired: spec.replicas.map_or(1, |r| count(Some(r))),
        updated: count(status.updated_replicas),
        ready: count(status.ready_replicas),
        available: count(status.available_replicas),
        paused: spec.paused,
        revision,
        generation: meta.generation.unwrap_or(0),
        observed_generation: status.observed_generation.unwrap_or(0),
        images: spec.template.spec.images(),
        conditions: status.conditions.into_iter().map(Into::into).collect(),
        created: meta.created(),
    };
    WorkloadInfo {
        row,
        probes: spec.template.spec.probes(),
    }
}

impl LeanDeployment {
    pub fn into_info(self, region: RegionId) -> WorkloadInfo {
        to_info(
            region,
            WorkloadKind::Deployment,
            &self.metadata,
            self.spec,
            self.status,
        )
    }
}

impl LeanStatefulSet {
    pub fn into_info(self, region: RegionId) -> WorkloadInfo {
        let mut spec = self.spec;
        spec.paused = false;
        to_info(
            region,
            WorkloadKind::StatefulSet,
            &self.metadata,
            spec,
            self.status,
        )
    }
}

/// True when the rollout has given up: `Progressing=False` with reason
/// `ProgressDeadlineExceeded`.
pub fn progress_deadline_exceeded(row: &WorkloadRow) -> Option<&WorkloadCondition> {
    row.conditions
        .iter()
        .find(|c| c.type_ == "Progressing" && c.reason == "ProgressDeadlineExceeded")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> serde_json::Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "d1", "generation": 4,
                         "creationTimestamp": "2026-11-23T01:00:00Z",
                         "annotations": {"deployment.kubernetes.io/revision": "3"},
                         "managedFields": [{"manager": "kube-controller-manager"}]},
            "spec": {
                "replicas": 6, "paused": true,
                "selector": {"matchLabels": {"app": "checkout"}},
                "strategy": {"type": "RollingUpdate"},
                "template": {"metadata": {"labels": {"app": "checkout"}}, "spec": {"containers": [{
                    "name": "app", "image": "registry/checkout:1.4.2",
                    "env": [{"name": "X", "value": "y"}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080},
                                       "periodSeconds": 5, "timeoutSeconds": 1, "failureThreshold": 1},
                    "livenessProbe": {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 10},
                    "startupProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}
                }]}}
            },
            "status": {
                "replicas": 7, "updatedReplicas": 2, "readyReplicas": 5, "availableReplicas": 5,
                "observedGeneration": 4,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                     "lastTransitionTime": "2026-11-23T01:01:00Z"},
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                     "message": "ReplicaSet \"checkout-5f\" has timed out progressing.",
                     "lastUpdateTime": "2026-11-23T03:10:00Z",
                     "lastTransitionTime": "2026-11-23T03:10:00Z"}
                ]
            }
        })
    }

    #[test]
    fn deployment_becomes_a_row_with_conditions_and_revision() {
        let d: LeanDeployment = serde_json::from_value(deployment()).unwrap();
        let info = d.into_info(1);
        let r = &info.row;
        assert_eq!((r.region, r.kind), (1, WorkloadKind::Deployment));
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str()),
            ("shop", "checkout")
        );
        assert_eq!((r.desired, r.updated, r.ready, r.available), (6, 2, 5, 5));
        assert!(r.paused);
        assert_eq!(r.revision, 3);
        assert_eq!((r.generation, r.observed_generation), (4, 4));
        assert_eq!(r.images, vec!["registry/checkout:1.4.2".to_string()]);
        let stuck = progress_deadline_exceeded(r).unwrap();
        assert_eq!(stuck.status, "False");
        assert!(stuck.message.contains("timed out"));
    }

    #[test]
    fn probe_specs_come_from_the_template_with_defaults() {
        let d: LeanDeployment = serde_json::from_value(deployment()).unwrap();
        let probes = d.into_info(0).probes;
        assert_eq!(probes.len(), 3);
        let r = &probes[0];
        assert_eq!(
            (r.kind, r.container.as_str()),
            (ProbeKind::Readiness, "app")
        );
        assert_eq!(r.target.to_string(), "GET :8080/ready");
        assert_eq!((r.period_s, r.timeout_s, r.failure_threshold), (5, 1, 1));
        let l = &probes[1];
        assert_eq!(
            l.target,
            ProbeTarget::Tcp {
                port: "http".into()
            }
        );
        // unset fields take the kubelet's defaults
        assert_eq!(
            (
                l.initial_delay_s,
                l.period_s,
                l.timeout_s,
                l.failure_threshold
            ),
            (10, 10, 1, 3)
        );
        assert_eq!(probes[2].target.to_string(), "exec cat /tmp/ok");
    }

    #[test]
    fn statefulset_has_no_pause_and_defaults_replicas() {
        let s: LeanStatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "db", "namespace": "data", "uid": "s1"},
            "spec": {"serviceName": "db", "template": {"spec": {"containers": [
                {"name": "pg", "image": "postgres:16"}]}}},
            "status": {"replicas": 1, "readyReplicas": 1, "currentRevision": "db-1"}
        }))
        .unwrap();
        let info = s.into_info(0);
        assert_eq!(info.row.kind, WorkloadKind::StatefulSet);
        assert_eq!((info.row.desired, info.row.ready), (1, 1));
        assert!(!info.row.paused && info.probes.is_empty());
        assert!(progress_deadline_exceeded(&info.row).is_none());
    }
}
