//! The Kubernetes API of one region: routing, auth, RBAC, faults, and the
//! verbs get/list/create/update/patch/delete (watch in `watch.rs`, logs in
//! `logs.rs`).

pub mod discovery;
pub mod logs;
pub mod patch;
pub mod rbac;
pub mod select;
pub mod table;
pub mod watch;

use crate::api::select::Selector;
use crate::transport::http::{self, json_response, not_found, status, status_with, Response};
use crate::world::region::Region;
use crate::world::store::{Kind, StoreError};
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::{Method, Request};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use table::Format;

/// Largest request body accepted (a pod spec is a few KB).
const MAX_BODY: usize = 4 << 20;

pub struct Target {
    pub group: String,
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

enum Route {
    Discovery(Response),
    Resource(Target),
    Ssar,
    NotFound,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(r) = discovery::answer(&segs) {
        return Route::Discovery(r);
    }
    let (group, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", "apps", "v1", rest @ ..] => ("apps", rest),
        ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"] => return Route::Ssar,
        _ => return Route::NotFound,
    };
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, plural, ..] => {
            if Kind::from_plural(group, plural).is_some_and(|k| k.namespaced()) {
                (Some(ns.to_string()), &rest[2..])
            } else {
                (None, rest)
            }
        }
        _ => (None, rest),
    };
    let Some(plural) = rest.first() else {
        return Route::NotFound;
    };
    let Some(kind) = Kind::from_plural(group, plural) else {
        return Route::NotFound;
    };
    if rest.len() > 3 {
        return Route::NotFound;
    }
    Route::Resource(Target {
        group: group.to_string(),
        kind,
        namespace,
        name: rest.get(1).map(|s| s.to_string()),
        sub: rest.get(2).map(|s| s.to_string()),
    })
}

fn unauthorized() -> Response {
    status(401, "Unauthorized", "Unauthorized")
}

pub async fn handle(region: Arc<Region>, req: Request<hyper::body::Incoming>) -> Response {
    let bearer = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(rest) = req.uri().path().strip_prefix("/_sim/") {
        if bearer.as_deref() != Some(region.admin_token.as_str()) || region.admin_token.is_empty() {
            return unauthorized();
        }
        let rest = rest.to_string();
        return crate::transport::admin::handle(region, req, &rest).await;
    }
    let faults = region.faults().clone();
    let token_ok = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == region.token);
    if !token_ok || faults.token_expired {
        return unauthorized();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    let path = req.uri().path().to_string();
    let query = http::parse_query(req.uri().query());
    match route(&path) {
        Route::Discovery(r) => r,
        Route::NotFound => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ),
        Route::Ssar => {
            if req.method() != Method::POST {
                return status(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                );
            }
            let is_pb = req
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|c| c.contains("protobuf"));
            if is_pb {
                let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
                let Ok(bytes) = limited.collect().await.map(|c| c.to_bytes()) else {
                    return status(413, "RequestEntityTooLarge", "request body too large");
                };
                return match rbac::ssar_from_protobuf(&bytes) {
                    Some(body) => json_response(201, rbac::review(&region, body)),
                    None => status(
                        415,
                        "UnsupportedMediaType",
                        "cannot decode this protobuf body; send JSON",
                    ),
                };
            }
            match read_json(req).await {
                Ok(body) => json_response(201, rbac::review(&region, body)),
                Err(r) => r,
            }
        }
        Route::Resource(t) => resource(region, req, t, query, &faults).await,
    }
}

pub async fn read_json(req: Request<hyper::body::Incoming>) -> Result<Value, Response> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    let bytes = match limited.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            return Err(status(
                413,
                "RequestEntityTooLarge",
                &format!("request body: {e}"),
            ))
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        status(
            400,
            "BadRequest",
            &format!("the body of the request was in an unknown format: {e}"),
        )
    })
}

