//! An Elasticsearch-compatible endpoint per region (its own HTTPS port,
//! signed by the fleet's CA) serving the region's log lines as ECS
//! documents: `GET /`, `_search`, `_count`, `_pit` open and close. It
//! answers as a secured 8.x cluster does: `X-Elastic-Product`, the
//! `compatible-with` media types (7, 8, 9), basic, API-key and bearer auth,
//! errors as ES error objects. `query.rs` is the query DSL, `docs.rs` the
//! documents.

pub mod docs;
pub mod query;

use crate::transport::http::{parse_query, Body, Response};
use crate::world::region::Region;
use http_body_util::BodyExt;
use hyper::{Method, Request};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The one index (a data stream's name, as shippers write it).
pub const INDEX: &str = "logs-kubernetes.container_logs-default";
/// The user of basic auth; its password is the region's token.
pub const USER: &str = "elastic";
const VERSION: &str = "8.17.0";
/// `from + size` beyond this is refused, as `index.max_result_window`.
const MAX_WINDOW: u64 = 10_000;
/// Entries one request may render before it gives up (`timed_out`).
const RENDER_BUDGET: u64 = 500_000;
/// Open points in time per region.
const MAX_PITS: usize = 500;

/// Open points in time of a region: id -> (frozen instant, expiry).
#[derive(Default)]
pub struct Pits(Mutex<HashMap<String, (f64, Instant)>>);

impl Pits {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (f64, Instant)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Ctx {
    /// The media type to answer with.
    media: String,
}

fn error(ctx: &Ctx, code: u16, kind: &str, reason: &str) -> Response {
    let body = json!({
        "error": {
            "root_cause": [{"type": kind, "reason": reason}],
            "type": kind,
            "reason": reason,
        },
        "status": code,
    });
    let mut r = reply(ctx, code, &body);
    if code == 401 {
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static(
                "Basic realm=\"security\", charset=\"UTF-8\", ApiKey, Bearer realm=\"security\"",
            ),
        );
    }
    r
}

fn reply(ctx: &Ctx, code: u16, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = hyper::Response::new(Body::Full(Some(bytes.into())));
    *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::OK);
    let h = r.headers_mut();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&ctx.media) {
        h.insert(hyper::header::CONTENT_TYPE, v);
    }
    h.insert(
        "x-elastic-product",
        hyper::header::HeaderValue::from_static("Elasticsearch"),
    );
    r
}

/// The media type of a header: Ok(None) for plain JSON, Ok(Some(v)) for a
/// supported `compatible-with=v`, Err for anything else.
fn media(h: Option<&str>) -> Result<Option<u8>, String> {
    let Some(h) = h else { return Ok(None) };
    let base = h
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if base == "application/json" || base == "*/*" || base.is_empty() {
        return Ok(None);
    }
    if base != "application/vnd.elasticsearch+json" {
        return Err(h.to_string());
    }
    let v = h
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("compatible-with="))
        .next()
        .and_then(|v| v.trim().parse::<u8>().ok());
    match v {
        Some(v @ 7..=9) => Ok(Some(v)),
        _ => Err(h.to_string()),
    }
}

fn authorised(region: &Region, req: &Request<hyper::body::Incoming>) -> bool {
    use base64::Engine;
    let Some(h) = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let (scheme, cred) = h.split_once(' ').unwrap_or((h, ""));
    let cred = cred.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => base64::engine::general_purpose::STANDARD
            .decode(cred)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .is_some_and(|s| s == format!("{USER}:{}", region.token)),
        "apikey" | "bearer" => cred == region.token,
        _ => false,
    }
}

