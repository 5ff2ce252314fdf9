//! One list/watch stream of one kind in one region: paged list, then watch
//! with bookmarks, relist on 410, reconnect with backoff and jitter.
//! Generic over the kind (`Watched`), so every pane's data (pods, events,
//! workloads) streams the same way.
//!
//! This is a hand-written loop on `ReadClient::send` (the GET-only
//! `Client::send`) rather than `kube::runtime::watcher`, because the watcher swallows BOOKMARK events
//! and the status headers: it cannot tell a quiet but healthy watch from a
//! stalled one, nor honour `Retry-After`. The rules:
//! - every answer, bookmarks included, tells the region's `Link` the server
//!   is alive; a dead path is the `Link`'s to detect (`link.rs`), and while it
//!   is declared dead the stream waits, then resumes from its
//!   resourceVersion;
//! - a watch silent for `stall_after` and `stall_factor` times the longest
//!   bookmark gap its server has shown is reopened from its resourceVersion,
//!   quietly;
//! - every retry, a relist included, waits with backoff and jitter; the
//!   backoff starts over only once a watch has carried real data (an
//!   object or a bookmark, not an ERROR), never on a bare answer or a list;
//! - 429 and Retry-After hold all the region's feeds at the `Link`'s gate;
//! - a region whose watches keep ending at once, empty, is not live.
//!
//! One file on purpose, a little past 600 lines: these rules share the
//! loop's state (resourceVersion, backoff, the longest bookmark gap), and
//! the loop reads best in one place.

use super::backoff::Backoff;
use super::health::Feed;
use super::link::Link;
use super::{classify, ErrorClass, SourceOptions};
use crate::model::RegionId;
use crate::msg::{Change, Health, Msg, Update};
use crate::write::ReadClient;
use futures::FutureExt;
use kube::api::{ListParams, WatchParams};
use kube::client::Body;
use kube::core::{Request, Status, WatchEvent};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::time::Instant;

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
    pub client: &'a ReadClient,
    /// `None` = all namespaces.
    pub namespace: Option<&'a str>,
    pub tx: &'a Sender<Msg>,
    pub opts: &'a SourceOptions,
    /// The region's path to its server, shared by its feeds.
    pub link: &'a Link,
}

/// A request the server refused or that never got an answer, with the
/// server's Retry-After when it gave one.
pub struct Failed {
    pub error: kube::Error,
    pub retry_after: Option<Duration>,
}

impl From<kube::Error> for Failed {
    fn from(error: kube::Error) -> Failed {
        Failed {
            error,
            retry_after: None,
        }
    }
}

/// How a watch ended.
pub enum WatchEnd {
    /// The server ended it (timeoutSeconds, or a dropped stream): resume
    /// from the last version. `data`: it carried an object or a bookmark.
    Closed {
        data: bool,
        lasted: Duration,
    },
    /// Nothing at all, not even a bookmark, for its stall threshold.
    Stalled,
    Error(Failed),
}

/// How a whole attempt (a list, a watch) ended from the loop's view.
enum Attempt<T> {
    Done(T),
    /// The region's path was declared dead meanwhile: wait for it.
    PathDown,
}

/// A watch that ends empty within this long ended "at once".
const AT_ONCE: Duration = Duration::from_secs(10);
/// This many watches in a row ending at once, empty: the region is not live.
const EMPTY_WATCHES_NOT_LIVE: u32 = 3;
/// Longest watch line read (a Pod is tens of KB; a line past this is broken).
const MAX_LINE: usize = 16 << 20;
/// Longest bookmark gap learnt from a server (bounds the stall threshold).
const MAX_GAP: Duration = Duration::from_secs(600);

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn retry_after(headers: &http::HeaderMap, status: &Status) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| {
            status
                .details
                .as_ref()
                .map(|d| u64::from(d.retry_after_seconds))
                .filter(|s| *s > 0)
        })
        .map(|s| Duration::from_secs(s.min(3600)))
}

/// Newline-delimited lines of a streamed body, read as they come.
/// Cancel-safe: what was read stays in `buf`.
struct Lines {
    body: Body,
    buf: Vec<u8>,
    done: bool,
}

