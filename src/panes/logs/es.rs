//! History from each region's Elasticsearch: the current selection plus a
//! time window plus a query string, paged per region with a point in time
//! and `search_after` (always the latest PIT id; closed when done), merged
//! across regions in time order. A region whose Elasticsearch is down, slow
//! or refusing gets its own error (the pane's logs badge for that region);
//! the others go on.

use super::line::{build, FieldNames, Line, Origin};
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::{Elasticsearch, OpenPointInTimeParts, SearchParts};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// How a region's Elasticsearch is reached. Its `Debug` names the scheme
/// and the user only: secrets never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic {
        user: String,
        password: String,
    },
    /// The encoded API key (`Authorization: ApiKey <key>`).
    ApiKey(String),
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
            Auth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Where a document keeps each part: ECS by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub timestamp: String,
    pub message: String,
    pub level: String,
    pub pod: String,
    pub namespace: String,
    pub container: String,
    pub trace: String,
}

impl Mapping {
    pub fn ecs() -> Mapping {
        Mapping {
            timestamp: "@timestamp".into(),
            message: "message".into(),
            level: "log.level".into(),
            pod: "kubernetes.pod.name".into(),
            namespace: "kubernetes.namespace".into(),
            container: "kubernetes.container.name".into(),
            trace: "trace.id".into(),
        }
    }

    /// Fluent Bit's kubernetes filter names.
    pub fn fluent_bit() -> Mapping {
        Mapping {
            message: "log".into(),
            pod: "kubernetes.pod_name".into(),
            namespace: "kubernetes.namespace_name".into(),
            container: "kubernetes.container_name".into(),
            ..Mapping::ecs()
        }
    }
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping::ecs()
    }
}

/// One region's Elasticsearch.
#[derive(Clone, PartialEq, Eq)]
pub struct EsConfig {
    pub url: String,
    pub auth: Auth,
    /// CA certificate (PEM) to trust besides the system's.
    pub ca_pem: Option<Vec<u8>>,
    pub index: String,
    pub mapping: Mapping,
    pub timeout: Duration,
}

impl std::fmt::Debug for EsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsConfig")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("ca", &self.ca_pem.as_ref().map(|c| c.len()))
            .field("index", &self.index)
            .field("mapping", &self.mapping)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What is asked: the selection, a window, a query string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub namespace: Option<String>,
    /// Pods selected (empty: every pod of the namespace).
    pub pods: Vec<String>,
    /// Epoch nanoseconds, inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub query_string: String,
    pub page: usize,
}

/// Why a region's history could not be read, as its badge says it.
#[derive(Debug, Clone, PartialEq)]
pub enum EsError {
    Unreachable(String),
    Timeout(Duration),
    Unauthorized(String),
    Refused { status: u16, reason: String },
    Bad(String),
}

impl std::fmt::Display for EsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EsError::Unreachable(m) => write!(f, "unreachable: {m}"),
            EsError::Timeout(d) => write!(f, "timed out after {}s", d.as_secs_f64()),
            EsError::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            EsError::Refused { status, reason } => write!(f, "error {status}: {reason}"),
            EsError::Bad(m) => write!(f, "bad answer: {m}"),
        }
    }
}

pub fn client(cfg: &EsConfig) -> Result<Elasticsearch, EsError> {
    let url = elasticsearch::http::Url::parse(&cfg.url)
        .map_err(|e| EsError::Bad(format!("{}: {e}", cfg.url)))?;
    let mut b = TransportBuilder::new(SingleNodeConnectionPool::new(url)).timeout(cfg.timeout);
    b = match &cfg.auth {
        Auth::None => b,
        Auth::Basic { user, password } => {
            b.auth(Credentials::Basic(user.clone(), password.clone()))
        }
        Auth::ApiKey(k) => b.auth(Credentials::EncodedApiKey(k.clone())),
        Auth::Bearer(t) => b.auth(Credentials::Bearer(t.clone())),
    };
    if let Some(pem) = &cfg.ca_pem {
        let cert = Certificate::from_pem(pem).map_err(|e| EsError::Bad(format!("CA: {e}")))?;
        b = b.cert_validation(CertificateValidation::Full(cert));
    }
    let t = b.build().map_err(|e| EsError::Bad(e.to_string()))?;
    Ok(Elasticsearch::new(t))
}

