//! Lean serde types for the two Event shapes the API serves, each turned
//! into one `model::EventRow`. Serde skips every field not listed here.
//!
//! - core/v1 `Event`: `count`, `firstTimestamp`/`lastTimestamp`,
//!   `involvedObject`, `message`, `source` (and, from newer recorders,
//!   `eventTime` + `series`).
//! - events.k8s.io/v1 `Event`: `series.count`/`series.lastObservedTime`,
//!   `eventTime`, `regarding`, `note`, `reportingController` (and the
//!   `deprecated*` copies of the old fields).

use super::lean::{opt_time, LeanMeta};
use crate::model::{EventRow, InvolvedObject, RegionId, Timestamp};
use serde::Deserialize;

/// The object an event is about (`involvedObject` / `regarding`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectRef {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub uid: Option<String>,
    pub field_path: Option<String>,
}

impl From<ObjectRef> for InvolvedObject {
    fn from(r: ObjectRef) -> Self {
        InvolvedObject {
            kind: r.kind.unwrap_or_default(),
            namespace: r.namespace.unwrap_or_default(),
            name: r.name.unwrap_or_default(),
            uid: r.uid.unwrap_or_default(),
            field_path: r.field_path.unwrap_or_default(),
        }
    }
}

/// `series`: repeated occurrences of one event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Series {
    pub count: Option<i64>,
    #[serde(deserialize_with = "opt_time")]
    pub last_observed_time: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventSource {
    pub component: Option<String>,
    pub host: Option<String>,
}

/// core/v1 `Event`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CoreEvent {
    pub metadata: LeanMeta,
    pub involved_object: ObjectRef,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub count: Option<i64>,
    #[serde(deserialize_with = "opt_time")]
    pub first_timestamp: Option<Timestamp>,
    #[serde(deserialize_with = "opt_time")]
    pub last_timestamp: Option<Timestamp>,
    #[serde(deserialize_with = "opt_time")]
    pub event_time: Option<Timestamp>,
    pub series: Option<Series>,
    pub source: Option<EventSource>,
    pub reporting_component: Option<String>,
}

/// events.k8s.io/v1 `Event`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventsV1Event {
    pub metadata: LeanMeta,
    pub regarding: ObjectRef,
    pub reason: Option<String>,
    pub note: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    #[serde(deserialize_with = "opt_time")]
    pub event_time: Option<Timestamp>,
    pub series: Option<Series>,
    pub reporting_controller: Option<String>,
    pub deprecated_count: Option<i64>,
    #[serde(deserialize_with = "opt_time")]
    pub deprecated_first_timestamp: Option<Timestamp>,
    #[serde(deserialize_with = "opt_time")]
    pub deprecated_last_timestamp: Option<Timestamp>,
    pub deprecated_source: Option<EventSource>,
}

/// A count from the wire as the row's `u32`: absent or non-positive = 1.
fn clamp_count(c: Option<i64>) -> u32 {
    match c {
        Some(c) if c > 0 => u32::try_from(c).unwrap_or(u32::MAX),
        _ => 1,
    }
}

