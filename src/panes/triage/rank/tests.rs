//! Reducer tests: pods, workloads, events and region health in, the ranked
//! list out.

use super::*;
use crate::fleet::owners::tests::{crashlooping, pod};
use crate::model::{
    ContainerState, EventRow, InvolvedObject, PodRow, WorkloadCondition, WorkloadKind, WorkloadRow,
};
use fixture::Incident as IncidentState;

const T0: Timestamp = 1_800_000_000;
const CN_NORTH: RegionId = 0;
const US_EAST: RegionId = 1;

fn named(region: RegionId, workload: &str, i: usize, ready: bool) -> PodRow {
    let name = format!("{workload}-7d9f8-p{i:04}");
    pod(
        region,
        &format!("uid-{region}-{name}"),
        &name,
        workload,
        ready,
    )
}

fn readiness_event(p: &PodRow, count: u32, now: Timestamp) -> EventRow {
    EventRow {
        region: p.region,
        uid: format!("ev-{}", p.uid),
        namespace: p.namespace.clone(),
        name: format!("{}.1", p.name),
        object: InvolvedObject {
            kind: "Pod".into(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            uid: p.uid.clone(),
            field_path: "spec.containers{app}".into(),
        },
        type_: "Warning".into(),
        reason: "Unhealthy".into(),
        message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
        count,
        first_seen: now - 60,
        last_seen: now - 1,
        source: "kubelet".into(),
    }
}

fn deployment(region: RegionId, name: &str, desired: u32, updated: u32) -> WorkloadRow {
    WorkloadRow {
        region,
        kind: WorkloadKind::Deployment,
        uid: format!("d-{name}"),
        namespace: "shop".into(),
        name: name.into(),
        desired,
        updated,
        ready: updated,
        available: updated,
        revision: 4,
        generation: 2,
        observed_generation: 2,
        images: vec![format!("registry/{name}:2.0")],
        ..WorkloadRow::default()
    }
}

fn info(row: WorkloadRow) -> crate::fleet::workloads::WorkloadInfo {
    crate::fleet::workloads::WorkloadInfo {
        row,
        probes: vec![],
    }
}

fn summary(items: &[TriageItem]) -> Vec<(RegionId, &str, Problem, &str)> {
    items
        .iter()
        .map(|i| {
            (
                i.id.region,
                i.id.name.as_str(),
                i.id.problem,
                i.how_bad.as_str(),
            )
        })
        .collect()
}

/// cn-north: 2 of 6 checkout pods fail readiness. us-east: a rollout of
/// `api` whose new pods crash-loop.
fn incident(now: Timestamp) -> IncidentState {
    let mut s = IncidentState::default();
    s.set_region(CN_NORTH, RegionState::Live);
    s.set_region(US_EAST, RegionState::Live);
    for i in 0..6 {
        let p = named(CN_NORTH, "checkout", i, i >= 2);
        s.apply_pod(&p, now - 120);
        if i < 2 {
            s.apply_event(&readiness_event(&p, 8, now), now);
        }
    }
    s.apply_workload(info(deployment(CN_NORTH, "checkout", 6, 6)), T0);
    for i in 0..6 {
        s.apply_pod(&named(US_EAST, "api", i, true), now - 120);
    }
    for i in 6..8 {
        s.apply_pod(
            &crashlooping(named(US_EAST, "api", i, false), false),
            now - 60,
        );
    }
    let mut d = deployment(US_EAST, "api", 6, 2);
    d.generation = 3;
    d.observed_generation = 3;
    s.apply_workload(info(d), T0);
    s
}

#[test]
fn crash_looping_rollout_tops_the_list_above_readiness_failures() {
    let now = T0;
    let s = incident(now);
    let items = s.triage(now);
    let got = summary(&items);
    // one cause, one item: api's crash loop and its rollout are one stuck
    // rollout; checkout's unready pods and their readiness failures are one
    assert_eq!(
        got,
        vec![
            (
                US_EAST,
                "api",
                Problem::CrashLoop,
                "rollout of api stuck: 2/8 pods CrashLoopBackOff"
            ),
            (CN_NORTH, "checkout", Problem::Unready, "2/6 pods unready"),
        ]
    );
    let top = &items[0];
    assert_eq!(top.level, Level::Critical);
    assert_eq!(
        top.target,
        PodsTarget {
            region: US_EAST,
            namespace: Some("shop".into()),
            owner: Some(("Deployment".into(), "api".into())),
        }
    );
    assert!(!top.stale);
    assert!(
        top.detail.contains("rolling: 2/6 updated (rev 4)"),
        "{}",
        top.detail
    );
    let checkout = &items[1];
    assert_eq!(
        checkout.detail,
        "readiness failing (2/6 pods, 16 failures in 5m): HTTP probe failed with statuscode: 503"
    );
    assert!(checkout.since.is_some_and(|t| t <= now - 60));
}

/// The items the merge folds, computed alone: what each would say if the
/// other cause were not there.
fn alone(s: &IncidentState, now: Timestamp, name: &str, problem: Problem) -> TriageItem {
    let mut out = Vec::new();
    let rows = s.probe_rows(now);
    let input = TriageInput {
        pods: &s.pods,
        workloads: s.workloads.rows(),
        probe_rows: &rows,
        regions: &s.regions,
        rollout_since: s.workloads.rollout_since(),
        network: &[],
    };
    pod_items(&input, now, &mut out);
    rollout_items(&input, now, &mut out);
    probe_items(&input, &mut out);
    out.into_iter()
        .find(|i| i.id.name == name && i.id.problem == problem)
        .unwrap_or_else(|| panic!("no {problem} item for {name}"))
}

#[test]
fn unready_pods_and_their_readiness_failures_are_one_item() {
    let now = T0;
    let s = incident(now);
    let unready = alone(&s, now, "checkout", Problem::Unready);
    let probe = alone(
        &s,
        now,
        "checkout",
        Problem::ProbeFailures(ProbeKind::Readiness),
    );
    let items: Vec<_> = s
        .triage(now)
        .into_iter()
        .filter(|i| i.id.name == "checkout")
        .collect();
    assert_eq!(items.len(), 1, "{:?}", summary(&items));
    let merged = &items[0];
    assert_eq!(merged.id.problem, Problem::Unready);
    assert_eq!(merged.how_bad, "2/6 pods unready");
    // as severe as the worse, since the earlier
    assert_eq!(merged.score, unready.score.max(probe.score));
    assert_eq!(merged.level, unready.level.max(probe.level));
    assert_eq!(merged.since, unready.since.min(probe.since));
    assert_eq!(merged.target, unready.target);
}

#[test]
fn crash_loop_during_a_stuck_rollout_is_one_item_worded_by_the_rollout() {
    let now = T0;
    let mut s = IncidentState::default();
    s.set_region(0, RegionState::Live);
    for i in 0..18 {
        s.apply_pod(&named(0, "search", i, true), now - 900);
    }
    for i in 18..30 {
        s.apply_pod(
            &crashlooping(named(0, "search", i, false), false),
            now - 300,
        );
    }
    let mut d = deployment(0, "search", 30, 12);
    d.conditions.push(WorkloadCondition {
        type_: "Progressing".into(),
        status: "False".into(),
        reason: "ProgressDeadlineExceeded".into(),
        message: "ReplicaSet \"search-5f\" has timed out progressing.".into(),
        last_transition: Some(now - 600),
    });
    s.apply_workload(info(d), now);
    let crash = alone(&s, now, "search", Problem::CrashLoop);
    let stuck = alone(&s, now, "search", Problem::RolloutStuck);
    let items = s.triage(now);
    assert_eq!(
        summary(&items),
        vec![(
            0,
            "search",
            Problem::CrashLoop,
            "rollout of search stuck: 12/30 pods CrashLoopBackOff"
        )]
    );
    let merged = &items[0];
    assert_eq!(merged.score, crash.score.max(stuck.score));
    assert_eq!(merged.level, Level::Critical);
    assert_eq!(merged.since, crash.since.min(stuck.since));
    assert!(
        merged.detail.contains("timed out progressing"),
        "{}",
        merged.detail
    );
    // Enter still goes to the pods of search
    assert_eq!(merged.target, crash.target);
}

#[test]
fn pods_that_cannot_start_during_a_rollout_are_one_item() {
    let now = 2_100;
    let mut s = IncidentState::default();
    s.set_region(0, RegionState::Live);
    let mut p = named(0, "web", 0, false);
    p.containers[0].state = ContainerState::Waiting {
        reason: "ImagePullBackOff".into(),
        message: "Back-off pulling image".into(),
    };
    s.apply_pod(&p, now);
    s.apply_pod(&named(0, "web", 1, true), now);
    let mut d = deployment(0, "web", 2, 1);
    d.generation = 3;
    d.observed_generation = 3;
    s.apply_workload(info(d), now);
    let items = s.triage(now + 30);
    assert_eq!(
        summary(&items),
        vec![(
            0,
            "web",
            Problem::CannotStart,
            "rollout of web stuck: 1/2 pods ImagePullBackOff"
        )]
    );
    assert!(
        items[0].detail.starts_with("rolling: 1/2 updated"),
        "{}",
        items[0].detail
    );
}

#[test]
fn liveness_failing_on_crash_looping_pods_joins_the_crash_loop() {
    let now = T0;
    let mut s = IncidentState::default();
    s.set_region(0, RegionState::Live);
    for i in 0..4 {
        s.apply_pod(&named(0, "worker", i, true), now - 900);
    }
    for i in 4..6 {
        let p = crashlooping(named(0, "worker", i, false), false);
        s.apply_pod(&p, now - 300);
        let mut ev = readiness_event(&p, 5, now);
        ev.message = "Liveness probe failed: dial tcp 10.0.0.9:8080: connection refused".into();
        s.apply_event(&ev, now);
    }
    let crash = alone(&s, now, "worker", Problem::CrashLoop);
    let probe = alone(
        &s,
        now,
        "worker",
        Problem::ProbeFailures(ProbeKind::Liveness),
    );
    let items = s.triage(now);
    assert_eq!(
        summary(&items),
        vec![(0, "worker", Problem::CrashLoop, "2/6 pods CrashLoopBackOff")]
    );
    assert_eq!(items[0].score, crash.score.max(probe.score));
    assert_eq!(items[0].since, crash.since.min(probe.since));
    assert!(
        items[0].detail.starts_with("liveness failing (")
            && items[0].detail.contains("connection refused"),
        "{}",
        items[0].detail
    );
}

#[test]
fn distinct_causes_stay_distinct() {
    let now = 2_100;
    let mut s = IncidentState::default();
    s.set_region(0, RegionState::Live);
    s.set_region(1, RegionState::Stale { since: now - 60 });
    // worker: crash loop and OOM kills; a paused rollout of cart; web's
    // rollout with no pods in trouble; readiness failing with no pod
    // unready past its grace period stays a probe item
    s.apply_pod(&crashlooping(named(0, "worker", 0, false), true), now);
    let mut paused = deployment(0, "cart", 4, 2);
    paused.paused = true;
    s.apply_workload(info(paused), now);
    let mut rolling = deployment(0, "web", 4, 2);
    rolling.generation = 3;
    rolling.observed_generation = 3;
    s.apply_workload(info(rolling), now);
    let mut fresh = named(0, "checkout", 0, false);
    fresh.created = now - 3;
    s.apply_pod(&fresh, now);
    s.apply_event(&readiness_event(&fresh, 4, now), now);
    let items = s.triage(now);
    let mut problems: Vec<_> = items
        .iter()
        .map(|i| (i.id.region, i.id.name.as_str(), i.id.problem))
        .collect();
    problems.sort();
    assert_eq!(
        problems,
        vec![
            (0, "cart", Problem::RolloutPaused),
            (0, "checkout", Problem::ProbeFailures(ProbeKind::Readiness)),
            (0, "web", Problem::RolloutInProgress),
            (0, "worker", Problem::CrashLoop),
            (0, "worker", Problem::OomKilled),
            (1, "", Problem::RegionStale),
        ]
    );
}

#[test]
fn recovered_workloads_drop_off() {
    let now = T0;
    let mut s = incident(now);
    // checkout pods become ready; the api rollout is rolled back: the
    // crashing pods go away and the deployment is complete again
    for i in 0..2 {
        s.apply_pod(&named(CN_NORTH, "checkout", i, true), now + 10);
    }
    for i in 6..8 {
        let p = named(US_EAST, "api", i, false);
        s.remove_pod(US_EAST, &p.uid);
    }
    s.apply_workload(info(deployment(US_EAST, "api", 6, 6)), T0);
    let items = s.triage(now + 10);
    assert!(items.is_empty(), "{:?}", summary(&items));
    // probes agree: the pods are ready again, the row is no longer active
    let rows = s.probe_rows(now + 10);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].pods_affected, rows[0].severity),
        (0, crate::panes::probes::book::Severity::Quiet)
    );
    // the probe row itself is still there, with its history, but quiet
    // once five minutes pass
    let rows = s.probe_rows(now + 400);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].failures_total, 16);
    assert_eq!(
        rows[0].severity,
        crate::panes::probes::book::Severity::Quiet
    );
}

