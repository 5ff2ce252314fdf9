//! Builders for realistic Kubernetes objects (the shapes a real API server
//! returns), shared by the initial world and the controllers.

use crate::world::scenario::{ProbeSpec, WorkloadSpec};
use crate::world::store::splitmix;
use serde_json::{json, Value};

/// The alphabet Kubernetes uses for generated name suffixes and hashes.
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn safe_string(mut x: u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(SAFE[(x % SAFE.len() as u64) as usize] as char);
        x /= SAFE.len() as u64;
        if x == 0 {
            x = splitmix(x ^ len as u64);
        }
    }
    s
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// `pod-template-hash` of a pod template (stable for equal templates).
pub fn template_hash(template: &Value) -> String {
    let mut t = template.clone();
    // Clients round-trip templates through typed structs, adding nulls
    // (`creationTimestamp: null`); equal templates must hash equally.
    strip_nulls(&mut t);
    // The hash label itself must not feed the hash.
    if let Some(l) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    let bytes = serde_json::to_vec(&t).unwrap_or_default();
    safe_string(fnv(&bytes), 10)
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn probe(p: &ProbeSpec) -> Value {
    json!({
        "httpGet": {"path": p.path, "port": p.port, "scheme": "HTTP"},
        "initialDelaySeconds": p.initial_delay_seconds,
        "periodSeconds": p.period_seconds,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": p.failure_threshold,
    })
}

pub fn container_name(w: &WorkloadSpec) -> String {
    w.name.clone()
}

/// The pod template of a workload.
pub fn pod_template(w: &WorkloadSpec) -> Value {
    let mut labels = serde_json::Map::new();
    labels.insert("app".into(), json!(w.name));
    labels.insert("app.kubernetes.io/name".into(), json!(w.name));
    for (k, v) in &w.labels {
        labels.insert(k.clone(), json!(v));
    }
    let mut c = json!({
        "name": container_name(w),
        "image": w.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": w.ports.iter().map(|p| json!({"containerPort": p, "protocol": "TCP"})).collect::<Vec<_>>(),
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"memory": w.memory.clone().unwrap_or_else(|| "256Mi".into())}
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    });
    if let Some(p) = &w.readiness {
        c["readinessProbe"] = probe(p);
    }
    if let Some(p) = &w.liveness {
        c["livenessProbe"] = probe(p);
    }
    json!({
        "metadata": {"labels": labels},
        "spec": {
            "containers": [c],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "schedulerName": "default-scheduler",
            "securityContext": {},
        }
    })
}

pub fn deployment(w: &WorkloadSpec, replicas: u32, created: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": w.name,
            "namespace": w.namespace,
            "labels": {"app": w.name},
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "generation": 1,
            "creationTimestamp": created,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": w.name}},
            "template": pod_template(w),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {}
    })
}

pub fn statefulset(w: &WorkloadSpec, replicas: u32, created: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": w.name,
            "namespace": w.namespace,
            "labels": {"app": w.name},
            "generation": 1,
            "creationTimestamp": created,
        },
        "spec": {
            "replicas": replicas,
            "serviceName": w.name,
            "selector": {"matchLabels": {"app": w.name}},
            "template": pod_template(w),
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
        },
        "status": {}
    })
}

pub fn service(w: &WorkloadSpec, cluster_ip: &str, created: &str) -> Value {
    json!({
        "metadata": {
            "name": w.name,
            "namespace": w.namespace,
            "labels": {"app": w.name},
            "creationTimestamp": created,
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "selector": {"app": w.name},
            "ports": w.ports.iter().map(|p| json!({"name": format!("tcp-{p}"), "port": p, "targetPort": p, "protocol": "TCP"})).collect::<Vec<_>>(),
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}}
    })
}

/// The CA bundle every namespace holds, as kube-controller-manager's
/// root-ca-cert-publisher puts it there.
pub fn root_ca(namespace: &str, created: &str) -> Value {
    json!({
        "metadata": {
            "name": "kube-root-ca.crt",
            "namespace": namespace,
            "creationTimestamp": created,
            "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}
        },
        "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhwaXR3YWxs\n-----END CERTIFICATE-----\n"}
    })
}

