//! Discovery documents: `/version`, `/api`, `/apis`, and the resource lists
//! kubectl and kube-rs read before any request.

use crate::transport::http::{json_response, Response};
use crate::world::store::{Kind, ALL_KINDS};
use serde_json::{json, Value};

fn verbs(kind: Kind) -> Value {
    if kind == Kind::Node || kind == Kind::Namespace {
        json!(["create", "delete", "get", "list", "patch", "update", "watch"])
    } else {
        json!([
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch"
        ])
    }
}

fn resource_list(group_version: &str, group: &str) -> Value {
    let mut resources = Vec::new();
    for kind in ALL_KINDS.into_iter().filter(|k| k.group() == group) {
        let mut r = json!({
            "name": kind.plural(),
            "singularName": kind.singular(),
            "namespaced": kind.namespaced(),
            "kind": kind.name(),
            "verbs": verbs(kind),
            "shortNames": kind.short_names(),
        });
        if matches!(
            kind,
            Kind::Pod | Kind::Service | Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet
        ) {
            r["categories"] = json!(["all"]);
        }
        resources.push(r);
        if !matches!(kind, Kind::Event | Kind::Endpoints | Kind::ConfigMap) {
            resources.push(json!({"name": format!("{}/status", kind.plural()), "singularName": "", "namespaced": kind.namespaced(), "kind": kind.name(), "verbs": ["get", "patch", "update"]}));
        }
        if kind == Kind::Pod {
            resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
            // WebSocket (GET) and SPDY (POST) both reach these
            for (sub, k) in [
                ("attach", "PodAttachOptions"),
                ("exec", "PodExecOptions"),
                ("portforward", "PodPortForwardOptions"),
            ] {
                resources.push(json!({"name": format!("pods/{sub}"), "singularName": "", "namespaced": true, "kind": k, "verbs": ["create", "get"]}));
            }
        }
        if matches!(
            kind,
            Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet
        ) {
            resources.push(json!({"name": format!("{}/scale", kind.plural()), "singularName": "", "namespaced": true, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

fn group(name: &str) -> Value {
    let gv = format!("{name}/v1");
    json!({"name": name, "versions": [{"groupVersion": gv, "version": "v1"}], "preferredVersion": {"groupVersion": gv, "version": "v1"}})
}

/// Only v2 of autoscaling is served (HorizontalPodAutoscalers).
fn autoscaling() -> Value {
    let gv = "autoscaling/v2";
    json!({"name": "autoscaling", "versions": [{"groupVersion": gv, "version": "v2"}], "preferredVersion": {"groupVersion": gv, "version": "v2"}})
}

/// The built-in groups `/apis` lists (custom resources add theirs).
pub fn builtin_groups() -> Vec<Value> {
    vec![group("apps"), autoscaling(), group("authorization.k8s.io")]
}

fn ok(v: Value) -> Option<Response> {
    Some(json_response(
        200,
        serde_json::to_vec(&v).unwrap_or_default(),
    ))
}

/// The discovery answer for a path, if it is a discovery path.
pub fn answer(segs: &[&str]) -> Option<Response> {
    match segs {
        ["version"] => ok(json!({
            "major": "1", "minor": "34", "gitVersion": "v1.34.1", "gitCommit": "pitwall-sim",
            "gitTreeState": "clean", "buildDate": "2025-09-09T00:00:00Z", "goVersion": "go1.24.6",
            "compiler": "gc", "platform": "linux/amd64"
        })),
        ["api"] => ok(json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}]})),
        ["api", "v1"] => ok(resource_list("v1", "")),
        ["apis"] => ok(json!({"kind": "APIGroupList", "apiVersion": "v1",
            "groups": builtin_groups()})),
        ["apis", "autoscaling"] => {
            let g = autoscaling();
            ok(
                json!({"kind": "APIGroup", "apiVersion": "v1", "name": "autoscaling",
                "versions": g["versions"].clone(), "preferredVersion": g["preferredVersion"].clone()}),
            )
        }
        ["apis", "autoscaling", "v2"] => ok(resource_list("autoscaling/v2", "autoscaling")),
        ["apis", "apps"] => ok(
            json!({"kind": "APIGroup", "apiVersion": "v1", "name": "apps",
            "versions": group("apps")["versions"].clone(), "preferredVersion": group("apps")["preferredVersion"].clone()}),
        ),
        ["apis", "apps", "v1"] => ok(resource_list("apps/v1", "apps")),
        ["apis", "authorization.k8s.io"] => {
            let g = group("authorization.k8s.io");
            ok(
                json!({"kind": "APIGroup", "apiVersion": "v1", "name": "authorization.k8s.io",
                "versions": g["versions"].clone(), "preferredVersion": g["preferredVersion"].clone()}),
            )
        }
        ["apis", "authorization.k8s.io", "v1"] => ok(json!({
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "authorization.k8s.io/v1",
            "resources": [{"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]}]
        })),
        _ => None,
    }
}