fn transport_error(e: elasticsearch::Error, timeout: Duration) -> EsError {
    if e.is_timeout() {
        return EsError::Timeout(timeout);
    }
    let mut m = e.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        m = format!("{m}: {s}");
        src = s.source();
    }
    EsError::Unreachable(m)
}

async fn answer(
    r: elasticsearch::http::response::Response,
    timeout: Duration,
) -> Result<Value, EsError> {
    let status = r.status_code().as_u16();
    let v: Value = r.json().await.map_err(|e| transport_error(e, timeout))?;
    if status < 300 {
        return Ok(v);
    }
    let reason = match (v["error"]["type"].as_str(), v["error"]["reason"].as_str()) {
        (Some(t), Some(r)) => format!("{t}: {r}"),
        _ => v["error"].to_string(),
    };
    Err(match status {
        401 | 403 => EsError::Unauthorized(format!("{status} {reason}")),
        _ => EsError::Refused { status, reason },
    })
}

/// The search body of a query for a mapping (sorted oldest first).
pub fn body(q: &Query, m: &Mapping) -> Value {
    let mut filter = Vec::new();
    if let Some(ns) = &q.namespace {
        filter.push(json!({"term": {m.namespace.clone(): ns}}));
    }
    if !q.pods.is_empty() {
        filter.push(json!({"terms": {m.pod.clone(): q.pods}}));
    }
    let stamp = |ns: i64| {
        jiff::Timestamp::from_nanosecond(ns as i128)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    if q.from.is_some() || q.to.is_some() {
        let mut r = serde_json::Map::new();
        if let Some(f) = q.from {
            r.insert("gte".into(), json!(stamp(f)));
        }
        if let Some(t) = q.to {
            r.insert("lte".into(), json!(stamp(t)));
        }
        filter.push(json!({"range": {m.timestamp.clone(): r}}));
    }
    if !q.query_string.trim().is_empty() {
        filter.push(json!({"query_string": {"query": q.query_string, "default_field": m.message}}));
    }
    json!({
        "query": {"bool": {"filter": filter}},
        "sort": [{m.timestamp.clone(): "asc"}, {"_shard_doc": "asc"}],
        "size": q.page.max(1),
        "track_total_hits": false,
    })
}

fn field<'a>(src: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = src.get(name) {
        return Some(v);
    }
    let mut cur = src;
    for part in name.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// A hit as an entry of the pane (the same shape a live line has).
