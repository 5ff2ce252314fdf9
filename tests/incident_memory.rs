//! Memory of the probe-failure aggregate under an event storm: 100,000
//! events across four regions, measured two ways: the structures' own byte
//! count (`ProbeBook::size`) and the process RSS delta (this test binary
//! runs just this one test, so the delta is the aggregate's).
//!
//! Run: `cargo test --test incident_memory -- --nocapture`

use pitwall::fleet::owners::OwnerIndex;
use pitwall::model::{EventRow, InvolvedObject};
use pitwall::panes::probes::book::ProbeBook;
use pitwall::panes::probes::book::{MAX_ROWS, MAX_TRACKED_EVENTS};
use std::collections::HashMap;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

const MESSAGES: [&str; 4] = [
    "Readiness probe failed: HTTP probe failed with statuscode: 503",
    "Liveness probe failed: Get \"http://10.1.0.4:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
    "Startup probe failed: dial tcp 10.1.0.4:8080: connect: connection refused",
    "Container app failed liveness probe, will be restarted",
];

/// Event `i` of the storm: 4 regions, 2,500 workloads per region, pods
/// recycled; one event in three is a count bump of an earlier one.
fn event(i: u64, now: i64) -> EventRow {
    let region = (i % 4) as usize;
    let workload = (i / 4) % 2_500;
    let pod = format!("svc-{workload}-5d8f7c9b-{:05}", i % 7_919);
    let (uid, count) = if i % 3 == 2 {
        (format!("ev-{}", i - 2), 3)
    } else {
        (format!("ev-{i}"), 1)
    };
    let reason = if i % 4 == 3 { "Killing" } else { "Unhealthy" };
    EventRow {
        region,
        uid,
        namespace: "shop".into(),
        name: format!("{pod}.{i:x}"),
        object: InvolvedObject {
            kind: "Pod".into(),
            namespace: "shop".into(),
            name: pod.clone(),
            uid: format!("uid-{pod}"),
            field_path: "spec.containers{app}".into(),
        },
        type_: "Warning".into(),
        reason: reason.into(),
        message: MESSAGES[(i % 4) as usize].into(),
        count,
        first_seen: now - 30,
        last_seen: now,
        source: "kubelet".into(),
    }
}

#[test]
fn hundred_thousand_events_across_four_regions_stay_bounded() {
    let before = rss_kib();
    let mut state = ProbeBook::default();
    let pods = OwnerIndex::default();
    let mut now = 1_800_000_000;
    for i in 0..100_000u64 {
        if i % 200 == 0 {
            now += 1;
        }
        state.apply_event(&event(i, now), &pods, now);
    }
    let size = state.size();
    let after = rss_kib();
    assert!(size.rows <= MAX_ROWS, "{size:?}");
    assert!(size.tracked_events <= MAX_TRACKED_EVENTS, "{size:?}");
    assert!(size.bytes < 16 << 20, "retained {} bytes", size.bytes);
    let rows = state.rows(&pods, &HashMap::new(), now);
    assert_eq!(rows.len(), size.rows);
    assert!(rows.iter().all(|r| r.failures_total > 0 || r.restarts > 0));
    if let (Some(b), Some(a)) = (before, after) {
        let delta = a.saturating_sub(b);
        println!(
            "100k events / 4 regions: {} rows, {} tracked events, retained ~{} KiB (counted), RSS +{} KiB",
            size.rows,
            size.tracked_events,
            size.bytes / 1024,
            delta
        );
        // generous: the allocator may keep freed pages, but not 4x the cap
        assert!(delta < 64 * 1024, "RSS grew by {delta} KiB");
    }
}
