//! Reducer tests: event rows in, probe rows out.

use super::*;
use crate::fleet::events::{CoreEvent, EventsV1Event};
use crate::fleet::owners::tests::pod;
use crate::fleet::workloads::{ProbeTarget, WorkloadInfo};
use crate::model::{InvolvedObject, WorkloadKind, WorkloadRow};
use serde_json::json;

const T0: Timestamp = 1_800_000_000; // minute-aligned

fn ev(
    region: RegionId,
    uid: &str,
    pod_name: &str,
    message: &str,
    count: u32,
    first: Timestamp,
    last: Timestamp,
) -> EventRow {
    EventRow {
        region,
        uid: uid.into(),
        namespace: "shop".into(),
        name: format!("{pod_name}.{uid}"),
        object: InvolvedObject {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: pod_name.into(),
            uid: format!("uid-{pod_name}"),
            field_path: "spec.containers{app}".into(),
        },
        type_: "Warning".into(),
        reason: if message.starts_with("Container") {
            "Killing"
        } else {
            "Unhealthy"
        }
        .into(),
        message: message.into(),
        count,
        first_seen: first,
        last_seen: last,
        source: "kubelet".into(),
    }
}

const R503: &str = "Readiness probe failed: HTTP probe failed with statuscode: 503";

fn checkout_pods(region: RegionId, n: usize, not_ready: &[usize]) -> OwnerIndex {
    let mut idx = OwnerIndex::default();
    for i in 0..n {
        let name = format!("checkout-7d9f8-pod{i:02}");
        idx.upsert(
            &pod(
                region,
                &format!("uid-{name}"),
                &name,
                "checkout",
                !not_ready.contains(&i),
            ),
            T0,
        );
    }
    idx
}

fn key(region: RegionId, name: &str, kind: ProbeKind) -> ProbeKey {
    ProbeKey {
        workload: WorkloadKey {
            region,
            namespace: "shop".into(),
            kind: "Deployment".into(),
            name: name.into(),
        },
        kind,
    }
}

fn no_workloads() -> HashMap<WorkloadKey, WorkloadInfo> {
    HashMap::new()
}

#[test]
fn probe_messages_are_split_into_kind_and_detail() {
    assert_eq!(
        parse_probe_message(R503),
        Some((
            ProbeKind::Readiness,
            "HTTP probe failed with statuscode: 503"
        ))
    );
    assert_eq!(
        parse_probe_message(
            "Liveness probe failed: Get \"http://10.1.0.4:8080/healthz\": context deadline exceeded"
        )
        .map(|(k, d)| (k, d.ends_with("context deadline exceeded"))),
        Some((ProbeKind::Liveness, true))
    );
    assert_eq!(
        parse_probe_message("Startup probe errored: rpc error").map(|x| x.0),
        Some(ProbeKind::Startup)
    );
    assert_eq!(
        parse_probe_message("Back-off restarting failed container"),
        None
    );
    assert_eq!(container_of("spec.containers{app}"), "app");
    assert_eq!(container_of(""), "");
}

#[test]
fn minute_buckets_spread_rotate_and_sum() {
    let mut b = MinuteBuckets::default();
    let now = T0 + 30 * 60;
    // 10 occurrences over the 5 minutes ending now
    b.spread(10, now - 4 * 60, now, now);
    assert_eq!(b.sum_last(5, now), 10);
    assert_eq!(&b.series(now)[25..], &[2, 2, 2, 2, 2]);
    // an event an hour old lands nowhere in the window
    b.spread(7, now - 3600, now - 3600, now);
    assert_eq!(b.series(now).iter().sum::<u32>(), 10);
    // 31 minutes later the same slots are reused for new minutes
    let later = now + 31 * 60;
    assert_eq!(b.sum_last(30, later), 0);
    b.add(minute_of(later), 3, later);
    assert_eq!(b.series(later)[29], 3);
    assert_eq!(b.sum_last(30, later), 3);
    // remainder goes to the most recent minutes
    let mut c = MinuteBuckets::default();
    c.spread(5, now - 60, now, now);
    assert_eq!(&c.series(now)[28..], &[2, 3]);
}

