//! Unit tests of the world: the controllers and the kubelet model, stepped
//! through simulated time without a server.

use crate::world::build::build;
use crate::world::faults::Fault;
use crate::world::region::{Region, State};
use crate::world::scenario::ScenarioFile;
use crate::world::store::Kind;
use serde_json::{json, Value};

const SCENARIO: &str = r#"
[[region]]
name = "a"
nodes = 3

[[workload]]
name = "web"
namespace = "shop"
replicas = 4
image = "registry.local/web:1"
ports = [8080]
readiness = { port = 8080, initial_delay_seconds = 5, period_seconds = 2 }
liveness = { port = 8080, initial_delay_seconds = 5, period_seconds = 2, failure_threshold = 2 }
"#;

fn world() -> Region {
    let file = ScenarioFile::parse(SCENARIO, "test").expect("scenario");
    let clock = crate::world::clock::Clock::new(file.time_scale);
    build(&file, 0, &file.regions[0], clock, "token".into())
}

/// One tick of the region, as the server's ticker runs it.
fn tick(r: &Region) {
    let mut st = r.lock();
    st.kubelet_tick(&r.clock);
    for _ in 0..4 {
        let was_dirty = st.dirty;
        st.reconcile(&r.clock);
        st.kubelet_tick(&r.clock);
        if !was_dirty {
            break;
        }
    }
    st.finish_namespaces();
}

/// Step `secs` simulated seconds in ticks of half a second, checking
/// `each` after every tick.
fn run(r: &Region, secs: f64, mut each: impl FnMut(&State)) {
    let mut t = 0.0;
    while t < secs {
        r.clock.advance(0.5);
        t += 0.5;
        tick(r);
        each(&r.lock());
    }
}

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// The live (not terminating) pods of `web`.
fn pods(st: &State) -> Vec<Value> {
    st.store
        .values(Kind::Pod)
        .into_iter()
        .filter(|p| str_at(p, "/metadata/labels/app") == "web")
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .collect()
}

fn ready(p: &Value) -> bool {
    p.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn image(p: &Value) -> &str {
    str_at(p, "/spec/containers/0/image")
}

fn replicasets(st: &State) -> Vec<Value> {
    st.store.values(Kind::ReplicaSet)
}

fn revision(rs: &Value) -> &str {
    str_at(
        rs,
        "/metadata/annotations/deployment.kubernetes.io~1revision",
    )
}

/// Change the Deployment as a client's update does (generation follows
/// the spec).
fn update(r: &Region, f: impl FnOnce(&mut Value)) {
    let mut st = r.lock();
    let mut dep = st
        .store
        .get_value(Kind::Deployment, "shop", "web")
        .expect("deployment");
    let before = dep["spec"].clone();
    f(&mut dep);
    if dep["spec"] != before {
        let g = dep["metadata"]["generation"].as_u64().unwrap_or(1);
        dep["metadata"]["generation"] = json!(g + 1);
    }
    st.store
        .put(Kind::Deployment, dep, &r.clock.stamp())
        .expect("put");
    st.dirty = true;
}

fn deployment(r: &Region) -> Value {
    r.lock()
        .store
        .get_value(Kind::Deployment, "shop", "web")
        .expect("deployment")
}

fn condition<'a>(dep: &'a Value, ty: &str) -> Option<&'a Value> {
    dep.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == ty))
}

