//! The poller of one region: a long-lived task that runs only while
//! something shows the network's data. It owns nothing the view needs to
//! copy: figures go into a shared `RegionNet`, and a small `Update` says
//! that they moved or why the poll failed (the region's metrics badge;
//! it never touches the pods' feeds). Failures back off exponentially with
//! jitter, up to five minutes.
//!
//! How often: `Pace`. At the configured interval while the network pane is
//! on screen, at the slower idle interval while it is not (triage still
//! lists hot nodes, drops and stale backends, so the figures never stop);
//! opening the pane wakes the poller at once.

use super::direct::{self, DirectConfig};
use super::model::RegionNet;
use super::prom::PromSource;
use crate::write::ReadClient;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

/// Longest wait between polls after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub enum Source {
    /// node_exporter through the pod proxy, with the region's client.
    Direct {
        client: ReadClient,
        cfg: DirectConfig,
    },
    Prometheus(Box<PromSource>),
}

impl Source {
    /// What the pane says it reads.
    pub fn describe(&self) -> String {
        match self {
            Source::Direct { .. } => "direct scrape (node_exporter via the pod proxy)".into(),
            Source::Prometheus(p) => format!("Prometheus {}", p.config().url),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub region: String,
    /// None: the figures moved; Some: why this poll failed.
    pub error: Option<String>,
}

/// Nodes of the region as (name, InternalIP), from the fleet store.
pub type Nodes = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn lock(net: &Mutex<RegionNet>) -> std::sync::MutexGuard<'_, RegionNet> {
    net.lock().unwrap_or_else(|p| p.into_inner())
}

/// How often one region polls: `interval` while its figures are on
/// screen, `idle` while not; `show` wakes a waiting poller.
#[derive(Debug)]
pub struct Pace {
    pub interval: Duration,
    pub idle: Duration,
    shown: AtomicBool,
    wake: Notify,
}

impl Pace {
    pub fn new(interval: Duration, idle: Duration) -> Arc<Pace> {
        Arc::new(Pace {
            interval,
            idle: idle.max(interval),
            shown: AtomicBool::new(false),
            wake: Notify::new(),
        })
    }

    /// The pane appeared or went away; appearing polls now.
    pub fn set_shown(&self, shown: bool) {
        let was = self.shown.swap(shown, Ordering::Relaxed);
        if shown && !was {
            self.wake.notify_waiters();
        }
    }

    pub fn shown(&self) -> bool {
        self.shown.load(Ordering::Relaxed)
    }

    fn now(&self) -> Duration {
        if self.shown() {
            self.interval
        } else {
            self.idle
        }
    }
}

/// Poll every `interval` until `stop` (see `run_paced`).
#[allow(clippy::too_many_arguments)]
pub async fn run(
    region: String,
    source: Source,
    interval: Duration,
    nodes: Nodes,
    net: Arc<Mutex<RegionNet>>,
    tx: mpsc::Sender<Update>,
    stop: CancellationToken,
) {
    let pace = Pace::new(interval, interval);
    pace.set_shown(true);
    run_paced(region, source, pace, nodes, net, tx, stop).await
}

/// Poll until `stop`. Each poll fills a fresh `RegionNet` and then takes
/// the lock briefly to merge it, so the view never waits on IO.
#[allow(clippy::too_many_arguments)]
pub async fn run_paced(
    region: String,
    source: Source,
    pace: Arc<Pace>,
    nodes: Nodes,
    net: Arc<Mutex<RegionNet>>,
    tx: mpsc::Sender<Update>,
    stop: CancellationToken,
) {
    let mut failures: u32 = 0;
    let mut backfilled = false;
    loop {
        let result = match &source {
            Source::Direct { client, cfg } => {
                let mut fresh = RegionNet::default();
                let r = tokio::select! {
                    _ = stop.cancelled() => None,
                    r = direct::poll(client, cfg, &mut fresh, unix_now()) => Some(r),
                };
                lock(&net).merge(fresh);
                match r {
                    None => return,
                    Some(Ok(rep)) if rep.scraped == 0 && rep.exporters > 0 => {
                        Err(format!("no exporter answered: {}", rep.failures.join("; ")))
                    }
                    Some(Ok(rep)) if rep.exporters == 0 => {
                        Err("no node_exporter pods found".into())
                    }
                    Some(Ok(_)) => Ok(()),
                    Some(Err(e)) => Err(e),
                }
            }
            Source::Prometheus(p) => {
                let ns = nodes();
                let mut fresh = RegionNet::default();
                let r = tokio::select! {
                    _ = stop.cancelled() => None,
                    r = async {
                        if !backfilled {
                            p.backfill(&mut fresh, &ns, unix_now()).await?;
                        }
                        p.poll(&mut fresh, &ns).await
                    } => Some(r),
                };
                lock(&net).merge(fresh);
                match r {
                    None => return,
                    Some(Ok(())) => {
                        backfilled = true;
                        Ok(())
                    }
                    Some(Err(e)) => Err(e.to_string()),
                }
            }
        };
        let interval = pace.now();
        let wait = match &result {
            Ok(()) => {
                failures = 0;
                interval
            }
            Err(_) => {
                failures = failures.saturating_add(1);
                // never sooner than the pace itself (idle: the idle interval)
                let exp = pace
                    .interval
                    .saturating_mul(1u32 << failures.min(8))
                    .min(MAX_BACKOFF)
                    .max(interval);
                // jitter: 75 % to 125 %
                exp.mul_f64(0.75 + fastrand::f64() * 0.5)
            }
        };
        let ok = result.is_ok();
        let update = Update {
            region: region.clone(),
            error: result.err(),
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            r = tx.send(update) => if r.is_err() { return },
        }
        // after a failure, opening the pane does not cut the backoff short
        let woken = async {
            if ok {
                pace.wake.notified().await
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = woken => {}
        }
    }
}