#[test]
fn count_deltas_add_only_what_is_new_and_relist_adds_nothing() {
    let pods = checkout_pods(0, 6, &[0]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    let e = ev(
        0,
        "e1",
        "checkout-7d9f8-pod00",
        R503,
        5,
        now - 120,
        now - 60,
    );
    assert!(book.apply_event(&e, &pods, now));
    let total = |b: &ProbeBook| b.rows(&pods, &no_workloads(), now)[0].failures_total;
    assert_eq!(total(&book), 5);
    // the server bumps the aggregated event to 7: +2, not +7
    let e7 = ev(0, "e1", "checkout-7d9f8-pod00", R503, 7, now - 120, now);
    assert!(book.apply_event(&e7, &pods, now));
    assert_eq!(total(&book), 7);
    // relist: the same event, same count
    assert!(!book.apply_event(&e7, &pods, now));
    assert_eq!(total(&book), 7);
    // an older version replayed late never subtracts or re-adds
    assert!(!book.apply_event(&e, &pods, now));
    assert_eq!(total(&book), 7);
    let row = &book.rows(&pods, &no_workloads(), now)[0];
    assert_eq!(row.failures_5m, 7);
    assert_eq!(row.trend.iter().map(|&c| u64::from(c)).sum::<u64>(), 7);
    assert_eq!(row.first_seen, now - 120);
    assert_eq!(row.last_seen, now);
}

#[test]
fn both_event_shapes_aggregate_alike() {
    let pods = checkout_pods(1, 6, &[1]);
    let now = T0 + 600;
    let ts = |t: Timestamp| jiff::Timestamp::from_second(t).unwrap().to_string();
    let core: CoreEvent = serde_json::from_value(json!({
        "metadata": {"uid": "c1", "namespace": "shop", "name": "x"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f8-pod01",
                           "uid": "uid-checkout-7d9f8-pod01", "fieldPath": "spec.containers{app}"},
        "reason": "Unhealthy", "message": R503, "type": "Warning", "count": 4,
        "firstTimestamp": ts(now - 200), "lastTimestamp": ts(now - 10),
        "source": {"component": "kubelet"}
    }))
    .unwrap();
    let v1: EventsV1Event = serde_json::from_value(json!({
        "metadata": {"uid": "c1", "namespace": "shop", "name": "x"},
        "regarding": {"kind": "Pod", "namespace": "shop", "name": "checkout-7d9f8-pod01",
                      "uid": "uid-checkout-7d9f8-pod01", "fieldPath": "spec.containers{app}"},
        "reason": "Unhealthy", "note": R503, "type": "Warning",
        "eventTime": format!("{}", jiff::Timestamp::from_second(now - 200).unwrap()),
        "series": {"count": 4, "lastObservedTime": ts(now - 10)},
        "reportingController": "kubelet"
    }))
    .unwrap();
    let mut a = ProbeBook::default();
    let mut b = ProbeBook::default();
    a.apply_event(&core.into_row(1), &pods, now);
    b.apply_event(&v1.into_row(1), &pods, now);
    let ra = a.rows(&pods, &no_workloads(), now);
    let rb = b.rows(&pods, &no_workloads(), now);
    assert_eq!(ra, rb);
    assert_eq!(ra[0].key, key(1, "checkout", ProbeKind::Readiness));
    assert_eq!(ra[0].failures_total, 4);
    assert_eq!(ra[0].message, "HTTP probe failed with statuscode: 503");
}

#[test]
fn pods_affected_follow_readiness_and_pods_coming_and_going() {
    // 2 of 6 checkout pods fail readiness
    let mut pods = checkout_pods(0, 6, &[2, 4]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    for (i, p) in [2, 4].iter().enumerate() {
        let name = format!("checkout-7d9f8-pod{p:02}");
        book.apply_event(
            &ev(0, &format!("e{i}"), &name, R503, 3, now - 90, now - 5),
            &pods,
            now,
        );
    }
    let row = book.rows(&pods, &no_workloads(), now)[0].clone();
    assert_eq!((row.pods_affected, row.pods_total), (2, 6));
    assert_eq!(row.failures_5m, 6);
    assert_eq!(row.message, "HTTP probe failed with statuscode: 503");

    // pod04 is ready again: no longer affected, its failures stay counted
    pods.upsert(
        &pod(
            0,
            "uid-checkout-7d9f8-pod04",
            "checkout-7d9f8-pod04",
            "checkout",
            true,
        ),
        now,
    );
    let row = book.rows(&pods, &no_workloads(), now)[0].clone();
    assert_eq!((row.pods_affected, row.pods_total), (1, 6));
    assert_eq!(row.failures_total, 6);

    // pod02 is deleted, a replacement arrives
    let wk = pods.remove(0, "uid-checkout-7d9f8-pod02").unwrap();
    assert!(book.remove_pod(&wk, "uid-checkout-7d9f8-pod02"));
    pods.upsert(
        &pod(0, "uid-new", "checkout-7d9f8-pod99", "checkout", true),
        now,
    );
    let row = book.rows(&pods, &no_workloads(), now)[0].clone();
    assert_eq!((row.pods_affected, row.pods_total), (0, 6));
    // every pod is ready again: the row is history, no longer active,
    // though its failures still count in the last 5 min
    assert_eq!(row.failures_5m, 6);
    assert_eq!(row.severity, Severity::Quiet, "pods ready again");

    // ten minutes later nothing is recent any more
    let later = now + 600;
    let row = book.rows(&pods, &no_workloads(), later)[0].clone();
    assert_eq!((row.failures_5m, row.severity), (0, Severity::Quiet));
}

#[test]
fn liveness_restarts_come_from_killing_events() {
    let pods = checkout_pods(2, 4, &[]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    let name = "checkout-7d9f8-pod01";
    let live =
        "Liveness probe failed: Get \"http://10.1.0.4:8080/healthz\": context deadline exceeded";
    book.apply_event(&ev(2, "l1", name, live, 6, now - 120, now - 10), &pods, now);
    let kill = "Container app failed liveness probe, will be restarted";
    book.apply_event(
        &ev(2, "k1", name, kill, 1, now - 100, now - 100),
        &pods,
        now,
    );
    book.apply_event(&ev(2, "k1", name, kill, 2, now - 100, now - 10), &pods, now);
    let rows = book.rows(&pods, &no_workloads(), now);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.key.kind, ProbeKind::Liveness);
    assert_eq!(row.restarts, 2);
    assert_eq!(row.failures_total, 6, "Killing events are not failures");
    assert_eq!(row.severity, Severity::Critical);
    assert!(row.message.ends_with("context deadline exceeded"));
    // the detail lists the pod and the events, newest first
    let d = book.detail(&row.key, &pods, now).unwrap();
    assert_eq!(d.pods.len(), 1);
    assert_eq!((d.pods[0].0.name.as_str(), d.pods[0].1), (name, true));
    assert_eq!((d.pods[0].0.failures, d.pods[0].0.restarts), (6, 2));
    // one entry per event object, at its latest count
    assert_eq!(d.events.len(), 2);
    assert_eq!(d.events[0].reason, "Killing");
    assert_eq!(d.events[0].count, 2);
    assert_eq!(
        (d.events[1].reason.as_str(), d.events[1].count),
        ("Unhealthy", 6)
    );
}

fn workload_with_probe(
    region: RegionId,
    name: &str,
    timeout_s: u32,
    threshold: u32,
) -> WorkloadInfo {
    WorkloadInfo {
        row: WorkloadRow {
            region,
            kind: WorkloadKind::Deployment,
            namespace: "shop".into(),
            name: name.into(),
            desired: 6,
            ..WorkloadRow::default()
        },
        probes: vec![ProbeSpec {
            container: "app".into(),
            kind: ProbeKind::Readiness,
            target: ProbeTarget::Http {
                path: "/ready".into(),
                port: "8080".into(),
            },
            initial_delay_s: 0,
            period_s: 5,
            timeout_s,
            failure_threshold: threshold,
        }],
    }
}

#[test]
fn probe_config_is_attached_with_warnings() {
    let pods = checkout_pods(0, 6, &[0]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    let timeout = "Readiness probe failed: Get \"http://10.0.0.1:8080/ready\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
    book.apply_event(
        &ev(0, "e", "checkout-7d9f8-pod00", timeout, 2, now - 30, now),
        &pods,
        now,
    );
    let mut workloads = HashMap::new();
    let info = workload_with_probe(0, "checkout", 1, 1);
    workloads.insert(crate::fleet::store::workloads::workload_key(&info), info);
    book.set_observed_latency(key(0, "checkout", ProbeKind::Readiness).workload, 1800);
    let row = &book.rows(&pods, &workloads, now)[0];
    let spec = row.spec.as_ref().unwrap();
    assert_eq!((spec.timeout_s, spec.failure_threshold), (1, 1));
    assert_eq!(
        row.warnings,
        vec![
            ProbeWarning::ThresholdOne,
            ProbeWarning::TimeoutBelowLatency {
                timeout_s: 1,
                latency_ms: 1800
            },
            ProbeWarning::TimingOut { timeout_s: 1 },
        ]
    );
    assert!(row.warnings[0].to_string().contains("avalanche"));

    // a sane config on a 503 has no warnings
    let mut book = ProbeBook::default();
    book.apply_event(
        &ev(0, "e", "checkout-7d9f8-pod00", R503, 2, now - 30, now),
        &pods,
        now,
    );
    let mut workloads = HashMap::new();
    let info = workload_with_probe(0, "checkout", 3, 3);
    workloads.insert(crate::fleet::store::workloads::workload_key(&info), info);
    assert!(book.rows(&pods, &workloads, now)[0].warnings.is_empty());
}

#[test]
fn rows_sort_by_severity_then_share_of_pods() {
    let mut pods = checkout_pods(0, 6, &[0, 1, 2, 3]);
    for i in 0..10 {
        let name = format!("cart-5c4b3-pod{i:02}");
        pods.upsert(&pod(1, &format!("uid-{name}"), &name, "cart", i != 0), T0);
    }
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    // cart: 1 of 10 pods, many failures
    book.apply_event(
        &ev(1, "c", "cart-5c4b3-pod00", R503, 50, now - 200, now),
        &pods,
        now,
    );
    // checkout: 4 of 6 pods, few failures -> critical
    for i in 0..4 {
        let name = format!("checkout-7d9f8-pod{i:02}");
        book.apply_event(
            &ev(0, &format!("k{i}"), &name, R503, 1, now - 20, now - 20),
            &pods,
            now,
        );
    }
    // an old row: quiet
    book.apply_event(
        &ev(
            0,
            "old",
            "search-9f9f9-pod00",
            R503,
            3,
            now - 5000,
            now - 4000,
        ),
        &pods,
        now,
    );
    let rows = book.rows(&pods, &no_workloads(), now);
    let names: Vec<_> = rows
        .iter()
        .map(|r| (r.key.workload.name.as_str(), r.severity))
        .collect();
    assert_eq!(
        names,
        vec![
            ("checkout", Severity::Critical),
            ("cart", Severity::Warning),
            ("search", Severity::Quiet)
        ]
    );
    assert_eq!((rows[0].pods_affected, rows[0].pods_total), (4, 6));
}

#[test]
fn hundred_thousand_events_stay_within_the_caps() {
    let pods = OwnerIndex::default();
    let mut book = ProbeBook::default();
    let mut now = T0;
    let kinds = [
        R503,
        "Liveness probe failed: Get \"http://10.1.0.4:8080/healthz\": context deadline exceeded",
        "Startup probe failed: dial tcp 10.1.0.4:8080: connect: connection refused",
    ];
    let mut expected_total = 0u64;
    for i in 0..100_000u32 {
        if i % 100 == 0 {
            now += 1;
        }
        let region = (i % 4) as RegionId;
        let workload = (i / 7) % 3_000;
        let pod = format!("svc{workload}-7d9f8-p{:04}", i % 9_973);
        // every 5th event is an update of an earlier one (count grows)
        let (uid, count) = if i % 5 == 4 {
            (format!("ev{}", i - 4), 2)
        } else {
            (format!("ev{i}"), 1)
        };
        let msg = kinds[(i % 3) as usize];
        let e = ev(region, &uid, &pod, msg, count, now - 10, now);
        book.apply_event(&e, &pods, now);
        expected_total += 1;
    }
    let size = book.size();
    assert!(size.tracked_events <= MAX_TRACKED_EVENTS, "{size:?}");
    assert!(size.rows <= MAX_ROWS, "{size:?}");
    assert!(size.max_pods_in_a_row <= MAX_PODS_PER_ROW, "{size:?}");
    assert!(size.max_recent_in_a_row <= MAX_RECENT_PER_ROW, "{size:?}");
    // 100k events across 4 regions: retained state stays under 16 MiB
    assert!(size.bytes < 16 << 20, "{size:?}");
    // every occurrence is counted once, in the rows that are still kept
    let rows = book.rows(&pods, &no_workloads(), now);
    let counted: u64 = rows.iter().map(|r| r.failures_total).sum();
    assert!(counted > 0 && counted <= expected_total);
    eprintln!(
        "probe book after 100k events / 4 regions: {} rows, {} tracked events, ~{} KiB retained",
        size.rows,
        size.tracked_events,
        size.bytes / 1024
    );
}

#[test]
fn hostile_message_is_kept_bounded_and_raw_for_the_renderer() {
    let pods = OwnerIndex::default();
    let mut book = ProbeBook::default();
    let now = T0;
    let hostile = format!(
        "Readiness probe failed: \x1b]52;c;aGk=\x07{}",
        "A".repeat(10_000)
    );
    book.apply_event(
        &ev(0, "h", "checkout-7d9f8-pod00", &hostile, 1, now, now),
        &pods,
        now,
    );
    let row = &book.rows(&pods, &no_workloads(), now)[0];
    assert!(row.message.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
    // the renderer sanitises; the defused text holds no escape
    let shown = crate::sanitize::sanitize(&row.message);
    assert!(!shown.contains('\x1b') && !shown.contains('\x07'));
}

#[test]
fn other_warnings_of_a_failing_pod_join_its_recent_events_without_counting() {
    let pods = checkout_pods(0, 6, &[0]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    let pod = "checkout-7d9f8-pod00";
    book.apply_event(&ev(0, "u1", pod, R503, 2, now - 60, now - 30), &pods, now);
    let mut backoff = ev(
        0,
        "b1",
        pod,
        "Back-off restarting failed container",
        3,
        now - 50,
        now - 10,
    );
    backoff.reason = "BackOff".into();
    assert!(book.apply_event(&backoff, &pods, now));
    // a warning about a pod with no probe failures is not kept
    let mut other = ev(0, "b2", "checkout-7d9f8-pod03", "Back-off", 1, now, now);
    other.reason = "BackOff".into();
    assert!(!book.apply_event(&other, &pods, now));
    // nor is a Normal event
    let mut normal = ev(0, "n1", pod, "Started container app", 1, now, now);
    normal.reason = "Started".into();
    normal.type_ = "Normal".into();
    assert!(!book.apply_event(&normal, &pods, now));
    let key = key(0, "checkout", ProbeKind::Readiness);
    let d = book.detail(&key, &pods, now).unwrap();
    let reasons: Vec<_> = d.events.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(reasons, vec!["BackOff", "Unhealthy"]);
    assert_eq!(book.rows(&pods, &no_workloads(), now)[0].failures_total, 2);
}

#[test]
fn an_event_the_book_forgot_adds_only_its_delta_when_the_store_remembers() {
    let pods = checkout_pods(0, 6, &[0]);
    let mut book = ProbeBook::default();
    let now = T0 + 600;
    let pod = "checkout-7d9f8-pod00";
    // counted up to 5 earlier, then dropped from the book's tracking
    book.remember_event(
        &ev(0, "e1", pod, R503, 5, now - 300, now - 200),
        5,
        now - 200,
    );
    assert!(book.apply_event(&ev(0, "e1", pod, R503, 7, now - 300, now - 60), &pods, now));
    let rows = book.rows(&pods, &no_workloads(), now);
    assert_eq!(rows[0].failures_total, 2);
    // what the book already tracks is not overwritten
    book.remember_event(
        &ev(0, "e1", pod, R503, 1, now - 300, now - 300),
        1,
        now - 300,
    );
    assert!(!book.apply_event(&ev(0, "e1", pod, R503, 7, now - 300, now - 60), &pods, now));
}
