//! The pod proxy subresource (`/api/v1/namespaces/{ns}/pods/{pod}[:port]/proxy/{path}`)
//! for the node_exporter pods: their `/metrics`, as a real API server
//! relays it. Any other pod, port or path answers as a real one would when
//! nothing listens there.

use crate::api::rbac;
use crate::transport::http::{not_found, percent_decode, status, Body, Response};
use crate::world::network::EXPORTER_PORT;
use crate::world::region::{Region, Stage};
use hyper::Method;

/// `Some` when `path` is a pod proxy request.
pub fn answer(region: &Region, method: &Method, path: &str) -> Option<Response> {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ["api", "v1", "namespaces", ns, "pods", target, "proxy", rest @ ..] = segs.as_slice()
    else {
        return None;
    };
    // Clients may escape the `:` (the Python client sends `%3A`).
    let target = percent_decode(target);
    let (ns, target) = (*ns, target.as_str());
    if !rbac::allowed(&region.rbac, "get", "pods/proxy", ns)
        || region
            .faults()
            .forbid_resources
            .iter()
            .any(|r| r == "pods" || r == "pods/proxy")
    {
        return Some(status(
            403,
            "Forbidden",
            &format!(
                "pods \"{target}\" is forbidden: User \"{}\" cannot get resource \"pods/proxy\" in API group \"\" in the namespace \"{ns}\"",
                rbac::USER
            ),
        ));
    }
    if *method != Method::GET {
        return Some(status(405, "MethodNotAllowed", "only GET is proxied here"));
    }
    // `pod`, `pod:port` or `scheme:pod:port`
    let parts: Vec<&str> = target.split(':').collect();
    let (pod, port) = match parts.as_slice() {
        [p] => (*p, None),
        [p, port] => (*p, Some(*port)),
        [_, p, port] => (*p, Some(*port)),
        _ => return Some(status(400, "BadRequest", "invalid pod proxy target")),
    };
    let now = region.clock.elapsed();
    let mut st = region.lock();
    let Some(sim) = st.pods.get(&(ns.to_string(), pod.to_string())) else {
        return Some(not_found(crate::world::store::Kind::Pod, pod));
    };
    let ip = sim.ip.clone();
    let running = sim.stage == Stage::Running;
    let node = st.exporter_node(ns, pod);
    let port_ok = port.is_none_or(|p| p == EXPORTER_PORT.to_string() || p == "metrics");
    let (Some(node), true, true) = (node, running, port_ok) else {
        let port = port.unwrap_or("80");
        return Some(status(
            503,
            "ServiceUnavailable",
            &format!(
                "error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"
            ),
        ));
    };
    if rest.join("/") != "metrics" {
        return Some(text(404, "404 page not found\n".into()));
    }
    let body = st.node_metrics(&node, now).unwrap_or_default();
    Some(text(200, body))
}

/// A text exposition (format 0.0.4) response.
pub fn text(code: u16, body: String) -> Response {
    let mut r = hyper::Response::new(Body::Full(Some(body.into())));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
