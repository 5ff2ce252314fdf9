//! IO that produces Msgs. One supervisor per region builds its client, runs
//! its pod stream(s) and reports health; nothing here touches UI state.
//! A slow, dead or misconfigured region only ever affects its own badge.

pub mod backoff;
pub mod client;
pub mod events;
pub mod feed;
pub mod health;
pub mod lean;
pub mod link;
pub mod listwatch;
pub mod owners;
pub mod pod_row;
pub mod pods;
pub mod store;
pub mod stream;
pub mod workloads;

use crate::model::RegionId;
use crate::msg::{Health, Msg};
use crate::write::ReadClient;
use backoff::Backoff;
use client::ClientSpec;
use listwatch::{Closed, ListWatch};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// Tunables of every region's stream (tests shorten them). The defaults are
/// right for kube-apiserver: a BOOKMARK about once a minute on each watch.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// A watch with no event and no bookmark for this long, and for
    /// `stall_factor` times the longest bookmark gap its server has shown,
    /// is reopened from its last resourceVersion (the server answers, the
    /// watch does not). Quietly: the badge stays live unless reopening fails.
    pub stall_after: Duration,
    pub stall_factor: f64,
    /// Once every feed of a region has heard nothing for this long, a cheap
    /// request (`GET /version`) asks whether the server answers at all; then
    /// again every `probe_after` while the quiet lasts.
    pub probe_after: Duration,
    /// How long one probe waits for its answer.
    pub probe_timeout: Duration,
    /// No answer at all for this long: the path is dead, the region stale.
    pub dead_after: Duration,
    pub page_size: u32,
    /// Asked of the server as `timeoutSeconds`; the loop resumes from the
    /// last resourceVersion when the server ends a watch (no relist). Kept
    /// long: a short one (10 s, tried) re-watches every feed all the time and
    /// cost a storm's key -> frame p99 (29 ms -> 171 ms, docs/BENCHMARKS.md).
    pub watch_timeout_secs: u32,
    /// Most watch events carried by one message.
    pub max_batch: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Also stream events, deployments and statefulsets (probes, triage).
    pub incident_feeds: bool,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            stall_after: Duration::from_secs(150),
            stall_factor: 2.5,
            probe_after: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(5),
            dead_after: Duration::from_secs(12),
            page_size: 500,
            watch_timeout_secs: 290,
            max_batch: 2000,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            incident_feeds: true,
        }
    }
}

/// Each region's read-only client once built, for effects that fetch on
/// demand (changes go through `crate::write`).
#[derive(Clone, Default)]
pub struct Clients(Arc<Mutex<Vec<Option<ReadClient>>>>);

impl Clients {
    pub fn new(regions: usize) -> Clients {
        Clients(Arc::new(Mutex::new(vec![None; regions])))
    }

    pub fn get(&self, region: RegionId) -> Option<ReadClient> {
        self.0.lock().ok()?.get(region).cloned().flatten()
    }

    fn set(&self, region: RegionId, client: ReadClient) {
        if let Ok(mut v) = self.0.lock() {
            if let Some(slot) = v.get_mut(region) {
                *slot = Some(client);
            }
        }
    }
}

/// What kind of failure, for the badge and for what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    Unauthorized(String),
    Forbidden(String),
    /// 410 Expired, or a stream we could not read whole: relist.
    Gone,
    Unreachable(String),
    Credentials(String),
    /// Anything else (500, 429, ...): retry with backoff.
    Transient(String),
}

/// The innermost cause reads best on a badge ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

pub fn classify(e: &kube::Error) -> ErrorClass {
    match e {
        kube::Error::Api(s) => {
            let msg = if s.message.is_empty() {
                s.reason.clone()
            } else {
                s.message.clone()
            };
            match s.code {
                401 => ErrorClass::Unauthorized(msg),
                403 => ErrorClass::Forbidden(msg),
                410 => ErrorClass::Gone,
                code => ErrorClass::Transient(format!("{code} {msg}")),
            }
        }
        kube::Error::Auth(_) => ErrorClass::Credentials(root_cause(e)),
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
            ErrorClass::Unreachable(root_cause(e))
        }
        kube::Error::SerdeError(_) | kube::Error::LinesCodecMaxLineLengthExceeded => {
            ErrorClass::Gone
        }
        other => ErrorClass::Transient(root_cause(other)),
    }
}

/// Starts one supervisor per region; each runs until the receiver is dropped.
pub fn spawn_all(
    specs: Vec<ClientSpec>,
    tx: Sender<Msg>,
    clients: Clients,
    opts: SourceOptions,
) -> Vec<JoinHandle<()>> {
    specs
        .into_iter()
        .enumerate()
        .map(|(region, spec)| {
            let (tx, clients, opts) = (tx.clone(), clients.clone(), opts.clone());
            tokio::spawn(async move {
                let inner = tokio::spawn(run_region(region, spec, tx.clone(), clients, opts));
                // a bug in a source must not leave its badge claiming live
                if let Err(e) = inner.await {
                    if e.is_panic() {
                        tracing::error!(region, "source task panicked");
                        let health = Health::Error(
                            "internal error in this region's source (see the log)".into(),
                        );
                        let _ = tx
                            .send(Msg::RegionHealth {
                                region,
                                feed: health::Feed::CLIENT,
                                health,
                            })
                            .await;
                    }
                }
            })
        })
        .collect()
}

async fn run_region(
    region: RegionId,
    spec: ClientSpec,
    tx: Sender<Msg>,
    clients: Clients,
    opts: SourceOptions,
) -> Result<(), Closed> {
    let send_health = |h: Health| {
        let tx = tx.clone();
        async move {
            tx.send(Msg::RegionHealth {
                region,
                feed: health::Feed::CLIENT,
                health: h,
            })
            .await
            .map_err(|_| Closed)
        }
    };
    send_health(Health::Connecting).await?;
    let mut backoff = Backoff::new(opts.backoff_min, opts.backoff_max);
    let client = loop {
        match client::build(&spec).await {
            Ok(c) => break ReadClient::new(c),
            Err(e) => {
                tracing::warn!(region, "client: {e}");
                send_health(Health::Error(e)).await?;
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    };
    clients.set(region, client.clone());
    // the client is built; each feed reports its own health from here, and
    // is registered before the client turns live so the badge never shows
    // live before the first list
    let kind = pods::Pods;
    tx.send(Msg::RegionHealth {
        region,
        feed: <pods::Pods as listwatch::Watched>::FEED,
        health: Health::Syncing,
    })
    .await
    .map_err(|_| Closed)?;
    send_health(Health::Live).await?;
    let namespaces: Vec<Option<&str>> = if spec.namespaces.is_empty() {
        vec![None]
    } else {
        spec.namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    let link = link::Link::new(&opts);
    let streams = namespaces.into_iter().map(|namespace| {
        let lw = ListWatch {
            kind: &kind,
            region,
            client: &client,
            namespace,
            tx: &tx,
            opts: &opts,
            link: &link,
        };
        let (client, tx, opts, link) = (&client, &tx, &opts, &link);
        async move {
            if opts.incident_feeds {
                futures::try_join!(
                    lw.run(),
                    feed::run_all(region, client, namespace, tx, opts, link)
                )
                .map(|_| ())
            } else {
                lw.run().await
            }
        }
    });
    let feeds = async {
        futures::future::join_all(streams)
            .await
            .into_iter()
            .collect::<Result<(), Closed>>()
    };
    futures::try_join!(feeds, link::run(&link, region, &client, &tx, &opts)).map(|_| ())
}