fn base_row(region: RegionId, meta: &LeanMeta) -> EventRow {
    EventRow {
        region,
        uid: meta.uid.clone(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        ..EventRow::default()
    }
}

impl CoreEvent {
    pub fn into_row(self, region: RegionId) -> EventRow {
        let mut row = base_row(region, &self.metadata);
        let series = self.series.unwrap_or_default();
        // Newer recorders fill eventTime + series and leave the old fields
        // empty; older ones do the opposite.
        row.count = match (self.count, series.count) {
            (Some(c), _) if c > 0 => clamp_count(Some(c)),
            (_, s) => clamp_count(s),
        };
        let first = self
            .first_timestamp
            .or(self.event_time)
            .unwrap_or_else(|| self.metadata.created());
        let last = [
            self.last_timestamp,
            series.last_observed_time,
            self.event_time,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(first);
        row.first_seen = first;
        row.last_seen = last.max(first);
        row.object = self.involved_object.into();
        row.type_ = self.type_.unwrap_or_default();
        row.reason = self.reason.unwrap_or_default();
        row.message = self.message.unwrap_or_default();
        row.source = self
            .source
            .and_then(|s| s.component)
            .filter(|c| !c.is_empty())
            .or(self.reporting_component)
            .unwrap_or_default();
        row
    }
}

impl EventsV1Event {
    pub fn into_row(self, region: RegionId) -> EventRow {
        let mut row = base_row(region, &self.metadata);
        let series = self.series.unwrap_or_default();
        row.count = match (series.count, self.deprecated_count) {
            (Some(c), _) if c > 0 => clamp_count(Some(c)),
            (_, d) => clamp_count(d),
        };
        let first = self
            .event_time
            .or(self.deprecated_first_timestamp)
            .unwrap_or_else(|| self.metadata.created());
        let last = [
            series.last_observed_time,
            self.deprecated_last_timestamp,
            self.event_time,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(first);
        row.first_seen = first;
        row.last_seen = last.max(first);
        row.object = self.regarding.into();
        row.type_ = self.type_.unwrap_or_default();
        row.reason = self.reason.unwrap_or_default();
        row.message = self.note.unwrap_or_default();
        row.source = self
            .reporting_controller
            .filter(|c| !c.is_empty())
            .or(self.deprecated_source.and_then(|s| s.component))
            .unwrap_or_default();
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::lean::parse_time;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        parse_time(s).unwrap()
    }

    #[test]
    fn core_v1_event_with_count_and_timestamps() {
        let ev: CoreEvent = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "checkout-7d9f-abcde.17a", "namespace": "shop", "uid": "e1",
                         "resourceVersion": "9", "managedFields": [{"manager": "kubelet"}]},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f-abcde",
                               "uid": "p1", "fieldPath": "spec.containers{checkout}",
                               "apiVersion": "v1", "resourceVersion": "5"},
            "reason": "Unhealthy",
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "type": "Warning", "count": 5,
            "firstTimestamp": "2026-11-23T03:00:00Z", "lastTimestamp": "2026-11-23T03:02:00Z",
            "eventTime": null,
            "source": {"component": "kubelet", "host": "node-1"},
            "reportingComponent": "kubelet", "reportingInstance": "node-1"
        }))
        .unwrap();
        let row = ev.into_row(2);
        assert_eq!(row.region, 2);
        assert_eq!(row.uid, "e1");
        assert_eq!(row.count, 5);
        assert_eq!(row.first_seen, t("2026-11-23T03:00:00Z"));
        assert_eq!(row.last_seen, t("2026-11-23T03:02:00Z"));
        assert_eq!(row.object.kind, "Pod");
        assert_eq!(row.object.uid, "p1");
        assert_eq!(row.object.field_path, "spec.containers{checkout}");
        assert_eq!(row.reason, "Unhealthy");
        assert_eq!(row.type_, "Warning");
        assert_eq!(row.source, "kubelet");
        assert!(row.message.ends_with("statuscode: 503"));
    }

    #[test]
    fn core_v1_event_from_a_series_recorder() {
        let ev: CoreEvent = serde_json::from_value(json!({
            "metadata": {"name": "e", "namespace": "shop", "uid": "e2"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "shop"},
            "reason": "Unhealthy", "message": "Liveness probe failed: context deadline exceeded",
            "type": "Warning",
            "eventTime": "2026-11-23T03:00:00.120000Z",
            "series": {"count": 4, "lastObservedTime": "2026-11-23T03:04:00.500000Z"},
            "reportingComponent": "kubelet"
        }))
        .unwrap();
        let row = ev.into_row(0);
        assert_eq!(row.count, 4);
        assert_eq!(row.first_seen, t("2026-11-23T03:00:00Z"));
        assert_eq!(row.last_seen, t("2026-11-23T03:04:00Z"));
        assert_eq!(row.source, "kubelet");
    }

    #[test]
    fn events_k8s_io_v1_event_with_series() {
        let ev: EventsV1Event = serde_json::from_value(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "shop", "uid": "e3",
                         "creationTimestamp": "2026-11-23T02:59:59Z"},
            "regarding": {"kind": "Pod", "namespace": "shop", "name": "checkout-1", "uid": "p9",
                          "fieldPath": "spec.containers{app}"},
            "reason": "Unhealthy",
            "note": "Startup probe failed: dial tcp 10.0.0.7:8080: connect: connection refused",
            "type": "Warning",
            "eventTime": "2026-11-23T03:00:00.000001Z",
            "series": {"count": 12, "lastObservedTime": "2026-11-23T03:10:00.000000Z"},
            "reportingController": "kubelet", "reportingInstance": "node-3",
            "action": "Probe"
        }))
        .unwrap();
        let row = ev.into_row(3);
        assert_eq!(row.count, 12);
        assert_eq!(row.first_seen, t("2026-11-23T03:00:00Z"));
        assert_eq!(row.last_seen, t("2026-11-23T03:10:00Z"));
        assert_eq!(row.object.name, "checkout-1");
        assert_eq!(row.object.field_path, "spec.containers{app}");
        assert!(row.message.starts_with("Startup probe failed"));
        assert_eq!(row.source, "kubelet");
    }

    #[test]
    fn events_v1_single_occurrence_and_deprecated_fields() {
        let single: EventsV1Event = serde_json::from_value(json!({
            "metadata": {"uid": "a"}, "reason": "Killing", "note": "Stopping container app",
            "eventTime": "2026-11-23T03:00:00Z"
        }))
        .unwrap();
        let row = single.into_row(0);
        assert_eq!(row.count, 1);
        assert_eq!(row.first_seen, row.last_seen);

        // an old-style event read through the new API
        let old: EventsV1Event = serde_json::from_value(json!({
            "metadata": {"uid": "b"}, "reason": "BackOff", "eventTime": null,
            "deprecatedCount": 9,
            "deprecatedFirstTimestamp": "2026-11-23T03:00:00Z",
            "deprecatedLastTimestamp": "2026-11-23T03:05:00Z",
            "deprecatedSource": {"component": "kubelet"}
        }))
        .unwrap();
        let row = old.into_row(0);
        assert_eq!(row.count, 9);
        assert_eq!(row.last_seen - row.first_seen, 300);
        assert_eq!(row.source, "kubelet");
    }

    #[test]
    fn missing_fields_and_bad_times_do_not_fail_the_object() {
        let ev: CoreEvent = serde_json::from_value(json!({
            "metadata": {"uid": "x", "creationTimestamp": "2026-11-23T03:00:00Z"},
            "count": 0, "firstTimestamp": "not a time", "lastTimestamp": null
        }))
        .unwrap();
        let row = ev.into_row(0);
        assert_eq!(row.count, 1);
        assert_eq!(row.first_seen, t("2026-11-23T03:00:00Z"));
        assert_eq!(row.last_seen, row.first_seen);
    }
}
