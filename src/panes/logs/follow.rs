//! One stream: follows `pods/log` of one container instance with
//! `timestamps=true`, bounded line by line, assembled into entries, and
//! resumed after the server ends it with `sinceTime` at the last second
//! seen (skipping the lines of that second already delivered). It ends
//! when its container is gone or replaced: a restarted container is a new
//! stream, keyed by its new container id. Lines go to the pane through a
//! bounded channel under the in-flight byte budget (`budget.rs`); when
//! either is full they are dropped and counted here.

use super::budget::{Budget, Held};
use super::line::{build_cut, FieldNames, Line, Origin};
use super::stream::{Assembler, Resume};
use futures::future::BoxFuture;
use futures::io::{AsyncBufRead, AsyncBufReadExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub type BoxRead = Pin<Box<dyn AsyncBufRead + Send>>;

/// Why a request failed, as a stream acts on it.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenError {
    /// The pod or container is not there, or not running (404, 400).
    Gone(String),
    /// 401/403: retrying will not help.
    Refused(String),
    /// Anything else: retry with backoff.
    Failed(String),
}

/// How a stream reaches its region's server (GET only).
pub trait LogClient: Clone + Send + Sync + 'static {
    /// GET a path (with query) as a byte stream.
    fn stream(&self, path: String) -> BoxFuture<'static, Result<BoxRead, OpenError>>;
    /// GET a path as text (the pod, to tell a replaced container).
    fn text(&self, path: String) -> BoxFuture<'static, Result<String, OpenError>>;
}

/// What the pane learns of a stream while it runs.
#[derive(Default, Debug)]
pub struct Counters {
    pub lines: AtomicU64,
    /// Lines dropped because the pane's channel was full or the bytes in
    /// flight were at their budget.
    pub dropped: AtomicU64,
    /// Lines of a resumed second not shown twice.
    pub skipped: AtomicU64,
    pub reconnects: AtomicU64,
}

/// A batch of entries of one stream.
#[derive(Debug)]
pub struct Batch {
    pub container_id: Arc<str>,
    pub lines: Vec<Line>,
    /// Bytes of the in-flight budget this batch holds, given back when
    /// it is dropped (default: none).
    pub held: Held,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub origin: Arc<Origin>,
    /// The container instance this stream follows.
    pub container_id: Arc<str>,
    /// Lines asked for on the first request.
    pub tail: u64,
    pub names: Arc<FieldNames>,
    pub max_line: usize,
    /// Bytes in flight to the pane, shared by every stream.
    pub budget: Arc<Budget>,
}

/// How long a held entry waits for a continuation line.
const ASSEMBLE_WAIT: Duration = Duration::from_millis(100);
/// Backoff between reconnects: from 200 ms doubling to 30 s, jittered.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Most entries per batch.
const BATCH: usize = 256;

fn log_path(spec: &Spec, resume: &Resume) -> String {
    let o = &spec.origin;
    let mut p = format!(
        "/api/v1/namespaces/{}/pods/{}/log?follow=true&timestamps=true&container={}",
        o.namespace, o.pod, o.container
    );
    match resume.since_time() {
        Some(t) => p.push_str(&format!("&sinceTime={t}")),
        None => p.push_str(&format!("&tailLines={}", spec.tail)),
    }
    p
}

/// Whether the container this stream follows still runs as the same
/// instance: Ok(None) if so, Ok(Some(why)) when the stream should end.
async fn replaced<C: LogClient>(client: &C, spec: &Spec) -> Result<Option<String>, OpenError> {
    let o = &spec.origin;
    let text = match client
        .text(format!("/api/v1/namespaces/{}/pods/{}", o.namespace, o.pod))
        .await
    {
        Ok(t) => t,
        Err(OpenError::Gone(_)) => return Ok(Some("pod deleted".into())),
        Err(e) => return Err(e),
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| OpenError::Failed(format!("pod: {e}")))?;
    let statuses = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|k| v["status"][k].as_array())
        .flatten();
    for cs in statuses {
        if cs["name"].as_str() != Some(o.container.as_str()) {
            continue;
        }
        if cs["containerID"].as_str() != Some(&*spec.container_id) {
            return Ok(Some("container restarted".into()));
        }
        if cs["state"].get("running").is_none() {
            return Ok(Some("container stopped".into()));
        }
        return Ok(None);
    }
    Ok(Some("container gone".into()))
}

/// Read one line into `buf`, keeping at most `max` bytes of it and counting
/// the rest in `over`. Ok(false) at the end of the stream with nothing read.
/// Cancel-safe: what was read stays in `buf`/`over`.
async fn next_line(
    r: &mut BoxRead,
    buf: &mut Vec<u8>,
    over: &mut usize,
    max: usize,
) -> std::io::Result<bool> {
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok(!buf.is_empty() || *over > 0);
        }
        let (part, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (&avail[..i], Some(i + 1)),
            None => (avail, None),
        };
        let room = max.saturating_sub(buf.len());
        let take = part.len().min(room);
        buf.extend_from_slice(&part[..take]);
        *over += part.len() - take;
        let used = done.unwrap_or(avail.len());
        r.consume_unpin(used);
        if done.is_some() {
            return Ok(true);
        }
    }
}

