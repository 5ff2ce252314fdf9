//! The Prometheus source: node_exporter's series through the HTTP API
//! (`prometheus-http-query`), per region: URL, auth (bearer, basic, extra
//! headers), CA, timeout. Queries are PromQL templates where `$selector`
//! stands for the region's label matchers (empty for a Prometheus of its
//! own). On opening one range query fills the history (at most
//! `MAX_POINTS` points per series); then instant queries add to it.

use super::join::instance_node;
use super::model::{Rates, RealServer, RegionNet, VirtualKey, HISTORY_SECS, MAX_POINTS};
use prometheus_http_query::Client;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The default queries, node_exporter's names; each is overridable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    pub entries: String,
    pub limit: String,
    pub drop: String,
    pub insert_failed: String,
    pub early_drop: String,
    pub active: String,
    pub inactive: String,
    pub weight: String,
}

impl Default for Queries {
    fn default() -> Queries {
        let rate = |m: &str| format!("rate({m}{{$selector}}[5m])");
        Queries {
            entries: "node_nf_conntrack_entries{$selector}".into(),
            limit: "node_nf_conntrack_entries_limit{$selector}".into(),
            drop: rate("node_nf_conntrack_stat_drop"),
            insert_failed: rate("node_nf_conntrack_stat_insert_failed"),
            early_drop: rate("node_nf_conntrack_stat_early_drop"),
            active: "node_ipvs_backend_connections_active{$selector}".into(),
            inactive: "node_ipvs_backend_connections_inactive{$selector}".into(),
            weight: "node_ipvs_backend_weight{$selector}".into(),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    Bearer(String),
    Basic {
        user: String,
        password: String,
    },
}

// never prints a secret
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}, <redacted>)"),
        }
    }
}

/// One region's Prometheus.
#[derive(Clone, PartialEq, Eq)]
pub struct PromConfig {
    pub url: String,
    pub auth: Auth,
    pub headers: Vec<(String, String)>,
    /// PEM of the CA that signs Prometheus' certificate (else the system's).
    pub ca_pem: Option<String>,
    pub timeout: Duration,
    pub poll_interval: Duration,
    /// Label matchers that pick this region's series (`region="us-east"`).
    pub selector: String,
    pub queries: Queries,
}

// header values may be keys: names only
impl std::fmt::Debug for PromConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromConfig")
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("ca", &self.ca_pem.is_some())
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl PromConfig {
    pub fn new(url: &str) -> PromConfig {
        PromConfig {
            url: url.to_string(),
            auth: Auth::None,
            headers: Vec::new(),
            ca_pem: None,
            timeout: Duration::from_secs(5),
            poll_interval: Duration::from_secs(15),
            selector: String::new(),
            queries: Queries::default(),
        }
    }
}

/// Why a poll failed; each is a metrics badge on the region.
#[derive(Debug, Clone, PartialEq)]
pub enum PromError {
    /// Prometheus answered with an error (a bad PromQL template...).
    Query(String),
    /// No answer within the timeout.
    Timeout,
    /// Connection refused, DNS, TLS.
    Unreachable(String),
    Other(String),
}

impl std::fmt::Display for PromError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PromError::Query(m) => write!(f, "query error: {m}"),
            PromError::Timeout => write!(f, "timed out"),
            PromError::Unreachable(m) => write!(f, "unreachable: {m}"),
            PromError::Other(m) => write!(f, "{m}"),
        }
    }
}

fn classify(e: prometheus_http_query::Error) -> PromError {
    use prometheus_http_query::Error as E;
    match e {
        E::Prometheus(p) => PromError::Query(p.message().to_string()),
        E::Client(c) => {
            let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&c);
            while let Some(s) = src {
                if let Some(r) = s.downcast_ref::<reqwest::Error>() {
                    if r.is_timeout() {
                        return PromError::Timeout;
                    }
                    if r.is_connect() {
                        return PromError::Unreachable(connect_reason(r));
                    }
                }
                src = s.source();
            }
            PromError::Other(c.to_string())
        }
        other => PromError::Other(other.to_string()),
    }
}

