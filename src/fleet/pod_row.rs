//! `LeanPod` -> `PodRow`, off the UI task. STATUS follows kubectl's
//! `printPod` (k8s.io/kubernetes pkg/printers/internalversion/printers.go).

use super::lean::{LeanContainerStatus, LeanPod, LeanState};
use crate::model::pod::Terminated;
use crate::model::{ContainerRow, ContainerState, PodRow, RegionId};

pub fn pod_row(region: RegionId, pod: LeanPod) -> PodRow {
    let status = kubectl_status(&pod);
    let (ready, total) = ready_count(&pod);
    let restarts = pod
        .status
        .container_statuses
        .iter()
        .map(|c| c.restart_count)
        .sum::<u32>()
        + pod
            .status
            .init_container_statuses
            .iter()
            .map(|c| c.restart_count)
            .sum::<u32>();
    let last_restart = pod
        .status
        .container_statuses
        .iter()
        .chain(&pod.status.init_container_statuses)
        .filter_map(|c| c.last_state.terminated.as_ref().and_then(|t| t.finished_at))
        .max();
    let (owner_kind, owner_name) = owner(&pod);
    let containers = pod
        .spec
        .containers
        .iter()
        .map(|spec| {
            let st = pod
                .status
                .container_statuses
                .iter()
                .find(|s| s.name == spec.name);
            ContainerRow {
                name: spec.name.clone(),
                ready: st.is_some_and(|s| s.ready),
                restart_count: st.map_or(0, |s| s.restart_count),
                state: st.map_or(ContainerState::Unknown, |s| container_state(&s.state)),
                last_terminated: st.and_then(|s| s.last_state.terminated.as_ref()).map(|t| {
                    Terminated {
                        reason: t.reason.clone(),
                        exit_code: t.exit_code,
                        finished: t.finished_at,
                    }
                }),
                has_readiness_probe: spec.readiness_probe.is_some(),
                has_liveness_probe: spec.liveness_probe.is_some(),
                has_startup_probe: spec.startup_probe.is_some(),
            }
        })
        .collect();
    PodRow {
        region,
        uid: pod.metadata.uid,
        namespace: pod.metadata.namespace,
        name: pod.metadata.name,
        phase: pod.status.phase,
        status,
        ready,
        total,
        restarts,
        last_restart,
        created: pod.metadata.creation_timestamp.unwrap_or(0),
        deleting: pod.metadata.deletion_timestamp.is_some(),
        node: pod.spec.node_name,
        ip: pod.status.pod_ip,
        owner_kind,
        owner_name,
        containers,
    }
}

fn container_state(s: &LeanState) -> ContainerState {
    if let Some(r) = &s.running {
        ContainerState::Running {
            started: r.started_at,
        }
    } else if let Some(w) = &s.waiting {
        ContainerState::Waiting {
            reason: w.reason.clone(),
            message: w.message.clone(),
        }
    } else if let Some(t) = &s.terminated {
        ContainerState::Terminated(Terminated {
            reason: t.reason.clone(),
            exit_code: t.exit_code,
            finished: t.finished_at,
        })
    } else {
        ContainerState::Unknown
    }
}

fn is_sidecar(pod: &LeanPod, name: &str) -> bool {
    pod.spec
        .init_containers
        .iter()
        .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
}

/// READY x/y: ready running containers over spec containers (sidecars count).
fn ready_count(pod: &LeanPod) -> (u16, u16) {
    let sidecars: Vec<&LeanContainerStatus> = pod
        .status
        .init_container_statuses
        .iter()
        .filter(|c| is_sidecar(pod, &c.name))
        .collect();
    let n_sidecar_specs = pod
        .spec
        .init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    let total = pod.spec.containers.len() + n_sidecar_specs;
    let ready = pod
        .status
        .container_statuses
        .iter()
        .chain(sidecars)
        .filter(|c| c.ready && c.state.running.is_some())
        .count();
    (
        ready.min(u16::MAX as usize) as u16,
        total.min(u16::MAX as usize) as u16,
    )
}