pub fn hit_line(region: &str, hit: &Value, m: &Mapping, names: &FieldNames, max: usize) -> Line {
    let src = &hit["_source"];
    let s = |n: &str| {
        field(src, n)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let origin = Arc::new(Origin {
        region: region.to_string(),
        namespace: s(&m.namespace),
        pod: s(&m.pod),
        container: s(&m.container),
    });
    let stamp = s(&m.timestamp);
    let raw = format!("{stamp} {}", s(&m.message));
    let mut line = build(&origin, raw.as_bytes(), names, max);
    if line.level.is_none() {
        line.level = super::line::Level::parse(&s(&m.level));
    }
    line
}

/// One region's pages: its PIT, where it stands, what it fetched.
pub struct RegionPager {
    pub region: String,
    cfg: EsConfig,
    client: Elasticsearch,
    pit: Option<String>,
    after: Option<Value>,
    buffer: VecDeque<Line>,
    done: bool,
    pub error: Option<EsError>,
    pub pages: u64,
}

impl RegionPager {
    pub fn new(region: &str, cfg: EsConfig) -> Result<RegionPager, EsError> {
        Ok(RegionPager {
            region: region.to_string(),
            client: client(&cfg)?,
            cfg,
            pit: None,
            after: None,
            buffer: VecDeque::new(),
            done: false,
            error: None,
            pages: 0,
        })
    }

    async fn fetch(&mut self, q: &Query, names: &FieldNames, max: usize) -> Result<(), EsError> {
        let to = self.cfg.timeout;
        let pit = match &self.pit {
            Some(p) => p.clone(),
            None => {
                let r = self
                    .client
                    .open_point_in_time(OpenPointInTimeParts::Index(&[&self.cfg.index]))
                    .keep_alive("2m")
                    .send()
                    .await
                    .map_err(|e| transport_error(e, to))?;
                let v = answer(r, to).await?;
                let id = v["id"]
                    .as_str()
                    .ok_or_else(|| EsError::Bad("no PIT id".into()))?;
                self.pit = Some(id.to_string());
                id.to_string()
            }
        };
        let mut b = body(q, &self.cfg.mapping);
        b["pit"] = json!({"id": pit, "keep_alive": "2m"});
        if let Some(a) = &self.after {
            b["search_after"] = a.clone();
        }
        let r = self
            .client
            .search(SearchParts::None)
            .body(b)
            .send()
            .await
            .map_err(|e| transport_error(e, to))?;
        let v = answer(r, to).await?;
        // Always go on with the latest PIT id.
        if let Some(id) = v["pit_id"].as_str() {
            self.pit = Some(id.to_string());
        }
        let hits = v["hits"]["hits"].as_array().cloned().unwrap_or_default();
        self.pages += 1;
        if hits.len() < q.page.max(1) {
            self.done = true;
        }
        if let Some(last) = hits.last() {
            self.after = Some(last["sort"].clone());
        }
        for h in &hits {
            self.buffer
                .push_back(hit_line(&self.region, h, &self.cfg.mapping, names, max));
        }
        Ok(())
    }

    /// Close the PIT (best effort: it expires anyway).
    pub async fn close(&mut self) {
        if let Some(id) = self.pit.take() {
            let _ = self
                .client
                .close_point_in_time()
                .body(json!({"id": id}))
                .send()
                .await;
        }
    }
}

/// Every region's pages, merged in time order.
pub struct History {
    pub regions: Vec<RegionPager>,
    pub query: Query,
    names: FieldNames,
    max_line: usize,
}

impl History {
    pub fn new(
        regions: Vec<RegionPager>,
        query: Query,
        names: FieldNames,
        max_line: usize,
    ) -> History {
        History {
            regions,
            query,
            names,
            max_line,
        }
    }

    /// The next `n` entries in time order across regions; a region that
    /// fails keeps its error and drops out of the merge.
    pub async fn next(&mut self, n: usize) -> Vec<Line> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            for r in &mut self.regions {
                if r.buffer.is_empty() && !r.done && r.error.is_none() {
                    if let Err(e) = r.fetch(&self.query, &self.names, self.max_line).await {
                        r.error = Some(e);
                        r.done = true;
                    }
                }
            }
            let best = self
                .regions
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.buffer.front().map(|l| (l.ts, i)))
                .min();
            let Some((_, i)) = best else { break };
            if let Some(l) = self.regions[i].buffer.pop_front() {
                out.push(l);
            }
        }
        out
    }

    pub fn exhausted(&self) -> bool {
        self.regions.iter().all(|r| r.done && r.buffer.is_empty())
    }

    /// Close every region's PIT.
    pub async fn close(&mut self) {
        for r in &mut self.regions {
            r.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_selection_window_and_query_string() {
        let q = Query {
            namespace: Some("shop".into()),
            pods: vec!["web-1".into()],
            from: Some(1_000_000_000),
            to: None,
            query_string: "level:error".into(),
            page: 50,
        };
        let b = body(&q, &Mapping::fluent_bit());
        let f = &b["query"]["bool"]["filter"];
        assert_eq!(f[0], json!({"term": {"kubernetes.namespace_name": "shop"}}));
        assert_eq!(f[1], json!({"terms": {"kubernetes.pod_name": ["web-1"]}}));
        assert_eq!(
            f[2],
            json!({"range": {"@timestamp": {"gte": "1970-01-01T00:00:01Z"}}})
        );
        assert_eq!(f[3]["query_string"]["default_field"], "log");
        assert_eq!(b["size"], 50);
        assert_eq!(b["sort"][0], json!({"@timestamp": "asc"}));
    }

    #[test]
    fn hits_become_entries_with_their_origin() {
        let hit = json!({"_source": {
            "@timestamp": "2026-12-03T10:00:01.5Z",
            "log": "{\"level\":\"error\",\"msg\":\"boom\"}",
            "kubernetes": {"pod_name": "web-1", "namespace_name": "shop", "container_name": "web"}
        }});
        let l = hit_line(
            "eu",
            &hit,
            &Mapping::fluent_bit(),
            &FieldNames::default(),
            1000,
        );
        assert_eq!(l.origin.tag(), "eu/web-1/web");
        assert_eq!(l.level, Some(super::super::line::Level::Error));
        assert_eq!(l.ts % 1_000_000_000, 500_000_000);
    }
}