#[test]
fn a_deployment_owns_a_replicaset_that_owns_its_pods_and_scales() {
    let r = world();
    tick(&r);
    {
        let st = r.lock();
        let dep = st
            .store
            .get_value(Kind::Deployment, "shop", "web")
            .expect("dep");
        let rss = replicasets(&st);
        assert_eq!(rss.len(), 1);
        assert_eq!(
            rss[0]["metadata"]["ownerReferences"][0]["uid"],
            dep["metadata"]["uid"]
        );
        let pods = pods(&st);
        assert_eq!(pods.len(), 4);
        for p in &pods {
            assert_eq!(
                p["metadata"]["ownerReferences"][0]["uid"],
                rss[0]["metadata"]["uid"]
            );
            assert!(ready(p));
        }
    }
    update(&r, |d| d["spec"]["replicas"] = json!(6));
    run(&r, 60.0, |_| {});
    let st = r.lock();
    let pods = pods(&st);
    assert_eq!(pods.len(), 6);
    assert!(pods.iter().all(ready));
    let dep = st
        .store
        .get_value(Kind::Deployment, "shop", "web")
        .expect("dep");
    assert_eq!(dep["status"]["readyReplicas"], 6);
    assert_eq!(
        dep["status"]["observedGeneration"],
        dep["metadata"]["generation"]
    );
}

#[test]
fn new_pods_become_ready_only_after_the_probe_delay() {
    let r = world();
    tick(&r);
    let old: Vec<String> = pods(&r.lock())
        .iter()
        .map(|p| str_at(p, "/metadata/name").to_string())
        .collect();
    update(&r, |d| d["spec"]["replicas"] = json!(5));
    // 4 s in: created, maybe running, not ready (initial delay 5 s)
    run(&r, 4.0, |_| {});
    let fresh = |st: &State| -> Vec<Value> {
        pods(st)
            .into_iter()
            .filter(|p| !old.contains(&str_at(p, "/metadata/name").to_string()))
            .collect()
    };
    let new = fresh(&r.lock());
    assert_eq!(new.len(), 1);
    assert!(!ready(&new[0]), "{}", new[0]["status"]);
    run(&r, 30.0, |_| {});
    let new = fresh(&r.lock());
    assert!(ready(&new[0]), "{}", new[0]["status"]);
    let events = r.lock().store.values(Kind::Event);
    let name = str_at(&new[0], "/metadata/name");
    for reason in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(
            events
                .iter()
                .any(|e| e["involvedObject"]["name"] == name && e["reason"] == reason),
            "{reason} of {name}"
        );
    }
}

