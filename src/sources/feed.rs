//! One region's incident feeds: core/v1 Events, apps/v1 Deployments and
//! StatefulSets. The same rules as the pod stream (`pods.rs`): paged list,
//! watch with bookmarks, a silence detector, relist on 410, reconnect with
//! backoff and jitter. Rows are built here, off the UI task; each feed
//! reports its own health (the region badge follows the pod stream).

use super::backoff::Backoff;
use super::pods::{Closed, WatchEnd};
use super::{classify, ErrorClass, SourceOptions};
use crate::incident::events::CoreEvent;
use crate::incident::probes::classify as probe_signal;
use crate::incident::workloads::{LeanDeployment, LeanStatefulSet};
use crate::incident::{Change, Feed, FeedRow, FeedUpdate};
use crate::model::RegionId;
use crate::msg::{Health, Msg};
use futures::{FutureExt, StreamExt};
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::sync::mpsc::Sender;

/// A lean object type streamed by a feed.
pub trait FeedObject: Resource<DynamicType = ()> + DeserializeOwned + Clone + Send {
    const FEED: Feed;
    /// The row to send, or `None` to drop the object here (events that
    /// say nothing triage reads never reach the loop).
    fn row(self, region: RegionId) -> Option<FeedRow>;
}

impl FeedObject for CoreEvent {
    const FEED: Feed = Feed::Events;
    fn row(self, region: RegionId) -> Option<FeedRow> {
        let row = self.into_row(region);
        (row.type_ == "Warning" || probe_signal(&row).is_some()).then_some(FeedRow::Event(row))
    }
}

impl FeedObject for LeanDeployment {
    const FEED: Feed = Feed::Deployments;
    fn row(self, region: RegionId) -> Option<FeedRow> {
        Some(FeedRow::Workload(self.into_info(region)))
    }
}