#[test]
fn unready_needs_a_grace_period_and_reports_the_share() {
    let mut s = IncidentState::default();
    s.set_region(0, RegionState::Live);
    let now = T0;
    for i in 0..12 {
        let mut p = named(0, "cart", i, i >= 3);
        p.created = now - 3;
        s.apply_pod(&p, now);
    }
    assert!(
        s.triage(now).is_empty(),
        "just-started pods are not a problem yet"
    );
    let items = s.triage(now + UNREADY_GRACE);
    assert_eq!(
        summary(&items),
        vec![(0, "cart", Problem::Unready, "3/12 pods unready")]
    );
    assert_eq!(items[0].since, Some(now - 3));
}
const UNREADY_GRACE: Timestamp = crate::fleet::owners::UNREADY_GRACE_SECS;

#[test]
fn stuck_and_paused_rollouts() {
    let mut s = IncidentState::default();
    let mut stuck = deployment(0, "search", 4, 1);
    stuck.conditions.push(WorkloadCondition {
        type_: "Progressing".into(),
        status: "False".into(),
        reason: "ProgressDeadlineExceeded".into(),
        message: "ReplicaSet \"search-5f\" has timed out progressing.".into(),
        last_transition: Some(T0 - 600),
    });
    s.apply_workload(info(stuck), T0);
    let mut paused = deployment(0, "cart", 4, 2);
    paused.paused = true;
    s.apply_workload(info(paused), T0);
    let items = s.triage(T0);
    assert_eq!(
        summary(&items),
        vec![
            (
                0,
                "search",
                Problem::RolloutStuck,
                "1/4 updated, deadline exceeded (rev 4)"
            ),
            (
                0,
                "cart",
                Problem::RolloutPaused,
                "paused at 2/4 updated (rev 4)"
            ),
        ]
    );
    assert_eq!(items[0].since, Some(T0 - 600));
    assert!(items[0].detail.contains("timed out"));
}

