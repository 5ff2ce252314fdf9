//! Serde helpers shared by the lean object types: metadata that keeps only
//! what the cockpit reads (no managedFields, no last-applied annotation) and
//! lenient timestamps (a malformed time is dropped, not a failed object).

use crate::model::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
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

/// Metadata fields the cockpit reads, parsed straight into k8s-openapi's
/// `ObjectMeta` so the lean types can implement `kube::Resource`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct LeanMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    generation: Option<i64>,
    creation_timestamp: Option<String>,
    deletion_timestamp: Option<String>,
    #[serde(deserialize_with = "kept_annotations")]
    annotations: Option<BTreeMap<String, String>>,
}

fn to_time(s: Option<String>) -> Option<Time> {
    s.as_deref()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(Time)
}

/// `deserialize_with` for `metadata`.
pub fn lean_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = LeanMeta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resource_version: m.resource_version,
        generation: m.generation,
        creation_timestamp: to_time(m.creation_timestamp),
        deletion_timestamp: to_time(m.deletion_timestamp),
        annotations: m.annotations,
        ..ObjectMeta::default()
    })
}

/// Keeps only `KEPT_ANNOTATIONS`; the values of the others are skipped
/// without being copied.
fn kept_annotations<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    struct Kept;
    impl<'de> Visitor<'de> for Kept {
        type Value = Option<BTreeMap<String, String>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of annotations")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
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
            Ok(Some(kept))
        }
    }
    d.deserialize_option(Kept)
}

/// The metadata's times as epoch seconds.
pub fn created(meta: &ObjectMeta) -> Timestamp {
    meta.creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .unwrap_or(0)
}

/// Implements `kube::Resource` for a lean type with a `metadata: ObjectMeta`
/// field, so the core's watcher machinery can stream it.
macro_rules! lean_resource {
    ($ty:ty, $group:literal, $version:literal, $kind:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;
            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $version.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(
                &mut self,
            ) -> &mut k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}
pub(crate) use lean_resource;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Obj {
        #[serde(deserialize_with = "lean_meta")]
        metadata: ObjectMeta,
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
        assert_eq!(m.name.as_deref(), Some("checkout"));
        assert_eq!(m.resource_version.as_deref(), Some("42"));
        assert!(m.labels.is_none() && m.managed_fields.is_none());
        let ann = m.annotations.unwrap();
        assert_eq!(ann.len(), 1);
        assert_eq!(ann["deployment.kubernetes.io/revision"], "7");
        assert_eq!(
            created(&ObjectMeta {
                creation_timestamp: to_time(Some("2026-11-23T03:00:00Z".into())),
                ..Default::default()
            }),
            parse_time("2026-11-23T03:00:00Z").unwrap()
        );
    }

    #[test]
    fn times_parse_both_precisions_and_tolerate_garbage() {
        assert_eq!(parse_time("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(parse_time("1970-01-01T00:01:00.123456Z"), Some(60));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
