//! The listener of one region (TLS, HTTP/1.1, bounded connections) and its
//! tick loop (timeline faults, kubelet, controllers, churn).

use crate::transport::gate::Gated;
use crate::world::faults::Fault;
use crate::world::region::Region;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Open connections per region; more wait in the accept backlog.
const MAX_CONNECTIONS: usize = 512;
/// How often the kubelet and controllers run (real time).
const TICK: Duration = Duration::from_millis(100);
/// Time a client has to finish the TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// What a listener serves.
#[derive(Clone, Copy, PartialEq)]
pub enum Service {
    /// The Kubernetes API.
    Kube,
    /// The region's Elasticsearch endpoint (`api/es`): another host in a
    /// real fleet, so the API's refusals and blackholes do not reach it.
    Es,
}

pub fn spawn(
    region: Arc<Region>,
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    stop: CancellationToken,
    service: Service,
) {
    tokio::spawn(async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(_) => return,
        };
        let mut listener = Some(listener);
        loop {
            // Refusing connections means closing the socket, so clients see
            // ECONNREFUSED as they would from a dead API server.
            let refuse = match service {
                Service::Kube => region.faults().refuse,
                Service::Es => region.faults().es_refuse,
            };
            if refuse {
                listener = None;
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                }
            }
            let l = match &listener {
                Some(l) => l,
                None => match TcpListener::bind(addr).await {
                    Ok(l) => listener.insert(l),
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let permit = tokio::select! {
                _ = stop.cancelled() => return,
                p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => continue,
                a = l.accept() => a,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let region = region.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let gate = match service {
                    Service::Kube => region.gate.clone(),
                    Service::Es => Default::default(),
                };
                let tcp = Gated::new(tcp, gate.clone());
                let Some(tls) = handshake(&acceptor, tcp, &gate, &stop).await else {
                    return;
                };
                let conn_stop = stop.clone();
                let svc = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    let region = region.clone();
                    // exec and port-forward sessions outlive the connection's task
                    req.extensions_mut().insert(conn_stop.clone());
                    async move {
                        Ok::<_, std::convert::Infallible>(match service {
                            Service::Kube => crate::api::handle(region, req).await,
                            Service::Es => crate::api::es::handle(region, req).await,
                        })
                    }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(tls), svc)
                    .with_upgrades();
                tokio::select! {
                    _ = conn => {}
                    _ = stop.cancelled() => {}
                }
            });
        }
    });
}

/// The TLS handshake, given `HANDSHAKE` of time with the path open: under a
/// blackhole a new connection is held unanswered, not closed.
async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    tcp: Gated<TcpStream>,
    gate: &crate::transport::gate::Gate,
    stop: &CancellationToken,
) -> Option<tokio_rustls::server::TlsStream<Gated<TcpStream>>> {
    let accept = acceptor.accept(tcp);
    tokio::pin!(accept);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return None,
            r = &mut accept => return r.ok(),
            _ = tokio::time::sleep(HANDSHAKE) => {
                if !gate.is_shut() {
                    return None;
                }
                tokio::select! {
                    _ = stop.cancelled() => return None,
                    _ = gate.wait_open() => {}
                }
            }
        }
    }
}

/// The autoscaler's sync period (simulated seconds), as kube-controller-manager's.
const HPA_SYNC: f64 = 15.0;

pub fn spawn_ticker(
    region: Arc<Region>,
    mut timeline: Vec<(f64, Fault)>,
    churn: f64,
    stop: CancellationToken,
) {
    timeline.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    tokio::spawn(async move {
        let mut churn_debt = 0.0f64;
        let mut last = std::time::Instant::now();
        let mut last_endpoints = std::time::Instant::now();
        let mut endpoints_rv = None;
        let mut hpa_synced = 0.0f64;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = region.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
            let now = region.clock.elapsed();
            while timeline.first().is_some_and(|(at, _)| *at <= now) {
                let (_, f) = timeline.remove(0);
                if let Err(e) = crate::apply_fault(&region, &f) {
                    tracing::warn!(region = %region.name, "scenario fault {f:?} not applied: {e}");
                }
            }
            let dt = last.elapsed().as_secs_f64();
            last = std::time::Instant::now();
            churn_debt = (churn_debt + churn * dt).min(churn.max(1.0) * 2.0);
            let clock = region.clock.clone();
            let mut st = region.lock();
            st.kubelet_tick(&clock);
            // Controllers settle within a tick: a scale shows up at once.
            for _ in 0..4 {
                let was_dirty = st.dirty;
                st.reconcile(&clock);
                st.kubelet_tick(&clock);
                if !was_dirty {
                    break;
                }
            }
            st.finish_namespaces();
            if churn_debt >= 1.0 {
                let n = churn_debt.floor() as usize;
                churn_debt -= n as f64;
                let before = Some(st.store.rv());
                st.churn(&clock, n);
                // churn only touches an annotation: endpoints stay as they are
                if endpoints_rv == before {
                    endpoints_rv = Some(st.store.rv());
                }
            }
            // endpoints follow pods: nothing to redo while the store is still
            // (with 50k pods a pass costs a large part of a core)
            if last_endpoints.elapsed() >= Duration::from_secs(1)
                && Some(st.store.rv()) != endpoints_rv
            {
                st.update_endpoints(&clock);
                st.update_hpas(&clock);
                hpa_synced = now;
                endpoints_rv = Some(st.store.rv());
                last_endpoints = std::time::Instant::now();
            } else if now - hpa_synced >= HPA_SYNC {
                // the autoscaler acts on load even while nothing else moves
                st.update_hpas(&clock);
                hpa_synced = now;
            }
        }
    });
}