pub async fn handle(region: Arc<Region>, req: Request<hyper::body::Incoming>) -> Response {
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let ctype = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let mut ctx = Ctx {
        media: "application/json".into(),
    };
    match (media(accept.as_deref()), media(ctype.as_deref())) {
        (Err(h), _) | (_, Err(h)) => {
            return error(
                &ctx,
                400,
                "media_type_header_exception",
                &format!("Invalid media-type value on headers [Accept, Content-Type]: {h}"),
            )
        }
        (Ok(Some(v)), _) => {
            ctx.media = format!("application/vnd.elasticsearch+json; compatible-with={v}")
        }
        _ => {}
    }
    let (err, latency) = {
        let f = region.faults();
        (f.es_error, f.es_latency_ms)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if !authorised(&region, &req) {
        let reason = format!(
            "unable to authenticate user [{USER}] for REST request [{}]",
            req.uri().path()
        );
        return error(&ctx, 401, "security_exception", &reason);
    }
    if let Some(code) = err {
        let kind = match code {
            429 => "es_rejected_execution_exception",
            503 => "cluster_block_exception",
            _ => "internal_server_error",
        };
        return error(&ctx, code, kind, "simulated failure");
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let q = parse_query(req.uri().query());
    let limited = http_body_util::Limited::new(req.into_body(), crate::api::MAX_BODY);
    let Ok(bytes) = limited.collect().await.map(|c| c.to_bytes()) else {
        return error(
            &ctx,
            413,
            "content_too_long_exception",
            "request body too large",
        );
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    &ctx,
                    400,
                    "x_content_parse_exception",
                    &format!("request body is not valid JSON: {e}"),
                )
            }
        }
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (&method, segs.as_slice()) {
        (&Method::GET | &Method::HEAD, []) => reply(&ctx, 200, &info(&region)),
        (&Method::GET | &Method::POST, ["_search"]) => search(&region, &ctx, None, &q, &body),
        (&Method::GET | &Method::POST, [index, "_search"]) => {
            search(&region, &ctx, Some(index), &q, &body)
        }
        (&Method::GET | &Method::POST, ["_count"]) => count(&region, &ctx, None, &q, &body),
        (&Method::GET | &Method::POST, [index, "_count"]) => {
            count(&region, &ctx, Some(index), &q, &body)
        }
        (&Method::POST, [index, "_pit"]) => open_pit(&region, &ctx, index, &q),
        (&Method::DELETE, ["_pit"]) => close_pit(&region, &ctx, &body),
        _ => error(
            &ctx,
            400,
            "illegal_argument_exception",
            &format!("no handler found for uri [{path}] and method [{method}]"),
        ),
    }
}

