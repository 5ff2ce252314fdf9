//! create, update, patch (merge, strategic, JSON patch) and the scale
//! subresource.

use crate::api::{content_type, read_json, store_error, Target};
use crate::transport::http::{json_response, not_found, status, Response};
use crate::world::region::Region;
use crate::world::store::{Kind, StoreError};
use hyper::{Method, Request};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Apply a PATCH body of the given content type to `target`.
#[allow(clippy::result_large_err)]
pub fn apply_patch(ctype: &str, target: &mut Value, patch: &Value) -> Result<(), Response> {
    match ctype {
        "application/merge-patch+json" => crate::api::patch::merge(target, patch),
        "application/strategic-merge-patch+json" => crate::api::patch::strategic(target, patch),
        "application/json-patch+json" => crate::api::patch::json_patch(target, patch)
            .map_err(|e| status(422, "Invalid", &format!("the JSON patch could not be applied: {e}")))?,
        other => {
            return Err(status(
                415,
                "UnsupportedMediaType",
                &format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {other})"),
            ))
        }
    }
    Ok(())
}

pub(crate) async fn write(
    region: Arc<Region>,
    req: Request<hyper::body::Incoming>,
    t: Target,
    q: HashMap<String, String>,
) -> Response {
    let method = req.method().clone();
    let ctype = content_type(&req);
    let dry_run = q.get("dryRun").is_some_and(|d| d == "All");
    if method == Method::DELETE {
        let Some(name) = t.name.clone() else {
            return status(
                405,
                "MethodNotAllowed",
                "deletecollection is not supported by the simulator",
            );
        };
        return crate::api::delete::delete(&region, &t, &name);
    }
    let body = match read_json(req).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ns = t.namespace.clone().unwrap_or_default();
    let clock = region.clock.clone();
    let mut st = region.lock();
    let now = clock.stamp();
    let result = match method {
        Method::POST => {
            let mut obj = body;
            if !obj.get("metadata").is_some_and(Value::is_object) {
                obj["metadata"] = json!({});
            }
            if obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                match obj
                    .pointer("/metadata/generateName")
                    .and_then(Value::as_str)
                {
                    Some(g) => {
                        let suffix = crate::world::objects::safe_string(st.rng.u64(..), 5);
                        obj["metadata"]["name"] = json!(format!("{g}{suffix}"));
                    }
                    None => {
                        return status(422, "Invalid", &format!("{} \"\" is invalid: metadata.name: Required value: name or generateName is required", t.kind.name()));
                    }
                }
            }
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if t.kind.namespaced() {
                obj["metadata"]["namespace"] = json!(ns);
                if st.store.get(Kind::Namespace, "", &ns).is_none() {
                    return not_found(crate::world::store::Kind::Namespace, &ns);
                }
            }
            if st.store.get(t.kind, &ns, &name).is_some() {
                return store_error(StoreError::AlreadyExists, &t, &name);
            }
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "deletionTimestamp",
            ] {
                if let Some(m) = obj["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
            obj["metadata"]["generation"] = json!(1);
            if dry_run {
                return json_response(201, serde_json::to_vec(&obj).unwrap_or_default());
            }
            if t.kind == Kind::Pod {
                return create_bare_pod(&region, &mut st, obj, &t);
            }
            st.store.put(t.kind, obj, &now).map(|v| (201, v))
        }
        Method::PUT | Method::PATCH => {
            let name = t.name.clone().unwrap_or_default();
            let Some(old) = st.store.get_value(t.kind, &ns, &name) else {
                return not_found(t.kind, &name);
            };
            let mut new = if method == Method::PUT {
                let want_rv = body
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let have_rv = old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !want_rv.is_empty() && want_rv != have_rv {
                    return store_error(StoreError::Conflict, &t, &name);
                }
                body
            } else {
                let mut v = old.clone();
                if let Err(r) = apply_patch(&ctype, &mut v, &body) {
                    return r;
                }
                v
            };
            // Immutable identity, whatever the client sent.
            for k in ["uid", "creationTimestamp", "name", "namespace"] {
                if let Some(val) = old.pointer(&format!("/metadata/{k}")) {
                    new["metadata"][k] = val.clone();
                }
            }
            if t.sub.as_deref() == Some("status") {
                let mut keep = old.clone();
                keep["status"] = new["status"].clone();
                new = keep;
            } else {
                // Status is written by controllers, spec by clients.
                new["status"] = old.get("status").cloned().unwrap_or(Value::Null);
                if new.get("spec") != old.get("spec") {
                    let g = old
                        .pointer("/metadata/generation")
                        .and_then(Value::as_u64)
                        .unwrap_or(1);
                    new["metadata"]["generation"] = json!(g + 1);
                }
            }
            if dry_run {
                return json_response(200, serde_json::to_vec(&new).unwrap_or_default());
            }
            if t.kind == Kind::Pod && old.get("spec") != new.get("spec") {
                let changed_image = old.pointer("/spec/containers/0/image")
                    != new.pointer("/spec/containers/0/image");
                if !changed_image {
                    // Only images (and a few fields) may change on a pod.
                    let mut a = old["spec"].clone();
                    let mut b = new["spec"].clone();
                    for v in [&mut a, &mut b] {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("activeDeadlineSeconds");
                            o.remove("tolerations");
                        }
                    }
                    if a != b {
                        return status(422, "Invalid", &format!("Pod \"{name}\" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
                    }
                }
            }
            st.store.put(t.kind, new, &now).map(|v| (200, v))
        }
        _ => return status(405, "MethodNotAllowed", "method not allowed"),
    };
    st.dirty = true;
    drop(st);
    region.wake.notify_one();
    match result {
        Ok((code, v)) => json_response(code, serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => store_error(e, &t, t.name.as_deref().unwrap_or("")),
    }
}

pub(crate) fn create_bare_pod(
    region: &Region,
    st: &mut crate::world::region::State,
    obj: Value,
    t: &Target,
) -> Response {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if obj
        .pointer("/spec/containers/0/image")
        .and_then(Value::as_str)
        .is_none()
    {
        return status(
            422,
            "Invalid",
            &format!("Pod \"{name}\" is invalid: spec.containers: Required value"),
        );
    }
    let template = json!({"metadata": obj["metadata"].clone(), "spec": obj["spec"].clone()});
    st.create_pod(
        &region.clock,
        &template,
        &ns,
        name.clone(),
        "",
        "",
        "",
        &[],
        None,
    );
    let mut v = match st.store.get_value(Kind::Pod, &ns, &name) {
        Some(v) => v,
        None => return status(500, "InternalError", "the pod could not be stored"),
    };
    // A bare pod has no owner.
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("ownerReferences");
    }
    let _ = st.store.put(Kind::Pod, v.clone(), &region.clock.stamp());
    region.wake.notify_one();
    json_response(201, serde_json::to_vec(&v).unwrap_or_default())
}

pub(crate) async fn scale(
    region: Arc<Region>,
    req: Request<hyper::body::Incoming>,
    t: &Target,
) -> Response {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let method = req.method().clone();
    let ctype = content_type(&req);
    let body = if method == Method::GET {
        Value::Null
    } else {
        match read_json(req).await {
            Ok(b) => b,
            Err(r) => return r,
        }
    };
    let clock = region.clock.clone();
    let mut st = region.lock();
    let Some(mut obj) = st.store.get_value(t.kind, &ns, &name) else {
        return not_found(t.kind, &name);
    };
    let scale_of = |obj: &Value| -> Value {
        let sel = obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
                "uid": obj["metadata"]["uid"], "resourceVersion": obj["metadata"]["resourceVersion"],
                "creationTimestamp": obj["metadata"]["creationTimestamp"],
            },
            "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
            "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": sel},
        })
    };
    if method == Method::GET {
        return json_response(200, serde_json::to_vec(&scale_of(&obj)).unwrap_or_default());
    }
    let mut sc = scale_of(&obj);
    if method == Method::PUT {
        sc = body;
    } else if let Err(r) = apply_patch(&ctype, &mut sc, &body) {
        return r;
    }
    let Some(replicas) = sc.pointer("/spec/replicas").and_then(Value::as_u64) else {
        return status(
            422,
            "Invalid",
            "Scale is invalid: spec.replicas: Required value",
        );
    };
    if obj.pointer("/spec/replicas").and_then(Value::as_u64) != Some(replicas) {
        obj["spec"]["replicas"] = json!(replicas);
        let g = obj
            .pointer("/metadata/generation")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        obj["metadata"]["generation"] = json!(g + 1);
        match st.store.put(t.kind, obj, &clock.stamp()) {
            Ok(v) => obj = v,
            Err(e) => return store_error(e, t, &name),
        }
        st.dirty = true;
    }
    drop(st);
    region.wake.notify_one();
    json_response(200, serde_json::to_vec(&scale_of(&obj)).unwrap_or_default())
}
