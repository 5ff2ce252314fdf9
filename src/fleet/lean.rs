//! The wire policy of every streamed kind: one lean metadata type (no
//! managedFields, kept annotations and labels only), one lenient time
//! parser (a malformed time is dropped, never a failed object), and the pod
//! as the cockpit reads it: serde keeps only the fields the table shows and
//! skips the rest of the object (a full k8s-openapi `Pod` costs ~50 KB in
//! memory and parses several times slower).

use crate::model::Timestamp;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Annotations worth keeping; every other one is skipped while parsing.
pub const KEPT_ANNOTATIONS: &[&str] = &[
    "deployment.kubernetes.io/revision",
    "kubernetes.io/change-cause",
];

/// Parses an RFC 3339 time (`Time` or `MicroTime`) into epoch seconds.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// `deserialize_with` for optional times: absent, null, empty or malformed
/// all become `None`.
pub fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.as_deref().and_then(parse_time))
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanPod {
    pub metadata: LeanMeta,
    pub spec: LeanSpec,
    pub status: LeanStatus,
}

/// The metadata of every streamed kind.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanMeta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: String,
    pub generation: Option<i64>,
    #[serde(deserialize_with = "opt_time")]
    pub creation_timestamp: Option<Timestamp>,
    #[serde(deserialize_with = "opt_time")]
    pub deletion_timestamp: Option<Timestamp>,
    pub labels: LeanLabels,
    /// Only `KEPT_ANNOTATIONS`.
    #[serde(deserialize_with = "kept_annotations")]
    pub annotations: BTreeMap<String, String>,
    pub owner_references: Vec<LeanOwner>,
}

impl LeanMeta {
    /// Creation time in epoch seconds, 0 when unknown.
    pub fn created(&self) -> Timestamp {
        self.creation_timestamp.unwrap_or(0)
    }
}

/// Keeps only `KEPT_ANNOTATIONS`; the values of the others are skipped
/// without being copied.
fn kept_annotations<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct Kept;
    impl<'de> Visitor<'de> for Kept {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of annotations")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(Kept)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut kept = BTreeMap::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if KEPT_ANNOTATIONS.contains(&key.as_ref()) {
                    let v: String = map.next_value()?;
                    kept.insert(key.into_owned(), v);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(kept)
        }
    }
    d.deserialize_option(Kept)
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
    #[serde(deserialize_with = "opt_time")]
    pub started_at: Option<Timestamp>,
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
    #[serde(deserialize_with = "opt_time")]
    pub finished_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Obj {
        metadata: LeanMeta,
    }

    #[test]
    fn metadata_keeps_only_what_is_read() {
        let o: Obj = serde_json::from_value(serde_json::json!({"metadata": {
            "name": "checkout", "namespace": "shop", "uid": "u1", "resourceVersion": "42",
            "creationTimestamp": "2026-11-23T03:00:00Z",
            "labels": {"app": "checkout"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
            "annotations": {
                "deployment.kubernetes.io/revision": "7",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"huge\": true}"
            }
        }}))
        .unwrap();
        let m = o.metadata;
        assert_eq!(m.name, "checkout");
        assert_eq!(m.resource_version, "42");
        assert!(m.labels.pod_template_hash.is_none());
        let ann = &m.annotations;
        assert_eq!(ann.len(), 1);
        assert_eq!(ann["deployment.kubernetes.io/revision"], "7");
        assert_eq!(m.created(), parse_time("2026-11-23T03:00:00Z").unwrap());
    }

    #[test]
    fn times_parse_both_precisions_and_tolerate_garbage() {
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_time("1970-01-01T00:01:00.123456Z"), Some(60));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("yesterday"), None);
        // a malformed time drops the time, not the object
        let o: Obj = serde_json::from_value(serde_json::json!({"metadata": {
            "name": "p", "creationTimestamp": "yesterday", "deletionTimestamp": null
        }}))
        .unwrap();
        assert_eq!((o.metadata.name.as_str(), o.metadata.created()), ("p", 0));
    }
}
