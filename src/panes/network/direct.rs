//! The direct source: pitwall scrapes node_exporter itself through the API
//! server's pod proxy, with the region's own credentials. Exporter pods are
//! found by a label selector; scrapes run a few at a time, each bounded in
//! time and size.

use super::expo;
use super::model::RegionNet;
use crate::write::ReadClient;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, ObjectList};
use std::time::Duration;

/// Scrapes in flight per region.
const CONCURRENCY: usize = 8;
/// Largest `/metrics` body taken (a director of a big region is ~1 MB).
const MAX_BODY: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq)]
pub struct DirectConfig {
    /// Label selector of the node_exporter pods.
    pub selector: String,
    /// Namespace to look in (None: all namespaces).
    pub namespace: Option<String>,
    pub port: u16,
    pub timeout: Duration,
}

impl Default for DirectConfig {
    fn default() -> DirectConfig {
        DirectConfig {
            selector: "app.kubernetes.io/name=node-exporter".into(),
            namespace: None,
            port: 9100,
            timeout: Duration::from_secs(5),
        }
    }
}

/// What one poll saw.
#[derive(Debug, Default, PartialEq)]
pub struct PollReport {
    pub exporters: usize,
    pub scraped: usize,
    /// "pod: reason" for each failed scrape.
    pub failures: Vec<String>,
}

/// One poll: list the exporter pods, scrape each, feed `net` at `t`.
pub async fn poll(
    client: &ReadClient,
    cfg: &DirectConfig,
    net: &mut RegionNet,
    t: f64,
) -> Result<PollReport, String> {
    let path = match &cfg.namespace {
        Some(ns) => format!("/api/v1/namespaces/{ns}/pods"),
        None => "/api/v1/pods".to_string(),
    };
    let req = kube::core::Request::new(path)
        .list(&ListParams::default().labels(&cfg.selector))
        .map_err(|e| format!("listing the exporter pods: {e}"))?;
    let list = tokio::time::timeout(cfg.timeout, client.request::<ObjectList<Pod>>(req))
        .await
        .map_err(|_| "listing the exporter pods timed out".to_string())?
        .map_err(|e| format!("listing the exporter pods: {e}"))?;
    let targets: Vec<(String, String, String)> = list
        .items
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .filter_map(|p| {
            Some((
                p.metadata.namespace.clone()?,
                p.metadata.name.clone()?,
                p.spec.as_ref()?.node_name.clone()?,
            ))
        })
        .collect();
    let mut report = PollReport {
        exporters: targets.len(),
        ..Default::default()
    };
    let results: Vec<_> = futures::stream::iter(targets)
        .map(|(ns, pod, node)| async move {
            let r = scrape(client, &ns, &pod, cfg.port, cfg.timeout).await;
            (pod, node, r)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (pod, node, r) in results {
        match r {
            Ok(text) => {
                net.ingest(&node, t, &expo::parse(&text).samples);
                report.scraped += 1;
            }
            Err(e) => report.failures.push(format!("{pod}: {e}")),
        }
    }
    report.failures.sort();
    Ok(report)
}

async fn scrape(
    client: &ReadClient,
    ns: &str,
    pod: &str,
    port: u16,
    timeout: Duration,
) -> Result<String, String> {
    // Read at most MAX_BODY + 1 bytes: a runaway exporter cannot grow us.
    let read = async {
        use futures::AsyncReadExt;
        let body = client
            .scrape_metrics(ns, pod, port)
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        body.take(MAX_BODY as u64 + 1)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(buf)
    };
    let buf = tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| "timed out".to_string())??;
    if buf.len() > MAX_BODY {
        return Err(format!("metrics larger than {MAX_BODY} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "metrics are not UTF-8".to_string())
}