#[test]
fn oom_kills_and_pods_that_cannot_start() {
    let mut s = IncidentState::default();
    let now = 2_100;
    s.apply_pod(&crashlooping(named(0, "worker", 0, false), true), now);
    let mut p = named(0, "web", 0, false);
    p.containers[0].state = ContainerState::Waiting {
        reason: "ImagePullBackOff".into(),
        message: "Back-off pulling image".into(),
    };
    s.apply_pod(&p, now);
    s.apply_pod(&named(0, "web", 1, true), now);
    let items = s.triage(now + 30);
    let problems: Vec<_> = items
        .iter()
        .map(|i| (i.id.name.as_str(), i.id.problem))
        .collect();
    assert_eq!(
        problems,
        vec![
            ("worker", Problem::CrashLoop),
            ("worker", Problem::OomKilled),
            ("web", Problem::CannotStart),
        ]
    );
    let web = items
        .iter()
        .find(|i| i.id.problem == Problem::CannotStart)
        .unwrap();
    assert_eq!(web.how_bad, "1/2 pods ImagePullBackOff");
}

#[test]
fn regions_down_or_stale_are_items_and_mark_their_workloads() {
    let now = T0;
    let mut s = incident(now);
    s.set_region(US_EAST, RegionState::Stale { since: now - 20 });
    s.set_region(
        2,
        RegionState::Unreachable {
            reason: "connection refused".into(),
            since: now - 50,
        },
    );
    let items = s.triage(now);
    assert_eq!(items[0].id.problem, Problem::RegionDown);
    assert_eq!(items[0].how_bad, "unreachable: connection refused");
    assert_eq!(items[0].target.namespace, None);
    let stale = items
        .iter()
        .find(|i| i.id.problem == Problem::RegionStale)
        .unwrap();
    assert_eq!((stale.id.region, stale.since), (US_EAST, Some(now - 20)));
    for i in &items {
        assert_eq!(i.stale, i.id.region != CN_NORTH, "{:?}", i.id);
    }
}

