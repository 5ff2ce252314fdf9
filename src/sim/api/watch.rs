//! Watches: newline-delimited JSON events over a chunked response, resumed
//! from the history ring, with periodic BOOKMARKs and 410 Expired once the
//! requested version has left the ring.

use crate::api::select::Selector;
use crate::api::table::{self, Format};
use crate::api::Target;
use crate::transport::http::{status, status_json, stream_response, Response};
use crate::world::faults::Faults;
use crate::world::region::Region;
use crate::world::store::{watch_line, Kind};
use bytes::Bytes;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Lines buffered per watch between the producer and the connection.
const WATCH_BUFFER: usize = 256;
/// kube-apiserver's default `--min-request-timeout`.
const MIN_REQUEST_TIMEOUT_SECS: f64 = 1800.0;
/// A bound on `timeoutSeconds` (a week) so deadlines stay representable.
const MAX_TIMEOUT_SECS: u64 = 7 * 86_400;
/// kube-apiserver sends one last BOOKMARK this long before a watch's deadline.
const PRE_TIMEOUT: Duration = Duration::from_secs(2);

/// When the next BOOKMARK is due, as the apiserver's cache watcher schedules
/// it: `every` from now, or 2 s before the deadline if that comes first;
/// none once that moment has passed.
fn next_bookmark(
    now: tokio::time::Instant,
    every: Duration,
    deadline: tokio::time::Instant,
) -> Option<tokio::time::Instant> {
    let heartbeat = now + every;
    let pre = deadline.checked_sub(PRE_TIMEOUT).unwrap_or(deadline);
    let at = heartbeat.min(pre);
    (at >= now).then_some(at)
}

fn expired(rv: u64, oldest: u64) -> Bytes {
    let st = status_json(
        410,
        "Expired",
        &format!("too old resource version: {rv} ({oldest})"),
        None,
    );
    watch_line("ERROR", &serde_json::to_vec(&st).unwrap_or_default())
}

