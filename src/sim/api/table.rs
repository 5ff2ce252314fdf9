//! Server-side printing: `meta.k8s.io/v1` Tables, which `kubectl get` asks
//! for, with the columns the real API server prints for each kind; and
//! PartialObjectMetadata for metadata-only clients.

use crate::world::store::Kind;
use serde_json::{json, Value};

/// What the client asked for in `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    Metadata,
}

pub fn format(accept: &str) -> Format {
    // The first acceptable type wins, as the server negotiates.
    for part in accept.split(',') {
        if part.contains("as=Table") {
            return Format::Table;
        }
        if part.contains("as=PartialObjectMetadata") {
            return Format::Metadata;
        }
        let base = part.split(';').next().unwrap_or("").trim();
        if base == "application/json" || base == "*/*" || base == "application/*" {
            return Format::Json;
        }
    }
    Format::Json
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn u(v: &Value, p: &str) -> u64 {
    v.pointer(p).and_then(Value::as_u64).unwrap_or(0)
}

/// `duration.HumanDuration` from apimachinery.
pub fn human(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    let secs = secs.max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{s}s")
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        let mm = m % 60;
        if mm == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{mm}m")
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        let hh = h % 24;
        if hh == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{hh}h")
        }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else {
        let y = d / 365;
        if y < 8 {
            format!("{y}y{}d", d % 365)
        } else {
            format!("{y}y")
        }
    }
}

fn age(now: jiff::Timestamp, stamp: &str) -> String {
    match crate::world::clock::parse(stamp) {
        Some(t) => human(now.duration_since(t).as_secs()),
        None => "<unknown>".into(),
    }
}

fn col(name: &str, ty: &str, priority: u8) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": ty, "format": format, "description": "", "priority": priority})
}