#[test]
fn a_rolling_update_honours_max_surge_and_max_unavailable() {
    let r = world();
    tick(&r);
    update(&r, |d| {
        d["spec"]["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    });
    tick(&r);
    update(&r, |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("registry.local/web:2")
    });
    let mut max_live = 0;
    let mut min_ready = usize::MAX;
    run(&r, 180.0, |st| {
        let p = pods(st);
        max_live = max_live.max(p.len());
        let n = p.iter().filter(|p| ready(p)).count();
        min_ready = min_ready.min(n);
    });
    assert!(
        max_live <= 5,
        "surge 1 over 4 replicas: {max_live} pods at once"
    );
    assert!(
        min_ready >= 4,
        "unavailable 0: {min_ready} ready at the worst"
    );
    let st = r.lock();
    let p = pods(&st);
    assert_eq!(p.len(), 4);
    assert!(p
        .iter()
        .all(|p| ready(p) && image(p) == "registry.local/web:2"));
    let rss = replicasets(&st);
    assert_eq!(rss.len(), 2);
    let old = rss.iter().find(|r| revision(r) == "1").expect("revision 1");
    assert_eq!(old["spec"]["replicas"], 0);
    let dep = st
        .store
        .get_value(Kind::Deployment, "shop", "web")
        .expect("dep");
    assert_eq!(dep["status"]["updatedReplicas"], 4);
    assert_eq!(
        condition(&dep, "Progressing").map(|c| c["reason"].clone()),
        Some(json!("NewReplicaSetAvailable"))
    );
}

#[test]
fn a_paused_deployment_waits_and_resumes() {
    let r = world();
    tick(&r);
    update(&r, |d| d["spec"]["paused"] = json!(true));
    update(&r, |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("registry.local/web:2")
    });
    run(&r, 60.0, |st| {
        assert!(pods(st).iter().all(|p| image(p) == "registry.local/web:1"));
    });
    let dep = deployment(&r);
    assert_eq!(
        condition(&dep, "Progressing").map(|c| c["reason"].clone()),
        Some(json!("DeploymentPaused"))
    );
    update(&r, |d| d["spec"]["paused"] = json!(false));
    run(&r, 180.0, |_| {});
    let st = r.lock();
    let p = pods(&st);
    assert_eq!(p.len(), 4);
    assert!(p
        .iter()
        .all(|p| ready(p) && image(p) == "registry.local/web:2"));
}

#[test]
fn a_restart_replaces_every_pod_through_a_new_replicaset() {
    let r = world();
    tick(&r);
    let before: Vec<String> = pods(&r.lock())
        .iter()
        .map(|p| str_at(p, "/metadata/name").to_string())
        .collect();
    update(&r, |d| {
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
            json!("2026-12-03T14:00:00Z");
    });
    run(&r, 180.0, |_| {});
    let st = r.lock();
    let p = pods(&st);
    assert_eq!(p.len(), 4);
    for p in &p {
        assert!(ready(p));
        assert!(!before.contains(&str_at(p, "/metadata/name").to_string()));
    }
    assert_eq!(replicasets(&st).len(), 2);
}

#[test]
fn undo_makes_the_old_replicaset_the_newest_revision() {
    let r = world();
    tick(&r);
    let v1 = replicasets(&r.lock())[0].clone();
    update(&r, |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("registry.local/web:2")
    });
    run(&r, 180.0, |_| {});
    // as `kubectl rollout undo --to-revision=1` does it: revision 1's
    // template, without the pod-template-hash label
    let mut template = v1["spec"]["template"].clone();
    if let Some(l) = template["metadata"]["labels"].as_object_mut() {
        l.remove("pod-template-hash");
    }
    update(&r, |d| d["spec"]["template"] = template);
    run(&r, 180.0, |_| {});
    let st = r.lock();
    let rss = replicasets(&st);
    assert_eq!(rss.len(), 2, "no third ReplicaSet");
    let back = rss
        .iter()
        .find(|r| r["metadata"]["uid"] == v1["metadata"]["uid"])
        .expect("revision 1's ReplicaSet");
    assert_eq!(revision(back), "3");
    assert_eq!(back["spec"]["replicas"], 4);
    let p = pods(&st);
    assert_eq!(p.len(), 4);
    assert!(p
        .iter()
        .all(|p| ready(p) && image(p) == "registry.local/web:1"));
}

fn events_of<'a>(events: &'a [Value], pod: &str, reason: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["involvedObject"]["name"] == pod && e["reason"] == reason)
        .collect()
}

#[test]
fn failing_readiness_probes_unready_pods_with_unhealthy_events() {
    let r = world();
    tick(&r);
    {
        let mut st = r.lock();
        st.apply_workload_fault(
            &r.clock,
            &Fault::ReadinessFailure {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 2,
            },
        )
        .expect("fault");
    }
    run(&r, 60.0, |_| {});
    let st = r.lock();
    let p = pods(&st);
    let unready: Vec<&Value> = p.iter().filter(|p| !ready(p)).collect();
    assert_eq!(unready.len(), 2);
    let events = st.store.values(Kind::Event);
    for p in unready {
        let name = str_at(p, "/metadata/name");
        let e = events_of(&events, name, "Unhealthy");
        assert_eq!(e.len(), 1, "aggregated into one event");
        assert_eq!(e[0]["type"], "Warning");
        assert!(e[0]["count"].as_u64().is_some_and(|c| c >= 2), "{}", e[0]);
        assert!(str_at(e[0], "/message").starts_with("Readiness probe failed"));
    }
}