fn has_condition(pod: &LeanPod, type_: &str) -> bool {
    pod.status
        .conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

pub fn kubectl_status(pod: &LeanPod) -> String {
    let st = &pod.status;
    let mut reason = if st.reason.is_empty() {
        st.phase.clone()
    } else {
        st.reason.clone()
    };

    let mut initializing = false;
    let n_init = pod.spec.init_containers.len();
    for (i, c) in st.init_container_statuses.iter().enumerate() {
        let term = c.state.terminated.as_ref();
        if term.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if is_sidecar(pod, &c.name) && c.started == Some(true) {
            continue;
        }
        if let Some(t) = term {
            reason = if !t.reason.is_empty() {
                format!("Init:{}", t.reason)
            } else if t.signal != 0 {
                format!("Init:Signal:{}", t.signal)
            } else {
                format!("Init:ExitCode:{}", t.exit_code)
            };
        } else if let Some(w) = c
            .state
            .waiting
            .as_ref()
            .filter(|w| !w.reason.is_empty() && w.reason != "PodInitializing")
        {
            reason = format!("Init:{}", w.reason);
        } else {
            reason = format!("Init:{i}/{n_init}");
        }
        initializing = true;
        break;
    }

    if !initializing || has_condition(pod, "Initialized") {
        let mut has_running = false;
        for c in st.container_statuses.iter().rev() {
            if let Some(w) = c.state.waiting.as_ref().filter(|w| !w.reason.is_empty()) {
                reason = w.reason.clone();
            } else if let Some(t) = &c.state.terminated {
                reason = if !t.reason.is_empty() {
                    t.reason.clone()
                } else if t.signal != 0 {
                    format!("Signal:{}", t.signal)
                } else {
                    format!("ExitCode:{}", t.exit_code)
                };
            } else if c.ready && c.state.running.is_some() {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = if has_condition(pod, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if st.reason == "NodeLost" {
            reason = "Unknown".into();
        } else if st.phase != "Succeeded" && st.phase != "Failed" {
            reason = "Terminating".into();
        }
    }
    if reason.is_empty() {
        reason = "Unknown".into();
    }
    reason
}

/// The owning workload (`owners::owner_workload`): a ReplicaSet named
/// `<deployment>-<pod-template-hash>` resolves to its Deployment without
/// fetching the ReplicaSet.
fn owner(pod: &LeanPod) -> (String, String) {
    let refs = &pod.metadata.owner_references;
    let Some(o) = refs
        .iter()
        .find(|o| o.controller == Some(true))
        .or(refs.first())
    else {
        return (String::new(), String::new());
    };
    // only with the label: a ReplicaSet of another shape stays itself here
    match &pod.metadata.labels.pod_template_hash {
        Some(hash) => {
            let (kind, name) = super::owners::owner_workload(&o.kind, &o.name, Some(hash));
            (kind.to_string(), name.to_string())
        }
        None => (o.kind.clone(), o.name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> LeanPod {
        serde_json::from_value(json).unwrap_or_default()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "metadata": {
                "name": "checkout-7d9f8b6c4-x2x9z", "namespace": "shop", "uid": "u1",
                "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"app": "checkout", "pod-template-hash": "7d9f8b6c4"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-7d9f8b6c4", "controller": true, "uid": "x", "apiVersion": "apps/v1"}],
                "managedFields": [{"manager": "kubelet"}]
            },
            "spec": {"nodeName": "node-1", "containers": [
                {"name": "app", "image": "x", "readinessProbe": {"httpGet": {"path": "/", "port": 80}}},
                {"name": "proxy", "image": "y"}
            ]},
            "status": {"phase": "Running", "podIP": "10.0.0.7",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "Initialized", "status": "True"}],
                "containerStatuses": [
                    {"name": "app", "ready": true, "restartCount": 2, "state": {"running": {"startedAt": "2026-01-01T00:10:00Z"}},
                     "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": "2026-01-01T00:09:00Z"}}},
                    {"name": "proxy", "ready": true, "restartCount": 0, "state": {"running": {}}}
                ]}
        })
    }

    #[test]
    fn running_pod_reads_like_kubectl() {
        let row = pod_row(3, parse(base()));
        assert_eq!(row.region, 3);
        assert_eq!(row.status, "Running");
        assert_eq!((row.ready, row.total), (2, 2));
        assert_eq!(row.restarts, 2);
        let finished = "2026-01-01T00:09:00Z"
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_second())
            .ok();
        assert_eq!(row.last_restart, finished);
        assert_eq!(
            (row.owner_kind.as_str(), row.owner_name.as_str()),
            ("Deployment", "checkout")
        );
        assert_eq!(row.node, "node-1");
        assert_eq!(row.ip, "10.0.0.7");
        assert!(row.containers[0].has_readiness_probe);
        assert!(!row.containers[1].has_readiness_probe);
        assert!(row.is_healthy());
    }

    #[test]
    fn crash_loop_terminating_init_and_completed() {
        let mut v = base();
        v["status"]["containerStatuses"][0]["state"] =
            serde_json::json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}});
        v["status"]["containerStatuses"][0]["ready"] = false.into();
        let row = pod_row(0, parse(v.clone()));
        assert_eq!(row.status, "CrashLoopBackOff");
        assert_eq!((row.ready, row.total), (1, 2));

        v["metadata"]["deletionTimestamp"] = "2026-01-01T01:00:00Z".into();
        assert_eq!(pod_row(0, parse(v)).status, "Terminating");

        let mut init = base();
        init["spec"]["initContainers"] = serde_json::json!([{"name": "migrate"}]);
        init["status"]["phase"] = "Pending".into();
        init["status"]["conditions"] = serde_json::json!([]);
        init["status"]["initContainerStatuses"] = serde_json::json!([
            {"name": "migrate", "ready": false, "restartCount": 0, "state": {"running": {}}}]);
        init["status"]["containerStatuses"] = serde_json::json!([]);
        assert_eq!(pod_row(0, parse(init.clone())).status, "Init:0/1");
        init["status"]["initContainerStatuses"][0]["state"] =
            serde_json::json!({"waiting": {"reason": "ImagePullBackOff"}});
        assert_eq!(pod_row(0, parse(init)).status, "Init:ImagePullBackOff");

        let mut done = base();
        done["status"]["phase"] = "Succeeded".into();
        done["status"]["containerStatuses"] = serde_json::json!([
            {"name": "app", "ready": false, "restartCount": 0, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]);
        let row = pod_row(0, parse(done));
        assert_eq!(row.status, "Completed");
        assert!(row.is_healthy());

        let mut oom = base();
        oom["status"]["containerStatuses"][1]["state"] =
            serde_json::json!({"terminated": {"reason": "OOMKilled", "exitCode": 137}});
        assert_eq!(pod_row(0, parse(oom)).status, "OOMKilled");
    }

    #[test]
    fn bare_pod_and_statefulset_owners() {
        let mut v = base();
        v["metadata"]["ownerReferences"] =
            serde_json::json!([{"kind": "StatefulSet", "name": "db", "controller": true}]);
        let row = pod_row(0, parse(v.clone()));
        assert_eq!(
            (row.owner_kind.as_str(), row.owner_name.as_str()),
            ("StatefulSet", "db")
        );
        v["metadata"]["ownerReferences"] = serde_json::json!([]);
        let row = pod_row(0, parse(v));
        assert!(row.owner_kind.is_empty() && row.owner_name.is_empty());
    }
}