pub fn columns(kind: Kind) -> Value {
    let c = match kind {
        Kind::Pod => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Status", "string", 0),
            col("Restarts", "string", 0),
            col("Age", "string", 0),
            col("IP", "string", 1),
            col("Node", "string", 1),
            col("Nominated Node", "string", 1),
            col("Readiness Gates", "string", 1),
        ],
        Kind::Node => vec![
            col("Name", "string", 0),
            col("Status", "string", 0),
            col("Roles", "string", 0),
            col("Age", "string", 0),
            col("Version", "string", 0),
            col("Internal-IP", "string", 1),
            col("External-IP", "string", 1),
            col("OS-Image", "string", 1),
            col("Kernel-Version", "string", 1),
            col("Container-Runtime", "string", 1),
        ],
        Kind::Deployment => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Up-to-date", "integer", 0),
            col("Available", "integer", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        Kind::ReplicaSet => vec![
            col("Name", "string", 0),
            col("Desired", "integer", 0),
            col("Current", "integer", 0),
            col("Ready", "integer", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
            col("Selector", "string", 1),
        ],
        Kind::StatefulSet => vec![
            col("Name", "string", 0),
            col("Ready", "string", 0),
            col("Age", "string", 0),
            col("Containers", "string", 1),
            col("Images", "string", 1),
        ],
        Kind::Event => vec![
            col("Last Seen", "string", 0),
            col("Type", "string", 0),
            col("Reason", "string", 0),
            col("Object", "string", 0),
            col("Message", "string", 0),
        ],
        Kind::Namespace => vec![
            col("Name", "string", 0),
            col("Status", "string", 0),
            col("Age", "string", 0),
        ],
        Kind::Service => vec![
            col("Name", "string", 0),
            col("Type", "string", 0),
            col("Cluster-IP", "string", 0),
            col("External-IP", "string", 0),
            col("Port(s)", "string", 0),
            col("Age", "string", 0),
            col("Selector", "string", 1),
        ],
        Kind::HorizontalPodAutoscaler => vec![
            col("Name", "string", 0),
            col("Reference", "string", 0),
            col("Targets", "string", 0),
            col("MinPods", "string", 0),
            col("MaxPods", "integer", 0),
            col("Replicas", "integer", 0),
            col("Age", "string", 0),
        ],
        Kind::Endpoints => vec![
            col("Name", "string", 0),
            col("Endpoints", "string", 0),
            col("Age", "string", 0),
        ],
        Kind::ConfigMap => vec![
            col("Name", "string", 0),
            col("Data", "string", 0),
            col("Age", "string", 0),
        ],
    };
    Value::Array(c)
}

/// `k=v,k2=v2` of the string map at `pointer`, if there is one.
fn labels_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_object).map(|m| {
        m.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// What kubectl prints for an empty value.
fn or_none(x: &str) -> &str {
    if x.is_empty() {
        "<none>"
    } else {
        x
    }
}

fn selector_string(v: &Value) -> String {
    labels_at(v, "/spec/selector/matchLabels").unwrap_or_default()
}

fn containers(v: &Value) -> (String, String) {
    let cs = v
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    (
        cs.iter()
            .map(|c| s(c, "/name"))
            .collect::<Vec<_>>()
            .join(","),
        cs.iter()
            .map(|c| s(c, "/image"))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// READY of a Deployment or StatefulSet: ready replicas of desired.
fn ready_of_desired(v: &Value) -> String {
    format!(
        "{}/{}",
        u(v, "/status/readyReplicas"),
        u(v, "/spec/replicas")
    )
}

/// The STATUS column of `kubectl get pods` (printPod).
pub fn pod_status(v: &Value) -> String {
    let mut reason = s(v, "/status/phase").to_string();
    if !s(v, "/status/reason").is_empty() {
        reason = s(v, "/status/reason").to_string();
    }
    if let Some(cs) = v
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs.iter().rev() {
            if let Some(w) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
                reason = w.to_string();
            } else if let Some(t) = c.pointer("/state/terminated") {
                reason = match t.get("reason").and_then(Value::as_str) {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => format!("ExitCode:{}", u(t, "/exitCode")),
                };
            }
        }
    }
    if v.pointer("/metadata/deletionTimestamp").is_some() {
        reason = "Terminating".into();
    }
    reason
}

fn row(kind: Kind, v: &Value, now: jiff::Timestamp) -> Value {
    let name = s(v, "/metadata/name");
    let created = s(v, "/metadata/creationTimestamp");
    match kind {
        Kind::Pod => {
            let cs = v
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = v
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map(|a| a.len())
                .unwrap_or(0);
            let ready = cs
                .iter()
                .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                .count();
            let restarts: u64 = cs.iter().map(|c| u(c, "/restartCount")).sum();
            let last = cs
                .iter()
                .filter_map(|c| {
                    c.pointer("/lastState/terminated/finishedAt")
                        .and_then(Value::as_str)
                })
                .max()
                .map(|t| format!(" ({} ago)", age(now, t)));
            let restarts = match (restarts, last) {
                (r, Some(l)) if r > 0 => format!("{r}{l}"),
                (r, _) => r.to_string(),
            };
            let ip = or_none(s(v, "/status/podIP"));
            let node = or_none(s(v, "/spec/nodeName"));
            json!([
                name,
                format!("{ready}/{total}"),
                pod_status(v),
                restarts,
                age(now, created),
                ip,
                node,
                "<none>",
                "<none>"
            ])
        }
        Kind::Node => {
            let ready = v
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| c.iter().find(|c| s(c, "/type") == "Ready"))
                .map(|c| {
                    if s(c, "/status") == "True" {
                        "Ready"
                    } else {
                        "NotReady"
                    }
                })
                .unwrap_or("Unknown");
            let status = if v.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true)
            {
                format!("{ready},SchedulingDisabled")
            } else {
                ready.to_string()
            };
            let ip = v
                .pointer("/status/addresses")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|x| s(x, "/type") == "InternalIP"))
                .map(|x| s(x, "/address").to_string())
                .unwrap_or_else(|| "<none>".into());
            json!([
                name,
                status,
                "<none>",
                age(now, created),
                s(v, "/status/nodeInfo/kubeletVersion"),
                ip,
                "<none>",
                s(v, "/status/nodeInfo/osImage"),
                s(v, "/status/nodeInfo/kernelVersion"),
                s(v, "/status/nodeInfo/containerRuntimeVersion")
            ])
        }
        Kind::Deployment => {
            let (c, i) = containers(v);
            json!([
                name,
                ready_of_desired(v),
                u(v, "/status/updatedReplicas"),
                u(v, "/status/availableReplicas"),
                age(now, created),
                c,
                i,
                selector_string(v)
            ])
        }
        Kind::ReplicaSet => {
            let (c, i) = containers(v);
            json!([
                name,
                u(v, "/spec/replicas"),
                u(v, "/status/replicas"),
                u(v, "/status/readyReplicas"),
                age(now, created),
                c,
                i,
                selector_string(v)
            ])
        }
        Kind::StatefulSet => {
            let (c, i) = containers(v);
            json!([name, ready_of_desired(v), age(now, created), c, i])
        }
        Kind::HorizontalPodAutoscaler => json!([
            name,
            format!(
                "{}/{}",
                s(v, "/spec/scaleTargetRef/kind"),
                s(v, "/spec/scaleTargetRef/name")
            ),
            crate::world::hpa::targets(v),
            u(v, "/spec/minReplicas").max(1).to_string(),
            u(v, "/spec/maxReplicas"),
            u(v, "/status/currentReplicas"),
            age(now, created)
        ]),
        Kind::Event => {
            let last = match s(v, "/lastTimestamp") {
                "" => s(v, "/eventTime"),
                x => x,
            };
            let count = u(v, "/count");
            let seen = if count > 1 {
                format!(
                    "{} (x{count} over {})",
                    age(now, last),
                    age(now, s(v, "/firstTimestamp"))
                )
            } else {
                age(now, last)
            };
            let obj = format!(
                "{}/{}",
                s(v, "/involvedObject/kind").to_lowercase(),
                s(v, "/involvedObject/name")
            );
            json!([seen, s(v, "/type"), s(v, "/reason"), obj, s(v, "/message")])
        }
        Kind::Namespace => json!([name, s(v, "/status/phase"), age(now, created)]),
        Kind::ConfigMap => {
            let keys = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len())
            };
            json!([name, keys("/data") + keys("/binaryData"), age(now, created)])
        }
        Kind::Service => {
            let ports = v
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .map(|p| format!("{}/{}", u(p, "/port"), s(p, "/protocol")))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| "<none>".into());
            let sel = labels_at(v, "/spec/selector").unwrap_or_else(|| "<none>".into());
            json!([
                name,
                s(v, "/spec/type"),
                s(v, "/spec/clusterIP"),
                "<none>",
                ports,
                age(now, created),
                sel
            ])
        }
        Kind::Endpoints => {
            let mut eps = Vec::new();
            for sub in v
                .pointer("/subsets")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let ports: Vec<u64> = sub
                    .get("ports")
                    .and_then(Value::as_array)
                    .map(|p| p.iter().map(|p| u(p, "/port")).collect())
                    .unwrap_or_default();
                for a in sub
                    .get("addresses")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    for p in &ports {
                        eps.push(format!("{}:{p}", s(&a, "/ip")));
                    }
                }
            }
            let shown = if eps.is_empty() {
                "<none>".to_string()
            } else if eps.len() > 3 {
                format!("{} + {} more...", eps[..3].join(","), eps.len() - 3)
            } else {
                eps.join(",")
            };
            json!([name, shown, age(now, created)])
        }
    }
}