#[test]
fn selection_stays_on_the_same_item_while_the_list_reranks() {
    let now = T0;
    let mut s = incident(now);
    let before = s.triage(now);
    let selected = before[1].id.clone(); // checkout unready
    assert_eq!(reselect(&before, Some(&selected), 1), Some(1));
    // an outage elsewhere jumps to the top: the selection follows its item
    s.set_region(
        3,
        RegionState::Forbidden {
            reason: "pods is forbidden".into(),
            since: now,
        },
    );
    let after = s.triage(now);
    let at = reselect(&after, Some(&selected), 1).unwrap();
    assert_eq!(after[at].id, selected);
    assert_eq!(at, 2);
    // the item goes away: the cursor stays at the same place, clamped
    for i in 0..2 {
        s.apply_pod(&named(CN_NORTH, "checkout", i, true), now);
    }
    let recovered = s.triage(now);
    let at = reselect(&recovered, Some(&selected), 2).unwrap();
    assert!(at < recovered.len());
    assert_eq!(reselect(&[], Some(&selected), 3), None);
}

#[test]
fn a_rollout_is_dated_from_when_it_was_first_seen_under_way() {
    let mut s = IncidentState::default();
    let since = |s: &IncidentState, now| {
        s.triage(now)
            .iter()
            .find(|i| i.id.problem == Problem::RolloutInProgress)
            .and_then(|i| i.since)
    };
    s.apply_workload(info(deployment(0, "cart", 4, 1)), T0);
    s.apply_workload(info(deployment(0, "cart", 4, 3)), T0 + 100);
    assert_eq!(since(&s, T0 + 100), Some(T0));
    s.apply_workload(info(deployment(0, "cart", 4, 4)), T0 + 150);
    assert_eq!(since(&s, T0 + 150), None, "complete: off the list");
    s.apply_workload(info(deployment(0, "cart", 4, 0)), T0 + 200);
    assert_eq!(since(&s, T0 + 200), Some(T0 + 200));
}

