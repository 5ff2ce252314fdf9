//! Plain HTTP on 127.0.0.1 for a real Prometheus: `/metrics/{region}/{node}`
//! is that node's node_exporter `/metrics` (the same text the pod proxy
//! serves). `prometheus_config` writes a scrape config with one target per
//! node, labelled as a Kubernetes scrape of node_exporter would be.

use crate::api::proxy::text;
use crate::transport::http::Response;
use crate::world::region::Region;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Open scrape connections at once; more wait in the accept backlog.
const MAX_CONNECTIONS: usize = 64;

pub fn spawn_listener(regions: Vec<Arc<Region>>, listener: TcpListener, stop: CancellationToken) {
    tokio::spawn(async move {
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
            let Ok((tcp, _)) = accepted else { continue };
            let regions = regions.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let r = answer(&regions, req.method(), req.uri().path());
                    async move { Ok::<_, std::convert::Infallible>(r) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(tcp), svc);
                tokio::select! {
                    _ = conn => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
    });
}

fn answer(regions: &[Arc<Region>], method: &hyper::Method, path: &str) -> Response {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ["metrics", region, node] = segs.as_slice() else {
        return text(404, "404 page not found\n".into());
    };
    if method != hyper::Method::GET {
        return text(405, "method not allowed\n".into());
    }
    let Some(r) = regions.iter().find(|r| r.name == *region) else {
        return text(404, "no such region\n".into());
    };
    // A region that refuses connections or is blackholed has no reachable
    // exporters either.
    let f = r.faults().clone();
    if f.refuse || f.blackhole {
        return text(503, "node unreachable\n".into());
    }
    let now = r.clock.elapsed();
    match r.lock().node_metrics(node, now) {
        Some(body) => text(200, body),
        None => text(404, "no such node\n".into()),
    }
}

/// A Prometheus configuration that scrapes every node of every region at
/// `127.0.0.1:port`, every `interval_s` seconds. Labels: `region`, and
/// `instance` as `InternalIP:9100` (as a Kubernetes service discovery of
/// node_exporter would set it).
pub fn prometheus_config(regions: &[Arc<Region>], port: u16, interval_s: f64) -> String {
    let iv = format!("{}ms", (interval_s.max(0.1) * 1000.0).round() as u64);
    let mut y = format!(
        "# Written by `pitwall sim --prometheus-config-out`: scrapes the simulated\n# node_exporters.\nglobal:\n  scrape_interval: {iv}\n  scrape_timeout: {iv}\n  evaluation_interval: {iv}\nscrape_configs:\n  - job_name: node-exporter\n    static_configs:\n"
    );
    for r in regions {
        let nodes = r.lock().nodes.clone();
        for (node, ip) in nodes {
            y.push_str(&format!(
                "      - targets: ['127.0.0.1:{port}']\n        labels:\n          __metrics_path__: /metrics/{}/{node}\n          instance: '{ip}:{}'\n          region: {}\n          node: {node}\n",
                r.name,
                crate::world::network::EXPORTER_PORT,
                r.name
            ));
        }
    }
    y
}
