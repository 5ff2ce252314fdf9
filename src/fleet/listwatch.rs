//! One list/watch stream of one kind in one region: paged list, then watch
//! with bookmarks, relist on 410, reconnect with backoff and jitter, and a
//! silence detector. Generic over the kind (`Watched`), so every pane's data
//! (pods now; events and workloads next) streams the same way.
//!
//! This is a hand-written loop on `Client::request` /
//! `Client::request_events` rather than `kube::runtime::watcher`, because the
//! watcher swallows BOOKMARK events: it cannot tell a quiet but healthy watch
//! from a silently dead connection. Here every event, bookmarks included,
//! resets the silence timer; silence beyond `stall_after` marks the region
//! stale and reconnects.

use super::backoff::Backoff;
use super::health::Feed;
use super::{classify, ErrorClass, SourceOptions};
use crate::model::RegionId;
use crate::msg::{Change, Health, Msg, Update};
use futures::{FutureExt, StreamExt};
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use kube::Client;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::sync::mpsc::Sender;

/// A kind the cockpit streams: where it lives, how to read its lean wire
/// type, how to turn it into a row and a row update into a `Msg`.
pub trait Watched: Send + Sync {
    /// Only the fields the cockpit shows (serde skips the rest).
    type Lean: DeserializeOwned + Clone + Send;
    type Row: Send;
    /// The feed health is reported under, and whether it counts toward
    /// the region's badge.
    const FEED: Feed;

    /// Collection path, e.g. `/api/v1/pods` or
    /// `/api/v1/namespaces/{ns}/pods`.
    fn path(&self, namespace: Option<&str>) -> String;
    fn uid(lean: &Self::Lean) -> &str;
    fn resource_version(lean: &Self::Lean) -> &str;
    /// Runs on the source task, never the UI task.
    fn row(&self, region: RegionId, lean: Self::Lean) -> Self::Row;
    fn msg(&self, region: RegionId, update: Update<Self::Row>) -> Msg;
}

/// A page of a list: items plus where to continue and the list's version.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
pub struct LeanList<T> {
    #[serde(default)]
    pub metadata: LeanListMeta,
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct LeanListMeta {
    pub resource_version: String,
    #[serde(rename = "continue")]
    pub continue_: Option<String>,
}

/// The channel to the loop is gone: the cockpit is shutting down.
pub struct Closed;

pub struct ListWatch<'a, K: Watched> {
    pub kind: &'a K,
    pub region: RegionId,
    pub client: &'a Client,
    /// `None` = all namespaces.
    pub namespace: Option<&'a str>,
    pub tx: &'a Sender<Msg>,
    pub opts: &'a SourceOptions,
}

/// How a watch ended.
pub enum WatchEnd {
    /// The server closed it (timeoutSeconds): resume from the last version.
    Closed,
    /// Nothing at all, not even a bookmark, for `stall_after`.
    Silent,
    Error(kube::Error),
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

impl<K: Watched> ListWatch<'_, K> {
    fn request(&self) -> Request {
        Request::new(self.kind.path(self.namespace))
    }

    async fn send(&self, msg: Msg) -> Result<(), Closed> {
        self.tx.send(msg).await.map_err(|_| Closed)
    }

    pub async fn health(&self, health: Health) -> Result<(), Closed> {
        self.send(Msg::RegionHealth {
            region: self.region,
            feed: K::FEED,
            health,
        })
        .await
    }

    async fn update(&self, update: Update<K::Row>) -> Result<(), Closed> {
        self.send(self.kind.msg(self.region, update)).await
    }

    /// Lists every page; returns the list's resourceVersion.
    pub async fn list(&self) -> Result<Result<String, kube::Error>, Closed> {
        let namespace = self.namespace.map(String::from);
        self.update(Update::ListStart {
            namespace: namespace.clone(),
        })
        .await?;
        let mut lp = ListParams::default().limit(self.opts.page_size);
        loop {
            let req = match self.request().list(&lp) {
                Ok(r) => r,
                Err(e) => return Ok(Err(kube::Error::BuildRequest(e))),
            };
            let page: LeanList<K::Lean> = match self.client.request(req).await {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let rows = page
                .items
                .into_iter()
                .map(|l| self.kind.row(self.region, l))
                .collect();
            self.update(Update::ListPage(rows)).await?;
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp.continue_token = Some(token),
                None => {
                    self.update(Update::ListDone { namespace }).await?;
                    return Ok(Ok(page.metadata.resource_version));
                }
            }
        }
    }