/// `pod_items` as it was before the per-workload sums: every pod of every
/// workload walked on each call. The reference the incremental one must match.
fn pod_items_scratch(pods: &OwnerIndex, now: Timestamp, out: &mut Vec<TriageItem>) {
    for (key, pods) in pods.workloads() {
        let live: Vec<_> = pods
            .values()
            .filter(|p| !p.deleting && !p.completed)
            .collect();
        let total = live.len() as u32;
        let min_since =
            |f: &dyn Fn(&PodFacts) -> Option<Timestamp>| live.iter().filter_map(|p| f(p)).min();
        let crash = live.iter().filter(|p| p.crash_at(now).is_some()).count() as u32;
        if crash > 0 {
            out.push(workload_item(
                key,
                Problem::CrashLoop,
                Problem::CrashLoop.base() + share(crash, total),
                format!("{crash}/{total} pods CrashLoopBackOff"),
                String::new(),
                min_since(&|p| p.crash_at(now)),
            ));
        }
        let oom = live.iter().filter(|p| p.oom_recent(now).is_some()).count() as u32;
        if oom > 0 {
            out.push(workload_item(
                key,
                Problem::OomKilled,
                Problem::OomKilled.base() + share(oom, total),
                format!("{oom}/{total} pods OOMKilled in 30m"),
                String::new(),
                min_since(&|p| p.oom_recent(now)),
            ));
        }
        let failing: Vec<_> = live.iter().filter(|p| p.failing_reason.is_some()).collect();
        if !failing.is_empty() {
            let n = failing.len() as u32;
            let reason = failing
                .iter()
                .filter_map(|p| p.failing_reason.clone())
                .min()
                .unwrap_or_default();
            out.push(workload_item(
                key,
                Problem::CannotStart,
                Problem::CannotStart.base() + share(n, total),
                format!("{n}/{total} pods {reason}"),
                reason,
                min_since(&|p| p.failing_since),
            ));
        }
        let unready = live
            .iter()
            .filter(|p| explained_unready(p, now).is_some())
            .count() as u32;
        if unready > 0 {
            out.push(workload_item(
                key,
                Problem::Unready,
                Problem::Unready.base() + share(unready, total),
                format!("{unready}/{total} pods unready"),
                String::new(),
                min_since(&|p| explained_unready(p, now)),
            ));
        }
    }
}