impl FeedObject for LeanStatefulSet {
    const FEED: Feed = Feed::StatefulSets;
    fn row(self, region: RegionId) -> Option<FeedRow> {
        Some(FeedRow::Workload(self.into_info(region)))
    }
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Page<T> {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<T>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PageMeta {
    #[serde(rename = "continue")]
    continue_: Option<String>,
    resource_version: String,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

struct FeedStream<'a> {
    region: RegionId,
    client: &'a Client,
    namespace: Option<&'a str>,
    tx: &'a Sender<Msg>,
    opts: &'a SourceOptions,
}

impl FeedStream<'_> {
    async fn send(&self, update: FeedUpdate) -> Result<(), Closed> {
        self.tx
            .send(Msg::Incident {
                region: self.region,
                update,
            })
            .await
            .map_err(|_| Closed)
    }

    async fn health<T: FeedObject>(&self, health: Health) -> Result<(), Closed> {
        self.send(FeedUpdate::Health {
            feed: T::FEED,
            health,
        })
        .await
    }

    fn request<T: FeedObject>(&self) -> Request {
        Request::new(T::url_path(&(), self.namespace))
    }

    async fn list<T: FeedObject>(&self) -> Result<Result<String, kube::Error>, Closed> {
        let scope = self.namespace.map(String::from);
        self.send(FeedUpdate::ListStart {
            feed: T::FEED,
            namespace: scope.clone(),
        })
        .await?;
        let mut lp = ListParams::default().limit(self.opts.page_size);
        loop {
            let req = match self.request::<T>().list(&lp) {
                Ok(r) => r,
                Err(e) => return Ok(Err(kube::Error::BuildRequest(e))),
            };
            let page: Page<T> = match self.client.request(req).await {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let region = self.region;
            let rows = page
                .items
                .into_iter()
                .filter_map(|o| o.row(region))
                .map(Change::Upsert)
                .collect();
            self.send(FeedUpdate::ListPage {
                feed: T::FEED,
                rows,
            })
            .await?;
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp.continue_token = Some(token),
                None => {
                    self.send(FeedUpdate::ListDone {
                        feed: T::FEED,
                        namespace: scope,
                    })
                    .await?;
                    return Ok(Ok(page.metadata.resource_version));
                }
            }
        }
    }

    async fn watch<T: FeedObject>(
        &self,
        rv: &mut String,
        backoff: &mut Backoff,
    ) -> Result<WatchEnd, Closed> {
        let mut wp = WatchParams::default().timeout(self.opts.watch_timeout_secs);
        wp.bookmarks = true;
        let req = match self.request::<T>().watch(&wp, rv) {
            Ok(r) => r,
            Err(e) => return Ok(WatchEnd::Error(kube::Error::BuildRequest(e))),
        };
        let stream = match self.client.request_events::<T>(req).await {
            Ok(s) => s,
            Err(e) => return Ok(WatchEnd::Error(e)),
        };
        let mut stream = std::pin::pin!(stream);
        let mut live_sent = false;
        loop {
            let first = match tokio::time::timeout(self.opts.stall_after, stream.next()).await {
                Err(_) => return Ok(WatchEnd::Silent),
                Ok(None) => return Ok(WatchEnd::Closed),
                Ok(Some(ev)) => ev,
            };
            if !live_sent {
                self.health::<T>(Health::Live).await?;
                live_sent = true;
                backoff.reset();
            }
            let mut changes = Vec::new();
            let mut next = Some(first);
            while let Some(ev) = next.take() {
                match ev {
                    Ok(WatchEvent::Added(o)) | Ok(WatchEvent::Modified(o)) => {
                        if let Some(v) = o.meta().resource_version.as_deref() {
                            rv.replace_range(.., v);
                        }
                        if let Some(row) = o.row(self.region) {
                            changes.push(Change::Upsert(row));
                        }
                    }
                    Ok(WatchEvent::Deleted(o)) => {
                        if let Some(v) = o.meta().resource_version.as_deref() {
                            rv.replace_range(.., v);
                        }
                        changes.push(Change::Delete(o.meta().uid.clone().unwrap_or_default()));
                    }
                    Ok(WatchEvent::Bookmark(b)) => {
                        rv.clone_from(&b.metadata.resource_version);
                    }
                    Ok(WatchEvent::Error(status)) => {
                        self.flush::<T>(&mut changes).await?;
                        return Ok(WatchEnd::Error(kube::Error::Api(status)));
                    }
                    Err(e) => {
                        self.flush::<T>(&mut changes).await?;
                        return Ok(WatchEnd::Error(e));
                    }
                }
                if changes.len() < self.opts.max_batch {
                    next = stream.next().now_or_never().flatten();
                }
            }
            self.flush::<T>(&mut changes).await?;
        }
    }

    async fn flush<T: FeedObject>(&self, changes: &mut Vec<Change<FeedRow>>) -> Result<(), Closed> {
        if changes.is_empty() {
            return Ok(());
        }
        self.send(FeedUpdate::Changes {
            feed: T::FEED,
            changes: std::mem::take(changes),
        })
        .await
    }

    async fn report<T: FeedObject>(&self, class: ErrorClass, synced: bool) -> Result<(), Closed> {
        let health = match class {
            ErrorClass::Unauthorized(m) => Health::Unauthorized(m),
            ErrorClass::Forbidden(m) => Health::Forbidden(m),
            ErrorClass::Credentials(m) => Health::Error(format!("credentials: {m}")),
            ErrorClass::Unreachable(m) if !synced => Health::Unreachable(m),
            ErrorClass::Unreachable(m) => Health::Stale {
                since: now(),
                reason: format!("connection lost: {m}"),
            },
            ErrorClass::Transient(m) if !synced => Health::Error(m),
            ErrorClass::Transient(m) => Health::Stale {
                since: now(),
                reason: m,
            },
            ErrorClass::Gone => Health::Stale {
                since: now(),
                reason: "relisting".into(),
            },
        };
        self.health::<T>(health).await
    }

    /// List, then watch; on trouble report it and come back with backoff.
    async fn run<T: FeedObject>(&self) -> Result<(), Closed> {
        let mut backoff = Backoff::new(self.opts.backoff_min, self.opts.backoff_max);
        let mut synced = false;
        loop {
            self.health::<T>(if synced {
                Health::Stale {
                    since: now(),
                    reason: "relisting".into(),
                }
            } else {
                Health::Syncing
            })
            .await?;
            let mut rv = match self.list::<T>().await? {
                Ok(rv) => rv,
                Err(e) => {
                    self.report::<T>(classify(&e), synced).await?;
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            synced = true;
            self.health::<T>(Health::Live).await?;
            loop {
                let end = self.watch::<T>(&mut rv, &mut backoff).await?;
                match end {
                    WatchEnd::Closed => continue,
                    WatchEnd::Silent => {
                        let reason = format!(
                            "no events or bookmarks for {}s",
                            self.opts.stall_after.as_secs()
                        );
                        self.health::<T>(Health::Stale {
                            since: now(),
                            reason,
                        })
                        .await?;
                    }
                    WatchEnd::Error(_) => {
                        let class = end.class().unwrap_or(ErrorClass::Gone);
                        tracing::warn!(region = self.region, feed = ?T::FEED, "watch: {class:?}");
                        if class == ErrorClass::Gone {
                            break;
                        }
                        self.report::<T>(class, true).await?;
                    }
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Runs every incident feed of one region and namespace scope until the
/// cockpit shuts down.
pub async fn run_all(
    region: RegionId,
    client: &Client,
    namespace: Option<&str>,
    tx: &Sender<Msg>,
    opts: &SourceOptions,
) -> Result<(), Closed> {
    let s = FeedStream {
        region,
        client,
        namespace,
        tx,
        opts,
    };
    futures::try_join!(
        s.run::<CoreEvent>(),
        s.run::<LeanDeployment>(),
        s.run::<LeanStatefulSet>()
    )
    .map(|_| ())
}
