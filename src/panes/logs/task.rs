//! The logs pane's long-lived tasks: one per container instance followed
//! (keyed by the target's id, as `follow.rs` expects), one per previous
//! container read, one per history query. Lines go to the loop as
//! `Msg::Logs` batches through its bounded channel: a stream waits when the
//! loop is behind, and its own small channel then fills and drops, counted
//! (`Counters::dropped`, carried by every batch and the end report). A
//! stream's batches in flight hold bytes of the pane's `Budget`; past it
//! they are dropped, counted the same way. A previous container's read
//! (one task, waiting on the channel, never dropping) holds none.

use super::budget::{Budget, Held};
use super::es::{EsConfig, EsError, History, Query, RegionPager};
use super::follow::{follow, Batch, Counters, LogClient, OpenError, Spec};
use super::line::{build, FieldNames, Line, Origin};
use super::state::Target;
use crate::fleet::health::{Feed, Health};
use crate::model::RegionId;
use crate::msg::Msg;
use crate::tasks::{TaskCtx, TaskJob, TaskKey};
use futures::io::{AsyncBufReadExt, AsyncReadExt};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The feed whose health is a region's logs badge: Elasticsearch down, slow
/// or refusing. It never counts toward the region's badge.
pub const ES_FEED: Feed = Feed::own_badge("logs");

/// Batches a stream may have waiting for the loop before it drops (each up
/// to 256 entries: 200 streams must not queue more than the ring holds).
const STREAM_QUEUE: usize = 2;
/// Entries per history message.
const HISTORY_BATCH: usize = 500;

/// What the logs tasks tell the pane.
#[derive(Debug, Clone)]
pub enum LogsMsg {
    /// Entries of one stream (`key`: its task key, so a late batch of a
    /// stream already replaced is told apart); `dropped` is the stream's
    /// total so far.
    Batch {
        key: Arc<str>,
        lines: Vec<Line>,
        dropped: u64,
        /// Bytes of the in-flight budget, given back when dropped.
        held: Held,
    },
    /// A stream ended by itself: why, and its final drop count.
    Ended {
        key: Arc<str>,
        why: String,
        dropped: u64,
    },
    /// The pods of a region that match the selection's label selector
    /// (`Err`: why the region could not answer).
    Matched {
        region: RegionId,
        pods: Result<Vec<(String, String)>, String>,
    },
    /// A page of history, merged across regions in time order.
    History {
        lines: Vec<Line>,
        done: bool,
        /// Per region: pages read, or why it failed.
        regions: Vec<(String, Result<u64, String>)>,
    },
}

/// The task key of a stream of selection `generation`.
pub fn key_of(generation: u64, target: &Target) -> TaskKey {
    TaskKey(format!("logs#{generation} {}", target.container_id))
}

/// Settings a stream needs.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub tail: u64,
    pub names: Arc<FieldNames>,
    pub max_line: usize,
    /// The pane's budget of bytes in flight.
    pub budget: Arc<Budget>,
}

fn origin(t: &Target) -> Arc<Origin> {
    Arc::new(Origin {
        region: t.region.clone(),
        namespace: t.namespace.clone(),
        pod: t.pod.clone(),
        container: t.container.clone(),
    })
}

/// The runtime's id of the container now running under `t.container`
/// (`initContainerStatuses` included).
async fn container_id<C: LogClient>(client: &C, t: &Target) -> Result<String, String> {
    let text = client
        .text(format!("/api/v1/namespaces/{}/pods/{}", t.namespace, t.pod))
        .await
        .map_err(open_error)?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("pod: {e}"))?;
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|k| v["status"][k].as_array())
        .flatten()
        .find(|cs| cs["name"].as_str() == Some(t.container.as_str()))
        .and_then(|cs| cs["containerID"].as_str())
        .map(String::from)
        .ok_or_else(|| format!("no container {} in the pod's status", t.container))
}

fn open_error(e: OpenError) -> String {
    match e {
        OpenError::Gone(m) | OpenError::Refused(m) | OpenError::Failed(m) => m,
    }
}