#[test]
fn pod_items_from_the_sums_match_a_walk_over_every_pod() {
    use crate::fleet::owners::tests::random_pod;
    for seed in 0..40 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut pods = OwnerIndex::default();
        let mut now = 1_000;
        for step in 0..300 {
            now += rng.i64(0..30);
            if rng.u8(0..5) == 0 {
                pods.remove(rng.usize(0..2), &format!("u{}", rng.usize(0..24)));
            } else {
                pods.upsert(&random_pod(&mut rng), now);
            }
            // read at the update and later, as the clock ages the facts
            for at in [now, now + 16, now + 200, now + 2_000] {
                let input = TriageInput {
                    pods: &pods,
                    workloads: &HashMap::new(),
                    probe_rows: &[],
                    regions: &[RegionState::Live, RegionState::Live],
                    rollout_since: &HashMap::new(),
                    network: &[],
                };
                let (mut got, mut want) = (Vec::new(), Vec::new());
                pod_items(&input, at, &mut got);
                pod_items_scratch(&pods, at, &mut want);
                got.sort_by(|a, b| a.id.cmp(&b.id));
                want.sort_by(|a, b| a.id.cmp(&b.id));
                assert_eq!(got, want, "seed {seed} step {step} at {at}");
            }
        }
    }
}

#[test]
fn a_region_that_cannot_be_configured_is_an_error_not_unreachable() {
    let now = T0;
    let mut s = incident(now);
    s.set_region(
        2,
        RegionState::Error {
            reason: "credential plugin timed out after 30s".into(),
            since: now - 5,
        },
    );
    let items = s.triage(now);
    assert_eq!(items[0].id.problem, Problem::RegionDown);
    assert_eq!(
        items[0].how_bad,
        "error: credential plugin timed out after 30s"
    );
}

#[test]
fn every_region_down_is_one_critical_item_not_one_per_region() {
    let now = T0;
    let mut s = incident(now);
    for region in 0..4 {
        s.set_region(
            region,
            RegionState::Unreachable {
                reason: "Connection refused (os error 111)".into(),
                since: now - 40 + region as i64,
            },
        );
    }
    let items = s.triage(now);
    let down: Vec<_> = items.iter().filter(|i| i.id.namespace.is_empty()).collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].how_bad, "4 regions unreachable");
    assert_eq!(down[0].level, Level::Critical);
    assert_eq!(down[0].since, Some(now - 40));
    assert_eq!(items[0].id, down[0].id, "it tops the list");
    // one region back: the others are items of their own again
    s.set_region(1, RegionState::Live);
    let items = s.triage(now);
    let down = items.iter().filter(|i| i.id.namespace.is_empty()).count();
    assert_eq!(down, 3);
}

/// For the ranking tests: the probe book with a by-owner pod index,
/// workloads and region views beside it, as the cockpit keeps the fleet
/// store and region health beside it.
mod fixture {
    use crate::fleet::owners::OwnerIndex;
    use crate::fleet::store::workloads::Workloads;
    use crate::fleet::workloads::WorkloadInfo;
    use crate::model::PodRow;
    use crate::model::{EventRow, RegionId, Timestamp};
    use crate::panes::probes::book::{self as probes, ProbeBook};
    use crate::panes::triage::rank::{self as triage, RegionState as RegionView};
    use probes::ProbeRow;
    use triage::{TriageInput, TriageItem};

    #[derive(Debug, Default)]
    pub struct Incident {
        pub probes: ProbeBook,
        pub pods: OwnerIndex,
        pub workloads: Workloads,
        pub regions: Vec<RegionView>,
    }

    impl Incident {
        pub fn apply_pod(&mut self, pod: &PodRow, now: Timestamp) {
            self.pods.upsert(pod, now);
        }

        pub fn remove_pod(&mut self, region: RegionId, uid: &str) {
            if let Some(key) = self.pods.remove(region, uid) {
                self.probes.remove_pod(&key, uid);
            }
        }

        pub fn apply_event(&mut self, ev: &EventRow, now: Timestamp) -> bool {
            self.probes.apply_event(ev, &self.pods, now)
        }

        pub fn apply_workload(&mut self, info: WorkloadInfo, now: Timestamp) {
            self.workloads.upsert(info, now);
        }

        pub fn set_region(&mut self, region: RegionId, state: RegionView) {
            if self.regions.len() <= region {
                self.regions.resize(region + 1, RegionView::Syncing);
            }
            self.regions[region] = state;
        }

        pub fn probe_rows(&self, now: Timestamp) -> Vec<ProbeRow> {
            self.probes.rows(&self.pods, self.workloads.rows(), now)
        }

        pub fn triage(&self, now: Timestamp) -> Vec<TriageItem> {
            let rows = self.probe_rows(now);
            triage::triage(
                &TriageInput {
                    pods: &self.pods,
                    workloads: self.workloads.rows(),
                    probe_rows: &rows,
                    regions: &self.regions,
                    rollout_since: self.workloads.rollout_since(),
                    network: &[],
                },
                now,
            )
        }
    }
}
