//! The Kubernetes API of one region: routing, auth, RBAC and API-level
//! faults here; one file per verb family: `read.rs` (get, list), `watch.rs`,
//! `write.rs` (create, update, patch, scale), `delete.rs` (with cascades),
//! `logs.rs`, `discovery.rs`, `table.rs` (server-side printing), `rbac.rs`
//! (rules and SelfSubjectAccessReview).

pub mod custom;
pub mod delete;
pub mod discovery;
pub mod es;
pub mod exec;
pub mod inflate;
pub mod logs;
pub mod patch;
pub mod portforward;
pub mod proxy;
pub mod rbac;
pub mod read;
pub mod select;
pub mod spdy;
pub mod table;
pub mod watch;
pub mod write;

use crate::transport::http::{self, json_response, not_found, status, status_with, Response};
use crate::world::region::Region;
use crate::world::store::{Kind, StoreError};
use http_body_util::BodyExt;
use hyper::{Method, Request};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use table::Format;

/// Largest request body accepted (a pod spec is a few KB).
pub(crate) const MAX_BODY: usize = 4 << 20;

pub struct Target {
    pub group: String,
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

pub(crate) enum Route {
    Discovery(Response),
    Resource(Target),
    Ssar,
    NotFound,
}

pub(crate) fn route(path: &str) -> Route {
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
        ["apis", "autoscaling", "v2", rest @ ..] => ("autoscaling", rest),
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

pub(crate) fn unauthorized() -> Response {
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
    region.requests.all.fetch_add(1, Ordering::Relaxed);
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
    if let Some(r) = proxy::answer(&region, req.method(), &path) {
        return r;
    }
    let query = http::parse_query(req.uri().query());
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("application/json");
    if let Some(r) = custom::answer(&region, &path, &query, table::format(accept)) {
        return r;
    }
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

pub(crate) fn verb(method: &Method, t: &Target, watch: bool) -> &'static str {
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

pub(crate) fn forbidden(verb: &str, t: &Target) -> Response {
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

pub(crate) async fn resource(
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
    // streaming subresources are `create` whatever the method (WebSocket is GET)
    let verb = match t.sub.as_deref() {
        Some("exec" | "attach" | "portforward") => "create",
        _ => verb(req.method(), &t, is_watch),
    };
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
            (Kind::Pod, "exec" | "attach") => exec::handle(region, req, &t).await,
            (Kind::Pod, "portforward") => portforward::handle(region, req, &t).await,
            (Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet, "scale") => {
                write::scale(region, req, &t).await
            }
            (_, "status") => match *req.method() {
                Method::GET => read::get(&region, &t, Format::Json, &q),
                _ => write::write(region, req, t, q).await,
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
            region.requests.watches.fetch_add(1, Ordering::Relaxed);
            if let Some(code) = faults.watch_error {
                if code != 410 {
                    return error_code(code);
                }
            }
            watch::handle(region, &t, &q, faults, fmt)
        }
        Method::GET if t.name.is_some() => read::get(&region, &t, fmt, &q),
        Method::GET => {
            region.requests.lists.fetch_add(1, Ordering::Relaxed);
            if let Some(code) = faults.list_error {
                return error_code(code);
            }
            read::list(&region, &t, &q, fmt)
        }
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE => {
            write::write(region, req, t, q).await
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

pub(crate) fn store_error(e: StoreError, t: &Target, name: &str) -> Response {
    match e {
        StoreError::NotFound => not_found(t.kind, name),
        StoreError::AlreadyExists => status_with(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", t.kind.qualified()),
            Some(t.kind.status_details(name)),
        ),
        StoreError::Conflict => status_with(
            409,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                t.kind.qualified()
            ),
            Some(t.kind.status_details(name)),
        ),
        StoreError::Invalid(m) => status(422, "Invalid", &format!("{} \"{name}\" is invalid: {m}", t.kind.qualified_kind())),
    }
}

pub(crate) fn content_type(req: &Request<hyper::body::Incoming>) -> String {
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