fn bookmark(kind: Kind, rv: u64) -> Bytes {
    let obj = json!({
        "kind": kind.name(),
        "apiVersion": kind.api_version(),
        "metadata": {"resourceVersion": rv.to_string(), "creationTimestamp": null,
                     "annotations": {"k8s.io/initial-events-end": "true"}},
    });
    watch_line("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

/// Re-render a watch line for a client that asked for Tables.
fn as_table(kind: Kind, line: Bytes, include: &str, now: jiff::Timestamp) -> Bytes {
    #[derive(serde::Deserialize)]
    struct Ev {
        #[serde(rename = "type")]
        ty: String,
        object: serde_json::Value,
    }
    match serde_json::from_slice::<Ev>(&line) {
        Ok(ev) if ev.ty != "BOOKMARK" && ev.ty != "ERROR" => {
            let meta = json!({"resourceVersion": ev.object.pointer("/metadata/resourceVersion").cloned().unwrap_or(serde_json::Value::Null)});
            let tab = table::table(kind, &[ev.object], meta, include, now);
            watch_line(&ev.ty, &serde_json::to_vec(&tab).unwrap_or_default())
        }
        _ => line,
    }
}

pub fn handle(
    region: Arc<Region>,
    t: &Target,
    q: &HashMap<String, String>,
    faults: &Faults,
    fmt: Format,
) -> Response {
    region
        .watch_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let sel = match Selector::parse(
        q.get("labelSelector").map(String::as_str),
        q.get("fieldSelector").map(String::as_str),
        t.kind,
    ) {
        Ok(s) => s,
        Err(e) => return status(400, "BadRequest", &e),
    };
    let rv: Option<u64> = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(s) => match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                return status(
                    400,
                    "BadRequest",
                    &format!("invalid resource version: {s:?}"),
                )
            }
        },
    };
    // As kube-apiserver: timeoutSeconds is kept exactly; without it (or 0)
    // a watch lasts a random 1x-2x of --min-request-timeout (1800 s).
    let timeout = match q.get("timeoutSeconds").and_then(|s| s.parse::<u64>().ok()) {
        Some(t) if t > 0 => Duration::from_secs(t.min(MAX_TIMEOUT_SECS)),
        _ => Duration::from_secs_f64(MIN_REQUEST_TIMEOUT_SECS * (1.0 + fastrand::f64())),
    };
    let bookmarks = q
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true" || b == "1");
    let kind = t.kind;
    let ns = t.namespace.clone();
    let (tx, rx) = mpsc::channel::<Bytes>(WATCH_BUFFER);
    let resp = stream_response("application/json", rx);
    if faults.watch_error == Some(410) {
        let line = expired(rv.unwrap_or(0), region.lock().store.compacted);
        let _ = tx.try_send(line);
        return resp;
    }
    let selects = {
        let ns = ns.clone();
        let sel = sel.clone();
        move |k: Kind, n: &str, idx: &crate::world::store::Index| {
            k == kind
                && ns.as_deref().is_none_or(|x| x == n)
                && (sel.is_empty() || sel.matches(idx))
        }
    };
    // Subscribe and snapshot under one lock so no change falls in between.
    let (mut sub, initial, mut last_rv) = {
        let st = region.lock();
        let sub = st.store.tx.subscribe();
        let now_rv = st.store.rv();
        let initial: Result<Vec<Bytes>, Bytes> = match rv {
            None => Ok(st
                .store
                .iter(kind)
                .filter(|((n, _), o)| selects(kind, n, &o.index))
                .map(|(_, o)| watch_line("ADDED", &o.json))
                .collect()),
            Some(from) => match st.store.history_since(from) {
                Some(changes) => Ok(changes
                    .iter()
                    .filter(|c| selects(c.kind, &c.namespace, &c.index))
                    .map(|c| c.line())
                    .collect()),
                None => Err(expired(from, st.store.compacted)),
            },
        };
        (sub, initial, now_rv)
    };
    let initial = match initial {
        Ok(lines) => lines,
        Err(line) => {
            let _ = tx.try_send(line);
            return resp;
        }
    };
    let every = region.bookmark_interval;
    let include = q
        .get("includeObject")
        .cloned()
        .unwrap_or_else(|| "Metadata".into());
    let clock = region.clock.clone();
    let render = move |line: Bytes| -> Bytes {
        if fmt == Format::Table {
            as_table(kind, line, &include, clock.now())
        } else {
            line
        }
    };
    tokio::spawn(async move {
        let end = tokio::time::Instant::now() + timeout;
        let deadline = tokio::time::sleep_until(end);
        tokio::pin!(deadline);
        for line in initial {
            tokio::select! {
                r = tx.send(render(line)) => if r.is_err() { return },
                _ = &mut deadline => return,
            }
        }
        let mut due = next_bookmark(tokio::time::Instant::now(), every, end);
        loop {
            let wait = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut deadline => {
                    // A dead connection does not end at timeoutSeconds either:
                    // a stalled watch stays silent until the client gives up.
                    if region.faults().stall_watches {
                        tx.closed().await;
                    }
                    return;
                }
                // The client went away (or the fleet stopped).
                _ = tx.closed() => return,
                _ = wait => {
                    let now = tokio::time::Instant::now();
                    // strictly after this one: the pre-deadline bookmark is sent once
                    due = next_bookmark(now + Duration::from_millis(1), every, end)
                        .filter(|at| *at > now);
                    let f = region.faults().clone();
                    if bookmarks && !f.stall_watches && tx.send(bookmark(kind, last_rv)).await.is_err() {
                        return;
                    }
                }
                change = sub.recv() => {
                    let change = match change {
                        Ok(c) => c,
                        // Too slow to keep up: end the watch; the client
                        // resumes from its last version (or relists on 410).
                        Err(broadcast::error::RecvError::Lagged(_)) => return,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if change.rv <= last_rv {
                        continue;
                    }
                    last_rv = change.rv;
                    if !selects(change.kind, &change.namespace, &change.index) {
                        continue;
                    }
                    let f = region.faults().clone();
                    if f.stall_watches {
                        continue;
                    }
                    if f.malformed_watch {
                        let _ = tx.send(Bytes::from_static(b"{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":[}}}}\n")).await;
                        return;
                    }
                    if tx.send(render(change.line())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    resp
}