/// The innermost reason (`Connection refused (os error 111)`).
fn connect_reason(e: &reqwest::Error) -> String {
    let mut last = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        last = s.to_string();
        src = s.source();
    }
    last
}

/// Without the node list (RBAC may refuse listing nodes), a series still
/// names its node: its `node` label, else its `instance` as written.
fn unmatched_node(m: &HashMap<String, String>, nodes: &[(String, String)]) -> Option<String> {
    if !nodes.is_empty() {
        return None;
    }
    m.get("node").or_else(|| m.get("instance")).cloned()
}

pub struct PromSource {
    client: Client,
    cfg: PromConfig,
}

/// (labels, value) of an instant vector.
type Vector = Vec<(HashMap<String, String>, f64, f64)>;

impl PromSource {
    pub fn new(cfg: PromConfig) -> Result<PromSource, String> {
        // reqwest is built without a crypto provider of its own: use the
        // ring provider kube already links (no-op when one is installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = reqwest::header::HeaderMap::new();
        let auth = match &cfg.auth {
            Auth::None => None,
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Basic { user, password } => {
                use base64::Engine;
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                ))
            }
        };
        if let Some(a) = auth {
            let mut v = reqwest::header::HeaderValue::from_str(&a)
                .map_err(|_| "the Prometheus credentials are not a valid header".to_string())?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        for (k, v) in &cfg.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("Prometheus header {k:?} is not a valid name"))?;
            let mut value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| format!("Prometheus header {k:?} has an invalid value"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let mut b = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout);
        if let Some(pem) = &cfg.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| format!("Prometheus CA: {e}"))?;
            b = b.tls_certs_only(certs);
        }
        let http = b.build().map_err(|e| format!("Prometheus client: {e}"))?;
        let client = Client::from(http, &cfg.url).map_err(|e| format!("Prometheus URL: {e}"))?;
        Ok(PromSource { client, cfg })
    }

    pub fn config(&self) -> &PromConfig {
        &self.cfg
    }

    fn q(&self, template: &str) -> String {
        template.replace("$selector", &self.cfg.selector)
    }

    async fn instant(&self, template: &str) -> Result<Vector, PromError> {
        let r = self
            .client
            .query(self.q(template))
            .timeout(self.cfg.timeout.as_millis() as i64)
            .get()
            .await
            .map_err(classify)?;
        let (data, _) = r.into_inner();
        let v = data
            .into_vector()
            .map_err(|_| PromError::Query(format!("{template}: not an instant vector")))?;
        Ok(v.into_iter()
            .map(|iv| {
                let (m, s) = iv.into_inner();
                (m, s.timestamp(), s.value())
            })
            .collect())
    }

    /// One poll: every query at once; the region's figures move on.
    pub async fn poll(
        &self,
        net: &mut RegionNet,
        nodes: &[(String, String)],
    ) -> Result<(), PromError> {
        let q = &self.cfg.queries;
        let (entries, limit, drop, insert_failed, early_drop, active, inactive, weight) = tokio::try_join!(
            self.instant(&q.entries),
            self.instant(&q.limit),
            self.instant(&q.drop),
            self.instant(&q.insert_failed),
            self.instant(&q.early_drop),
            self.instant(&q.active),
            self.instant(&q.inactive),
            self.instant(&q.weight),
        )?;
        let node_of = |m: &HashMap<String, String>| {
            m.get("instance")
                .and_then(|i| instance_node(i, nodes))
                .or_else(|| m.get("node").and_then(|n| instance_node(n, nodes)))
                .or_else(|| unmatched_node(m, nodes))
        };
        let by_node = |v: &Vector| -> BTreeMap<String, f64> {
            v.iter()
                .filter_map(|(m, _, x)| node_of(m).map(|n| (n, *x)))
                .collect()
        };
        let (limit, drop, insert_failed, early_drop) = (
            by_node(&limit),
            by_node(&drop),
            by_node(&insert_failed),
            by_node(&early_drop),
        );
        for (m, t, e) in &entries {
            let Some(node) = node_of(m) else { continue };
            let rates = Rates {
                drop: drop.get(&node).copied().unwrap_or(0.0),
                insert_failed: insert_failed.get(&node).copied().unwrap_or(0.0),
                early_drop: early_drop.get(&node).copied().unwrap_or(0.0),
            };
            let lim = limit.get(&node).copied().unwrap_or(0.0);
            net.set_conntrack(&node, *t, *e, lim, rates);
        }
        // Real servers, per director.
        let key = |m: &HashMap<String, String>| -> Option<(String, VirtualKey, String, String)> {
            let director = node_of(m)?;
            let l = |k: &str| m.get(k).cloned().unwrap_or_default();
            Some((
                director.clone(),
                VirtualKey {
                    director,
                    address: l("local_address"),
                    port: l("local_port"),
                    proto: l("proto"),
                    mark: l("local_mark"),
                },
                l("remote_address"),
                l("remote_port"),
            ))
        };
        let mut reals: BTreeMap<(String, VirtualKey, String, String), RealServer> = BTreeMap::new();
        for (which, v) in [(0, &weight), (1, &active), (2, &inactive)] {
            for (m, _, x) in v {
                let Some(k) = key(m) else { continue };
                let r = reals.entry(k.clone()).or_insert(RealServer {
                    ip: k.2.clone(),
                    port: k.3.clone(),
                    weight: 0.0,
                    active: 0.0,
                    inactive: 0.0,
                });
                match which {
                    0 => r.weight = *x,
                    1 => r.active = *x,
                    _ => r.inactive = *x,
                }
            }
        }
        let mut per_director: BTreeMap<String, Vec<(VirtualKey, RealServer)>> = BTreeMap::new();
        for ((d, k, _, _), r) in reals {
            per_director.entry(d).or_default().push((k, r));
        }
        let seen: Vec<String> = net.virtuals.keys().map(|k| k.director.clone()).collect();
        for d in seen {
            if !per_director.contains_key(&d) {
                net.replace_director(&d, Vec::new());
            }
        }
        for (d, rs) in per_director {
            net.replace_director(&d, rs);
        }
        Ok(())
    }

    /// On opening: the last 30 minutes of utilisation in one range query,
    /// at most `MAX_POINTS` points per series.
    pub async fn backfill(
        &self,
        net: &mut RegionNet,
        nodes: &[(String, String)],
        now_unix: f64,
    ) -> Result<(), PromError> {
        let q = &self.cfg.queries;
        let query = format!("({}) / ({})", self.q(&q.entries), self.q(&q.limit));
        let step = (HISTORY_SECS / (MAX_POINTS - 1) as f64).ceil().max(1.0);
        let end = now_unix.floor() as i64;
        let start = end - HISTORY_SECS as i64;
        let r = self
            .client
            .query_range(query, start, end, step)
            .timeout(self.cfg.timeout.as_millis() as i64)
            .get()
            .await
            .map_err(classify)?;
        let (data, _) = r.into_inner();
        let m = data
            .into_matrix()
            .map_err(|_| PromError::Query("the range query did not return a matrix".into()))?;
        for rv in m {
            let (labels, samples) = rv.into_inner();
            let Some(node) = labels
                .get("instance")
                .and_then(|i| instance_node(i, nodes))
                .or_else(|| labels.get("node").and_then(|n| instance_node(n, nodes)))
                .or_else(|| unmatched_node(&labels, nodes))
            else {
                continue;
            };
            let n = net.nodes.entry(node).or_default();
            for s in samples.iter().rev().take(MAX_POINTS).rev() {
                n.util.push(s.timestamp(), s.value());
            }
        }
        Ok(())
    }
}