pub fn namespace(name: &str, created: &str) -> Value {
    json!({
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/metadata.name": name},
            "creationTimestamp": created,
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

pub fn node(region: &str, name: &str, ip: &str, created: &str, now: &str) -> Value {
    let cond = |t: &str, s: &str, reason: &str, msg: &str| {
        json!({"type": t, "status": s, "reason": reason, "message": msg,
               "lastHeartbeatTime": now, "lastTransitionTime": created})
    };
    json!({
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "m6i.2xlarge",
                "topology.kubernetes.io/region": region,
                "topology.kubernetes.io/zone": format!("{region}-a"),
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            "creationTimestamp": created,
        },
        "spec": {"podCIDR": "10.0.0.0/16", "providerID": format!("sim://{region}/{name}")},
        "status": {
            "capacity": {"cpu": "8", "memory": "32386524Ki", "pods": "110", "ephemeral-storage": "101430960Ki"},
            "allocatable": {"cpu": "7910m", "memory": "31235548Ki", "pods": "110", "ephemeral-storage": "93478772582"},
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", splitmix(name.len() as u64 ^ ip.len() as u64)),
                "systemUUID": format!("ec2{:029x}", splitmix(ip.len() as u64)),
                "bootID": "6c1c0b6e-3f2a-4d8e-9d5f-2f1f7e0c9a11",
                "kernelVersion": "6.1.0-27-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": "v1.34.1",
                "kubeProxyVersion": "v1.34.1",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        }
    })
}

/// A ReplicaSet for `dep` with the given template hash and revision.
pub fn replicaset(dep: &Value, hash: &str, revision: u64, replicas: u64, created: &str) -> Value {
    let name = dep
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ns = dep
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let uid = dep
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut template = dep
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({"pod-template-hash": hash});
    }
    let mut selector = dep
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or_else(|| json!({"matchLabels": {}}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut annotations = json!({
        "deployment.kubernetes.io/revision": revision.to_string(),
        "deployment.kubernetes.io/desired-replicas": dep.pointer("/spec/replicas").cloned().unwrap_or(json!(1)).to_string(),
        "deployment.kubernetes.io/max-replicas": dep.pointer("/spec/replicas").and_then(Value::as_u64).map(|r| r + r.div_ceil(4)).unwrap_or(1).to_string(),
    });
    if let Some(cause) = dep.pointer("/metadata/annotations/kubernetes.io~1change-cause") {
        annotations["kubernetes.io/change-cause"] = cause.clone();
    }
    json!({
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": ns,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}],
            "generation": 1,
            "creationTimestamp": created,
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
        "status": {"replicas": 0, "observedGeneration": 1}
    })
}

pub struct PodPlacement<'a> {
    pub name: String,
    pub owner_kind: &'a str,
    pub owner_name: &'a str,
    pub owner_uid: &'a str,
    pub node: &'a str,
    pub host_ip: &'a str,
    pub pod_ip: String,
}

/// A pod from a template, scheduled but with no status beyond Pending.
pub fn pod(template: &Value, ns: &str, p: &PodPlacement, created: &str) -> Value {
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    spec["nodeName"] = json!(p.node);
    spec["tolerations"] = json!([
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]);
    let labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut meta = json!({
        "name": p.name,
        "namespace": ns,
        "labels": labels,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": p.owner_kind, "name": p.owner_name, "uid": p.owner_uid, "controller": true, "blockOwnerDeletion": true}],
        "creationTimestamp": created,
    });
    if p.owner_kind == "ReplicaSet" {
        meta["generateName"] = json!(format!("{}-", p.owner_name));
    }
    if let Some(a) = template.pointer("/metadata/annotations") {
        meta["annotations"] = a.clone();
    }
    json!({
        "metadata": meta,
        "spec": spec,
        "status": {
            "phase": "Pending",
            "hostIP": p.host_ip,
            "hostIPs": [{"ip": p.host_ip}],
            "podIP": p.pod_ip,
            "podIPs": [{"ip": p.pod_ip}],
            "qosClass": "Burstable",
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": created}
            ],
        }
    })
}

#[allow(clippy::too_many_arguments)]
pub fn event(
    ns: &str,
    name: &str,
    involved: Value,
    reason: &str,
    message: &str,
    ty: &str,
    component: &str,
    host: &str,
    first: &str,
    last: &str,
    count: u64,
) -> Value {
    json!({
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": first},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": if host.is_empty() { json!({"component": component}) } else { json!({"component": component, "host": host}) },
        "firstTimestamp": first,
        "lastTimestamp": last,
        "count": count,
        "type": ty,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": host,
    })
}