fn info(region: &Region) -> Value {
    json!({
        "name": format!("{}-es-0", region.name),
        "cluster_name": region.name,
        "cluster_uuid": format!("{:022x}", crate::world::store::splitmix(region.name.len() as u64 ^ 0xe5)),
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "docker",
            "lucene_version": "9.12.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    })
}

/// Whether an index expression names our index: Err for a concrete name
/// that does not exist, Ok(false) for wildcards that match nothing.
fn index_matches(expr: &str) -> Result<bool, String> {
    let mut any = false;
    for part in expr.split(',') {
        let part = part.trim();
        if part.starts_with('-') {
            continue;
        }
        if part.contains('*') {
            any |= glob(part, INDEX);
        } else if part == INDEX || part == "_all" {
            any = true;
        } else {
            return Err(part.to_string());
        }
    }
    Ok(any)
}

fn glob(pat: &str, s: &str) -> bool {
    let parts: Vec<&str> = pat.split('*').collect();
    let mut rest = s;
    for (k, p) in parts.iter().enumerate() {
        if k == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if k == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(at) => rest = &rest[at + p.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

fn missing_index(ctx: &Ctx, name: &str) -> Response {
    error(
        ctx,
        404,
        "index_not_found_exception",
        &format!("no such index [{name}]"),
    )
}

fn keep_alive(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86_400),
        _ => return None,
    })
}

fn new_pit_id() -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..24).map(|_| fastrand::u8(..)).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn open_pit(region: &Region, ctx: &Ctx, index: &str, q: &HashMap<String, String>) -> Response {
    let Some(ka) = q.get("keep_alive") else {
        return error(
            ctx,
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: [keep_alive] is not specified;",
        );
    };
    let Some(ka) = keep_alive(ka) else {
        return error(
            ctx,
            400,
            "illegal_argument_exception",
            &format!("failed to parse setting [keep_alive] with value [{ka}] as a time value"),
        );
    };
    if let Err(name) = index_matches(index) {
        return missing_index(ctx, &name);
    }
    let mut pits = region.es.lock();
    let now = Instant::now();
    pits.retain(|_, (_, exp)| *exp > now);
    if pits.len() >= MAX_PITS {
        return error(
            ctx,
            429,
            "es_rejected_execution_exception",
            &format!("Trying to create too many point in time contexts. Must be less than or equal to: [{MAX_PITS}]"),
        );
    }
    let id = new_pit_id();
    pits.insert(id.clone(), (region.clock.elapsed(), now + ka));
    reply(ctx, 200, &json!({"id": id, "_shards": shards()}))
}

fn close_pit(region: &Region, ctx: &Ctx, body: &Value) -> Response {
    let Some(id) = body.get("id").and_then(Value::as_str) else {
        return error(
            ctx,
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: point in time id is not specified;",
        );
    };
    let freed = region.es.lock().remove(id).is_some();
    let code = if freed { 200 } else { 404 };
    reply(
        ctx,
        code,
        &json!({"succeeded": freed, "num_freed": u8::from(freed)}),
    )
}

fn shards() -> Value {
    json!({"total": 1, "successful": 1, "skipped": 0, "failed": 0})
}

/// The query of a request: the body's `query`, else `?q=`, else all.
fn request_query(q: &HashMap<String, String>, body: &Value) -> Result<query::Q, query::Err> {
    if let Some(v) = body.get("query") {
        return query::parse(v);
    }
    if let Some(s) = q.get("q") {
        return query::query_string(s, "message", false);
    }
    Ok(query::Q::All)
}

/// Resolve the index or PIT of a request: the instant documents are
/// frozen at, and the PIT id to return (a fresh one: clients must use the
/// latest).
fn snapshot(
    region: &Region,
    ctx: &Ctx,
    index: Option<&str>,
    body: &Value,
) -> Result<(f64, Option<String>, bool), Box<Response>> {
    if let Some(pit) = body.get("pit") {
        if index.is_some() {
            return Err(Box::new(error(
                ctx,
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;",
            )));
        }
        let id = pit.get("id").and_then(Value::as_str).unwrap_or("");
        let ka = pit
            .get("keep_alive")
            .and_then(Value::as_str)
            .and_then(keep_alive);
        let mut pits = region.es.lock();
        let now = Instant::now();
        let Some((at, exp)) = pits.remove(id) else {
            return Err(Box::new(error(
                ctx,
                404,
                "search_context_missing_exception",
                &format!("No search context found for id [{id}]"),
            )));
        };
        if exp <= now {
            return Err(Box::new(error(
                ctx,
                404,
                "search_context_missing_exception",
                &format!("No search context found for id [{id}] (expired)"),
            )));
        }
        let fresh = new_pit_id();
        pits.insert(fresh.clone(), (at, ka.map_or(exp, |k| now + k)));
        return Ok((at, Some(fresh), true));
    }
    let matched = match index.map(index_matches).unwrap_or(Ok(true)) {
        Ok(m) => m,
        Err(name) => return Err(Box::new(missing_index(ctx, &name))),
    };
    Ok((region.clock.elapsed(), None, matched))
}

fn bad(ctx: &Ctx, e: query::Err) -> Response {
    error(ctx, 400, e.0, &e.1)
}

/// Sort direction from `sort` (on `@timestamp`; `_shard_doc`/`_doc` tie-breaks).
fn sort_asc(body: &Value, q: &HashMap<String, String>) -> Result<bool, query::Err> {
    let dir = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("order").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    };
    let mut asc = true;
    let items: Vec<Value> = match body.get("sort") {
        None => match q.get("sort") {
            Some(s) => s.split(',').map(|x| Value::String(x.to_string())).collect(),
            None => vec![],
        },
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
    };
    for item in items {
        let (field, order) = match &item {
            Value::String(s) => match s.split_once(':') {
                Some((f, o)) => (f.to_string(), Some(o.to_string())),
                None => (s.clone(), None),
            },
            Value::Object(o) if o.len() == 1 => {
                let (f, v) = o
                    .iter()
                    .next()
                    .ok_or(("parsing_exception", String::new()))?;
                (f.clone(), dir(v))
            }
            _ => return Err(("parsing_exception", "malformed sort".into())),
        };
        match field.as_str() {
            "@timestamp" => asc = order.as_deref() != Some("desc"),
            "_shard_doc" | "_doc" | "_score" => {}
            f => {
                return Err((
                    "illegal_argument_exception",
                    format!("sorting is supported on [@timestamp] only, not [{f}]"),
                ))
            }
        }
    }
    Ok(asc)
}