fn verb(method: &Method, t: &Target, watch: bool) -> &'static str {
    match *method {
        Method::GET if watch => "watch",
        Method::GET if t.name.is_some() => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if t.name.is_some() => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

fn forbidden(verb: &str, t: &Target) -> Response {
    let res = match &t.sub {
        Some(s) => format!("{}/{}", t.kind.plural(), s),
        None => t.kind.plural().to_string(),
    };
    let what = match &t.name {
        Some(n) => format!("{} \"{}\"", t.kind.plural(), n),
        None => t.kind.plural().to_string(),
    };
    let scope = match &t.namespace {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    };
    status_with(
        403,
        "Forbidden",
        &format!(
            "{what} is forbidden: User \"{}\" cannot {verb} resource \"{res}\" in API group \"{}\"{scope}",
            rbac::USER,
            t.group
        ),
        Some(json!({"name": t.name.clone().unwrap_or_default(), "kind": t.kind.plural()})),
    )
}

async fn resource(
    region: Arc<Region>,
    req: Request<hyper::body::Incoming>,
    t: Target,
    q: HashMap<String, String>,
    faults: &crate::world::faults::Faults,
) -> Response {
    let is_watch = q.get("watch").is_some_and(|w| w == "1" || w == "true");
    let fmt = table::format(
        req.headers()
            .get(hyper::header::ACCEPT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("application/json"),
    );
    let verb = verb(req.method(), &t, is_watch);
    let res = match &t.sub {
        Some(s) => format!("{}/{}", t.kind.plural(), s),
        None => t.kind.plural().to_string(),
    };
    let ns_forbidden = t
        .namespace
        .as_ref()
        .is_some_and(|ns| faults.forbid_namespaces.contains(ns));
    if ns_forbidden
        || faults
            .forbid_resources
            .iter()
            .any(|r| *r == res || *r == t.kind.plural())
        || !rbac::allowed(
            &region.rbac,
            verb,
            &res,
            t.namespace.as_deref().unwrap_or(""),
        )
    {
        return forbidden(verb, &t);
    }
    if let Some(sub) = t.sub.as_deref() {
        return match (t.kind, sub) {
            (Kind::Pod, "log") => logs::handle(region, &t, &q).await,
            (Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet, "scale") => {
                scale(region, req, &t).await
            }
            (_, "status") => match *req.method() {
                Method::GET => get(&region, &t, Format::Json, &q),
                _ => write(region, req, t, q).await,
            },
            _ => status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        };
    }
    match *req.method() {
        Method::GET if is_watch => {
            if let Some(code) = faults.watch_error {
                if code != 410 {
                    return error_code(code);
                }
            }
            watch::handle(region, &t, &q, faults, fmt)
        }
        Method::GET if t.name.is_some() => get(&region, &t, fmt, &q),
        Method::GET => {
            if let Some(code) = faults.list_error {
                return error_code(code);
            }
            list(&region, &t, &q, fmt)
        }
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            write(region, req, t, q).await
        }
        _ => status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }
}

pub fn error_code(code: u16) -> Response {
    match code {
        429 => status(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        410 => status(
            410,
            "Expired",
            "The resourceVersion for the provided list is too old.",
        ),
        403 => status(403, "Forbidden", "forbidden by a simulated fault"),
        503 => status(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        c => status(
            c,
            "InternalError",
            "Internal error occurred: simulated failure",
        ),
    }
}

fn get(region: &Region, t: &Target, fmt: Format, q: &HashMap<String, String>) -> Response {
    let name = t.name.as_deref().unwrap_or("");
    let json = {
        let st = region.lock();
        match st
            .store
            .get(t.kind, t.namespace.as_deref().unwrap_or(""), name)
        {
            Some(o) => o.json.clone(),
            None => return not_found(t.kind.plural(), name),
        }
    };
    match fmt {
        Format::Json => json_response(200, json),
        Format::Table | Format::Metadata => {
            let v: Value = serde_json::from_slice(&json).unwrap_or(Value::Null);
            let out = if fmt == Format::Table {
                let include = q
                    .get("includeObject")
                    .map(String::as_str)
                    .unwrap_or("Metadata");
                let meta = json!({"resourceVersion": v.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)});
                table::table(t.kind, &[v], meta, include, region.clock.now())
            } else {
                table::partial_metadata(&v)
            };
            json_response(200, serde_json::to_vec(&out).unwrap_or_default())
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Continue {
    rv: u64,
    start: String,
}

fn list(region: &Region, t: &Target, q: &HashMap<String, String>, fmt: Format) -> Response {
    let sel = match Selector::parse(
        q.get("labelSelector").map(String::as_str),
        q.get("fieldSelector").map(String::as_str),
        t.kind,
    ) {
        Ok(s) => s,
        Err(e) => return status(400, "BadRequest", &e),
    };
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
    let after: Option<(String, String)> = match q.get("continue").filter(|c| !c.is_empty()) {
        Some(c) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<Continue>(&b).ok());
            match decoded {
                Some(c) => match c.start.split_once('\0') {
                    Some((a, b)) => Some((a.to_string(), b.to_string())),
                    None => return status(400, "BadRequest", "invalid continue token"),
                },
                None => return status(400, "BadRequest", "invalid continue token"),
            }
        }
        None => None,
    };
    let ns_filter = t.namespace.clone();
    let st = region.lock();
    let rv = st.store.rv();
    let mut picked: Vec<Bytes> = Vec::with_capacity(limit.clamp(16, 100_000));
    let mut last_key: Option<(String, String)> = None;
    let mut remaining = 0usize;
    // Objects cannot have an empty name, so starting after (ns, "") visits
    // exactly the namespace's objects first.
    let start = match (&after, &ns_filter) {
        (Some(a), _) => Some(a.clone()),
        (None, Some(ns)) => Some((ns.clone(), String::new())),
        (None, None) => None,
    };
    for (key, obj) in st.store.range_after(t.kind, start.as_ref()) {
        if let Some(ns) = &ns_filter {
            if key.0 != *ns {
                break;
            }
        }
        if !sel.is_empty() && !sel.matches(&obj.index) {
            continue;
        }
        if limit > 0 && picked.len() >= limit {
            remaining += 1;
            continue;
        }
        picked.push(obj.json.clone());
        last_key = Some(key.clone());
    }
    drop(st);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        if let Some((a, b)) = last_key {
            let token = serde_json::to_vec(&Continue {
                rv,
                start: format!("{a}\0{b}"),
            })
            .unwrap_or_default();
            meta["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(token));
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    match fmt {
        Format::Json => {
            let head = format!(
                "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
                t.kind.name(),
                t.kind.api_version(),
                meta
            );
            let size: usize = picked.iter().map(|b| b.len() + 1).sum();
            let mut out = BytesMut::with_capacity(head.len() + size + 2);
            out.put_slice(head.as_bytes());
            for (i, b) in picked.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                out.put_slice(b);
            }
            out.put_slice(b"]}");
            json_response(200, out.freeze())
        }
        Format::Table => {
            let items: Vec<Value> = picked
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let include = q
                .get("includeObject")
                .map(String::as_str)
                .unwrap_or("Metadata");
            let tab = table::table(t.kind, &items, meta, include, region.clock.now());
            json_response(200, serde_json::to_vec(&tab).unwrap_or_default())
        }
        Format::Metadata => {
            let items: Vec<Value> = picked
                .iter()
                .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
                .map(|v| table::partial_metadata(&v))
                .collect();
            let body = json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items});
            json_response(200, serde_json::to_vec(&body).unwrap_or_default())
        }
    }
}

fn store_error(e: StoreError, t: &Target, name: &str) -> Response {
    match e {
        StoreError::NotFound => not_found(t.kind.plural(), name),
        StoreError::AlreadyExists => status_with(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", t.kind.plural()),
            Some(json!({"name": name, "kind": t.kind.plural()})),
        ),
        StoreError::Conflict => status_with(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                t.kind.plural()
            ),
            Some(json!({"name": name, "kind": t.kind.plural()})),
        ),
        StoreError::Invalid(m) => status(422, "Invalid", &format!("{} \"{name}\" is invalid: {m}", t.kind.name())),
    }
}

fn content_type(req: &Request<hyper::body::Incoming>) -> String {
    req.headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

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

async fn write(
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
        return delete(&region, &t, &name);
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
                    return not_found("namespaces", &ns);
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
                return not_found(t.kind.plural(), &name);
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

fn create_bare_pod(
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

fn delete(region: &Region, t: &Target, name: &str) -> Response {
    let ns = t.namespace.clone().unwrap_or_default();
    let clock = region.clock.clone();
    let mut st = region.lock();
    if st.store.get(t.kind, &ns, name).is_none() {
        return not_found(t.kind.plural(), name);
    }
    let result = match t.kind {
        Kind::Pod => st
            .terminate_pod(&clock, &ns, name)
            .ok_or(StoreError::NotFound),
        Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet => {
            // Background cascading deletion of owned objects.
            let v = st.store.delete(t.kind, &ns, name);
            if let Ok(obj) = &v {
                let uid = obj
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                cascade(&clock, &mut st, &ns, &uid, name);
            }
            v
        }
        Kind::Namespace => {
            let mut v = st
                .store
                .get_value(Kind::Namespace, "", name)
                .unwrap_or(Value::Null);
            v["status"]["phase"] = json!("Terminating");
            v["metadata"]["deletionTimestamp"] = json!(clock.stamp());
            let r = st.store.put(Kind::Namespace, v, &clock.stamp());
            // Everything in it goes; the namespace itself once its pods are gone.
            st.empty_namespace(&clock, name);
            r
        }
        _ => st.store.delete(t.kind, &ns, name),
    };
    st.dirty = true;
    drop(st);
    region.wake.notify_one();
    match result {
        Ok(v) => json_response(200, serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => store_error(e, t, name),
    }
}

fn cascade(
    clock: &crate::world::clock::Clock,
    st: &mut crate::world::region::State,
    ns: &str,
    uid: &str,
    _name: &str,
) {
    let owned = |st: &crate::world::region::State, kind: Kind| -> Vec<(String, String)> {
        st.store
            .iter(kind)
            .filter(|((n, _), o)| n == ns && memchr_uid(&o.json, uid))
            .map(|(_, o)| o)
            .filter_map(|o| serde_json::from_slice::<Value>(&o.json).ok())
            .filter(|v| {
                v.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|r| {
                        r.iter()
                            .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                    })
            })
            .map(|v| {
                (
                    v.pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    v.pointer("/metadata/uid")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect()
    };
    for (rs, rs_uid) in owned(st, Kind::ReplicaSet) {
        let _ = st.store.delete(Kind::ReplicaSet, ns, &rs);
        for (pod, _) in owned_by(st, ns, &rs_uid) {
            st.terminate_pod(clock, ns, &pod);
        }
    }
    for (pod, _) in owned_by(st, ns, uid) {
        st.terminate_pod(clock, ns, &pod);
    }
}

fn owned_by(st: &crate::world::region::State, ns: &str, uid: &str) -> Vec<(String, String)> {
    st.store
        .iter(Kind::Pod)
        .filter(|((n, _), o)| n == ns && memchr_uid(&o.json, uid))
        .map(|((_, name), _)| (name.clone(), String::new()))
        .collect()
}

fn memchr_uid(json: &[u8], uid: &str) -> bool {
    !uid.is_empty() && json.windows(uid.len()).any(|w| w == uid.as_bytes())
}

async fn scale(region: Arc<Region>, req: Request<hyper::body::Incoming>, t: &Target) -> Response {
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
        return not_found(t.kind.plural(), &name);
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
