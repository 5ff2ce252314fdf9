use super::render;
use serde_json::json;

fn now() -> jiff::Timestamp {
    "2026-12-03T13:31:12Z".parse().unwrap()
}

fn crashing_pod() -> serde_json::Value {
    json!({
        "kind": "Pod",
        "metadata": {
            "name": "search-7d9-abcde", "namespace": "shop",
            "labels": {"app": "search", "pod-template-hash": "7d9"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": "search-7d9", "controller": true}]
        },
        "spec": {
            "nodeName": "us-east-node-02",
            "containers": [{
                "name": "search", "image": "registry/search:2.1",
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}
            }]
        },
        "status": {
            "phase": "Running", "podIP": "10.4.0.7", "hostIP": "10.0.0.2",
            "startTime": "2026-12-03T13:27:12Z",
            "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{
                "name": "search", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1,
                    "startedAt": "2026-12-03T13:29:00Z", "finishedAt": "2026-12-03T13:29:02Z"}}
            }]
        }
    })
}

fn back_off() -> serde_json::Value {
    json!({
        "type": "Warning", "reason": "BackOff", "count": 5,
        "firstTimestamp": "2026-12-03T13:27:12Z", "lastTimestamp": "2026-12-03T13:30:12Z",
        "source": {"component": "kubelet"},
        "message": "Back-off restarting failed container search in pod search-7d9-abcde_shop(1)"
    })
}

#[test]
fn a_crash_looping_pod_reads_like_kubectl_describe() {
    let text = render(&crashing_pod(), &[back_off()], now());
    let has = |needle: &str| {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    };
    has("Name:             search-7d9-abcde\n");
    has("Namespace:        shop\n");
    has("Node:             us-east-node-02/10.0.0.2\n");
    has("Controlled By:    ReplicaSet/search-7d9\n");
    has("Labels:           app=search\n                  pod-template-hash=7d9\n");
    has("Containers:\n  search:\n");
    has("    State:          Waiting\n      Reason:       CrashLoopBackOff\n");
    has("    Last State:     Terminated\n      Reason:       Error\n");
    has("      Exit Code:    1\n");
    has("    Restart Count:  5\n");
    has("    Readiness:      http-get http://:8080/ready delay=0s timeout=1s period=5s #success=1 #failure=3\n");
    has("Conditions:\n  Type          Status\n  Ready         False\n");
    // the events: oldest first, with count and span as kubectl shows them
    has("Events:\n  Type     Reason   Age               From     Message\n");
    has("  Warning  BackOff  60s (x5 over 4m)  kubelet  Back-off restarting failed container search");
}

#[test]
fn no_events_say_none_and_events_sort_oldest_first() {
    let text = render(&crashing_pod(), &[], now());
    assert!(text.ends_with("Events:  <none>\n"), "{text}");
    let mut pulled = back_off();
    pulled["reason"] = json!("Pulled");
    pulled["type"] = json!("Normal");
    pulled["count"] = json!(1);
    pulled["lastTimestamp"] = json!("2026-12-03T13:27:30Z");
    let text = render(&crashing_pod(), &[back_off(), pulled], now());
    let (p, b) = (
        text.find("Normal   Pulled").unwrap(),
        text.find("Warning  BackOff").unwrap(),
    );
    assert!(p < b, "oldest first:\n{text}");
}

#[test]
fn a_deployment_shows_replicas_strategy_template_and_conditions() {
    let d = json!({
        "kind": "Deployment",
        "metadata": {"name": "search", "namespace": "shop", "creationTimestamp": "2026-12-03T12:00:00Z"},
        "spec": {"replicas": 30, "selector": {"matchLabels": {"app": "search"}},
            "strategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {"app": "search"}},
                "spec": {"containers": [{"name": "search", "image": "registry/search:2.1"}]}}},
        "status": {"replicas": 30, "updatedReplicas": 12, "availableReplicas": 18, "unavailableReplicas": 12,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}
    });
    let text = render(&d, &[], now());
    for needle in [
        "Selector:               app=search\n",
        "Replicas:               30 desired | 12 updated | 30 total | 18 available | 12 unavailable\n",
        "StrategyType:           RollingUpdate\n",
        "Pod Template:\n  Labels:   app=search\n  Containers:\n   search:\n    Image:      registry/search:2.1\n",
        "  Progressing  False   ProgressDeadlineExceeded\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn any_other_kind_lists_its_fields() {
    let cm = json!({"kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "flags", "namespace": "shop"},
        "data": {"mode": "fast", "nested": "x"}, "spec": {"list": [{"a": 1}, "b"]}});
    let text = render(&cm, &[], now());
    for needle in [
        "Kind:               ConfigMap\n",
        "CreationTimestamp:  <none>\n",
        "Data:\n  Mode:  fast\n",
        "Spec:\n  List:\n    A:  1\n    b\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