fn search(
    region: &Region,
    ctx: &Ctx,
    index: Option<&str>,
    q: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let started = Instant::now();
    let num = |k: &str| -> Option<u64> {
        body.get(k)
            .and_then(Value::as_u64)
            .or_else(|| q.get(k).and_then(|v| v.parse().ok()))
    };
    let size = num("size").unwrap_or(10);
    let from = num("from").unwrap_or(0);
    if size + from > MAX_WINDOW {
        return error(
            ctx,
            400,
            "illegal_argument_exception",
            &format!("Result window is too large, from + size must be less than or equal to: [{MAX_WINDOW}] but was [{}].", size + from),
        );
    }
    let query = match request_query(q, body) {
        Ok(x) => x,
        Err(e) => return bad(ctx, e),
    };
    let asc = match sort_asc(body, q) {
        Ok(a) => a,
        Err(e) => return bad(ctx, e),
    };
    let after: Option<(i64, Option<i64>)> = match body.get("search_after") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if !a.is_empty() => {
            let ts = query::date_nanos(&a[0])
                .filter(|_| a[0].is_string())
                .or(a[0].as_i64());
            let Some(ts) = ts else {
                return error(
                    ctx,
                    400,
                    "parsing_exception",
                    "search_after: the first value must be the @timestamp sort value",
                );
            };
            Some((ts, a.get(1).and_then(Value::as_i64)))
        }
        Some(_) => {
            return error(
                ctx,
                400,
                "parsing_exception",
                "[search_after] must be an array",
            )
        }
    };
    let track: Option<u64> = match body.get("track_total_hits") {
        Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(u64::MAX),
        Some(v) => Some(v.as_u64().unwrap_or(MAX_WINDOW)),
        None => Some(MAX_WINDOW),
    };
    let (at, pit_id, matched) = match snapshot(region, ctx, index, body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let insts = if matched {
        docs::instances(region, at)
    } else {
        vec![]
    };
    let (mut lo, mut hi) = query.bounds();
    if let Some((t, _)) = after {
        if asc {
            lo = Some(lo.map_or(t, |l| l.max(t)));
        } else {
            hi = Some(hi.map_or(t, |h| h.min(t)));
        }
    }
    let mut merge = docs::Merge::new(&region.clock, &insts, &query, lo, hi, asc);
    let mut hits = Vec::new();
    let (mut total, mut skipped) = (0u64, 0u64);
    let mut timed_out = false;
    while let Some(d) = merge.next() {
        if let Some((t, tb)) = after {
            let k = d.key();
            let past = if asc {
                k > (t, tb.unwrap_or(i64::MIN))
            } else {
                k < (t, tb.unwrap_or(i64::MAX))
            };
            if !past {
                continue;
            }
        }
        if query.eval(&d) != Some(true) {
            continue;
        }
        total += 1;
        if skipped < from {
            skipped += 1;
        } else if (hits.len() as u64) < size {
            let k = d.key();
            hits.push(json!({
                "_index": INDEX,
                "_id": d.id(),
                "_score": null,
                "_source": d.source(&region.name),
                "sort": [k.0, k.1],
            }));
        }
        let page_done = hits.len() as u64 >= size;
        if page_done && track.is_none_or(|t| total >= t) {
            break;
        }
        if merge.rendered > RENDER_BUDGET {
            timed_out = true;
            break;
        }
    }
    let mut out = json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": timed_out,
        "_shards": shards(),
        "hits": {"max_score": null, "hits": hits},
    });
    if let Some(t) = track {
        let capped = t != u64::MAX && total >= t;
        out["hits"]["total"] = json!({
            "value": if capped { t } else { total },
            "relation": if capped || timed_out { "gte" } else { "eq" },
        });
    }
    if let Some(id) = pit_id {
        out["pit_id"] = json!(id);
    }
    reply(ctx, 200, &out)
}

fn count(
    region: &Region,
    ctx: &Ctx,
    index: Option<&str>,
    q: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let query = match request_query(q, body) {
        Ok(x) => x,
        Err(e) => return bad(ctx, e),
    };
    let matched = match index.map(index_matches).unwrap_or(Ok(true)) {
        Ok(m) => m,
        Err(name) => return missing_index(ctx, &name),
    };
    let insts = if matched {
        docs::instances(region, region.clock.elapsed())
    } else {
        vec![]
    };
    let (lo, hi) = query.bounds();
    let mut merge = docs::Merge::new(&region.clock, &insts, &query, lo, hi, true);
    let mut n = 0u64;
    while let Some(d) = merge.next() {
        if query.eval(&d) == Some(true) {
            n += 1;
        }
        if merge.rendered > RENDER_BUDGET {
            return error(
                ctx,
                400,
                "search_phase_execution_exception",
                "too many documents to count: narrow the query with a range on @timestamp",
            );
        }
    }
    reply(ctx, 200, &json!({"count": n, "_shards": shards()}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_globs() {
        assert_eq!(media(None), Ok(None));
        assert_eq!(
            media(Some(
                "application/vnd.elasticsearch+json; compatible-with=8"
            )),
            Ok(Some(8))
        );
        assert_eq!(
            media(Some("application/vnd.elasticsearch+json;compatible-with=9")),
            Ok(Some(9))
        );
        assert!(media(Some(
            "application/vnd.elasticsearch+json; compatible-with=6"
        ))
        .is_err());
        assert!(media(Some("text/csv")).is_err());
        assert_eq!(index_matches("logs-*"), Ok(true));
        assert_eq!(index_matches("metrics-*"), Ok(false));
        assert!(index_matches("nope").is_err());
        assert_eq!(keep_alive("1m"), Some(Duration::from_secs(60)));
        assert_eq!(keep_alive("30x"), None);
    }
}