#[test]
fn failing_liveness_probes_restart_the_container() {
    let r = world();
    tick(&r);
    {
        let mut st = r.lock();
        st.apply_workload_fault(
            &r.clock,
            &Fault::LivenessFailure {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 1,
            },
        )
        .expect("fault");
    }
    run(&r, 60.0, |_| {});
    let st = r.lock();
    let p = pods(&st);
    let restarted: Vec<&Value> = p
        .iter()
        .filter(|p| p["status"]["containerStatuses"][0]["restartCount"].as_u64() > Some(0))
        .collect();
    assert_eq!(restarted.len(), 1);
    let cs = &restarted[0]["status"]["containerStatuses"][0];
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 137);
    let events = st.store.values(Kind::Event);
    let name = str_at(restarted[0], "/metadata/name");
    assert!(!events_of(&events, name, "Killing").is_empty());
    assert!(events_of(&events, name, "Unhealthy")
        .iter()
        .any(|e| str_at(e, "/message").starts_with("Liveness probe failed")));
}

#[test]
fn oom_kills_end_in_crash_loop_back_off() {
    let r = world();
    tick(&r);
    {
        let mut st = r.lock();
        st.apply_workload_fault(
            &r.clock,
            &Fault::OomKill {
                namespace: "shop".into(),
                workload: "web".into(),
                pods: 1,
            },
        )
        .expect("fault");
    }
    let mut back_off = false;
    run(&r, 120.0, |st| {
        back_off |= pods(st).iter().any(|p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        });
    });
    assert!(back_off, "CrashLoopBackOff between restarts");
    let st = r.lock();
    let p = pods(&st);
    let killed: Vec<&Value> = p
        .iter()
        .filter(|p| {
            p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "OOMKilled"
        })
        .collect();
    assert_eq!(killed.len(), 1);
    let cs = &killed[0]["status"]["containerStatuses"][0];
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 137);
    assert!(cs["restartCount"].as_u64() >= Some(2), "{cs}");
    let events = st.store.values(Kind::Event);
    assert!(!events_of(&events, str_at(killed[0], "/metadata/name"), "BackOff").is_empty());
}

#[test]
fn a_bad_rollout_crash_loops_while_old_pods_keep_serving() {
    let r = world();
    tick(&r);
    {
        let mut st = r.lock();
        st.apply_workload_fault(
            &r.clock,
            &Fault::BadRollout {
                namespace: "shop".into(),
                workload: "web".into(),
                image: "registry.local/web:bad".into(),
            },
        )
        .expect("fault");
    }
    let mut min_ready = usize::MAX;
    run(&r, 120.0, |st| {
        min_ready = min_ready.min(pods(st).iter().filter(|p| ready(p)).count());
    });
    // 25 % unavailable of 4: at least 3 stay ready
    assert!(min_ready >= 3, "{min_ready}");
    let st = r.lock();
    let p = pods(&st);
    let bad: Vec<&Value> = p
        .iter()
        .filter(|p| image(p) == "registry.local/web:bad")
        .collect();
    assert!(!bad.is_empty());
    for b in bad {
        assert!(!ready(b));
        assert!(b["status"]["containerStatuses"][0]["restartCount"].as_u64() >= Some(1));
    }
}

#[test]
fn deleted_pods_logs_are_kept_within_retention_and_a_cap() {
    use crate::world::region::{GoneLog, GONE_LOGS_MAX, GONE_LOGS_RETENTION};
    let r = world();
    let mut st = r.lock();
    let pod = st.pods.values().next().expect("a pod").clone();
    let gone = |i: usize, ended: f64| GoneLog {
        namespace: "shop".into(),
        name: format!("web-{i}"),
        labels: json!({}),
        pod: pod.clone(),
        ended,
    };
    for i in 0..GONE_LOGS_MAX + 5 {
        st.keep_gone_log(gone(i, i as f64));
    }
    assert_eq!(st.gone_logs.len(), GONE_LOGS_MAX);
    assert_eq!(st.gone_logs.front().map(|g| g.name.as_str()), Some("web-5"));
    // past the retention window the old ones go
    st.keep_gone_log(gone(0, GONE_LOGS_RETENTION + 500.0));
    // ended 500..=1004 stay, and the new one
    assert_eq!(st.gone_logs.len(), GONE_LOGS_MAX + 5 - 500 + 1);
    assert!(st.gone_logs.iter().all(|g| g.ended >= 500.0));
}
