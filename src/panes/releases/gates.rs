//! What a wave's gates read in one region, and their verdict. The pod
//! facts are triage's own (`fleet::owners::OwnerIndex`, built from the same
//! pod rows), so a gate and the triage list never disagree about a pod.

use super::plan::WaveGates;
use crate::fleet::lean::LeanPod;
use crate::fleet::owners::{OwnerIndex, OwnerKind, WorkloadKey};
use crate::model::{RegionId, Timestamp};
use crate::panes::workloads::rollout::{self, RolloutState};
use crate::write::ReadClient;
use k8s_openapi::api::apps::v1::Deployment;
use serde::Deserialize;

/// One reading of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub rollout: RolloutState,
    /// Pods crash-looping now (names).
    pub crash_looping: Vec<String>,
    /// Pods unready past the grace period (names).
    pub unready: Vec<String>,
    /// Probe failures (Unhealthy event counts) of the workload's pods.
    pub probe_failures: u64,
    /// The images the template runs.
    pub images: Vec<String>,
}

/// The verdict on one reading: `Err(why)` fails the wave.
/// `probe_baseline` is the count when the wave began; `rolling` says the
/// rollout may still be under way (unready pods of a rollout in progress
/// are expected; crash loops are not).
pub fn check(
    gates: &WaveGates,
    r: &Reading,
    probe_baseline: u64,
    rolling: bool,
) -> Result<(), String> {
    if gates.no_crash_loop && !r.crash_looping.is_empty() {
        return Err(format!(
            "crash loop: {} pod(s) ({})",
            r.crash_looping.len(),
            r.crash_looping.join(", ")
        ));
    }
    if r.rollout == RolloutState::Stalled {
        return Err("the rollout exceeded its progress deadline".into());
    }
    let failures = r.probe_failures.saturating_sub(probe_baseline);
    if failures > u64::from(gates.max_probe_failures) {
        return Err(format!(
            "probe failures: {failures} since the wave began (at most {})",
            gates.max_probe_failures
        ));
    }
    if !rolling && r.unready.len() > gates.max_unready as usize {
        return Err(format!(
            "{} pod(s) unready (at most {}): {}",
            r.unready.len(),
            gates.max_unready,
            r.unready.join(", ")
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct List<T> {
    items: Vec<T>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EventItem {
    involved_object: Involved,
    count: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Involved {
    kind: String,
    name: String,
}

fn get(path: &str) -> Result<http::Request<Vec<u8>>, String> {
    http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| e.to_string())
}

fn text(e: &kube::Error) -> String {
    crate::write::error_text(e)
}

/// Percent-encodes a label selector for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads a Deployment, its pods and their probe failures through the
/// read-only handle. `index` keeps the pod facts between readings (how
/// long a pod has been unready, a crash loop's stickiness), as the
/// cockpit's store does.
pub async fn read(
    client: &ReadClient,
    region: RegionId,
    namespace: &str,
    name: &str,
    index: &mut OwnerIndex,
    now: Timestamp,
) -> Result<Reading, String> {
    let base = format!("/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
    let d: Deployment = client
        .request(get(&base)?)
        .await
        .map_err(|e| format!("cannot read deployment {name}: {}", text(&e)))?;
    let selector = d
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.as_ref())
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let pods: List<LeanPod> = client
        .request(get(&format!(
            "/api/v1/namespaces/{namespace}/pods?labelSelector={}&limit=1000",
            encode(&selector)
        ))?)
        .await
        .map_err(|e| format!("cannot list pods of {name}: {}", text(&e)))?;
    let key = WorkloadKey {
        region,
        namespace: namespace.to_string(),
        kind: OwnerKind::Deployment,
        name: name.to_string(),
    };
    let rows: Vec<_> = pods
        .items
        .into_iter()
        .map(|p| crate::fleet::pod_row::pod_row(region, p))
        .collect();
    // pods gone since the last reading leave the index
    let present: std::collections::HashSet<&str> = rows.iter().map(|r| r.uid.as_str()).collect();
    let gone: Vec<String> = index
        .pods_of(&key)
        .map(|m| {
            m.keys()
                .filter(|uid| !present.contains(uid.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    for uid in gone {
        index.remove(region, &uid);
    }
    for row in &rows {
        index.upsert(row, now);
    }
    let mut crash_looping = Vec::new();
    let mut unready = Vec::new();
    let mut names = std::collections::HashSet::new();
    if let Some(facts) = index.pods_of(&key) {
        for f in facts.values().filter(|f| !f.deleting) {
            names.insert(f.name.clone());
            if f.crash_at(now).is_some() {
                crash_looping.push(f.name.clone());
            }
            if f.unready_at(now).is_some() {
                unready.push(f.name.clone());
            }
        }
    }
    crash_looping.sort();
    unready.sort();
    let events: List<EventItem> = client
        .request(get(&format!(
            "/api/v1/namespaces/{namespace}/events?fieldSelector={}&limit=5000",
            encode("reason=Unhealthy")
        ))?)
        .await
        .map_err(|e| format!("cannot list events of {name}: {}", text(&e)))?;
    let probe_failures = events
        .items
        .iter()
        .filter(|e| e.involved_object.kind == "Pod" && names.contains(&e.involved_object.name))
        .map(|e| e.count.unwrap_or(1))
        .sum();
    Ok(Reading {
        rollout: rollout::status(&d),
        crash_looping,
        unready,
        probe_failures,
        images: rollout::running_images(&d),
    })
}
