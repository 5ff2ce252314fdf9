//! The admin endpoint (`/_sim/...`, JSON, its own token): tests and demos
//! flip faults on a running simulator through it. Each region answers it on
//! its own port, and the fleet's admin port answers
//! `/_sim/regions/{region}/...` for every region whatever its faults
//! (refused connections and blackholes included), so a fault can always be
//! cleared.

use crate::api::read_json;
use crate::transport::http::{json_response, status, Response};
use crate::world::faults::Fault;
use crate::world::region::Region;
use hyper::service::service_fn;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Open connections on the admin port.
const MAX_CONNECTIONS: usize = 64;

/// Serve the fleet's admin port until `stop`.
pub fn spawn_listener(
    regions: Vec<Arc<Region>>,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    token: String,
    stop: CancellationToken,
) {
    let regions = Arc::new(regions);
    let token = Arc::new(token);
    tokio::spawn(async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let permit = tokio::select! {
                _ = stop.cancelled() => return,
                p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                a = listener.accept() => a,
            };
            let Ok((tcp, _)) = accepted else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let (acceptor, regions, token, stop) = (
                acceptor.clone(),
                regions.clone(),
                token.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let _permit = permit;
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let svc = service_fn(move |req| {
                    let (regions, token) = (regions.clone(), token.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(fleet_admin(&regions, &token, req).await)
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(tls), svc);
                tokio::select! {
                    _ = conn => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
    });
}

/// `/_sim/regions` lists the regions; `/_sim/regions/{region}/{rest}` is
/// that region's admin endpoint.
async fn fleet_admin(
    regions: &[Arc<Region>],
    token: &str,
    req: Request<hyper::body::Incoming>,
) -> Response {
    let bearer = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    if token.is_empty() || bearer != Some(token) {
        return status(401, "Unauthorized", "Unauthorized");
    }
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/_sim/regions") else {
        return status(404, "NotFound", "unknown admin path; see docs/SIMULATOR.md");
    };
    if rest.is_empty() || rest == "/" {
        let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
        return json_response(
            200,
            serde_json::to_vec(&json!({ "regions": names })).unwrap_or_default(),
        );
    }
    let rest = rest.trim_start_matches('/');
    let (name, rest) = rest.split_once('/').unwrap_or((rest, ""));
    match regions.iter().find(|r| r.name == name) {
        Some(region) => handle(region.clone(), req, rest).await,
        None => status(404, "NotFound", &format!("no region {name:?}")),
    }
}

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
                    "es_error": f.es_error,
                    "es_latency_ms": f.es_latency_ms,
                    "es_refuse_connections": f.es_refuse,
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
                Ok(f) => match crate::apply_fault(&region, &f) {
                    Ok(()) => json_response(200, b"{\"applied\":true}".to_vec()),
                    Err(e) => status(422, "Invalid", &e),
                },
                Err(e) => status(400, "BadRequest", &format!("not a fault: {e}")),
            }
        }
        (Method::DELETE, "faults") => {
            crate::clear_faults(&region);
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
                "pods": st.store.count(crate::world::store::Kind::Pod),
                "events": st.store.count(crate::world::store::Kind::Event),
                "simulatedSeconds": region.clock.elapsed(),
                "watchRequests": region.watch_requests.load(std::sync::atomic::Ordering::Relaxed),
            });
            json_response(200, serde_json::to_vec(&body).unwrap_or_default())
        }
        _ => status(404, "NotFound", "unknown admin path; see docs/SIMULATOR.md"),
    }
}