impl Lines {
    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, kube::Error>>> {
        use http_body::Body as _;
        loop {
            if let Some(at) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=at).collect();
                line.pop();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Poll::Ready(Some(Ok(line)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.buf.len() > MAX_LINE {
                self.done = true;
                return Poll::Ready(Some(Err(kube::Error::LinesCodecMaxLineLengthExceeded)));
            }
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    // a last line without its newline is incomplete: dropped
                    self.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        self.buf.extend_from_slice(data);
                    }
                }
            }
        }
    }

    async fn next(&mut self) -> Option<Result<Vec<u8>, kube::Error>> {
        std::future::poll_fn(|cx| self.poll_line(cx)).await
    }
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

    /// Sends one request after the region's 429 gate; an error status comes
    /// back as `Failed` with its Retry-After, and holds the gate on 429.
    async fn call(&self, req: http::Request<Vec<u8>>) -> Result<http::Response<Body>, Failed> {
        self.link.gate().await;
        let res = self.client.send(req.map(Body::from)).await?;
        self.link.heard();
        let code = res.status();
        if !(code.is_client_error() || code.is_server_error()) {
            return Ok(res);
        }
        let headers = res.headers().clone();
        let body = res.into_body().collect_bytes().await.unwrap_or_default();
        let status = serde_json::from_slice::<Status>(&body).unwrap_or_else(|_| {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            Status::failure(text.trim(), "").with_code(code.as_u16())
        });
        let status = Status {
            code: code.as_u16(),
            ..status
        };
        let retry_after = retry_after(&headers, &status);
        if code.as_u16() == 429 || (code.as_u16() == 503 && retry_after.is_some()) {
            self.link.hold(retry_after);
        }
        Err(Failed {
            error: kube::Error::Api(status.boxed()),
            retry_after,
        })
    }

    /// Lists every page; returns the list's resourceVersion.
    pub async fn list(&self) -> Result<Result<String, Failed>, Closed> {
        let namespace = self.namespace.map(String::from);
        self.update(Update::ListStart {
            namespace: namespace.clone(),
        })
        .await?;
        let mut lp = ListParams::default().limit(self.opts.page_size);
        loop {
            let req = match self.request().list(&lp) {
                Ok(r) => r,
                Err(e) => return Ok(Err(kube::Error::BuildRequest(e).into())),
            };
            let page = match self.call(req).await {
                Ok(res) => res.into_body().collect_bytes().await,
                Err(f) => return Ok(Err(f)),
            };
            let page: LeanList<K::Lean> = match page
                .and_then(|b| serde_json::from_slice(&b).map_err(kube::Error::SerdeError))
            {
                Ok(p) => p,
                Err(e) => return Ok(Err(e.into())),
            };
            self.link.heard();
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

    /// Watches from `rv` until the server ends the watch, an error, or a
    /// stall. Updates `rv` as events arrive; batches what is buffered.
    /// `live` says whether the badge already shows this feed live, so a
    /// watch that resumes announces nothing; `gap` is the longest bookmark
    /// gap this server has shown.
    pub async fn watch(
        &self,
        rv: &mut String,
        backoff: &mut Backoff,
        live: &mut bool,
        gap: &mut Duration,
    ) -> Result<WatchEnd, Closed> {
        let stall = self
            .opts
            .stall_after
            .max(gap.mul_f64(self.opts.stall_factor));
        let mut wp = WatchParams::default().timeout(self.opts.watch_timeout_secs);
        wp.bookmarks = true;
        let mut req = match self.request().watch(&wp, rv) {
            Ok(r) => r,
            Err(e) => return Ok(WatchEnd::Error(kube::Error::BuildRequest(e).into())),
        };
        // one JSON object per line as it happens, not a gzip stream
        req.headers_mut().insert(
            http::header::ACCEPT_ENCODING,
            http::HeaderValue::from_static("identity"),
        );
        let started = Instant::now();
        let res = match tokio::time::timeout(stall, self.call(req)).await {
            Err(_) => return Ok(WatchEnd::Stalled),
            Ok(Ok(res)) => res,
            Ok(Err(f)) => return Ok(WatchEnd::Error(f)),
        };
        let mut lines = Lines {
            body: res.into_body(),
            buf: Vec::new(),
            done: false,
        };
        let mut data = false;
        let mut last_bookmark = started;
        let mut last = Instant::now();
        // after trouble, a watch the server keeps open this long is live
        // again, data or not (a quiet server bookmarks once a minute)
        let mut settle = (!*live).then(|| last + self.opts.probe_after);
        loop {
            let stall_at = last + stall;
            let wake = settle.map_or(stall_at, |s| s.min(stall_at));
            let first = match tokio::time::timeout_at(wake, lines.next()).await {
                Err(_) if Instant::now() >= stall_at => return Ok(WatchEnd::Stalled),
                Err(_) => {
                    settle = None;
                    if !*live {
                        self.health(Health::Live).await?;
                        *live = true;
                    }
                    continue;
                }
                Ok(None) => {
                    let lasted = started.elapsed();
                    return Ok(WatchEnd::Closed { data, lasted });
                }
                Ok(Some(Err(e))) => {
                    // a stream cut mid-way resumes from the last version,
                    // as a server's timeout does; a dead server shows on
                    // the next request
                    tracing::debug!(
                        region = self.region,
                        feed = K::FEED.name,
                        "watch stream: {e}"
                    );
                    let lasted = started.elapsed();
                    return Ok(WatchEnd::Closed { data, lasted });
                }
                Ok(Some(Ok(line))) => line,
            };
            last = Instant::now();
            self.link.heard();
            let mut changes = Vec::new();
            let mut next = Some(first);
            while let Some(line) = next.take() {
                let ev = match serde_json::from_slice::<WatchEvent<K::Lean>>(&line) {
                    Ok(ev) => ev,
                    Err(e) => {
                        self.flush(&mut changes).await?;
                        let err = match serde_json::from_slice::<Status>(&line) {
                            Ok(st) => kube::Error::Api(st.boxed()),
                            Err(_) => kube::Error::SerdeError(e),
                        };
                        return Ok(WatchEnd::Error(err.into()));
                    }
                };
                match ev {
                    WatchEvent::Added(l) | WatchEvent::Modified(l) => {
                        set_rv(rv, K::resource_version(&l));
                        changes.push(Change::Upsert(self.kind.row(self.region, l)));
                    }
                    WatchEvent::Deleted(l) => {
                        set_rv(rv, K::resource_version(&l));
                        changes.push(Change::Delete(K::uid(&l).to_string()));
                    }
                    WatchEvent::Bookmark(b) => {
                        set_rv(rv, &b.metadata.resource_version);
                        let now = Instant::now();
                        *gap = (*gap).max(now - last_bookmark).min(MAX_GAP);
                        last_bookmark = now;
                    }
                    WatchEvent::Error(status) => {
                        self.flush(&mut changes).await?;
                        return Ok(WatchEnd::Error(kube::Error::Api(status).into()));
                    }
                }
                if !data {
                    // real data: the server serves this watch
                    data = true;
                    backoff.reset();
                    self.link.carried_data();
                    if !*live {
                        self.health(Health::Live).await?;
                        *live = true;
                    }
                }
                if changes.len() < self.opts.max_batch {
                    next = lines.next().now_or_never().flatten().and_then(Result::ok);
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

    /// Runs `attempt` unless the region's path is declared dead meanwhile.
    async fn unless_down<T>(&self, attempt: impl std::future::Future<Output = T>) -> Attempt<T> {
        self.link.wait_up().await;
        tokio::select! {
            t = attempt => Attempt::Done(t),
            _ = self.link.went_down() => Attempt::PathDown,
        }
    }

    /// Waits before a retry: the backoff's next step, or longer when the
    /// server said so (the 429 gate then holds every feed of the region).
    async fn pause(&self, backoff: &mut Backoff, retry_after: Option<Duration>) {
        let wait = backoff.next_delay().max(retry_after.unwrap_or_default());
        tokio::time::sleep(wait).await;
    }

    /// List, then watch; on trouble report it and come back with backoff.
    /// Runs until the loop's receiver is gone.
    pub async fn run(&self) -> Result<(), Closed> {
        let mut backoff = Backoff::new(self.opts.backoff_min, self.opts.backoff_max);
        let mut synced = false;
        let mut gap = Duration::ZERO;
        let mut gone_at_once = 0u32;
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
            let mut rv = match self.unless_down(self.list()).await {
                Attempt::PathDown => continue,
                Attempt::Done(r) => match r? {
                    Ok(rv) => rv,
                    Err(f) => {
                        self.report(classify(&f.error), synced).await?;
                        announce = false;
                        self.pause(&mut backoff, f.retry_after).await;
                        continue;
                    }
                },
            };
            announce = true;
            synced = true;
            // a watch from a fresh list's version that is refused at once
            // says the list did not help: live only once a watch carries data
            let mut live = gone_at_once == 0;
            if live {
                self.health(Health::Live).await?;
            }
            let mut fresh = true;
            let mut empty = 0u32;
            loop {
                let attempt = self.watch(&mut rv, &mut backoff, &mut live, &mut gap);
                let end = match self.unless_down(attempt).await {
                    // the path's badge says it; resume once it answers
                    Attempt::PathDown => continue,
                    Attempt::Done(end) => end?,
                };
                let was_fresh = std::mem::take(&mut fresh);
                if live {
                    gone_at_once = 0;
                }
                match end {
                    WatchEnd::Closed { data: true, lasted } => {
                        empty = 0;
                        // a server that cuts every watch short still gets a wait
                        if lasted < AT_ONCE {
                            self.pause(&mut backoff, None).await;
                        }
                    }
                    WatchEnd::Closed {
                        data: false,
                        lasted,
                    } if lasted >= AT_ONCE => {}
                    WatchEnd::Closed { data: false, .. } => {
                        empty += 1;
                        if empty >= EMPTY_WATCHES_NOT_LIVE && live {
                            live = false;
                            tracing::warn!(region = self.region, "watches end at once");
                            self.health(Health::Stale {
                                since: now(),
                                reason: "the API server ends every watch at once".into(),
                            })
                            .await?;
                        }
                        self.pause(&mut backoff, None).await;
                    }
                    WatchEnd::Stalled => {
                        // the server answers (else the path would be down):
                        // only this watch is stuck
                        tracing::info!(
                            region = self.region,
                            feed = K::FEED.name,
                            "watch stalled, reopening"
                        );
                        self.pause(&mut backoff, None).await;
                    }
                    WatchEnd::Error(f) => {
                        let class = classify(&f.error);
                        tracing::warn!(region = self.region, "watch: {class:?}");
                        live = false;
                        self.report(class.clone(), true).await?;
                        if class == ErrorClass::Gone {
                            gone_at_once += u32::from(was_fresh);
                            // the relist announces itself once the wait is over
                            announce = false;
                        }
                        self.pause(&mut backoff, f.retry_after).await;
                        if class == ErrorClass::Gone {
                            break;
                        }
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn watch_lines_split_on_newlines_and_drop_a_cut_last_line() {
        let body = Body::from(b"{\"a\":1}\n\n{\"b\":2}\n{\"cut".to_vec());
        let mut lines = Lines {
            body,
            buf: Vec::new(),
            done: false,
        };
        let mut got = Vec::new();
        while let Some(l) = lines.next().await {
            got.push(String::from_utf8(l.unwrap_or_default()).unwrap_or_default());
        }
        assert_eq!(got, ["{\"a\":1}", "{\"b\":2}"]);
    }

    #[test]
    fn retry_after_comes_from_the_header_else_the_status() {
        let mut headers = http::HeaderMap::new();
        let status: Status =
            serde_json::from_str(r#"{"code":429,"details":{"retryAfterSeconds":7}}"#)
                .unwrap_or_default();
        assert_eq!(retry_after(&headers, &status), Some(Duration::from_secs(7)));
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("120"),
        );
        assert_eq!(
            retry_after(&headers, &status),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(&http::HeaderMap::new(), &Status::default()),
            None
        );
    }
}
