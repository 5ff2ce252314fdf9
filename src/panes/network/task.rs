//! The poller of a region as a long-lived task (`tasks::TaskJob`): started
//! once the region is live, it runs until the cockpit quits. Its updates
//! reach the loop as `Msg::Network`; the figures go into the region's shared
//! `RegionNet`.

use super::direct::DirectConfig;
use super::model::RegionNet;
use super::poller::{self, Nodes, Pace, Source};
use super::prom::{PromConfig, PromSource};
use crate::model::RegionId;
use crate::msg::Msg;
use crate::tasks::{TaskJob, TaskKey};
use crate::write::ReadClient;
use k8s_openapi::api::core::v1::Node;
use kube::api::{ListParams, ObjectList};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the node list (names and InternalIPs, for Prometheus'
/// `instance` labels) is read again.
const NODES_EVERY: Duration = Duration::from_secs(300);

pub fn key(region: &str) -> TaskKey {
    TaskKey(format!("network poller {region}"))
}

/// What one region's poller needs.
pub struct Job {
    pub region: RegionId,
    pub name: String,
    pub prometheus: Option<PromConfig>,
    pub direct: DirectConfig,
    pub pace: Arc<Pace>,
    pub net: Arc<Mutex<RegionNet>>,
}

impl Job {
    pub fn into_task(self) -> TaskJob {
        TaskJob::new(move |env, ctx| async move {
            let Job {
                region,
                name,
                prometheus,
                direct,
                pace,
                net,
            } = self;
            let client = env
                .clients
                .get(region)
                .ok_or("the region's client is not built yet")?;
            let source = match prometheus {
                Some(cfg) => Source::Prometheus(Box::new(PromSource::new(cfg)?)),
                None => Source::Direct {
                    client: client.clone(),
                    cfg: direct,
                },
            };
            ctx.running(source.describe()).await;
            let cache: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
            let uses_nodes = matches!(source, Source::Prometheus(_));
            if uses_nodes {
                if let Ok(n) = list_nodes(&client).await {
                    *cache.lock().unwrap_or_else(|p| p.into_inner()) = n;
                }
            }
            let nodes: Nodes = {
                let cache = cache.clone();
                Arc::new(move || cache.lock().unwrap_or_else(|p| p.into_inner()).clone())
            };
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            let token = ctx.token().clone();
            let poll = poller::run_paced(name, source, pace, nodes, net, tx, token);
            let forward = async {
                while let Some(u) = rx.recv().await {
                    let msg = Msg::Network {
                        region,
                        error: u.error,
                    };
                    if ctx.sender().send(msg).await.is_err() {
                        break;
                    }
                }
            };
            let refresh_nodes = async {
                if !uses_nodes {
                    return std::future::pending().await;
                }
                loop {
                    let jitter = Duration::from_secs(fastrand::u64(0..60));
                    tokio::time::sleep(NODES_EVERY + jitter).await;
                    if let Ok(n) = list_nodes(&client).await {
                        *cache.lock().unwrap_or_else(|p| p.into_inner()) = n;
                    }
                }
            };
            tokio::select! {
                _ = async { tokio::join!(poll, forward) } => {}
                _ = refresh_nodes => {}
            }
            Ok(())
        })
    }
}

/// The region's nodes as (name, InternalIP).
async fn list_nodes(client: &ReadClient) -> Result<Vec<(String, String)>, String> {
    let req = kube::core::Request::new("/api/v1/nodes")
        .list(&ListParams::default())
        .map_err(|e| e.to_string())?;
    let list = tokio::time::timeout(
        Duration::from_secs(10),
        client.request::<ObjectList<Node>>(req),
    )
    .await
    .map_err(|_| "listing nodes timed out".to_string())?
    .map_err(|e| e.to_string())?;
    Ok(list
        .items
        .into_iter()
        .map(|n| {
            let ip = n
                .status
                .and_then(|s| s.addresses)
                .into_iter()
                .flatten()
                .find(|a| a.type_ == "InternalIP")
                .map(|a| a.address)
                .unwrap_or_default();
            (n.metadata.name.unwrap_or_default(), ip)
        })
        .collect())
}
