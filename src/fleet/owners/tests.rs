use super::*;
use crate::model::pod::Terminated;
use crate::model::ContainerRow;

/// A running pod of a Deployment with one container `app`.
pub fn pod(region: RegionId, uid: &str, name: &str, owner: &str, ready: bool) -> PodRow {
    PodRow {
        region,
        uid: uid.into(),
        namespace: "shop".into(),
        name: name.into(),
        phase: "Running".into(),
        status: "Running".into(),
        ready: ready as u16,
        total: 1,
        created: 1_000,
        owner_kind: "Deployment".into(),
        owner_name: owner.into(),
        containers: vec![ContainerRow {
            name: "app".into(),
            ready,
            state: ContainerState::Running {
                started: Some(1_000),
            },
            has_readiness_probe: true,
            has_liveness_probe: true,
            ..ContainerRow::default()
        }],
        ..PodRow::default()
    }
}

pub fn crashlooping(mut p: PodRow, oom: bool) -> PodRow {
    p.ready = 0;
    p.status = "CrashLoopBackOff".into();
    p.restarts = 4;
    p.last_restart = Some(2_000);
    let c = &mut p.containers[0];
    c.ready = false;
    c.restart_count = 4;
    c.state = ContainerState::Waiting {
        reason: "CrashLoopBackOff".into(),
        message: "back-off 40s restarting failed container".into(),
    };
    c.last_terminated = Some(Terminated {
        reason: if oom { "OOMKilled" } else { "Error" }.into(),
        exit_code: if oom { 137 } else { 1 },
        finished: Some(2_000),
    });
    p
}

#[test]
fn owner_kinds_are_typed_and_keep_every_name() {
    assert_eq!(OwnerKind::from("StatefulSet"), OwnerKind::StatefulSet);
    assert_eq!(
        OwnerKind::from(WorkloadKind::Deployment),
        OwnerKind::Deployment
    );
    let custom = OwnerKind::from("Rollout");
    assert_eq!(
        (custom.as_str(), custom.to_string()),
        ("Rollout", "Rollout".into())
    );
    // ordered by name, as the names were
    let mut kinds = ["StatefulSet", "Pod", "Rollout", "DaemonSet", "Deployment"]
        .map(OwnerKind::from)
        .to_vec();
    kinds.sort();
    let names: Vec<&str> = kinds.iter().map(OwnerKind::as_str).collect();
    assert_eq!(
        names,
        ["DaemonSet", "Deployment", "Pod", "Rollout", "StatefulSet"]
    );
}

#[test]
fn owners_are_resolved_and_guessed() {
    let mut p = pod(0, "u", "checkout-7d9f8-abcde", "checkout-7d9f8", true);
    p.owner_kind = "ReplicaSet".into();
    assert_eq!(WorkloadKey::of_pod(&p).name, "checkout");
    assert_eq!(WorkloadKey::of_pod(&p).kind, "Deployment");
    p.owner_kind.clear();
    assert_eq!(WorkloadKey::of_pod(&p).kind, "Pod");
    let g = WorkloadKey::guess(1, "shop", "checkout-7d9f8c6b-x2x4z");
    assert_eq!(
        (g.kind.as_str(), g.name.as_str()),
        ("Deployment", "checkout")
    );
    let g = WorkloadKey::guess(1, "data", "db-12");
    assert_eq!((g.kind.as_str(), g.name.as_str()), ("StatefulSet", "db"));
    let g = WorkloadKey::guess(1, "x", "standalone");
    assert_eq!((g.kind.as_str(), g.name.as_str()), ("Pod", "standalone"));
}

#[test]
fn unready_since_is_kept_while_unready_and_cleared_on_recovery() {
    let mut idx = OwnerIndex::default();
    idx.upsert(&pod(0, "a", "checkout-1", "checkout", false), 5_000);
    let since = idx.get(0, "a").unwrap().unready_since;
    assert_eq!(
        since,
        Some(1_000),
        "first seen unready: bounded by creation"
    );
    idx.upsert(&pod(0, "a", "checkout-1", "checkout", false), 6_000);
    assert_eq!(idx.get(0, "a").unwrap().unready_since, since);
    idx.upsert(&pod(0, "a", "checkout-1", "checkout", true), 7_000);
    assert_eq!(idx.get(0, "a").unwrap().unready_since, None);
    assert_eq!(idx.next_grace_end(8_000), None);
    // unready again later: the new streak starts when it was observed
    idx.upsert(&pod(0, "a", "checkout-1", "checkout", false), 8_000);
    assert_eq!(idx.get(0, "a").unwrap().unready_since, Some(8_000));
    assert_eq!(idx.next_grace_end(8_000), Some(8_000 + UNREADY_GRACE_SECS));
}