    /// Watches from `rv` until the server ends the watch, an error, or
    /// silence. Updates `rv` as events arrive; batches what is buffered.
    /// `live` says whether the badge already shows this feed live, so a
    /// watch that resumes after the server's timeout announces nothing.
    pub async fn watch(
        &self,
        rv: &mut String,
        backoff: &mut Backoff,
        live: &mut bool,
    ) -> Result<WatchEnd, Closed> {
        let mut wp = WatchParams::default().timeout(self.opts.watch_timeout_secs);
        wp.bookmarks = true;
        let req = match self.request().watch(&wp, rv) {
            Ok(r) => r,
            Err(e) => return Ok(WatchEnd::Error(kube::Error::BuildRequest(e))),
        };
        // A dead connection can hang before the answer's headers, too.
        let answer = tokio::time::timeout(
            self.opts.stall_after,
            self.client.request_events::<K::Lean>(req),
        );
        let stream = match answer.await {
            Err(_) => return Ok(WatchEnd::Silent),
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Ok(WatchEnd::Error(e)),
        };
        let mut stream = std::pin::pin!(stream);
        let mut answered = false;
        loop {
            let first = match tokio::time::timeout(self.opts.stall_after, stream.next()).await {
                Err(_) => return Ok(WatchEnd::Silent),
                Ok(None) => return Ok(WatchEnd::Closed),
                Ok(Some(ev)) => ev,
            };
            if !answered {
                // the server answered this watch: the region is current
                if !*live {
                    self.health(Health::Live).await?;
                    *live = true;
                }
                answered = true;
                backoff.reset();
            }
            let mut changes = Vec::new();
            let mut next = Some(first);
            while let Some(ev) = next.take() {
                match ev {
                    Ok(WatchEvent::Added(l)) | Ok(WatchEvent::Modified(l)) => {
                        set_rv(rv, K::resource_version(&l));
                        changes.push(Change::Upsert(self.kind.row(self.region, l)));
                    }
                    Ok(WatchEvent::Deleted(l)) => {
                        set_rv(rv, K::resource_version(&l));
                        changes.push(Change::Delete(K::uid(&l).to_string()));
                    }
                    Ok(WatchEvent::Bookmark(b)) => set_rv(rv, &b.metadata.resource_version),
                    Ok(WatchEvent::Error(status)) => {
                        self.flush(&mut changes).await?;
                        return Ok(WatchEnd::Error(kube::Error::Api(status)));
                    }
                    Err(e) => {
                        self.flush(&mut changes).await?;
                        return Ok(WatchEnd::Error(e));
                    }
                }
                if changes.len() < self.opts.max_batch {
                    next = stream.next().now_or_never().flatten();
                }
            }
            self.flush(&mut changes).await?;
        }
    }

    async fn flush(&self, changes: &mut Vec<Change<K::Row>>) -> Result<(), Closed> {
        if changes.is_empty() {
            return Ok(());
        }
        self.update(Update::Changes(std::mem::take(changes))).await
    }

    /// List, then watch; on trouble report it and come back with backoff.
    /// Runs until the loop's receiver is gone.
    pub async fn run(&self) -> Result<(), Closed> {
        let mut backoff = Backoff::new(self.opts.backoff_min, self.opts.backoff_max);
        let mut synced = false;
        // after a failed list the badge keeps the error until a list works
        let mut announce = true;
        loop {
            if announce {
                self.health(if synced {
                    Health::Stale {
                        since: now(),
                        reason: "relisting".into(),
                    }
                } else {
                    Health::Syncing
                })
                .await?;
            }
            let mut rv = match self.list().await? {
                Ok(rv) => rv,
                Err(e) => {
                    self.report(classify(&e), synced).await?;
                    announce = false;
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            announce = true;
            synced = true;
            self.health(Health::Live).await?;
            let mut live = true;
            loop {
                match self.watch(&mut rv, &mut backoff, &mut live).await? {
                    WatchEnd::Closed => continue,
                    WatchEnd::Silent => {
                        live = false;
                        tracing::warn!(region = self.region, "watch silent, reconnecting");
                        let secs = self.opts.stall_after.as_secs();
                        let reason = format!("no events or bookmarks for {secs}s");
                        self.health(Health::Stale {
                            since: now(),
                            reason,
                        })
                        .await?;
                    }
                    WatchEnd::Error(e) => {
                        let class = classify(&e);
                        tracing::warn!(region = self.region, "watch: {class:?}");
                        if class == ErrorClass::Gone {
                            break;
                        }
                        live = false;
                        self.report(class, true).await?;
                    }
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }

    async fn report(&self, class: ErrorClass, synced: bool) -> Result<(), Closed> {
        let stale = |reason: String| Health::Stale {
            since: now(),
            reason,
        };
        let health = match class {
            ErrorClass::Unauthorized(m) => Health::Unauthorized(m),
            ErrorClass::Forbidden(m) => Health::Forbidden(m),
            ErrorClass::Credentials(m) => Health::Error(format!("credentials: {m}")),
            ErrorClass::Unreachable(m) if !synced => Health::Unreachable(m),
            ErrorClass::Unreachable(m) => stale(format!("connection lost: {m}")),
            ErrorClass::Transient(m) if !synced => Health::Error(m),
            ErrorClass::Transient(m) => stale(m),
            ErrorClass::Gone => stale("relisting".into()),
        };
        self.health(health).await
    }
}

fn set_rv(rv: &mut String, new: &str) {
    if !new.is_empty() {
        rv.clear();
        rv.push_str(new);
    }
}
