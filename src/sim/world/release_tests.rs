//! The promotion scenario's world: revision histories a week deep, images
//! per region, and an image that crash-loops in one region only.

use crate::world::build::build;
use crate::world::region::{Region, State};
use crate::world::scenario::ScenarioFile;
use crate::world::store::Kind;
use serde_json::{json, Value};

const PROMOTION: &str = include_str!("../../../assets/scenarios/promotion.toml");
const NEW: &str = "registry.local/shop/checkout:4.3.0";

fn region(name: &str) -> Region {
    let file = ScenarioFile::parse(PROMOTION, "promotion.toml").expect("scenario");
    let i = file
        .regions
        .iter()
        .position(|r| r.name == name)
        .expect("region");
    let clock = crate::world::clock::Clock::new(file.time_scale);
    build(&file, i, &file.regions[i], clock, "token".into())
}

fn at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// checkout's ReplicaSets as (revision, image, change-cause, created),
/// oldest revision first.
fn revisions(st: &State) -> Vec<(u64, String, String, String)> {
    let mut out: Vec<_> = st
        .store
        .values(Kind::ReplicaSet)
        .iter()
        .filter(|rs| at(rs, "/metadata/ownerReferences/0/name") == "checkout")
        .map(|rs| {
            (
                at(
                    rs,
                    "/metadata/annotations/deployment.kubernetes.io~1revision",
                )
                .parse()
                .unwrap_or(0),
                at(rs, "/spec/template/spec/containers/0/image").to_string(),
                at(rs, "/metadata/annotations/kubernetes.io~1change-cause").to_string(),
                at(rs, "/metadata/creationTimestamp").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn tick(r: &Region) {
    let mut st = r.lock();
    st.kubelet_tick(&r.clock);
    for _ in 0..4 {
        st.reconcile(&r.clock);
        st.kubelet_tick(&r.clock);
    }
}

#[test]
fn a_deployment_starts_with_a_week_of_revisions_in_order() {
    let r = region("cn-north");
    tick(&r);
    let st = r.lock();
    let revs = revisions(&st);
    let numbers: Vec<u64> = revs.iter().map(|r| r.0).collect();
    assert_eq!(numbers, [1, 2, 3, 4], "{revs:?}");
    let images: Vec<&str> = revs.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        images,
        [
            "registry.local/shop/checkout:4.0.0",
            "registry.local/shop/checkout:4.1.0",
            "registry.local/shop/checkout:4.1.2",
            "registry.local/shop/checkout:4.2.0",
        ]
    );
    assert_eq!(revs[0].2, "release 4.0.0: new payment flow");
    assert_eq!(
        revs[1].2,
        "kubectl set image deployment/checkout checkout=registry.local/shop/checkout:4.1.0"
    );
    // created in order, the oldest about a week ago
    let times: Vec<jiff::Timestamp> = revs.iter().map(|r| r.3.parse().expect("time")).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{revs:?}");
    let age = jiff::Timestamp::now().duration_since(times[0]).as_hours();
    assert!((160..=170).contains(&age), "{age} hours");
    // only the newest has pods; the deployment names its revision
    let dep = st
        .store
        .get_value(Kind::Deployment, "shop", "checkout")
        .expect("dep");
    assert_eq!(
        at(
            &dep,
            "/metadata/annotations/deployment.kubernetes.io~1revision"
        ),
        "4"
    );
    let old_replicas: Vec<u64> = st
        .store
        .values(Kind::ReplicaSet)
        .iter()
        .filter(|rs| at(rs, "/spec/template/spec/containers/0/image").ends_with("4.1.2"))
        .map(|rs| rs["spec"]["replicas"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(old_replicas, [0]);
}

#[test]
fn pre_release_runs_the_next_image_and_started_with_the_scaling_events() {
    let r = region("pre-release");
    tick(&r);
    let st = r.lock();
    let revs = revisions(&st);
    assert_eq!(revs.len(), 5, "{revs:?}");
    assert_eq!(revs[4].1, NEW);
    let scaled: Vec<String> = st
        .store
        .values(Kind::Event)
        .iter()
        .filter(|e| at(e, "/reason") == "ScalingReplicaSet")
        .filter(|e| at(e, "/involvedObject/name") == "checkout")
        .map(|e| at(e, "/message").to_string())
        .collect();
    assert!(
        scaled
            .iter()
            .any(|m| m.starts_with("Scaled up replica set checkout-")),
        "{scaled:?}"
    );
    assert!(
        scaled.iter().any(|m| m.ends_with("from 4 to 0")),
        "{scaled:?}"
    );
}

fn set_image(r: &Region, image: &str) {
    let mut st = r.lock();
    let mut dep = st
        .store
        .get_value(Kind::Deployment, "shop", "checkout")
        .expect("dep");
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    let g = dep["metadata"]["generation"].as_u64().unwrap_or(1);
    dep["metadata"]["generation"] = json!(g + 1);
    st.store
        .put(Kind::Deployment, dep, &r.clock.stamp())
        .expect("put");
    st.dirty = true;
}

/// Whether any new pod of checkout is in CrashLoopBackOff after a minute.
fn crash_loops_after_set_image(name: &str) -> bool {
    let r = region(name);
    tick(&r);
    set_image(&r, NEW);
    let mut crashed = false;
    for _ in 0..240 {
        r.clock.advance(0.5);
        tick(&r);
        let st = r.lock();
        crashed |= st.store.values(Kind::Pod).iter().any(|p| {
            at(p, "/spec/containers/0/image") == NEW
                && at(p, "/status/containerStatuses/0/state/waiting/reason") == "CrashLoopBackOff"
        });
    }
    let st = r.lock();
    let dep = st
        .store
        .get_value(Kind::Deployment, "shop", "checkout")
        .expect("dep");
    let rolled = dep["status"]["updatedReplicas"] == json!(4)
        && dep["status"]["availableReplicas"] == json!(4);
    assert_eq!(rolled, !crashed, "{name}: {}", dep["status"]);
    crashed
}

#[test]
fn the_new_image_crash_loops_in_us_east_only() {
    assert!(!crash_loops_after_set_image("cn-north"));
    assert!(crash_loops_after_set_image("us-east"));
}
