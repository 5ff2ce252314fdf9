//! The admin endpoint of a region (`/_sim/...`, JSON, its own token): tests
//! and demos flip faults on a running simulator through it.

use super::api::read_json;
use super::faults::Fault;
use super::http::{json_response, status, Response};
use super::region::Region;
use hyper::{Method, Request};
use serde_json::json;
use std::sync::Arc;

pub async fn handle(
    region: Arc<Region>,
    req: Request<hyper::body::Incoming>,
    rest: &str,
) -> Response {
    match (req.method().clone(), rest) {
        (Method::GET, "faults") => {
            let f = region.faults().clone();
            json_response(
                200,
                serde_json::to_vec(&json!({
                    "refuse_connections": f.refuse,
                    "blackhole": f.blackhole,
                    "list_error": f.list_error,
                    "watch_error": f.watch_error,
                    "latency_ms": f.latency_ms,
                    "stall_watches": f.stall_watches,
                    "forbid_resources": f.forbid_resources,
                    "forbid_namespaces": f.forbid_namespaces,
                    "token_expired": f.token_expired,
                    "malformed_watch": f.malformed_watch,
                    "hostile_strings": f.hostile,
                }))
                .unwrap_or_default(),
            )
        }
        (Method::POST, "faults") => {
            let body = match read_json(req).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            match serde_json::from_value::<Fault>(body) {
                Ok(f) => match super::apply_fault(&region, &f) {
                    Ok(()) => json_response(200, b"{\"applied\":true}".to_vec()),
                    Err(e) => status(422, "Invalid", &e),
                },
                Err(e) => status(400, "BadRequest", &format!("not a fault: {e}")),
            }
        }
        (Method::DELETE, "faults") => {
            super::clear_faults(&region);
            json_response(200, b"{\"cleared\":true}".to_vec())
        }
        (Method::POST, "compact") => {
            let rv = {
                let mut st = region.lock();
                st.store.compact_all();
                st.store.rv()
            };
            json_response(
                200,
                serde_json::to_vec(&json!({"compacted": rv})).unwrap_or_default(),
            )
        }
        (Method::GET, "state") => {
            let st = region.lock();
            let body = json!({
                "region": region.name,
                "resourceVersion": st.store.rv(),
                "pods": st.store.count(super::store::Kind::Pod),
                "events": st.store.count(super::store::Kind::Event),
                "simulatedSeconds": region.clock.elapsed(),
                "watchRequests": region.watch_requests.load(std::sync::atomic::Ordering::Relaxed),
            });
            json_response(200, serde_json::to_vec(&body).unwrap_or_default())
        }
        _ => status(404, "NotFound", "unknown admin path; see docs/SIMULATOR.md"),
    }
}
