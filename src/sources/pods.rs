//! One region's pod stream: paged list, then watch with bookmarks, relist on
//! 410, reconnect with backoff and jitter, and a silence detector.
//!
//! This is a hand-written list/watch loop on `Client::request` /
//! `Client::request_events` rather than `kube::runtime::watcher`, because the
//! watcher swallows BOOKMARK events: it cannot tell a quiet but healthy watch
//! from a silently dead connection. Here every event, bookmarks included,
//! resets the silence timer; silence beyond `stall_after` marks the region
//! stale and reconnects.

use super::backoff::Backoff;
use super::lean::{LeanPod, LeanPodList};
use super::pod_row::pod_row;
use super::{classify, ErrorClass, SourceOptions};
use crate::model::RegionId;
use crate::msg::{Health, Msg, PodChange, PodUpdate};
use futures::{FutureExt, StreamExt};
use kube::api::{ListParams, WatchParams};
use kube::core::{Request, WatchEvent};
use kube::Client;
use tokio::sync::mpsc::Sender;

/// The channel to the loop is gone: the cockpit is shutting down.
pub struct Closed;

pub struct PodStream<'a> {
    pub region: RegionId,
    pub client: &'a Client,
    /// Empty = all namespaces.
    pub namespace: Option<&'a str>,
    pub tx: &'a Sender<Msg>,
    pub opts: &'a SourceOptions,
}

impl PodStream<'_> {
    fn request(&self) -> Request {
        match self.namespace {
            Some(ns) => Request::new(format!("/api/v1/namespaces/{ns}/pods")),
            None => Request::new("/api/v1/pods"),
        }
    }

    async fn send(&self, msg: Msg) -> Result<(), Closed> {
        self.tx.send(msg).await.map_err(|_| Closed)
    }

    pub async fn health(&self, health: Health) -> Result<(), Closed> {
        self.send(Msg::RegionHealth {
            region: self.region,
            health,
        })
        .await
    }

    async fn pods(&self, update: PodUpdate) -> Result<(), Closed> {
        self.send(Msg::Pods {
            region: self.region,
            update,
        })
        .await
    }

    /// Lists every page; returns the list's resourceVersion.
    pub async fn list(&self) -> Result<Result<String, kube::Error>, Closed> {
        self.pods(PodUpdate::ListStart {
            namespace: self.namespace.map(String::from),
        })
        .await?;
        let mut lp = ListParams::default().limit(self.opts.page_size);
        loop {
            let req = match self.request().list(&lp) {
                Ok(r) => r,
                Err(e) => return Ok(Err(kube::Error::BuildRequest(e))),
            };
            let page: LeanPodList = match self.client.request(req).await {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let region = self.region;
            let rows = page.items.into_iter().map(|p| pod_row(region, p)).collect();
            self.pods(PodUpdate::ListPage(rows)).await?;
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => lp.continue_token = Some(token),
                None => {
                    self.pods(PodUpdate::ListDone {
                        namespace: self.namespace.map(String::from),
                    })
                    .await?;
                    return Ok(Ok(page.metadata.resource_version));
                }
            }
        }
    }

    /// Watches from `rv` until the server ends the watch, an error, or
    /// silence. Updates `rv` as events arrive.
    pub async fn watch(&self, rv: &mut String, backoff: &mut Backoff) -> Result<WatchEnd, Closed> {
        let mut wp = WatchParams::default().timeout(self.opts.watch_timeout_secs);
        wp.bookmarks = true;
        let req = match self.request().watch(&wp, rv) {
            Ok(r) => r,
            Err(e) => return Ok(WatchEnd::Error(kube::Error::BuildRequest(e))),
        };
        let stream = match self.client.request_events::<LeanPod>(req).await {
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
                // the server answered this watch: the region is current
                self.health(Health::Live).await?;
                live_sent = true;
                backoff.reset();
            }
            // batch whatever else is already buffered into one message
            let mut changes = Vec::new();
            let mut next = Some(first);
            while let Some(ev) = next.take() {
                match ev {
                    Ok(WatchEvent::Added(p)) | Ok(WatchEvent::Modified(p)) => {
                        if !p.metadata.resource_version.is_empty() {
                            rv.clone_from(&p.metadata.resource_version);
                        }
                        changes.push(PodChange::Upsert(pod_row(self.region, p)));
                    }
                    Ok(WatchEvent::Deleted(p)) => {
                        if !p.metadata.resource_version.is_empty() {
                            rv.clone_from(&p.metadata.resource_version);
                        }
                        changes.push(PodChange::Delete(p.metadata.uid));
                    }
                    Ok(WatchEvent::Bookmark(b)) => {
                        rv.clone_from(&b.metadata.resource_version);
                    }
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

    async fn flush(&self, changes: &mut Vec<PodChange>) -> Result<(), Closed> {
        if changes.is_empty() {
            return Ok(());
        }
        self.pods(PodUpdate::Changes(std::mem::take(changes))).await
    }
}

/// How a watch ended.
pub enum WatchEnd {
    /// The server closed it (timeoutSeconds): resume from the last version.
    Closed,
    /// Nothing at all, not even a bookmark, for `stall_after`.
    Silent,
    Error(kube::Error),
}

impl WatchEnd {
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            WatchEnd::Error(e) => Some(classify(e)),
            _ => None,
        }
    }
}