/// Follows one container instance until it ends or is stopped, sending its
/// batches to `tx` under `key` (the task's).
pub async fn stream<C: LogClient>(
    client: C,
    target: Target,
    settings: StreamSettings,
    (key, tx): (Arc<str>, mpsc::Sender<Msg>),
    cancel: CancellationToken,
) -> Result<(), String> {
    let counters = Arc::new(Counters::default());
    let why = match container_id(&client, &target).await {
        Err(why) => why,
        Ok(id) => {
            let spec = Spec {
                origin: origin(&target),
                container_id: id.into(),
                tail: settings.tail,
                names: settings.names.clone(),
                max_line: settings.max_line,
                budget: settings.budget.clone(),
            };
            let (btx, mut brx) = mpsc::channel::<Batch>(STREAM_QUEUE);
            let forward = async {
                while let Some(b) = brx.recv().await {
                    let dropped = counters.dropped.load(Ordering::Relaxed);
                    let msg = Msg::Logs(LogsMsg::Batch {
                        key: key.clone(),
                        lines: b.lines,
                        dropped,
                        held: b.held,
                    });
                    if tx.send(msg).await.is_err() {
                        break;
                    }
                }
            };
            let (why, ()) = tokio::join!(
                follow(client, spec, btx, counters.clone(), cancel.clone()),
                forward
            );
            why
        }
    };
    let dropped = counters.dropped.load(Ordering::Relaxed);
    let _ = tx
        .send(Msg::Logs(LogsMsg::Ended { key, why, dropped }))
        .await;
    Ok(())
}

/// Reads the previous instance of one container (`previous=true`) to its end.
pub async fn previous<C: LogClient>(
    client: C,
    target: Target,
    settings: StreamSettings,
    (key, tx): (Arc<str>, mpsc::Sender<Msg>),
) -> Result<(), String> {
    let o = origin(&target);
    let path = format!(
        "/api/v1/namespaces/{}/pods/{}/log?previous=true&timestamps=true&container={}&tailLines={}",
        target.namespace, target.pod, target.container, settings.tail
    );
    let why = match client.stream(path).await {
        Err(e) => open_error(e),
        Ok(mut r) => {
            let mut lines = Vec::new();
            let mut n = 0u64;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                // bounded: a line is cut at max_line, the rest skipped
                match (&mut r)
                    .take((settings.max_line + 64) as u64)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!("previous log {}: {e}", o.tag());
                        break;
                    }
                }
                if buf.last() != Some(&b'\n') {
                    // the rest of an overlong line
                    let mut rest = Vec::new();
                    let _ = r.read_until(b'\n', &mut rest).await;
                }
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                lines.push(build(&o, &buf, &settings.names, settings.max_line));
                n += 1;
                if lines.len() >= 256 {
                    let batch = Msg::Logs(LogsMsg::Batch {
                        key: key.clone(),
                        lines: std::mem::take(&mut lines),
                        dropped: 0,
                        held: Held::default(),
                    });
                    if tx.send(batch).await.is_err() {
                        return Ok(());
                    }
                }
            }
            let _ = tx
                .send(Msg::Logs(LogsMsg::Batch {
                    key: key.clone(),
                    lines,
                    dropped: 0,
                    held: Held::default(),
                }))
                .await;
            format!("previous container: {n} lines")
        }
    };
    let _ = tx
        .send(Msg::Logs(LogsMsg::Ended {
            key,
            why,
            dropped: 0,
        }))
        .await;
    Ok(())
}

/// The job a reducer starts for one target.
pub fn job(region: RegionId, target: Target, settings: StreamSettings, previous: bool) -> TaskJob {
    TaskJob::new(move |env, ctx: TaskCtx| async move {
        let Some(client) = env.clients.get(region) else {
            return Err(format!(
                "{}: the region is not connected yet",
                target.region
            ));
        };
        ctx.running(target.container_id.clone()).await;
        let out = (ctx.key().0.as_str().into(), ctx.sender().clone());
        if previous {
            self::previous(client, target, settings, out).await
        } else {
            stream(client, target, settings, out, ctx.token().clone()).await
        }
    })
}

/// How often a label selector is asked again (pods come and go).
const LABELS_EVERY: Duration = Duration::from_secs(10);

