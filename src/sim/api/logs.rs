//! `pods/log`: deterministic lines per container instance, computed from the
//! pod's seed and the line's index (nothing is stored), mostly JSON, some
//! plain text, a few multi-line stack traces.

use crate::api::Target;
use crate::transport::http::{status, stream_response, Response};
use crate::world::region::{Region, Stage};
use crate::world::store::splitmix;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Entries a container keeps (older ones have rotated away).
const KEEP_ENTRIES: u64 = 20_000;

const MSGS: &[&str] = &[
    "request served",
    "cache hit",
    "cache miss, fetching from origin",
    "upstream responded",
    "connection pool stats",
    "order accepted",
    "payment authorised",
    "search query executed",
    "session refreshed",
    "health check ok",
];
const PATHS: &[&str] = &[
    "/api/v1/cart",
    "/api/v1/checkout",
    "/api/v1/search",
    "/healthz",
    "/api/v1/items",
    "/api/v1/pay",
];

/// One log entry (possibly several lines) of a container instance.
pub fn entry(seed: u64, instance: u32, i: u64, ts: &str, hostile: bool) -> String {
    let h = splitmix(seed ^ ((instance as u64) << 40) ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let pick = h % 100;
    let trace = format!("{:016x}", splitmix(h));
    let latency = (h >> 20) % 900 + 1;
    let mut s = if pick < 80 {
        let level = match (h >> 8) % 20 {
            0 => "error",
            1 | 2 => "warn",
            3 => "debug",
            _ => "info",
        };
        let msg = MSGS[((h >> 12) % MSGS.len() as u64) as usize];
        let path = PATHS[((h >> 16) % PATHS.len() as u64) as usize];
        let code = if level == "error" { 503 } else { 200 };
        format!(
            "{{\"ts\":\"{ts}\",\"level\":\"{level}\",\"msg\":\"{msg}\",\"trace_id\":\"{trace}\",\"latency_ms\":{latency},\"path\":\"{path}\",\"status\":{code},\"seq\":{i}}}"
        )
    } else if pick < 97 {
        format!(
            "{ts} INFO  [worker-{}] processed batch size={} took={}ms seq={i}",
            (h >> 8) % 8,
            (h >> 12) % 500,
            latency
        )
    } else {
        format!(
            "{ts} ERROR [worker-{}] unhandled exception in request handler seq={i}\njava.lang.IllegalStateException: connection reset by peer (trace_id={trace})\n\tat com.shop.net.Pool.acquire(Pool.java:{})\n\tat com.shop.api.Handler.handle(Handler.java:88)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)",
            (h >> 8) % 8,
            (h >> 24) % 400
        )
    };
    if hostile && pick.is_multiple_of(7) {
        s.push_str(" \u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{1b}[1;1H\u{202e}txt.exe");
    }
    s
}

#[derive(Clone, Copy)]
struct Instance {
    seed: u64,
    number: u32,
    start: f64,
    end: f64,
    running: bool,
    rate: f64,
}

fn bad(msg: String) -> Response {
    status(400, "BadRequest", &msg)
}

pub async fn handle(region: Arc<Region>, t: &Target, q: &HashMap<String, String>) -> Response {
    let ns = t.namespace.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let clock = region.clock.clone();
    let previous = q.get("previous").is_some_and(|v| v == "true" || v == "1");
    let follow = q.get("follow").is_some_and(|v| v == "true" || v == "1");
    let timestamps = q.get("timestamps").is_some_and(|v| v == "true" || v == "1");
    let tail: Option<u64> = q.get("tailLines").and_then(|v| v.parse().ok());
    let limit_bytes: Option<usize> = q
        .get("limitBytes")
        .and_then(|v| v.parse().ok())
        .filter(|l| *l > 0);
    let now = clock.elapsed();
    let since: Option<f64> = match q.get("sinceSeconds").and_then(|v| v.parse::<f64>().ok()) {
        Some(secs) => Some(now - clock.scaled(secs)),
        None => q
            .get("sinceTime")
            .and_then(|v| crate::world::clock::parse(v))
            .map(|t| clock.sim_secs(t)),
    };
    let (inst, hostile) = {
        let st = region.lock();
        let Some(p) = st.pods.get(&(ns.clone(), name.clone())) else {
            return if st
                .store
                .get(crate::world::store::Kind::Pod, &ns, &name)
                .is_some()
            {
                bad(format!("container in pod \"{name}\" is not available"))
            } else {
                crate::transport::http::not_found(crate::world::store::Kind::Pod, &name)
            };
        };
        if let Some(c) = q.get("container").filter(|c| !c.is_empty()) {
            if *c != p.container {
                return bad(format!("container {c} is not valid for pod {name}"));
            }
        }
        let inst = if previous {
            match p.previous {
                Some((a, b, _, _)) => Instance {
                    seed: p.seed,
                    number: p.restarts.saturating_sub(1),
                    start: a,
                    end: b,
                    running: false,
                    rate: p.log_rate,
                },
                None => {
                    return bad(format!(
                        "previous terminated container \"{}\" in pod \"{name}\" not found",
                        p.container
                    ))
                }
            }
        } else {
            match p.stage {
                Stage::Pulling => {
                    return bad(format!(
                        "container \"{}\" in pod \"{name}\" is waiting to start: ContainerCreating",
                        p.container
                    ))
                }
                Stage::BackOff => match p.previous {
                    Some((a, b, _, _)) => Instance {
                        seed: p.seed,
                        number: p.restarts.saturating_sub(1),
                        start: a,
                        end: b,
                        running: false,
                        rate: p.log_rate,
                    },
                    None => {
                        return bad(format!(
                            "container \"{}\" in pod \"{name}\" is waiting to start",
                            p.container
                        ))
                    }
                },
                _ => Instance {
                    seed: p.seed,
                    number: p.restarts,
                    start: p.started,
                    end: now,
                    running: p.stage == Stage::Running,
                    rate: p.log_rate,
                },
            }
        };
        (inst, st.hostile)
    };
    let (i_start, i_rate) = (inst.start, inst.rate);
    let line_at = move |i: u64| i_start + i as f64 / i_rate;
    let count = if inst.rate > 0.0 {
        ((inst.end - inst.start).max(0.0) * inst.rate).floor() as u64
    } else {
        0
    };
    let first_kept = count.saturating_sub(KEEP_ENTRIES);
    let mut first = first_kept;
    if let Some(s) = since {
        if inst.rate > 0.0 && s > inst.start {
            first = first.max(((s - inst.start) * inst.rate).ceil() as u64);
        }
    }
    let render = move |i: u64| -> String {
        let t = clock.at(line_at(i));
        let ts = crate::world::clock::stamp_micros(t);
        let text = entry(inst.seed, inst.number, i, &ts, hostile);
        let mut out = String::with_capacity(text.len() + 40);
        let nano = t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
        for l in text.split('\n') {
            if timestamps {
                out.push_str(&nano);
                out.push(' ');
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    };
    // tailLines counts physical lines: walk back over entries.
    let mut lines: Vec<String> = Vec::new();
    if let Some(n) = tail {
        let mut got = 0u64;
        let mut i = count;
        while i > first && got < n {
            i -= 1;
            let e = render(i);
            let physical: Vec<&str> = e.split_inclusive('\n').collect();
            let take = ((n - got) as usize).min(physical.len());
            let part: String = physical[physical.len() - take..].concat();
            got += take as u64;
            lines.push(part);
        }
        lines.reverse();
    } else {
        // Bound what one request may produce.
        let start = first.max(count.saturating_sub(KEEP_ENTRIES));
        lines = (start..count).map(&render).collect();
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let resp = stream_response("text/plain", rx);
    let mut budget = limit_bytes.unwrap_or(usize::MAX);
    let region2 = region.clone();
    let epoch = region.faults().log_epoch;
    tokio::spawn(async move {
        let mut buf = String::new();
        for l in lines {
            buf.push_str(&l);
            if buf.len() >= 32 * 1024 && !send(&tx, &mut buf, &mut budget).await {
                return;
            }
        }
        if !send(&tx, &mut buf, &mut budget).await {
            return;
        }
        if !follow || !inst.running {
            return;
        }
        let mut i = count;
        loop {
            // Entry i counts as written once the clock passes the next one's
            // instant (`written` below), as a request would count it.
            let next_at = if inst.rate > 0.0 {
                line_at(i + 1)
            } else {
                region2.clock.elapsed() + 1.0
            };
            let wait = region2
                .clock
                .real(next_at - region2.clock.elapsed())
                .min(Duration::from_secs(1));
            tokio::time::sleep(wait).await;
            // The stream ends when the container stops or restarts.
            // Decided under the lock, so a kill cannot fall between the
            // check and the clock: while the instance runs, its lines up to
            // now; once it ended, its lines up to its recorded end, then
            // the end (the same lines `--previous` gives).
            // Entries written by an instant: the same count a request at
            // that instant serves (`count` above).
            let written = |t: f64| ((t - inst.start).max(0.0) * inst.rate).floor() as u64;
            let (upto, ended) = {
                let st = region2.lock();
                match st.pods.get(&(ns.clone(), name.clone())) {
                    Some(p) if p.restarts == inst.number => {
                        let now = region2.clock.elapsed();
                        (written(now), p.stage != Stage::Running || p.stopped)
                    }
                    Some(p) if p.restarts == inst.number + 1 => match p.previous {
                        Some((a, b, _, _)) if a == inst.start => (written(b), true),
                        _ => (0, true),
                    },
                    _ => (0, true),
                }
            };
            if region2.faults().log_epoch != epoch || tx.is_closed() {
                return;
            }
            while inst.rate > 0.0 && i < upto {
                buf.push_str(&render(i));
                i += 1;
                if buf.len() > 32 * 1024 && !ended {
                    break;
                }
                if buf.len() > 32 * 1024 && !send(&tx, &mut buf, &mut budget).await {
                    return;
                }
            }
            if ended {
                send(&tx, &mut buf, &mut budget).await;
                return;
            }
            if !buf.is_empty() && !send(&tx, &mut buf, &mut budget).await {
                return;
            }
        }
    });
    resp
}

/// Send what is buffered within the byte budget; false when done.
async fn send(tx: &mpsc::Sender<Bytes>, buf: &mut String, budget: &mut usize) -> bool {
    if buf.is_empty() {
        return *budget > 0;
    }
    let mut take = buf.len().min(*budget);
    while !buf.is_char_boundary(take) {
        take -= 1;
    }
    let chunk = Bytes::copy_from_slice(&buf.as_bytes()[..take]);
    *budget -= take;
    buf.clear();
    !chunk.is_empty() && tx.send(chunk).await.is_ok() && *budget > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_deterministic_and_mostly_json() {
        let a: Vec<String> = (0..200).map(|i| entry(7, 0, i, "t", false)).collect();
        let b: Vec<String> = (0..200).map(|i| entry(7, 0, i, "t", false)).collect();
        assert_eq!(a, b);
        let json = a
            .iter()
            .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
            .count();
        assert!(json > 120 && json < 200, "{json}");
        assert!(a.iter().any(|l| l.contains('\n')), "some stack traces");
    }
}