fn send(tx: &mpsc::Sender<Batch>, spec: &Spec, out: &mut Vec<Line>, c: &Counters) {
    if out.is_empty() {
        return;
    }
    let lines = std::mem::take(out);
    let n = lines.len() as u64;
    c.lines.fetch_add(n, Ordering::Relaxed);
    let bytes = lines.iter().map(Line::cost).sum();
    let Some(held) = Held::take(&spec.budget, bytes) else {
        c.dropped.fetch_add(n, Ordering::Relaxed);
        return;
    };
    let batch = Batch {
        container_id: spec.container_id.clone(),
        lines,
        held,
    };
    // a batch not sent gives its bytes back as it drops
    if tx.try_send(batch).is_err() {
        c.dropped.fetch_add(n, Ordering::Relaxed);
    }
}

/// Follow until the container is gone or replaced, or `cancel`. Returns
/// why the stream ended.
pub async fn follow<C: LogClient>(
    client: C,
    spec: Spec,
    tx: mpsc::Sender<Batch>,
    counters: Arc<Counters>,
    cancel: CancellationToken,
) -> String {
    let mut resume = Resume::default();
    let mut backoff = BACKOFF_MIN;
    let mut first = true;
    // Room for the kubelet's timestamp before the text's own budget.
    let max = spec.max_line + 64;
    loop {
        if !first {
            match replaced(&client, &spec).await {
                Ok(Some(why)) => return why,
                Ok(None) => {}
                Err(OpenError::Refused(m)) => return m,
                Err(_) => {}
            }
            let jitter = fastrand::f64() * 0.5 + 0.5;
            tokio::select! {
                _ = cancel.cancelled() => return "stopped".into(),
                _ = tokio::time::sleep(backoff.mul_f64(jitter)) => {}
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
            counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        first = false;
        let opened = tokio::select! {
            _ = cancel.cancelled() => return "stopped".into(),
            r = client.stream(log_path(&spec, &resume)) => r,
        };
        let mut reader = match opened {
            Ok(r) => r,
            Err(OpenError::Refused(m)) => return m,
            Err(OpenError::Gone(m)) => match replaced(&client, &spec).await {
                Ok(Some(why)) => return why,
                _ => {
                    tracing::debug!("log stream {}: {m}", spec.origin.tag());
                    continue;
                }
            },
            Err(OpenError::Failed(m)) => {
                tracing::debug!("log stream {}: {m}", spec.origin.tag());
                continue;
            }
        };
        resume.reopen();
        let mut asm = Assembler::default();
        let mut out: Vec<Line> = Vec::new();
        let (mut buf, mut over) = (Vec::new(), 0usize);
        // Entries wait at most ASSEMBLE_WAIT for a batch or a continuation.
        let mut flush_at: Option<tokio::time::Instant> = None;
        loop {
            let due = flush_at.unwrap_or_else(tokio::time::Instant::now);
            let got = tokio::select! {
                _ = cancel.cancelled() => {
                    out.extend(asm.flush());
                    send(&tx, &spec, &mut out, &counters);
                    return "stopped".into();
                }
                r = next_line(&mut reader, &mut buf, &mut over, max) => r,
                _ = tokio::time::sleep_until(due), if flush_at.is_some() => {
                    out.extend(asm.flush());
                    send(&tx, &spec, &mut out, &counters);
                    flush_at = None;
                    continue;
                }
            };
            match got {
                Ok(true) => {
                    let (ts, rest_at) = stamp_end(&buf);
                    if resume.admit(ts, &buf[rest_at..]) {
                        let line = build_cut(&spec.origin, &buf, &spec.names, spec.max_line, over);
                        out.extend(asm.push(line));
                        if out.len() >= BATCH {
                            send(&tx, &spec, &mut out, &counters);
                        }
                        if flush_at.is_none() {
                            flush_at = Some(tokio::time::Instant::now() + ASSEMBLE_WAIT);
                        }
                        backoff = BACKOFF_MIN;
                    } else {
                        counters.skipped.fetch_add(1, Ordering::Relaxed);
                    }
                    buf.clear();
                    over = 0;
                }
                // The server ended the stream, or the connection broke.
                Ok(false) | Err(_) => break,
            }
        }
        out.extend(asm.flush());
        send(&tx, &spec, &mut out, &counters);
    }
}

/// The instant of a raw line's kubelet timestamp and where its text starts.
fn stamp_end(raw: &[u8]) -> (i64, usize) {
    match super::line::split_stamp(raw) {
        (Some((ts, stamp)), _) => (ts, stamp.len() + 1),
        (None, _) => (0, 0),
    }
}

fn open_error(e: kube::Error) -> OpenError {
    match e {
        kube::Error::Api(s) if s.code == 404 || s.code == 400 => OpenError::Gone(s.message),
        kube::Error::Api(s) if s.code == 401 || s.code == 403 || s.code == 405 => {
            OpenError::Refused(format!("{} {}", s.code, s.message))
        }
        other => OpenError::Failed(other.to_string()),
    }
}

fn get(path: &str) -> Result<http::Request<Vec<u8>>, OpenError> {
    http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| OpenError::Failed(e.to_string()))
}

/// The region's read-only handle is how the pane's streams read.
impl LogClient for crate::write::ReadClient {
    fn stream(&self, path: String) -> BoxFuture<'static, Result<BoxRead, OpenError>> {
        let c = self.clone();
        Box::pin(async move {
            let r = c.request_stream(get(&path)?).await.map_err(open_error)?;
            Ok(Box::pin(r) as BoxRead)
        })
    }

    fn text(&self, path: String) -> BoxFuture<'static, Result<String, OpenError>> {
        let c = self.clone();
        Box::pin(async move { c.request_text(get(&path)?).await.map_err(open_error) })
    }
}