pub fn partial_metadata(v: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": v.get("metadata").cloned().unwrap_or(Value::Null)})
}

/// A Table of `items` (already parsed objects).
pub fn table(
    kind: Kind,
    items: &[Value],
    list_meta: Value,
    include_object: &str,
    now: jiff::Timestamp,
) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|v| {
            let object = match include_object {
                "Object" => v.clone(),
                "None" => Value::Null,
                _ => partial_metadata(v),
            };
            json!({"cells": row(kind, v, now), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns(kind),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        assert_eq!(human(5), "5s");
        assert_eq!(human(119), "119s");
        assert_eq!(human(150), "2m30s");
        assert_eq!(human(3600), "60m");
        assert_eq!(human(4 * 3600 + 60), "4h1m");
        assert_eq!(human(30 * 3600), "30h");
        assert_eq!(human(3 * 86_400 + 3600), "3d1h");
        assert_eq!(human(30 * 86_400), "30d");
    }

    #[test]
    fn pod_status_prefers_waiting_reason_and_terminating() {
        let mut p = json!({"status": {"phase": "Running", "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}, "metadata": {}});
        assert_eq!(pod_status(&p), "CrashLoopBackOff");
        p["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(pod_status(&p), "Terminating");
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(
            format("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
            Format::Table
        );
        assert_eq!(format("application/json"), Format::Json);
        assert_eq!(
            format("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Format::Metadata
        );
    }
}