#[test]
fn crash_loop_oom_and_removal() {
    let mut idx = OwnerIndex::default();
    idx.upsert(
        &crashlooping(pod(2, "a", "api-1", "api", false), true),
        2_100,
    );
    let f = idx.get(2, "a").unwrap();
    assert_eq!(f.crash_at(2_100), Some(2_000));
    // between back-offs the container runs, not ready: still a crash loop
    let mut running = pod(2, "a", "api-1", "api", false);
    running.restarts = 5;
    running.last_restart = Some(2_150);
    idx.upsert(&running, 2_160);
    assert_eq!(idx.get(2, "a").unwrap().crash_at(2_160), Some(2_000));
    // ready and quiet for longer than the sticky window: recovered
    let mut ready = pod(2, "a", "api-1", "api", true);
    ready.last_restart = Some(2_150);
    idx.upsert(&ready, 2_170);
    let f = idx.get(2, "a").unwrap();
    assert!(f.crash_at(2_170).is_some());
    assert_eq!(f.crash_at(2_150 + CRASH_STICKY_SECS + 1), None);
    idx.upsert(
        &crashlooping(pod(2, "a", "api-1", "api", false), true),
        2_100,
    );
    let f = idx.get(2, "a").unwrap();
    assert_eq!(f.oom_recent(2_100), Some(2_000));
    assert_eq!(f.oom_recent(2_000 + OOM_RECENT_SECS + 1), None);
    assert!(!f.container_ready(Some("app")));
    let key = idx.remove(2, "a").unwrap();
    assert_eq!(key.name, "api");
    assert!(idx.is_empty() && idx.pods_of(&key).is_none());
}

/// A random pod from a small pool of uids, owners and states, so a
/// sequence revisits pods, moves them between owners and regions'
/// workloads, and crosses every trouble fact.
pub fn random_pod(rng: &mut fastrand::Rng) -> PodRow {
    let uid = format!("u{}", rng.usize(0..24));
    let owner = ["api", "web", "db", ""][rng.usize(0..4)];
    let mut p = pod(
        rng.usize(0..2),
        &uid,
        &format!("{owner}-{uid}"),
        owner,
        rng.bool(),
    );
    if owner.is_empty() {
        p.owner_kind.clear();
    }
    p.created = rng.i64(0..3_000);
    p.deleting = rng.u8(0..8) == 0;
    p.phase = ["Running", "Running", "Running", "Succeeded", "Failed"][rng.usize(0..5)].into();
    p.last_restart = rng.bool().then(|| rng.i64(0..3_000));
    match rng.u8(0..6) {
        0 => p = crashlooping(p, rng.bool()),
        1 => {
            p.ready = 0;
            p.containers[0].ready = false;
            p.containers[0].state = ContainerState::Waiting {
                reason: FAILING_WAIT_REASONS[rng.usize(0..FAILING_WAIT_REASONS.len())].into(),
                message: String::new(),
            };
        }
        2 => p.status = "ImagePullBackOff".into(),
        // OOM-killed once, running and ready again
        3 => {
            p.containers[0].last_terminated = Some(Terminated {
                reason: "OOMKilled".into(),
                exit_code: 137,
                finished: Some(rng.i64(0..3_000)),
            })
        }
        _ => {}
    }
    p
}

/// The index's incremental sums, recomputed from scratch.
fn scratch(idx: &OwnerIndex) -> (HashMap<WorkloadKey, WorkloadAgg>, GraceEnds) {
    let mut aggs = HashMap::new();
    let mut grace = GraceEnds::new();
    for (key, pods) in idx.workloads() {
        let agg: &mut WorkloadAgg = aggs.entry(key.clone()).or_default();
        for (uid, p) in pods {
            agg.live += is_live(p) as u32;
            if is_troubled(p) {
                agg.troubled.insert(uid.clone());
            }
            if let Some(t) = grace_end(p) {
                *grace.entry(t).or_default() += 1;
            }
        }
    }
    (aggs, grace)
}

#[test]
fn incremental_sums_match_a_from_scratch_count() {
    for seed in 0..40 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut idx = OwnerIndex::default();
        let mut now = 1_000;
        for step in 0..400 {
            now += rng.i64(0..20);
            match rng.u8(0..20) {
                0..=13 => idx.upsert(&random_pod(&mut rng), now),
                14..=18 => {
                    idx.remove(rng.usize(0..2), &format!("u{}", rng.usize(0..24)));
                }
                _ => idx.clear_region(rng.usize(0..2)),
            }
            let (aggs, grace) = scratch(&idx);
            let kept: HashMap<_, _> = idx
                .by_workload
                .iter()
                .map(|(k, w)| (k.clone(), w.agg.clone()))
                .collect();
            assert_eq!(kept, aggs, "seed {seed} step {step}");
            assert_eq!(idx.grace_ends, grace, "seed {seed} step {step}");
            for k in aggs.keys() {
                let live = idx.pods_of(k).map_or(0, |p| {
                    p.values().filter(|f| !f.deleting && !f.completed).count() as u32
                });
                assert_eq!(idx.live_count(k), live, "seed {seed} step {step}");
            }
            // right at each deadline too: the next one is strictly after
            let ats = grace.keys().copied().chain([now - 20, now, now + 5]);
            for at in ats {
                let walked = idx
                    .workloads()
                    .flat_map(|(_, pods)| pods.values())
                    .filter_map(|p| p.unready_since.map(|s| s + UNREADY_GRACE_SECS))
                    .filter(|&t| t > at)
                    .min();
                assert_eq!(idx.next_grace_end(at), walked, "seed {seed} step {step}");
            }
        }
    }
}