/// `-._~` and alphanumerics as they are, the rest percent-encoded.
fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Which pods match `selector` in each region, asked of each region's
/// server now and every 10 s (jittered) while the selection lasts.
pub fn labels_job(regions: Vec<RegionId>, namespace: Option<String>, selector: String) -> TaskJob {
    TaskJob::new(move |env, ctx: TaskCtx| async move {
        let tx = ctx.sender();
        let path = match &namespace {
            Some(ns) => format!("/api/v1/namespaces/{ns}/pods"),
            None => "/api/v1/pods".to_string(),
        };
        let path = format!(
            "{path}?labelSelector={}&limit={}",
            query_escape(&selector),
            super::select::MAX_MATCHED
        );
        loop {
            for &region in &regions {
                let pods = match env.clients.get(region) {
                    None => Err("the region is not connected yet".to_string()),
                    Some(c) => c
                        .text(path.clone())
                        .await
                        .map_err(open_error)
                        .and_then(|t| {
                            let v: serde_json::Value =
                                serde_json::from_str(&t).map_err(|e| format!("pods: {e}"))?;
                            Ok(v["items"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|p| {
                                    let m = &p["metadata"];
                                    Some((
                                        m["namespace"].as_str()?.to_string(),
                                        m["name"].as_str()?.to_string(),
                                    ))
                                })
                                .take(super::select::MAX_MATCHED)
                                .collect())
                        }),
                };
                if tx
                    .send(Msg::Logs(LogsMsg::Matched { region, pods }))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
            let jitter = fastrand::f64() * 0.5 + 0.75;
            tokio::select! {
                _ = ctx.token().cancelled() => return Ok(()),
                _ = tokio::time::sleep(LABELS_EVERY.mul_f64(jitter)) => {}
            }
        }
    })
}

/// The key of a history query.
pub fn history_key(generation: u64) -> TaskKey {
    TaskKey(format!("logs#{generation} history"))
}

fn es_health(e: &EsError, now: i64) -> Health {
    match e {
        EsError::Unreachable(m) => Health::Unreachable(format!("Elasticsearch {m}")),
        EsError::Unauthorized(m) => Health::Unauthorized(format!("Elasticsearch {m}")),
        EsError::Timeout(_) => Health::Stale {
            since: now,
            reason: format!("Elasticsearch {e}"),
        },
        EsError::Refused { .. } | EsError::Bad(_) => Health::Error(format!("Elasticsearch {e}")),
    }
}

/// History for `query` from each region's Elasticsearch: at most `limit`
/// entries, in pages of `HISTORY_BATCH`, each region's health reported as
/// its logs badge.
pub fn history_job(
    regions: Vec<(RegionId, String, EsConfig)>,
    query: Query,
    names: FieldNames,
    max_line: usize,
    limit: usize,
) -> TaskJob {
    TaskJob::new(move |_env, ctx: TaskCtx| async move {
        let tx = ctx.sender();
        let mut pagers = Vec::new();
        let mut ids = Vec::new();
        for (id, name, cfg) in regions {
            match RegionPager::new(&name, cfg) {
                Ok(p) => {
                    pagers.push(p);
                    ids.push(id);
                }
                Err(e) => {
                    let now = jiff::Timestamp::now().as_second();
                    let _ = tx
                        .send(Msg::RegionHealth {
                            region: id,
                            feed: ES_FEED,
                            health: es_health(&e, now),
                        })
                        .await;
                }
            }
        }
        let mut h = History::new(pagers, query, names, max_line);
        let mut got = 0;
        let mut reported: Vec<Option<Health>> = vec![None; ids.len()];
        loop {
            ctx.running(format!("{got} entries")).await;
            let lines = h.next(HISTORY_BATCH).await;
            got += lines.len();
            let done = h.exhausted() || got >= limit || lines.is_empty();
            let now = jiff::Timestamp::now().as_second();
            for (i, r) in h.regions.iter().enumerate() {
                let health = match &r.error {
                    Some(e) => es_health(e, now),
                    None => Health::Live,
                };
                // the badge changes when the region's answer does
                if reported[i]
                    .as_ref()
                    .is_some_and(|h| std::mem::discriminant(h) == std::mem::discriminant(&health))
                {
                    continue;
                }
                reported[i] = Some(health.clone());
                let _ = tx
                    .send(Msg::RegionHealth {
                        region: ids[i],
                        feed: ES_FEED,
                        health,
                    })
                    .await;
            }
            let regions = h
                .regions
                .iter()
                .map(|r| {
                    let v = match &r.error {
                        Some(e) => Err(e.to_string()),
                        None => Ok(r.pages),
                    };
                    (r.region.clone(), v)
                })
                .collect();
            let msg = Msg::Logs(LogsMsg::History {
                lines,
                done,
                regions,
            });
            if tx.send(msg).await.is_err() || done {
                break;
            }
        }
        // closing the point in time must not hang a stopped pane
        let _ = tokio::time::timeout(Duration::from_secs(5), h.close()).await;
        Ok(())
    })
}
